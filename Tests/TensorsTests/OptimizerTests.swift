import XCTest
@testable import Tensors

final class OptimizerTests: XCTestCase {
    /// One step by hand: g = 0.5, p = 1, lr = 0.1, wd = 0.01, β1 = 0.9, β2 = 0.999, ε = 1e-8.
    /// m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25; p = 1 − 0.1·(0.5/(0.5+1e-8) + 0.01·1) = 0.899.
    /// Second step, same g: m = 0.095, v = 0.00049975; m̂ = 0.5, v̂ = 0.25 → p = 0.899 − 0.1·(1 + 0.00899) = 0.7981010.
    func testAdamWStepsMatchHandComputation() {
        var p: [Float] = [1, 1]
        var m: [Float] = [0, 0]
        var v: [Float] = [0, 0]
        let g: [Float] = [0.5, 0.5]
        let adam = AdamW(weightDecay: 0.01)
        adam.update(parameters: &p, gradients: g, m: &m, v: &v, count: 1, step: 1, lr: 0.1)
        XCTAssertEqual(p[0], 0.899, accuracy: 1e-6)
        XCTAssertEqual(m[0], 0.05, accuracy: 1e-7)
        XCTAssertEqual(v[0], 0.00025, accuracy: 1e-8)
        adam.update(parameters: &p, gradients: g, m: &m, v: &v, count: 1, step: 2, lr: 0.1)
        XCTAssertEqual(p[0], 0.798101, accuracy: 1e-5)
        XCTAssertEqual(p[1], 1, "count limits the update")
        // Without decay the same first step gives 1 − 0.1 = 0.9.
        var q: [Float] = [1]
        var m2: [Float] = [0]
        var v2: [Float] = [0]
        adam.update(parameters: &q, gradients: [0.5], m: &m2, v: &v2, count: 1, step: 1, lr: 0.1, decay: false)
        XCTAssertEqual(q[0], 0.9, accuracy: 1e-6)
    }

    func testWarmupThenCosine() {
        let s = WarmupCosineSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minimumFraction: 0.1)
        XCTAssertEqual(s.rate(step: 1), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(step: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(step: 60), 0.55, accuracy: 1e-6)  // halfway: 0.1 + 0.9·0.5
        XCTAssertEqual(s.rate(step: 110), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(step: 500), 0.1, accuracy: 1e-6)
    }

    func testGlobalNormClippingScalesTheTrainableGradientsOfTheSetTogether() {
        let set = ParameterSet([
            .init(name: "a", shape: [2], values: [0, 0], decays: true), .init(name: "b", shape: [1], values: [0], decays: false),
            .init(name: "frozen", shape: [1], values: [0], decays: true, trainable: false),
        ])
        let (a, b, frozen) = (set.variable(named: "a")!, set.variable(named: "b")!, set.variable(named: "frozen")!)
        a.gradient.assign([3, 0])
        b.gradient.assign([4])
        frozen.gradient.assign([100])
        XCTAssertEqual(GradientClipping.clip(set, maxNorm: 1), 5, "√(3² + 4²); the frozen tensor does not count")
        XCTAssertEqual(a.gradient.array, [0.6, 0])
        XCTAssertEqual(b.gradient[0], 0.8, accuracy: 1e-7)
        XCTAssertEqual(frozen.gradient[0], 100)
        XCTAssertEqual(GradientClipping.clip(set, maxNorm: 2), 1, accuracy: 1e-6)
        XCTAssertEqual(a.gradient.array, [0.6, 0], "below the limit nothing changes")
    }

