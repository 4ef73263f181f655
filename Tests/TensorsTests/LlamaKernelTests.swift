import Foundation
import XCTest
@testable import Tensors

/// Llama-family kernels and operations against Float64 references and central differences
/// (loss = Σ out ⊙ G for a random G).
final class LlamaKernelTests: GradientCheckCase {
    /// Hugging Face's rotate-half form, written from its definition in Float64.
    func rotaryReference(_ x: [Double], positions: [Int], heads: Int, headSize d: Int, theta: Double) -> [Double] {
        var out = x
        let half = d / 2
        for (r, p) in positions.enumerated() {
            for h in 0..<heads {
                let base = (r * heads + h) * d
                for i in 0..<half {
                    let angle = Double(p) * Double(Float(1 / pow(theta, Double(2 * i) / Double(d))))
                    let (a, b) = (x[base + i], x[base + i + half])
                    out[base + i] = a * cos(angle) - b * sin(angle)
                    out[base + i + half] = b * cos(angle) + a * sin(angle)
                }
            }
        }
        return out
    }

    func testRotaryEmbeddingForwardAndGradients() {
        let (heads, d, positions) = (3, 8, [0, 5, 2, 17])
        let n = positions.count
        let table = RotaryEmbedding.Table(positions: 32, headSize: d, theta: 10_000)
        let x = randoms(n * heads * d), g = randoms(n * heads * d)
        let p32 = positions.map(Int32.init)
        var out = [Float](repeating: 0, count: x.count)
        RotaryEmbedding.forward(out: &out, inp: x.map(Float.init), positions: p32, table: table, rows: n, heads: heads)
        let expected = rotaryReference(x, positions: positions, heads: heads, headSize: d, theta: 10_000)
        for (a, b) in zip(out, expected) { XCTAssertEqual(Double(a), b, accuracy: 1e-5) }
        // Position 0 is the identity.
        for i in 0..<(heads * d) { XCTAssertEqual(Double(out[i]), x[i], accuracy: 1e-6) }
        var dinp = [Float](repeating: 0, count: x.count)
        RotaryEmbedding.backward(dinp: &dinp, dout: g.map(Float.init), positions: p32, table: table, rows: n, heads: heads)
        let numeric = numericGradient(x) { x in
            zip(rotaryReference(x, positions: positions, heads: heads, headSize: d, theta: 10_000), g).reduce(0) { $0 + $1.0 * $1.1 }
        }
        assertClose(dinp, numeric, "rotary dinp")
    }

    func testGroupedQKVRepeatsEachKeyValueHeadForItsGroupAndSumsTheirGradients() {
        let (n, heads, kvHeads, d) = (3, 6, 2, 4)
        let c = heads * d, ckv = kvHeads * d
        let q = randoms(n * c), k = randoms(n * ckv), v = randoms(n * ckv), g = randoms(n * 3 * c)
        func reference(_ q: [Double], _ k: [Double], _ v: [Double]) -> [Double] {
            var out: [Double] = []
            for r in 0..<n {
                out += q[(r * c)..<((r + 1) * c)]
                for h in 0..<heads {
                    let start: Int = r * ckv + (h / 3) * d
                    out += k[start..<(start + d)]
                }
                for h in 0..<heads {
                    let start: Int = r * ckv + (h / 3) * d
                    out += v[start..<(start + d)]
                }
            }
            return out
        }
        var out = [Float](repeating: 0, count: n * 3 * c)
        GroupedQKV.forward(
            qkv: &out, q: q.map(Float.init), k: k.map(Float.init), v: v.map(Float.init), rows: n, heads: heads, keyValueHeads: kvHeads, headSize: d)
        XCTAssertEqual(out, reference(q, k, v).map(Float.init))
        var dq = [Float](repeating: 0, count: q.count), dk = [Float](repeating: 0, count: k.count), dv = dk
        GroupedQKV.backward(dq: &dq, dk: &dk, dv: &dv, dqkv: g.map(Float.init), rows: n, heads: heads, keyValueHeads: kvHeads, headSize: d)
        func loss(_ out: [Double]) -> Double { zip(out, g).reduce(0) { $0 + $1.0 * $1.1 } }
        assertClose(dk, numericGradient(k) { loss(reference(q, $0, v)) }, "dk")
        assertClose(dv, numericGradient(v) { loss(reference(q, k, $0)) }, "dv")
        assertClose(dq, numericGradient(q) { loss(reference($0, k, v)) }, "dq")
    }

    /// `x · Wᵀ` in nn.Linear's layout; a frozen weight gets no gradient but the input still does.
    func testProjectionGradientsAndFrozenWeights() {
        let (n, c, oc) = (4, 5, 3)
        let x = randoms(n * c), w = randoms(oc * c), g = randoms(n * oc)
        func reference(_ x: [Double], _ w: [Double]) -> Double {
            var total = 0.0
            for r in 0..<n { for o in 0..<oc { for i in 0..<c { total += x[r * c + i] * w[o * c + i] * g[r * oc + o] } } }
            return total
        }
        for frozen in [false, true] {
            let tape = Tape()
            let input = Variable(shape: [n, c], value: x.map(Float.init))
            let weight = Variable(shape: [oc, c], value: w.map(Float.init))
            weight.requiresGradient = !frozen
            let out = Ops.projection(tape, input, weight: weight)
            out.gradient.assign(g.map(Float.init))
            tape.backward()
            assertClose(input.gradient.array, numericGradient(x) { reference($0, w) }, "dx (frozen \(frozen))")
            if frozen {
                XCTAssertEqual(weight.gradient.array, [Float](repeating: 0, count: oc * c))
            } else {
                assertClose(weight.gradient.array, numericGradient(w) { reference(x, $0) }, "dW")
            }
        }
    }

