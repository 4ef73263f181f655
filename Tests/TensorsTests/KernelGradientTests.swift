import Foundation
import XCTest
@testable import Tensors

/// Helpers for gradient checks: random inputs, central finite differences, tolerant comparison.
class GradientCheckCase: XCTestCase {
    var random = SystemRandomNumberGenerator()

    func randoms(_ n: Int, scale: Double = 1) -> [Double] { (0..<n).map { _ in Double.random(in: -scale...scale, using: &random) } }

    /// Central differences of `f` at `x`, step `h`.
    func numericGradient(_ x: [Double], h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
        var x = x
        return (0..<x.count).map { i in
            let saved = x[i]
            x[i] = saved + h
            let up = f(x)
            x[i] = saved - h
            let down = f(x)
            x[i] = saved
            return (up - down) / (2 * h)
        }
    }

    func assertClose(_ analytic: [Float], _ numeric: [Double], tolerance: Double = 2e-3, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(analytic.count, numeric.count, message, file: file, line: line)
        let scale = max(1e-3, numeric.map(abs).max() ?? 0)
        for (a, n) in zip(analytic, numeric) where abs(Double(a) - n) > tolerance * scale {
            XCTFail("\(message): analytic \(a) vs numeric \(n)", file: file, line: line)
            return
        }
    }

}

/// Every kernel's backward pass against central finite differences of a Float64 reference of its
/// forward pass (loss = Σ out ⊙ G for a random G), and every optimised kernel against its plain
/// reference.
final class KernelGradientTests: GradientCheckCase {
    func testGemmMatchesTheReferenceForEveryTransposition() {
        let (m, n, k) = (7, 5, 9)
        for ta in [false, true] {
            for tb in [false, true] {
                let a = randoms(m * k).map(Float.init)
                let b = randoms(k * n).map(Float.init)
                var expected = randoms(m * n).map(Float.init)
                var got = expected
                Matmul.referenceGemm(a, transposeA: ta, b, transposeB: tb, &expected, m: m, n: n, k: k, alpha: 0.5, beta: 2)
                got.withUnsafeMutableBufferPointer { c in
                    Matmul.gemm(a, transposeA: ta, b, transposeB: tb, c.baseAddress!, m: m, n: n, k: k, alpha: 0.5, beta: 2)
                }
                for (x, y) in zip(got, expected) { XCTAssertEqual(x, y, accuracy: 1e-4, "ta \(ta) tb \(tb)") }
            }
        }
    }

    func testLinearGradients() {
        let (n, c, oc) = (3, 4, 5)
        let inp = randoms(n * c), weight = randoms(c * oc), bias = randoms(oc), g = randoms(n * oc)
        func reference(_ inp: [Double], _ weight: [Double], _ bias: [Double]) -> Double {
            var loss = 0.0
            for r in 0..<n {
                for j in 0..<oc {
                    var out = bias[j]
                    for i in 0..<c { out += inp[r * c + i] * weight[i * oc + j] }
                    loss += out * g[r * oc + j]
                }
            }
            return loss
        }
        var out = [Float](repeating: 0, count: n * oc)
        let fi = inp.map(Float.init), fw = weight.map(Float.init), fb = bias.map(Float.init), fg = g.map(Float.init)
        Linear.forward(out: &out, inp: fi, weight: fw, bias: fb, rows: n, inFeatures: c, outFeatures: oc)
        let loss = zip(out, fg).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(loss, reference(inp, weight, bias), accuracy: 1e-4)
        var dinp = [Float](repeating: 0, count: n * c), dweight = [Float](repeating: 0, count: c * oc), dbias = [Float](repeating: 0, count: oc)
        Linear.backward(dinp: &dinp, dweight: &dweight, dbias: &dbias, dout: fg, inp: fi, weight: fw, rows: n, inFeatures: c, outFeatures: oc)
        assertClose(dinp, numericGradient(inp) { reference($0, weight, bias) }, "dinp")
        assertClose(dweight, numericGradient(weight) { reference(inp, $0, bias) }, "dweight")
        assertClose(dbias, numericGradient(bias) { reference(inp, weight, $0) }, "dbias")
    }

