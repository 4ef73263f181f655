import Foundation
import Tokenization
import XCTest
@testable import LanguageModel
import Tensors

/// Gradient accumulation, checkpoints and resumption, and buffer reuse of whole training runs.
final class TrainingRunTests: XCTestCase {
    let documents = (0..<40).map { "item \($0 % 7) title words \($0 * 13 % 11) brand \($0 % 3) price \($0) dollars" }

    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "calrec-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func setup() throws -> (GPT2Model, BPETokenizer, LanguageModelTraining.Options) {
        let tokenizer = BPETrainer.train(texts: documents, vocabularySize: 300)
        let config = GPT2Config(vocabularySize: tokenizer.vocabulary.count, maxPositions: 16, channels: 16, layers: 2, heads: 2)
        var options = LanguageModelTraining.Options()
        options.steps = 8
        options.batch = 3
        options.context = 16
        options.warmupSteps = 2
        options.learningRate = 5e-3
        options.seed = 11
        return (try GPT2Model.initialized(config: config, seed: 3), tokenizer, options)
    }

    func testAccumulatedMicroBatchesGiveTheGradientOfTheWholeBatch() throws {
        let model = try GPT2Model.initialized(config: GPT2Config(vocabularySize: 50, maxPositions: 8, channels: 16, layers: 1, heads: 2), seed: 4)
        let batch: [[Int32]] = (0..<4).map { row in (0..<8).map { Int32(($0 * 7 + row * 5) % 50) } }
        let mask = [[Float]](repeating: [Float](repeating: 1, count: 8), count: 4)
        let whole = GPT2Trainer(model: model), halves = GPT2Trainer(model: model)
        let tape = Tape()
        let loss = whole.languageModelLoss(tape, tokens: batch, lossMask: mask)
        tape.backward()
        var halvesLoss: Float = 0
        for half in [0..<2, 2..<4] {
            halvesLoss += halves.languageModelLoss(
                tape, tokens: Array(batch[half]), lossMask: Array(mask[half]), lossWeight: 0.5) / 2
            tape.backward()
        }
        XCTAssertEqual(loss, halvesLoss, accuracy: 1e-5)
        for (name, p) in whole.parameters {
            let q = halves.parameters[name]!
            for i in 0..<p.count { XCTAssertEqual(p.gradient[i], q.gradient[i], accuracy: 1e-6, "\(name)[\(i)]") }
        }
    }

    func testResumingAKilledRunGivesTheUninterruptedResult() throws {
        let (model, tokenizer, options) = try setup()
        let straight = try LanguageModelTraining(options: options).train(model: model, tokenizer: tokenizer, documents: documents)

        struct Killed: Error {}
        let folder = try temporaryFolder() + "/run.checkpoint"
        nonisolated(unsafe) var notices: [String] = []
        let checkpointing = LanguageModelTraining.Checkpointing(folder: folder, every: 3, resume: true, notice: { notices.append($0) })
        XCTAssertThrowsError(
            try LanguageModelTraining(options: options).train(model: model, tokenizer: tokenizer, documents: documents, checkpointing: checkpointing) {
                if $0.step == 5 { throw Killed() }  // killed after step 5: the checkpoint holds step 3
            })
        XCTAssertEqual(notices, ["no checkpoint at \(folder); starting from step 0"])
        let killed = try XCTUnwrap(LanguageModelTraining.readCheckpoint(folder)?.cost)
        XCTAssertGreaterThan(killed.cpuSeconds, 0)
        let cpuBefore = processCPUSeconds()
        let resumed = try LanguageModelTraining(options: options).train(
            model: model, tokenizer: tokenizer, documents: documents, checkpointing: checkpointing)
        let resumedCPU = processCPUSeconds() - cpuBefore

        XCTAssertEqual(notices.count, 1, "resuming from a checkpoint says nothing")
        XCTAssertEqual(resumed.curve.map(\.step), Array(1...8))
        XCTAssertEqual(resumed.curve.map(\.loss), straight.curve.map(\.loss))
        XCTAssertEqual(resumed.curve.map(\.gradientNorm), straight.curve.map(\.gradientNorm))
        for (name, tensor) in straight.model.parameters {
            XCTAssertEqual(resumed.model.parameters[name]!.values, tensor.values, "\(name) differs after resuming")
        }
        // The last checkpoint counts both processes: the killed one's time up to step 3, then this one's.
        XCTAssertEqual(resumed.priorCost, killed)
        let final = try XCTUnwrap(LanguageModelTraining.readCheckpoint(folder)?.cost)
        XCTAssertGreaterThan(final.cpuSeconds, killed.cpuSeconds)
        XCTAssertLessThanOrEqual(final.cpuSeconds, killed.cpuSeconds + resumedCPU + 0.01)
        XCTAssertGreaterThan(final.wallSeconds, killed.wallSeconds)
    }

    func testStartingARunRemovesCheckpointStagingOfDeadWritersOnly() throws {
        let (model, tokenizer, options) = try setup()
        let folder = try temporaryFolder()
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = folder + "/.run.checkpoint.tmp-\(finished.processIdentifier)-\(UUID().uuidString)"
        let live = folder + "/.run.checkpoint.tmp-\(getpid())-\(UUID().uuidString)"
        for staging in [dead, live] { try FileManager.default.createDirectory(atPath: staging + "/last", withIntermediateDirectories: true) }
        struct Stop: Error {}
        let checkpointing = LanguageModelTraining.Checkpointing(folder: folder + "/run.checkpoint", every: 3, resume: false)
        XCTAssertThrowsError(
            try LanguageModelTraining(options: options).train(model: model, tokenizer: tokenizer, documents: documents, checkpointing: checkpointing) {
                // Before the first checkpoint is written.
                XCTAssertFalse(FileManager.default.fileExists(atPath: dead), "step \($0.step)")
                XCTAssertTrue(FileManager.default.fileExists(atPath: live), "step \($0.step)")
                throw Stop()
            })
    }

    func testResumingWithOtherOptionsIsRefused() throws {
        var (model, tokenizer, options) = try setup()
        let folder = try temporaryFolder() + "/run.checkpoint"
        let checkpointing = LanguageModelTraining.Checkpointing(folder: folder, every: 4, resume: true)
        _ = try LanguageModelTraining(options: options).train(model: model, tokenizer: tokenizer, documents: documents, checkpointing: checkpointing)
        options.learningRate = 1e-2
        XCTAssertThrowsError(
            try LanguageModelTraining(options: options).train(model: model, tokenizer: tokenizer, documents: documents, checkpointing: checkpointing)
        ) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("other training options"), "\(error)")
        }
    }

    func testADivergingRunStopsWithADiagnosticAndKeepsTheLastGoodCheckpoint() throws {
        var (model, tokenizer, options) = try setup()
        options.learningRate = 1e30
        options.clipNorm = 1e30
        options.warmupSteps = 0
        let folder = try temporaryFolder() + "/run.checkpoint"
        let checkpointing = LanguageModelTraining.Checkpointing(folder: folder, every: 1, resume: false)
        XCTAssertThrowsError(
            try LanguageModelTraining(options: options).train(model: model, tokenizer: tokenizer, documents: documents, checkpointing: checkpointing)
        ) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("loss became"), "\(error)")
        }
        let record = try XCTUnwrap(LanguageModelTraining.readCheckpoint(folder))
        XCTAssertTrue(record.curve.allSatisfy { $0.loss.isFinite })
        XCTAssertEqual(try SafeTensors.read(folder + "/optimizer.safetensors").metadata["step"], String(record.step))
        XCTAssertTrue(try GPT2Model(folder: folder).parameters.values.allSatisfy { $0.values.allSatisfy(\.isFinite) }, "the kept weights are the last good ones")
    }

    func testStepsAfterTheFirstDrawEveryBufferFromThePool() throws {
        let (model, _, _) = try setup()
        let trainer = GPT2Trainer(model: model)
        let tokens: [[Int32]] = (0..<3).map { row in (0..<16).map { Int32(($0 + row) % 50) } }
        let mask = [[Float]](repeating: [Float](repeating: 1, count: 16), count: 3)
        let tape = Tape()
        func step() {
            trainer.zeroGradients()
            _ = trainer.languageModelLoss(tape, tokens: tokens, lossMask: mask)
            tape.backward()
            trainer.update(lr: 1e-3)
        }
        step()
        let afterFirst = BufferPool.shared.allocations
        for _ in 0..<3 { step() }
        XCTAssertEqual(BufferPool.shared.allocations, afterFirst, "later steps allocated new activation buffers")
    }
}

/// CPU seconds of this process from the process CPU-time clock (training records read getrusage).
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