    func testAddScaledGradients() {
        let tape = Tape()
        let a = Variable(shape: [3], value: [1, 2, 3]), b = Variable(shape: [3], value: [4, 5, 6])
        let out = Ops.addScaled(tape, a, b, scale: 0.5)
        XCTAssertEqual(out.value.array, [3, 4.5, 6])
        out.gradient.assign([1, -1, 2])
        tape.backward()
        XCTAssertEqual(a.gradient.array, [1, -1, 2])
        XCTAssertEqual(b.gradient.array, [0.5, -0.5, 1])
    }

    /// Grouped-query cached attention equals plain cached attention over keys and values repeated per group.
    func testCachedAttentionWithSharedKeyValueHeadsEqualsRepeatedHeads() {
        let (b, s, heads, kvHeads, d) = (2, 5, 4, 2, 3)
        let c = heads * d, ckv = kvHeads * d, start = 3, tn = 2
        let queries = randoms(b * tn * c).map(Float.init)
        let kCache = randoms(b * s * ckv).map(Float.init), vCache = randoms(b * s * ckv).map(Float.init)
        let mask: [Float] = [1, 1, 0, 1, 1, 0, 1, 1, 1, 1]
        var grouped = [Float](repeating: 0, count: b * tn * c)
        CachedAttention.forward(
            out: &grouped, queries: queries, queryStride: c, kCache: kCache, vCache: vCache, keyMask: mask, batch: b, newLength: tn, slots: s,
            start: start, channels: c, heads: heads, keyValueHeads: kvHeads)
        func repeated(_ cache: [Float]) -> [Float] {
            var out: [Float] = []
            for row in 0..<(b * s) {
                for h in 0..<heads {
                    let start: Int = row * ckv + (h / 2) * d
                    out += cache[start..<(start + d)]
                }
            }
            return out
        }
        var plain = [Float](repeating: 0, count: b * tn * c)
        CachedAttention.forward(
            out: &plain, queries: queries, queryStride: c, kCache: repeated(kCache), vCache: repeated(vCache), keyMask: mask, batch: b,
            newLength: tn, slots: s, start: start, channels: c, heads: heads, keyValueHeads: heads)
        for (x, y) in zip(grouped, plain) { XCTAssertEqual(x, y, accuracy: 1e-6) }
    }

    /// The fused LoRA projection equals the same computation composed of separate operations
    /// (dropout, three projections, a scaled sum), values and gradients, with and without dropout
    /// and with the base matrix frozen.
    func testFusedLoRAProjectionEqualsItsComposition() {
        let (n, c, oc, r) = (5, 6, 4, 2)
        let x = randoms(n * c).map(Float.init), w = randoms(oc * c).map(Float.init)
        let a = randoms(r * c).map(Float.init), b = randoms(oc * r).map(Float.init), g = randoms(n * oc).map(Float.init)
        for mask in [nil, DropoutMask(probability: 0.3, seed: 11)] {
            for frozen in [false, true] {
                func variables() -> [Variable] {
                    let vs = [Variable(shape: [n, c], value: x), Variable(shape: [oc, c], value: w), Variable(shape: [r, c], value: a),
                              Variable(shape: [oc, r], value: b)]
                    vs[1].requiresGradient = !frozen
                    return vs
                }
                let fused = variables(), composed = variables()
                let tape = Tape()
                let out1 = Ops.loraProjection(tape, fused[0], weight: fused[1], down: fused[2], up: fused[3], scale: 1.5, dropout: mask)
                let input = mask.map { Ops.dropout(tape, composed[0], mask: $0) } ?? composed[0]
                let low = Ops.projection(tape, Ops.projection(tape, input, weight: composed[2]), weight: composed[3])
                let out2 = Ops.addScaled(tape, Ops.projection(tape, composed[0], weight: composed[1]), low, scale: 1.5)
                for (p, q) in zip(out1.value.array, out2.value.array) { XCTAssertEqual(p, q, accuracy: 1e-5) }
                out1.gradient.assign(g)
                out2.gradient.assign(g)
                tape.backward()
                for (index, (f, s)) in zip(fused, composed).enumerated() {
                    for (p, q) in zip(f.gradient.array, s.gradient.array) { XCTAssertEqual(p, q, accuracy: 1e-5, "input \(index), dropout \(mask != nil), frozen \(frozen)") }
                }
                if frozen { XCTAssertEqual(fused[1].gradient.array, [Float](repeating: 0, count: oc * c)) }
            }
        }
    }
}
