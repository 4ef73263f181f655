import Evaluation
import Foundation
import RecData
import Support
import Tensors
import XCTest
@testable import SequentialRecommenders

final class SequentialRecommenderTests: XCTestCase {
    /// 20 users walking a cycle of `items` items (item i is always followed by i + 1 mod `items`),
    /// starting at different items, 9–12 purchases each: the next item is a function of the last
    /// one. Longer than the tiny models' length of 6, so every position is trained.
    static func cycle(items: Int) -> SequenceDataset {
        let sequences = (0..<20).map { u in (0..<(9 + u % 4)).map { Purchase(item: Int32((u * 3 + $0) % items), time: Int64($0)) } }
        return SequenceDataset(
            name: "cycle", userIDs: (0..<20).map { "u\($0)" }, itemIDs: (0..<items).map { "i\($0)" },
            items: (0..<items).map { ItemAttributes(title: "item \($0)") }, sequences: sequences, recordsBeforeDeduplication: nil,
            duplicatesDropped: 0)
    }

    let cycle = cycle(items: 10)

    func tinyConfig(_ architecture: SequentialArchitecture, loss: SequentialLoss = .softmax) -> SequentialModelConfig {
        SequentialModelConfig(
            architecture: architecture, itemCount: 10, hidden: 16, layers: 1, heads: 2, maxLength: 6, hiddenDropout: 0, attentionDropout: 0,
            loss: loss)
    }

