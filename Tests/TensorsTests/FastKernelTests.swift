import Foundation
import XCTest
@testable import Tensors

/// The vectorised and threaded kernels against libm and the plain reference loops beside them.
final class FastKernelTests: XCTestCase {
    func testVectorExpIsWithinTwoUlpOfLibmOverTheWholeRange() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let lanes = VectorMath.Vector((0..<8).map { x + Float($0) * 0.0137 })
            let fast = VectorMath.exp(lanes)
            for i in 0..<8 {
                let exact = Float(Foundation.exp(Double(lanes[i])))
                worst = max(worst, abs(fast[i] - exact) / exact.ulp)
            }
            x += 0.173
        }
        XCTAssertLessThanOrEqual(worst, 2, "worst error in ulp")
    }

    func testVectorExpSendsMaskedScoresToZeroAndOverflowToInfinity() {
        let fast = VectorMath.exp(VectorMath.Vector(-.infinity, -100, -87.5, 0, 1, 88.8, 1000, .infinity))
        XCTAssertEqual(fast[0], 0)
        XCTAssertEqual(fast[1], 0)
        XCTAssertEqual(fast[2], 0)
        XCTAssertEqual(fast[3], 1)
        XCTAssertEqual(fast[4], 2.7182817, accuracy: 1e-6)
        XCTAssertEqual(fast[5], .infinity)
        XCTAssertEqual(fast[6], .infinity)
        XCTAssertEqual(fast[7], .infinity)
    }

    func testVectorTanhMatchesLibm() {
        for x in stride(from: Float(-30), through: 30, by: 0.01) {
            XCTAssertEqual(VectorMath.tanh(x), tanhf(x), accuracy: 2e-7, "tanh(\(x))")
        }
    }

    func testGELUMatchesItsReferenceLoops() {
        let count = 40_003  // several threads' parts and a tail shorter than a vector
        let inp = (0..<count).map { _ in Float.random(in: -6...6) }
        let dout = (0..<count).map { _ in Float.random(in: -1...1) }
        var fast = [Float](repeating: 0, count: count), reference = fast
        GELU.forward(out: &fast, inp: inp, count: count)
        GELU.referenceForward(out: &reference, inp: inp, count: count)
        for i in 0..<count { XCTAssertEqual(fast[i], reference[i], accuracy: 1e-6, "forward \(i)") }
        var fastGrad = [Float](repeating: 0.5, count: count), referenceGrad = fastGrad
        GELU.backward(dinp: &fastGrad, inp: inp, dout: dout, count: count)
        GELU.referenceBackward(dinp: &referenceGrad, inp: inp, dout: dout, count: count)
        // The slope multiplies tanh's error by up to ~10 (0.5·x·(1 − t²)·… for |x| ≈ 5): 1e-5, not 1e-6.
        for i in 0..<count { XCTAssertEqual(fastGrad[i], referenceGrad[i], accuracy: 1e-5, "backward \(i)") }
    }

    func testExactGELUMatchesItsReferenceLoops() {
        let count = 40_003
        let inp = (0..<count).map { _ in Float.random(in: -7...7) }
        let dout = (0..<count).map { _ in Float.random(in: -1...1) }
        var fast = [Float](repeating: 0, count: count), reference = fast
        ExactGELU.forward(out: &fast, inp: inp, count: count)
        ExactGELU.referenceForward(out: &reference, inp: inp, count: count)
        // erf's rational approximation: a few 1e-7 absolute near |x / √2| = 4, times |x| / 2.
        for i in 0..<count { XCTAssertEqual(fast[i], reference[i], accuracy: 2e-6, "forward \(inp[i])") }
        var fastGrad = [Float](repeating: 0.5, count: count), referenceGrad = fastGrad
        ExactGELU.backward(dinp: &fastGrad, inp: inp, dout: dout, count: count)
        ExactGELU.referenceBackward(dinp: &referenceGrad, inp: inp, dout: dout, count: count)
        for i in 0..<count { XCTAssertEqual(fastGrad[i], referenceGrad[i], accuracy: 2e-6, "backward \(inp[i])") }
    }

    func testCrossEntropyMatchesItsReferenceLoop() {
        let (n, v) = (37, 1_003)  // a vocabulary that is not a multiple of the vector width
        let logits = (0..<(n * v)).map { _ in Float.random(in: -8...8) }
        let targets = (0..<n).map { _ in Int32.random(in: 0..<Int32(v)) }
        let mask = (0..<n).map { $0 % 5 == 3 ? Float(0) : 1 }
        var fast = [Float](repeating: 9, count: n * v), reference = fast
        let fastLoss = CrossEntropy.forwardBackward(logits: logits, targets: targets, mask: mask, dlogits: &fast, rows: n, vocabulary: v)
        let referenceLoss = CrossEntropy.referenceForwardBackward(
            logits: logits, targets: targets, mask: mask, dlogits: &reference, rows: n, vocabulary: v)
        XCTAssertEqual(fastLoss, referenceLoss, accuracy: 1e-5)
        for i in 0..<(n * v) { XCTAssertEqual(fast[i], reference[i], accuracy: 1e-7, "dlogits \(i)") }
        let lossOnly = CrossEntropy.forwardBackward(logits: logits, targets: targets, mask: mask, dlogits: nil, rows: n, vocabulary: v)
        XCTAssertEqual(lossOnly, referenceLoss, accuracy: 1e-5)
    }

    func testSplitGemmMatchesTheReferenceOnLargeStridedShapes() {
        // Above the parallel threshold, tall (split by rows) and wide (split by columns), with transposes.
        for (m, n, k) in [(300, 70, 64), (70, 300, 64)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = (0..<(m * k)).map { _ in Float.random(in: -1...1) }
                let b = (0..<(k * n)).map { _ in Float.random(in: -1...1) }
                var expected = (0..<(m * n)).map { _ in Float.random(in: -1...1) }
                var c = expected
                Matmul.referenceGemm(a, transposeA: ta, b, transposeB: tb, &expected, m: m, n: n, k: k, alpha: 0.5, beta: 2)
                c.withUnsafeMutableBufferPointer {
                    Matmul.gemm(a, transposeA: ta, b, transposeB: tb, $0.baseAddress!, m: m, n: n, k: k, alpha: 0.5, beta: 2)
                }
                XCTAssertGreaterThanOrEqual(m * n * k, Matmul.parallelThreshold)
                for i in 0..<(m * n) { XCTAssertEqual(c[i], expected[i], accuracy: 1e-4, "\(m)x\(n)x\(k) \(ta) \(tb) at \(i)") }
            }
        }
    }

    func testLayerNormWeightGradientsSumEveryPart() {
        // 1,000 rows: split across threads; the summed gains' gradients equal the plain sums.
        let (n, c) = (1_000, 8)
        let inp = (0..<(n * c)).map { _ in Float.random(in: -2...2) }
        let dout = (0..<(n * c)).map { _ in Float.random(in: -1...1) }
        let weight = [Float](repeating: 1, count: c), bias = [Float](repeating: 0, count: c)
        var out = [Float](repeating: 0, count: n * c), mean = [Float](repeating: 0, count: n), rstd = mean
        LayerNorm.forward(out: &out, mean: &mean, rstd: &rstd, inp: inp, weight: weight, bias: bias, rows: n, channels: c)
        var dinp = [Float](repeating: 0, count: n * c), dweight = [Float](repeating: 0, count: c), dbias = dweight
        LayerNorm.backward(dinp: &dinp, dweight: &dweight, dbias: &dbias, dout: dout, inp: inp, weight: weight, mean: mean, rstd: rstd, rows: n, channels: c)
        for i in 0..<c {
            var expectedBias = 0.0, expectedWeight = 0.0
            for r in 0..<n {
                expectedBias += Double(dout[r * c + i])
                expectedWeight += Double(dout[r * c + i]) * Double(out[r * c + i])  // out = norm with unit gain, zero bias
            }
            XCTAssertEqual(Double(dbias[i]), expectedBias, accuracy: 1e-3)
            XCTAssertEqual(Double(dweight[i]), expectedWeight, accuracy: 1e-3)
        }
    }
}

