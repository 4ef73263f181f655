import Foundation
import XCTest
@testable import Tensors

final class AttentionTests: GradientCheckCase {
    /// Float64 reference of the attention output (loss = Σ out ⊙ G).
    /// With `dropout`, each softmax weight is multiplied by the mask's factor at its (b, h, i, j) index.
    func reference(
        _ qkv: [Double], g: [Double], mask: [Float]?, causal: Bool, b: Int, t: Int, c: Int, nh: Int, dropout: DropoutMask? = nil
    ) -> Double {
        let hs = c / nh
        var loss = 0.0
        for bi in 0..<b {
            for h in 0..<nh {
                for ti in 0..<t {
                    var weights: [Double] = []
                    var keys: [Int] = []
                    for tj in 0..<t where !(causal && tj > ti) && (mask?[bi * t + tj] ?? 1) != 0 {
                        var dot = 0.0
                        for i in 0..<hs { dot += qkv[(bi * t + ti) * 3 * c + h * hs + i] * qkv[(bi * t + tj) * 3 * c + c + h * hs + i] }
                        weights.append(dot / Double(hs).squareRoot())
                        keys.append(tj)
                    }
                    guard let m = weights.max() else { continue }
                    let e = weights.map { exp($0 - m) }
                    let s = e.reduce(0, +)
                    for i in 0..<hs {
                        var o = 0.0
                        for (w, tj) in zip(e, keys) {
                            let keep = Double(dropout?.factor(((bi * nh + h) * t + ti) * t + tj) ?? 1)
                            o += w / s * keep * qkv[(bi * t + tj) * 3 * c + 2 * c + h * hs + i]
                        }
                        loss += o * g[(bi * t + ti) * c + h * hs + i]
                    }
                }
            }
        }
        return loss
    }

    func check(causal: Bool, mask: [Float]?) {
        let (b, t, c, nh) = (2, 4, 6, 2)
        let qkv = randoms(b * t * 3 * c), g = randoms(b * t * c)
        var out = [Float](repeating: 0, count: b * t * c)
        var att = [Float](repeating: 0, count: b * nh * t * t)
        let fq = qkv.map(Float.init)
        Attention.forward(out: &out, att: &att, qkv: fq, keyMask: mask, causal: causal, batch: b, length: t, channels: c, heads: nh)
        XCTAssertEqual(zip(out, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }, reference(qkv, g: g, mask: mask, causal: causal, b: b, t: t, c: c, nh: nh), accuracy: 1e-4)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        Attention.backward(dqkv: &dqkv, dout: g.map(Float.init), qkv: fq, att: att, batch: b, length: t, channels: c, heads: nh)
        assertClose(dqkv, numericGradient(qkv) { self.reference($0, g: g, mask: mask, causal: causal, b: b, t: t, c: c, nh: nh) }, "dqkv causal \(causal) mask \(mask != nil)")
    }

    func testCausalAttentionGradients() { check(causal: true, mask: nil) }

    /// Packed sequences of equal length t lay their weights out as the padded kernel does, so the
    /// padded Float64 reference (with the dropout factor at each (b, h, i, j) index) checks them.
    func testPackedAttentionDropoutOutputAndGradientsMatchTheDroppedReference() {
        let (b, t, c, nh) = (2, 4, 6, 2)
        let offsets = [0, 4, 8]
        let dropout = DropoutMask(probability: 0.3, seed: 11)
        let qkv = randoms(b * t * 3 * c), g = randoms(b * t * c)
        let fq = qkv.map(Float.init)
        var out = [Float](repeating: 0, count: b * t * c)
        var att = [Float](repeating: 0, count: b * nh * t * t), dropped = att
        PackedAttention.forward(out: &out, att: &att, qkv: fq, offsets: offsets, causal: false, channels: c, heads: nh, dropout: dropout, dropped: &dropped)
        XCTAssertTrue(zip(att, dropped).contains { $0.0 != 0 && $0.1 == 0 }, "some weights were dropped")
        let expected = reference(qkv, g: g, mask: nil, causal: false, b: b, t: t, c: c, nh: nh, dropout: dropout)
        XCTAssertEqual(zip(out, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }, expected, accuracy: 1e-4)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        PackedAttention.backward(
            dqkv: &dqkv, dout: g.map(Float.init), qkv: fq, att: att, offsets: offsets, channels: c, heads: nh, dropout: dropout, dropped: dropped)
        assertClose(
            dqkv, numericGradient(qkv) { self.reference($0, g: g, mask: nil, causal: false, b: b, t: t, c: c, nh: nh, dropout: dropout) },
            "dqkv with attention dropout")
    }