    func train(_ config: SequentialModelConfig, epochs: Int, seed: UInt64 = 1, learningRate: Float = 1e-2) throws -> SequentialModel {
        let model = try SequentialModel.initialized(config: config, seed: seed)
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle,
            options: SequentialTrainingOptions(maxEpochs: epochs, patience: epochs, batchSize: 4, learningRate: learningRate, seed: seed))
        for _ in 0..<epochs { _ = trainer.trainEpoch() }
        return model
    }

    func recallAt1(_ model: SequentialModel) -> Double {
        let ranks = model.rank(cases: cycle.evaluationCases(.test), dataset: cycle)
        return Double(ranks.filter { $0.rank.pessimistic == 1 }.count) / Double(ranks.count)
    }

    /// Recall@1 of each user's last training item given the training items before it: with the
    /// tiny models' length of 6, the query is the user's last training window with its last item
    /// hidden — what an over-fitted model has memorised.
    func memorised(_ model: SequentialModel) -> Double {
        let prefixes = cycle.sequences.map { $0.dropLast(2).map(\.item) }
        let scores = model.scores(histories: prefixes.map { Array($0.dropLast()) })
        let hits = prefixes.enumerated().filter { u, prefix in
            let row = scores[(u * 10)..<(u * 10 + 10)]
            return row.indices.max { row[$0] < row[$1] }! - u * 10 == Int(prefix.last!)
        }
        return Double(hits.count) / Double(prefixes.count)
    }

    func testSASRecOverfitsTheTinyDatasetAndGeneralisesTheCycle() throws {
        let model = try train(tinyConfig(.sasrec), epochs: 40)
        XCTAssertEqual(memorised(model), 1)
        XCTAssertEqual(recallAt1(model), 1, "next item of the test histories")
    }

    func testSASRecWithSampledNegativesOverfitsTheTinyDataset() throws {
        XCTAssertEqual(memorised(try train(tinyConfig(.sasrec, loss: .bce), epochs: 150)), 1)
    }

    func testBERT4RecOverfitsTheTinyDataset() throws {
        XCTAssertEqual(memorised(try train(tinyConfig(.bert4rec), epochs: 200, learningRate: 3e-3)), 1)
    }

    func testAnUntrainedModelHasNotMemorisedTheData() throws {
        for architecture in SequentialArchitecture.allCases {
            XCTAssertLessThan(memorised(try SequentialModel.initialized(config: tinyConfig(architecture), seed: 1)), 0.5)
        }
    }

    /// Hidden states of `sequence` (model ids), one row of C per position.
    func hidden(_ model: SequentialModel, _ sequence: [Int32]) -> [[Float]] {
        var none: SeededRandom? = nil
        let out = model.encode(Tape(), sequences: [sequence], dropout: &none)
        let c = model.config.hidden
        return (0..<sequence.count).map { Array(out.value[($0 * c)..<($0 * c + c)]) }
    }

    func testSASRecCausalMaskHidesLaterItemsFromEarlierPositions() throws {
        let model = try SequentialModel.initialized(config: tinyConfig(.sasrec), seed: 3)
        let a = hidden(model, [1, 2, 3, 4]), b = hidden(model, [1, 2, 3, 9])
        XCTAssertEqual(Array(a[0..<3]), Array(b[0..<3]))
        XCTAssertNotEqual(a[3], b[3])
    }

    func testBERT4RecSeesTheWholeSequenceFromEveryPosition() throws {
        let model = try SequentialModel.initialized(config: tinyConfig(.bert4rec), seed: 3)
        let a = hidden(model, [1, 2, 3, 4]), b = hidden(model, [1, 2, 3, 9])
        XCTAssertNotEqual(a[0], b[0])
    }

    func testASequenceScoresTheSameAloneAndInABatch() throws {
        let model = try SequentialModel.initialized(config: tinyConfig(.bert4rec), seed: 4)
        let alone = model.scores(histories: [[2, 3, 4]])
        let batched = model.scores(histories: [[0, 1, 2, 3, 4, 5, 6], [2, 3, 4], [7]])
        for (a, b) in zip(alone, batched[10..<20]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testTrainingIsDeterministicForASeed() throws {
        let config = SequentialModelConfig.defaults(for: .sasrec, itemCount: 10)  // dropout 0.5 on
        let histories = cycle.evaluationCases(.test).map(\.history)
        let first = try train(config, epochs: 2, seed: 7).scores(histories: histories)
        let second = try train(config, epochs: 2, seed: 7).scores(histories: histories)
        let other = try train(config, epochs: 2, seed: 8).scores(histories: histories)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, other)
    }

    func testSavedModelReloadsToIdenticalScores() throws {
        for architecture in SequentialArchitecture.allCases {
            let model = try train(tinyConfig(architecture), epochs: 2)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("seqmodel-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try model.save(to: folder)
            let reloaded = try SequentialModel(folder: folder)
            XCTAssertEqual(reloaded.config, model.config)
            let histories = cycle.evaluationCases(.test).map(\.history)
            XCTAssertEqual(reloaded.scores(histories: histories), model.scores(histories: histories), "\(architecture)")
        }
    }

    func testEarlyStoppingKeepsTheBestEpochAndStopsAfterPatience() throws {
        let model = try SequentialModel.initialized(config: tinyConfig(.sasrec), seed: 2)
        // A learning rate of 0 never improves on the first epoch: stop after 1 + patience epochs.
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: 50, patience: 3, batchSize: 4, learningRate: 0, seed: 2))
        let records = try trainer.train()
        XCTAssertEqual(records.count, 4)
        XCTAssertEqual(records.map(\.best), [true, false, false, false])
    }

    func testANonFiniteLossStopsTrainingWithoutABestEpoch() throws {
        let model = try SequentialModel.initialized(config: tinyConfig(.sasrec), seed: 2)
        model.parameters["layers.0.ffn.down.bias"]!.value[0] = .nan
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: 50, patience: 10, batchSize: 4, seed: 2))
        let records = try trainer.train()
        XCTAssertEqual(records.count, 1)
        XCTAssertTrue(records[0].loss.isNaN)
        XCTAssertFalse(records[0].best)
    }

    func testTrainingEndsWithTheBestEpochsWeights() throws {
        let model = try SequentialModel.initialized(config: SequentialModelConfig.defaults(for: .sasrec, itemCount: 10), seed: 2)
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: 200, patience: 2, batchSize: 4, learningRate: 3e-2, seed: 2))
        let records = try trainer.train()
        // Stopped by patience, so the last epochs were not the best: their weights must be gone.
        XCTAssertLessThan(records.count, 200)
        XCTAssertFalse(records.last!.best)
        let best = records.filter(\.best).last!
        XCTAssertNotEqual(best.validNDCG10, records.last!.validNDCG10)
        XCTAssertEqual(trainer.validationNDCG(), best.validNDCG10)
    }

    func testClozeBatchesMaskAboutTheConfiguredShareAndAtLeastOneItemPerSequence() {
        var config = tinyConfig(.bert4rec)
        config.maxLength = 50
        var random = SeededRandom(seed: 5)
        let sequences = (0..<400).map { u in (0..<(1 + u % 40)).map { Int32(($0 + u) % 10) } }
        let batch = SequentialBatches.cloze(sequences: sequences, config: config, random: &random)
        let tokens = batch.sequences.flatMap { $0 }
        let masked = tokens.filter { $0 == config.maskToken }.count
        XCTAssertEqual(masked, batch.rows.count)
        XCTAssertTrue(batch.sequences.allSatisfy { $0.contains(config.maskToken) })
        // Each position masked with probability 0.2, plus one forced mask per fully unmasked sequence.
        XCTAssertEqual(Double(masked) / Double(tokens.count), 0.2, accuracy: 0.03)
        // The rows point at the masked positions and their targets are the items they hid (id = item + 1).
        let flat = sequences.map { $0.map { $0 + 1 } }.flatMap { $0 }
        for (row, target) in zip(batch.rows, batch.targets) {
            XCTAssertEqual(tokens[Int(row)], config.maskToken)
            XCTAssertEqual(flat[Int(row)], target)
        }
    }

    func testNextItemBatchesTargetTheFollowingItemWithinTheLastWindow() {
        var config = tinyConfig(.sasrec)
        config.maxLength = 3
        var random = SeededRandom(seed: 1)
        let batch = SequentialBatches.nextItem(
            sequences: [[0, 1, 2, 3, 4], [5, 6]], maxLength: config.maxLength, itemCount: config.itemCount, sampleNegatives: true, random: &random)
        // Window of the last 4 items (ids shifted by 1): 2 3 4 5 → inputs 2 3 4, targets 3 4 5; then 6 → 7.
        XCTAssertEqual(batch.sequences, [[2, 3, 4], [6]])
        XCTAssertEqual(batch.rows, [0, 1, 2, 3])
        XCTAssertEqual(batch.targets, [3, 4, 5, 7])
        XCTAssertEqual(batch.negatives.count, 4)
        XCTAssertTrue(batch.negatives[0..<3].allSatisfy { !(1...5).contains($0) }, "negatives avoid the user's items")
        XCTAssertTrue(batch.negatives[3...].allSatisfy { ![6, 7].contains($0) })
    }

    func testInvalidSettingsNameTheirField() {
        var config = tinyConfig(.sasrec)
        config.hidden = 15
        XCTAssertThrowsError(try SequentialModel.initialized(config: config, seed: 0)) {
            XCTAssertEqual($0 as? SequentialModelError, .invalidConfig(field: "hidden", detail: "must be a positive multiple of heads (2)"))
        }
        XCTAssertThrowsError(try SequentialModel.initialized(config: tinyConfig(.bert4rec, loss: .bce), seed: 0))
    }
}