final class BufferPoolTests: XCTestCase {
    func testSizeClassesAreWithinAnEighthAboveTheRequest() {
        for n in [1, 7, 8, 9, 15, 16, 17, 100, 1000, 4097, 123_457, 1 << 20, (1 << 20) + 1] {
            let size = BufferPool.classAtLeast(n)
            XCTAssertGreaterThanOrEqual(size, n)
            XCTAssertLessThanOrEqual(Double(size), Double(n) * 1.125 + 1, "\(n) → \(size)")
            XCTAssertEqual(BufferPool.classAtMost(size), size, "classes are fixed points")
            XCTAssertLessThanOrEqual(BufferPool.classAtMost(n), n)
        }
    }

    func testBuffersOfNearbySizesAreReused() {
        let pool = BufferPool()
        let first = pool.zeros(10_000)
        XCTAssertGreaterThanOrEqual(first.capacity, 10_000)
        first.base[0] = 7
        pool.give(first)
        let second = pool.zeros(10_200)  // the same class: the storage comes back, zeroed as far as asked
        XCTAssertTrue(second === first)
        XCTAssertGreaterThanOrEqual(second.capacity, 10_200)
        XCTAssertTrue(second.buffer(count: 10_200).allSatisfy { $0 == 0 })
        pool.give(second)
        let third = pool.take(9_900)
        XCTAssertGreaterThanOrEqual(third.capacity, 9_900)
        XCTAssertEqual(pool.allocations, 1)
    }
}
