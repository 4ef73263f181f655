import Foundation
import RecData
import Tensors
import Training
import XCTest
@testable import SequentialRecommenders

/// Checkpoints of SASRec and BERT4Rec training: stopping after some epochs and resuming gives the
/// uninterrupted run's records and weights, bit for bit.
final class SequentialCheckpointTests: XCTestCase {
    let cycle = SequentialRecommenderTests.cycle(items: 10)

    func config(_ architecture: SequentialArchitecture) -> SequentialModelConfig {
        // Dropout on, so the dropout generator's state must survive the checkpoint too.
        SequentialModelConfig(
            architecture: architecture, itemCount: 10, hidden: 16, layers: 1, heads: 2, maxLength: 6, hiddenDropout: 0.2, attentionDropout: 0.1)
    }

    func trainer(_ architecture: SequentialArchitecture, patience: Int = 20) throws -> SequentialTrainer {
        try SequentialTrainer(
            model: SequentialModel.initialized(config: config(architecture), seed: 4), dataset: cycle,
            options: SequentialTrainingOptions(maxEpochs: 9, patience: patience, batchSize: 6, learningRate: 1e-2, seed: 4))
    }

    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "calrec-seq-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The records without their timings.
    func untimed(_ records: [SequentialEpochRecord]) -> [SequentialEpochRecord] {
        records.map { var r = $0; r.seconds = 0; return r }
    }

    func testAnInterruptedRunResumesToTheUninterruptedRecordsAndWeights() throws {
        for architecture in [SequentialArchitecture.sasrec, .bert4rec] {
            let straight = try trainer(architecture)
            let records = try straight.train()
            XCTAssertEqual(records.count, 9)

            struct Stopped: Error {}
            let folder = try temporaryFolder() + "/model.checkpoint"
            let checkpointing = Checkpointing(folder: folder, every: 2, resume: true, notice: { _ in })
            XCTAssertThrowsError(try trainer(architecture).train(checkpointing: checkpointing) {
                if $0.epoch == 5 { throw Stopped() }  // the checkpoint holds epoch 4
            })
            let record = try XCTUnwrap(try Checkpointing.readRecord(SequentialEpochRecord.self, in: folder))
            XCTAssertEqual(record.model, architecture.rawValue)
            XCTAssertEqual(record.curve.map(\.epoch), [1, 2, 3, 4])
            let resumed = try trainer(architecture)
            let resumedRecords = try resumed.train(checkpointing: checkpointing)
            XCTAssertEqual(untimed(resumedRecords), untimed(records), "\(architecture)")
            XCTAssertEqual(resumed.model.parameterSet.weightTensors(), straight.model.parameterSet.weightTensors(), "\(architecture)")
            XCTAssertGreaterThan(resumed.priorCost.cpuSeconds, 0)
        }
    }

    func testResumingARunThatStoppedEarlyReturnsItsResultWithoutTraining() throws {
        let folder = try temporaryFolder() + "/model.checkpoint"
        let checkpointing = Checkpointing(folder: folder, every: 100, resume: true, notice: { _ in })
        let first = try trainer(.sasrec, patience: 1)
        let records = try first.train(checkpointing: checkpointing)
        XCTAssertLessThan(records.count, 9, "patience 1 stops early")
        let again = try trainer(.sasrec, patience: 1)
        var seen = 0
        XCTAssertEqual(untimed(try again.train(checkpointing: checkpointing) { _ in seen += 1 }), untimed(records))
        XCTAssertEqual(seen, 0)
        XCTAssertEqual(again.model.parameterSet.weightTensors(), first.model.parameterSet.weightTensors())
    }
}