/// The trainer's learning-rate schedules, seen through Adam's first update, which moves every
/// weight with a gradient well above Adam's ε by the step's rate (m̂/√v̂ = ±1).
final class SequentialScheduleTests: XCTestCase {
    let cycle = SequentialRecommenderTests.cycle(items: 10)

    /// Trains a tiny SASRec with one optimiser step an epoch (every user in one batch) and returns
    /// the largest change of a weight.
    func largestChange(_ options: SequentialTrainingOptions) throws -> Float {
        let config = SequentialModelConfig(
            architecture: .sasrec, itemCount: 10, hidden: 16, layers: 1, heads: 2, maxLength: 6, hiddenDropout: 0, attentionDropout: 0)
        let model = try SequentialModel.initialized(config: config, seed: 3)
        let before = model.parameterSet.variables.flatMap(\.value.array)
        try SequentialTrainer(model: model, dataset: cycle, options: options).train()
        let after = model.parameterSet.variables.flatMap(\.value.array)
        return zip(before, after).map { abs($0 - $1) }.max()!
    }

    func testTheOptionsPickTheSchedule() {
        XCTAssertEqual(SequentialTrainingOptions(learningRate: 1e-3).schedule(totalSteps: 10), .constant(1e-3))
        XCTAssertEqual(
            SequentialTrainingOptions(learningRate: 5e-5, warmupSteps: 100, decay: .linear).schedule(totalSteps: 600),
            .warmupLinearDecay(.init(peak: 5e-5, warmupSteps: 100, totalSteps: 600)))
        XCTAssertEqual(SequentialTrainingOptions(learningRate: 1e-3, warmupSteps: 10).schedule(totalSteps: 20).rate(step: 1000), 1e-3, "no decay")
    }

    func testTheFirstUpdateIsTakenAtTheWarmupsFirstRate() throws {
        let constant = try largestChange(SequentialTrainingOptions(maxEpochs: 1, patience: 1, batchSize: 20, learningRate: 1e-2, seed: 3))
        XCTAssertEqual(constant, 1e-2, accuracy: 1e-4)
        let warm = try largestChange(
            SequentialTrainingOptions(maxEpochs: 1, patience: 1, batchSize: 20, learningRate: 1e-2, seed: 3, warmupSteps: 100))
        XCTAssertEqual(warm, 1e-4, accuracy: 1e-6)
    }

    func testALinearDecayEndsAtZeroOnTheLastEpochsStep() throws {
        // Two steps in all: the first at half the peak, the second at 0 (no change).
        let change = try largestChange(
            SequentialTrainingOptions(maxEpochs: 2, patience: 2, batchSize: 20, learningRate: 1e-2, seed: 3, decay: .linear))
        XCTAssertEqual(change, 5e-3, accuracy: 5e-5)
    }
}