    func testFrozenTensorsTakeNoPlaceInTheGradientAndMomentBuffers() throws {
        let set = ParameterSet([
            .init(name: "base", shape: [40], values: [Float](repeating: 1, count: 40), decays: true, trainable: false),
            .init(name: "lora", shape: [3], values: [1, 2, 3], decays: false),
        ])
        XCTAssertEqual(set.capacity, 64, "weights: 40 → 48, then 3 → 16")
        XCTAssertEqual(set.trainableCapacity, 16, "gradients and moments: the adapter alone")
        XCTAssertEqual(set.tensors.map(\.gradientOffset), [0, 0])
        let (base, lora) = (set.variable(named: "base")!, set.variable(named: "lora")!)
        XCTAssertEqual(lora.gradient.base, set.gradients.base)
        XCTAssertFalse(base.hasGradient, "a frozen tensor's gradient exists only once something asks for it")
        XCTAssertEqual(base.gradient.array, [Float](repeating: 0, count: 40))
        XCTAssertEqual(set.momentTensors().keys.sorted(), ["m.lora", "v.lora"])
        lora.gradient.assign([1, 1, 1])
        base.gradient.assign([Float](repeating: 5, count: 40))
        AdamW(weightDecay: 0).update(set, step: 1, lr: 0.1)
        for (value, expected) in zip(lora.value.array, [0.9, 1.9, 2.9] as [Float]) { XCTAssertEqual(value, expected, accuracy: 1e-6, "Adam's first step moves by lr") }
        XCTAssertEqual(base.value.array, [Float](repeating: 1, count: 40))
        try set.loadMoments(["m.lora": .init(shape: [3], values: [7, 8, 9]), "v.lora": .init(shape: [3], values: [1, 1, 1])])
        XCTAssertEqual(set.firstMoments.buffer(count: 3).array, [7, 8, 9])
    }

    func testAKeptFrozenTensorHasNoOptimiserStateButIsPartOfTheTrainingState() throws {
        let set = ParameterSet([
            .init(name: "base", shape: [4], values: [1, 1, 1, 1], decays: false, trainable: false),
            .init(name: "table", shape: [2], values: [5, 6], decays: false, trainable: false, kept: true),
            .init(name: "w", shape: [2], values: [1, 2], decays: false),
        ])
        XCTAssertEqual(set.trainableCapacity, 16, "gradients and moments: w alone")
        XCTAssertEqual(set.momentTensors().keys.sorted(), ["m.w", "v.w"])
        XCTAssertEqual(set.weightTensors(trainableOnly: true).keys.sorted(), ["table", "w"], "what a checkpoint writes")
        XCTAssertFalse(set.variable(named: "table")!.requiresGradient)
        try set.loadWeights(["table": .init(shape: [2], values: [7, 8]), "w": .init(shape: [2], values: [3, 4])], trainableOnly: true)
        XCTAssertEqual(set.variable(named: "table")!.value.array, [7, 8])
        XCTAssertThrowsError(try set.loadWeights(["w": .init(shape: [2], values: [3, 4])], trainableOnly: true)) { error in
            XCTAssertEqual(error as? ParameterSetError, .missing(name: "table"))
        }
    }

    func testTensorsOfASetAreAlignedSlicesOfOneBufferPerRole() {
        let set = ParameterSet([
            .init(name: "x", shape: [3], values: [1, 2, 3], decays: false), .init(name: "y", shape: [2, 2], values: [4, 5, 6, 7], decays: true),
        ])
        XCTAssertEqual(set.tensors.map(\.offset), [0, 16], "each tensor starts on a 64-byte boundary")
        XCTAssertEqual(set.capacity, 32)
        XCTAssertEqual(Array(set.weights.buffer(count: 20)), [1, 2, 3] + [Float](repeating: 0, count: 13) + [4, 5, 6, 7])
        let y = set.variable(named: "y")!
        XCTAssertEqual(y.value.base, set.weights.base + 16)
        XCTAssertEqual(y.gradient.base, set.gradients.base + 16)
        XCTAssertEqual(set.weightTensors()["y"], SafeTensors.Tensor(shape: [2, 2], values: [4, 5, 6, 7]))
        XCTAssertEqual(set.momentTensors().keys.sorted(), ["m.x", "m.y", "v.x", "v.y"])
        XCTAssertThrowsError(try set.loadWeights(["x": .init(shape: [3], values: [0, 0, 0])])) { error in
            XCTAssertEqual(error as? ParameterSetError, .missing(name: "y"))
        }
    }
}
