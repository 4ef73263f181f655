import Foundation
import Support
import Tensors
import XCTest
@testable import Training

/// The loop on tiny quadratic losses whose AdamW steps can be worked out by hand.
final class TrainingLoopTests: XCTestCase {
    struct Point: Codable, Sendable, Equatable {
        var step: Int
        var loss: Float
        var norm: Float?
        var validation: Double?
        var best: Bool
    }

    func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "calrec-loop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// w (2 values, decaying) and b (1 value, not decaying).
    func parameters(w: [Float] = [0, 0], b: [Float] = [0], trainsW: Bool = true) -> ParameterSet {
        ParameterSet([
            .init(name: "b", shape: [1], values: b, decays: false),
            .init(name: "w", shape: [2], values: w, decays: true, trainable: trainsW),
        ])
    }

    /// Loss Σ (p − target)² over every value, the target drawn around 3 from a seeded generator
    /// (`noise` 0: exactly 3); each micro-batch's gradient is weighted 1/k.
    func task(
        _ set: ParameterSet, k: Int = 1, noise: Double = 0, seed: UInt64 = 1, validation: [Double]? = nil, lossAt: [Int: Float] = [:]
    ) -> TrainingLoop<Point>.Task {
        var random = SeededRandom(seed: seed)
        var validations = 0
        return TrainingLoop<Point>.Task(
            model: "quadratic", setup: ["k": String(k)],
            microBatch: { step, _, tally in
                let target = Float(3 + noise * (random.unit() - 0.5))
                var loss: Float = 0
                for variable in set.variables {
                    for i in 0..<variable.count {
                        let d = variable.value[i] - target
                        loss += d * d
                        variable.gradient[i] += 2 * d / Float(k)
                    }
                }
                tally.loss += (lossAt[step] ?? loss) / Float(k)
                tally.count += 1
            },
            validate: validation.map { values in
                { _ in
                    defer { validations += 1 }
                    return .init(criterion: values[min(validations, values.count - 1)], values: [values[min(validations, values.count - 1)]])
                }
            },
            point: { Point(step: $0.step, loss: $0.tally.loss, norm: $0.gradientNorm, validation: $0.validation?.values[0], best: $0.improved) },
            randomStates: { [random.state] },
            restoreRandomStates: { random = SeededRandom(seed: $0[0]) })
    }

    func options(steps: Int, lr: Float = 0.1, clip: Float? = nil, decay: Float = 0) -> TrainingLoop<Point>.Options {
        .init(steps: steps, schedule: .constant(lr), clipNorm: clip, optimizer: AdamW(weightDecay: decay))
    }

    func testTheFirstAdamStepMovesEveryValueByTheLearningRateTowardsItsTarget() throws {
        let set = parameters()
        // Gradient −6 everywhere: m̂ = g, v̂ = g², so the step is lr · g/|g| = 0.1 (ε aside).
        let outcome = try TrainingLoop(options: options(steps: 1, clip: 1)).run(set, task: task(set))
        XCTAssertEqual(outcome.curve[0].loss, 27)
        // The norm before clipping: √(3 · 36).
        XCTAssertEqual(outcome.curve[0].norm!, Float(108).squareRoot(), accuracy: 1e-5)
        for value in set.weights.buffer(count: set.capacity).prefix(1) { XCTAssertEqual(value, 0.1, accuracy: 1e-6) }
        XCTAssertEqual(set.variable(named: "w")!.value.array, [0.1, 0.1], accuracy: 1e-6)
    }

    func testWeightDecayAppliesToItsGroupOnly() throws {
        let set = parameters(w: [1, 1], b: [1])
        // Gradient −4: the Adam step is +lr; decay subtracts lr · wd · p = 0.1 · 0.5 · 1 from w only.
        _ = try TrainingLoop(options: options(steps: 1, decay: 0.5)).run(set, task: task(set))
        XCTAssertEqual(set.variable(named: "b")!.value[0], 1.1, accuracy: 1e-6)
        XCTAssertEqual(set.variable(named: "w")!.value.array, [1.05, 1.05], accuracy: 1e-6)
    }