    func testPackedAttentionWithZeroDropoutEqualsNoDropout() {
        let (t, c, nh) = (5, 4, 2)
        let qkv = randoms(t * 3 * c).map(Float.init)
        var plain = [Float](repeating: 0, count: t * c), att = [Float](repeating: 0, count: nh * t * t)
        PackedAttention.forward(out: &plain, att: &att, qkv: qkv, offsets: [0, t], causal: true, channels: c, heads: nh)
        var withZero = [Float](repeating: .nan, count: t * c), dropped = att
        PackedAttention.forward(
            out: &withZero, att: &att, qkv: qkv, offsets: [0, t], causal: true, channels: c, heads: nh, dropout: DropoutMask(probability: 0, seed: 3),
            dropped: &dropped)
        XCTAssertEqual(plain, withZero)
    }

    func testBidirectionalAttentionWithPaddingGradients() { check(causal: false, mask: [1, 1, 1, 0, 1, 1, 0, 0]) }
    func testCausalAttentionWithLeftPaddingGradients() { check(causal: true, mask: [0, 1, 1, 1, 1, 1, 1, 1]) }

    func testCausalMaskHidesTheFuture() {
        let (b, t, c, nh) = (1, 5, 4, 1)
        var qkv = randoms(b * t * 3 * c).map(Float.init)
        var first = [Float](repeating: 0, count: t * c), att = [Float](repeating: 0, count: t * t)
        Attention.forward(out: &first, att: &att, qkv: qkv, keyMask: nil, causal: true, batch: b, length: t, channels: c, heads: nh)
        for i in (4 * 3 * c)..<(5 * 3 * c) { qkv[i] += 1 }  // change the last position only
        var second = [Float](repeating: 0, count: t * c)
        Attention.forward(out: &second, att: &att, qkv: qkv, keyMask: nil, causal: true, batch: b, length: t, channels: c, heads: nh)
        XCTAssertEqual(Array(first[0..<(4 * c)]), Array(second[0..<(4 * c)]))
        XCTAssertNotEqual(Array(first[(4 * c)...]), Array(second[(4 * c)...]))
    }

    func testGEMMKernelsMatchThePlainLoops() {
        let (b, t, c, nh) = (2, 7, 8, 2)
        for (causal, mask) in [(true, nil), (false, [Float](repeating: 1, count: 7) + [1, 1, 0, 1, 1, 0, 0] as [Float]?)] {
            let qkv = randoms(b * t * 3 * c).map(Float.init), g = randoms(b * t * c).map(Float.init)
            var out1 = [Float](repeating: 0, count: b * t * c), att1 = [Float](repeating: 0, count: b * nh * t * t)
            var out2 = out1, att2 = att1
            Attention.forward(out: &out1, att: &att1, qkv: qkv, keyMask: mask, causal: causal, batch: b, length: t, channels: c, heads: nh)
            Attention.referenceForward(out: &out2, att: &att2, qkv: qkv, keyMask: mask, causal: causal, batch: b, length: t, channels: c, heads: nh)
            for (x, y) in zip(out1, out2) { XCTAssertEqual(x, y, accuracy: 1e-5) }
            for (x, y) in zip(att1, att2) { XCTAssertEqual(x, y, accuracy: 1e-6) }
            var d1 = [Float](repeating: 0.5, count: qkv.count), d2 = d1
            Attention.backward(dqkv: &d1, dout: g, qkv: qkv, att: att1, batch: b, length: t, channels: c, heads: nh)
            Attention.referenceBackward(dqkv: &d2, dout: g, qkv: qkv, att: att2, batch: b, length: t, channels: c, heads: nh)
            for (x, y) in zip(d1, d2) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        }
    }
}