    func testLayerNormGradients() {
        let (n, c) = (3, 6)
        let inp = randoms(n * c, scale: 2), weight = randoms(c), bias = randoms(c), g = randoms(n * c)
        func reference(_ inp: [Double], _ weight: [Double], _ bias: [Double]) -> Double {
            var loss = 0.0
            for r in 0..<n {
                let row = Array(inp[(r * c)..<((r + 1) * c)])
                let mean = row.reduce(0, +) / Double(c)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
                let rstd = 1 / (variance + Double(LayerNorm.epsilon)).squareRoot()
                for i in 0..<c { loss += ((row[i] - mean) * rstd * weight[i] + bias[i]) * g[r * c + i] }
            }
            return loss
        }
        let fi = inp.map(Float.init), fw = weight.map(Float.init), fb = bias.map(Float.init), fg = g.map(Float.init)
        var out = [Float](repeating: 0, count: n * c), mean = [Float](repeating: 0, count: n), rstd = [Float](repeating: 0, count: n)
        LayerNorm.forward(out: &out, mean: &mean, rstd: &rstd, inp: fi, weight: fw, bias: fb, rows: n, channels: c)
        XCTAssertEqual(zip(out, fg).reduce(0.0) { $0 + Double($1.0 * $1.1) }, reference(inp, weight, bias), accuracy: 1e-4)
        var dinp = [Float](repeating: 0, count: n * c), dweight = [Float](repeating: 0, count: c), dbias = [Float](repeating: 0, count: c)
        LayerNorm.backward(dinp: &dinp, dweight: &dweight, dbias: &dbias, dout: fg, inp: fi, weight: fw, mean: mean, rstd: rstd, rows: n, channels: c)
        assertClose(dinp, numericGradient(inp) { reference($0, weight, bias) }, "dinp")
        assertClose(dweight, numericGradient(weight) { reference(inp, $0, bias) }, "dweight")
        assertClose(dbias, numericGradient(bias) { reference(inp, weight, $0) }, "dbias")
    }

    func testGELUGradients() {
        let inp = randoms(40, scale: 4), g = randoms(40)
        func reference(_ x: [Double]) -> Double {
            zip(x, g).reduce(0.0) { sum, pair in
                let (x, g) = pair
                return sum + 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) * g
            }
        }
        var out = [Float](repeating: 0, count: 40)
        GELU.forward(out: &out, inp: inp.map(Float.init), count: 40)
        XCTAssertEqual(zip(out, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }, reference(inp), accuracy: 1e-4)
        var dinp = [Float](repeating: 0, count: 40)
        GELU.backward(dinp: &dinp, inp: inp.map(Float.init), dout: g.map(Float.init), count: 40)
        assertClose(dinp, numericGradient(inp, reference), "dinp")
    }

    func testExactGELUGradients() {
        let inp = randoms(40, scale: 5), g = randoms(40)
        func reference(_ x: [Double]) -> Double {
            zip(x, g).reduce(0.0) { sum, pair in sum + 0.5 * pair.0 * (1 + erf(pair.0 / 2.0.squareRoot())) * pair.1 }
        }
        var out = [Float](repeating: 0, count: 40)
        ExactGELU.forward(out: &out, inp: inp.map(Float.init), count: 40)
        XCTAssertEqual(zip(out, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }, reference(inp), accuracy: 1e-5)
        var dinp = [Float](repeating: 0, count: 40)
        ExactGELU.backward(dinp: &dinp, inp: inp.map(Float.init), dout: g.map(Float.init), count: 40)
        assertClose(dinp, numericGradient(inp, reference), "dinp")
    }

    func testPackedMeanPoolGradients() {
        let c = 3, offsets = [0, 2, 2, 7]  // an empty sequence in the middle
        let inp = randoms(7 * c), g = randoms(3 * c)
        func reference(_ x: [Double]) -> Double {
            var total = 0.0
            for s in 0..<3 where offsets[s + 1] > offsets[s] {
                for k in 0..<c {
                    let mean = (offsets[s]..<offsets[s + 1]).reduce(0.0) { $0 + x[$1 * c + k] } / Double(offsets[s + 1] - offsets[s])
                    total += mean * g[s * c + k]
                }
            }
            return total
        }
        var out = [Float](repeating: 9, count: 3 * c)
        PackedMeanPool.forward(out: &out, inp: inp.map(Float.init), offsets: offsets, channels: c)
        XCTAssertEqual(Array(out[3..<6]), [0, 0, 0])
        XCTAssertEqual(zip(out, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }, reference(inp), accuracy: 1e-5)
        var dinp = [Float](repeating: 0, count: 7 * c)
        PackedMeanPool.backward(dinp: &dinp, dout: g.map(Float.init), offsets: offsets, channels: c)
        assertClose(dinp, numericGradient(inp, reference), "dinp")
    }

    func testLayerNormEpsilonIsTheOneGiven() {
        // A row of variance 1e-6: ε = 1e-5 shrinks it to ~0.3 of unit scale, ε = 1e-12 normalises it fully.
        let inp: [Float] = [-1e-3, 1e-3], one: [Float] = [1, 1], zero: [Float] = [0, 0]
        var out = [Float](repeating: 0, count: 2), mean = [Float](repeating: 0, count: 1), rstd = mean
        LayerNorm.forward(out: &out, mean: &mean, rstd: &rstd, inp: inp, weight: one, bias: zero, rows: 1, channels: 2, epsilon: 1e-12)
        XCTAssertEqual(out[1], 1, accuracy: 1e-4)
        LayerNorm.forward(out: &out, mean: &mean, rstd: &rstd, inp: inp, weight: one, bias: zero, rows: 1, channels: 2)
        XCTAssertEqual(out[1], Float(1e-3 / (1e-6 + 1e-5).squareRoot()), accuracy: 1e-4)
    }

    func testMaskedCrossEntropyLossAndGradient() {
        let (n, v) = (4, 7)
        let logits = randoms(n * v, scale: 3)
        let targets: [Int32] = [2, 0, 6, 3]
        let mask: [Float] = [1, 0, 1, 1]
        func reference(_ logits: [Double]) -> Double {
            var total = 0.0
            for r in 0..<n where mask[r] != 0 {
                let row = logits[(r * v)..<((r + 1) * v)]
                let logSum = log(row.map(exp).reduce(0, +))
                total += logSum - logits[r * v + Int(targets[r])]
            }
            return total / 3
        }
        var dlogits = [Float](repeating: 9, count: n * v)
        let loss = CrossEntropy.forwardBackward(
            logits: logits.map(Float.init), targets: targets, mask: mask, dlogits: &dlogits, rows: n, vocabulary: v)
        XCTAssertEqual(Double(loss), reference(logits), accuracy: 1e-5)
        assertClose(dlogits, numericGradient(logits, reference), "dlogits")
        XCTAssertEqual(Array(dlogits[v..<(2 * v)]), [Float](repeating: 0, count: v), "masked rows get no gradient")
        // Hand value: uniform logits over V = 7 give loss ln 7.
        let uniform = CrossEntropy.forwardBackward(
            logits: [Float](repeating: 0.5, count: 7), targets: [3], mask: [1], dlogits: nil, rows: 1, vocabulary: 7)
        XCTAssertEqual(Double(uniform), log(7.0), accuracy: 1e-6)
    }
}