    func testAFrozenTensorKeepsItsWeightsAndStaysOutOfTheNorm() throws {
        let set = parameters(trainsW: false)
        let outcome = try TrainingLoop(options: options(steps: 2, clip: 100)).run(set, task: task(set))
        XCTAssertEqual(set.variable(named: "w")!.value.array, [0, 0])
        XCTAssertEqual(outcome.curve[0].norm!, 6, accuracy: 1e-6, "only b's gradient −6 counts")
        XCTAssertEqual(set.trainableCount, 1)
    }

    func testAccumulatedMicroBatchesStepOnceWithTheirMeanGradient() throws {
        let set = parameters()
        let outcome = try TrainingLoop(options: .init(steps: 1, accumulationSteps: 4, schedule: .constant(0.1), clipNorm: 1000))
            .run(set, task: task(set, k: 4))
        // Four micro-batches of weight 1/4 each add up to one full gradient of −6 per value.
        XCTAssertEqual(outcome.curve[0].norm!, Float(108).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(outcome.curve[0].loss, 27, accuracy: 1e-5)
        XCTAssertEqual(set.variable(named: "b")!.value[0], 0.1, accuracy: 1e-6)
    }

    func testEarlyStoppingKeepsTheBestValidationsWeights() throws {
        let set = parameters()
        var loop = options(steps: 20)
        loop.validateEvery = 2
        loop.patience = 2
        // Validations after steps 2, 4, 6, 8: the second is best, two worse ones stop the run.
        let outcome = try TrainingLoop(options: loop).run(set, task: task(set, validation: [5, 4, 4.5, 4.6, 1]))
        XCTAssertEqual(outcome.lastStep, 8)
        XCTAssertTrue(outcome.stoppedEarly)
        XCTAssertEqual(outcome.bestStep, 4)
        XCTAssertEqual(outcome.bestCriterion, 4)
        XCTAssertEqual(outcome.curve.filter(\.best).map(\.step), [2, 4])
        // The kept weights are those of a run of exactly 4 steps; the set holds those of 8.
        let best = try XCTUnwrap(outcome.bestWeights)
        for (steps, weights) in [(4, best), (8, set.weights)] {
            let plain = parameters()
            _ = try TrainingLoop(options: options(steps: steps)).run(plain, task: task(plain))
            XCTAssertEqual(weights.buffer(count: plain.capacity).array, plain.weights.buffer(count: plain.capacity).array, "\(steps) steps")
        }
        XCTAssertGreaterThan(set.variable(named: "b")!.value[0], best.buffer(count: 1)[0])
    }

    func testANonFiniteLossFailsAtItsStepAndLeavesTheLastCheckpoint() throws {
        let set = parameters()
        let folder = try temporaryFolder() + "/run.checkpoint"
        let checkpointing = Checkpointing(folder: folder, every: 2, resume: false)
        XCTAssertThrowsError(
            try TrainingLoop(options: options(steps: 10)).run(set, task: task(set, lossAt: [5: .nan]), checkpointing: checkpointing)
        ) { error in
            guard case .diverged(let loss, 5, folder)? = error as? TrainingError, loss.isNaN else { return XCTFail("\(error)") }
            XCTAssertTrue(error.localizedDescription.contains("loss became nan at step 5; the last good checkpoint is in \(folder)"))
        }
        XCTAssertEqual(try Checkpointing.readRecord(Point.self, in: folder)?.step, 4)
    }

    func testANonFiniteLossCanEndThePeriodAndStopAtItsValidationWithoutWinning() throws {
        let set = parameters()
        var loop = options(steps: 20)
        loop.validateEvery = 3
        loop.nonFiniteLoss = .stopAtValidation
        let outcome = try TrainingLoop(options: loop).run(set, task: task(set, validation: [5, 1], lossAt: [5: .infinity]))
        XCTAssertEqual(outcome.lastStep, 6)
        XCTAssertEqual(outcome.bestStep, 3, "the period with the infinite loss cannot be best, however good its validation")
    }

    func testResumingAnInterruptedRunGivesTheUninterruptedWeightsAndCurve() throws {
        var loop = options(steps: 9, lr: 0.05, clip: 1)
        loop.validateEvery = 2
        let straightSet = parameters()
        let straight = try TrainingLoop(options: loop).run(straightSet, task: task(straightSet, noise: 4, validation: [3, 2, 2.5, 1, 1.5]))

        struct Stop: Error {}
        let folder = try temporaryFolder() + "/run.checkpoint"
        let checkpointing = Checkpointing(folder: folder, every: 3, resume: true, notice: { _ in })
        let first = parameters()
        XCTAssertThrowsError(
            try TrainingLoop(options: loop).run(first, task: task(first, noise: 4, validation: [3, 2, 2.5, 1, 1.5]), checkpointing: checkpointing) {
                if $0.step == 7 { throw Stop() }  // the checkpoint holds step 6
            })
        let record = try XCTUnwrap(try Checkpointing.readRecord(Point.self, in: folder))
        XCTAssertEqual(record.version, 2)
        XCTAssertEqual(record.step, 6)
        XCTAssertEqual(record.bestStep, 4)
        // A fresh process: new parameters and a task whose validation continues where the checkpoint left off.
        let resumedSet = parameters()
        let resumed = try TrainingLoop(options: loop).run(
            resumedSet, task: task(resumedSet, noise: 4, validation: [1, 1.5]), checkpointing: checkpointing)
        XCTAssertEqual(resumed.curve, straight.curve)
        XCTAssertEqual(resumedSet.weights.buffer(count: resumedSet.capacity).array, straightSet.weights.buffer(count: straightSet.capacity).array)
        XCTAssertEqual(resumedSet.firstMoments.buffer(count: resumedSet.trainableCapacity).array, straightSet.firstMoments.buffer(count: straightSet.trainableCapacity).array)
        XCTAssertEqual(resumed.bestStep, straight.bestStep)
        XCTAssertEqual(resumed.bestWeights!.buffer(count: 4).array, straight.bestWeights!.buffer(count: 4).array)
    }

    func testAnOlderCheckpointIsRefusedWithWhatToDo() throws {
        let folder = try temporaryFolder() + "/run.checkpoint"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(#"{"step": 3, "randomState": 1, "curve": []}"#.utf8).write(to: URL(fileURLWithPath: folder + "/training.json"))
        let set = parameters()
        XCTAssertThrowsError(
            try TrainingLoop(options: options(steps: 4)).run(set, task: task(set), checkpointing: Checkpointing(folder: folder, every: 1, resume: true))
        ) { error in
            XCTAssertEqual(error as? TrainingError, .checkpointVersion(path: folder, found: nil, expected: 2))
            XCTAssertTrue(error.localizedDescription.contains("without --resume"), error.localizedDescription)
        }
    }

    func testACheckpointOfOtherSettingsIsRefusedNamingTheSetting() throws {
        let folder = try temporaryFolder() + "/run.checkpoint"
        let set = parameters()
        _ = try TrainingLoop(options: options(steps: 2)).run(set, task: task(set), checkpointing: Checkpointing(folder: folder, every: 1, resume: true, notice: { _ in }))
        let other = parameters()
        XCTAssertThrowsError(
            try TrainingLoop(options: options(steps: 4)).run(other, task: task(other, k: 2), checkpointing: Checkpointing(folder: folder, every: 1, resume: true))
        ) { error in
            XCTAssertTrue(error.localizedDescription.contains("other training options or data (k: 1 in the checkpoint, 2 now)"), error.localizedDescription)
        }
        let bigger = ParameterSet([.init(name: "b", shape: [2], values: [0, 0], decays: false), .init(name: "w", shape: [2], values: [0, 0], decays: true)])
        XCTAssertThrowsError(
            try TrainingLoop(options: options(steps: 4)).run(bigger, task: task(bigger), checkpointing: Checkpointing(folder: folder, every: 1, resume: true))
        ) { error in
            XCTAssertTrue(error.localizedDescription.contains("does not match this run's"), error.localizedDescription)
        }
    }
}

private func XCTAssertEqual(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