final class RMSNormGradientTests: GradientCheckCase {
    /// Forward against a Float64 computation of the definition; backward against central differences.
    func testRMSNormForwardAndGradients() {
        let (n, c) = (3, 7)
        let epsilon: Float = 1e-5
        let inp = randoms(n * c, scale: 2), weight = randoms(c), g = randoms(n * c)
        func reference(_ inp: [Double], _ weight: [Double]) -> Double {
            var loss = 0.0
            for r in 0..<n {
                let row = Array(inp[(r * c)..<((r + 1) * c)])
                let rstd = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(c) + Double(epsilon)).squareRoot()
                for i in 0..<c { loss += row[i] * rstd * weight[i] * g[r * c + i] }
            }
            return loss
        }
        let fi = inp.map(Float.init), fw = weight.map(Float.init), fg = g.map(Float.init)
        var out = [Float](repeating: 0, count: n * c), rstd = [Float](repeating: 0, count: n)
        RMSNorm.forward(out: &out, rstd: &rstd, inp: fi, weight: fw, rows: n, channels: c, epsilon: epsilon)
        XCTAssertEqual(zip(out, fg).reduce(0.0) { $0 + Double($1.0 * $1.1) }, reference(inp, weight), accuracy: 1e-4)
        // A row of twos with unit weights normalises to ones (rms 2), whatever ε this small.
        var ones = [Float](repeating: 0, count: 4), rms = [Float](repeating: 0, count: 1)
        RMSNorm.forward(out: &ones, rstd: &rms, inp: [2, -2, 2, -2], weight: [1, 1, 1, 1], rows: 1, channels: 4, epsilon: 0)
        XCTAssertEqual(ones, [1, -1, 1, -1])
        var dinp = [Float](repeating: 0, count: n * c), dweight = [Float](repeating: 0, count: c)
        RMSNorm.backward(dinp: &dinp, dweight: &dweight, dout: fg, inp: fi, weight: fw, rstd: rstd, rows: n, channels: c)
        assertClose(dinp, numericGradient(inp) { reference($0, weight) }, "dinp")
        assertClose(dweight, numericGradient(weight) { reference(inp, $0) }, "dweight")
    }
}

final class SwiGLUGradientTests: GradientCheckCase {
    /// Forward against a Float64 computation of the definition; backward against central differences.
    func testSwiGLUForwardAndGradients() {
        let count = 50
        let gate = randoms(count, scale: 6), up = randoms(count, scale: 2), g = randoms(count)
        func reference(_ gate: [Double], _ up: [Double]) -> Double {
            (0..<count).reduce(0.0) { sum, i in sum + gate[i] / (1 + exp(-gate[i])) * up[i] * g[i] }
        }
        var out = [Float](repeating: 0, count: count)
        SwiGLU.forward(out: &out, gate: gate.map(Float.init), up: up.map(Float.init), count: count)
        XCTAssertEqual(zip(out, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }, reference(gate, up), accuracy: 1e-4)
        // silu(0) = 0 and silu(x) → x for large x.
        var edge = [Float](repeating: 0, count: 2)
        SwiGLU.forward(out: &edge, gate: [0, 30], up: [5, 1], count: 2)
        XCTAssertEqual(edge, [0, 30])
        var dgate = [Float](repeating: 0, count: count), dup = [Float](repeating: 0, count: count)
        SwiGLU.backward(
            dgate: &dgate, dup: &dup, dout: g.map(Float.init), gate: gate.map(Float.init), up: up.map(Float.init), count: count)
        assertClose(dgate, numericGradient(gate) { reference($0, up) }, "dgate")
        assertClose(dup, numericGradient(up) { reference(gate, $0) }, "dup")
    }
}
