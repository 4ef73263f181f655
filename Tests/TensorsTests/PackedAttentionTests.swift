import Foundation
import XCTest
@testable import Tensors

final class PackedAttentionTests: GradientCheckCase {
    let lengths = [3, 1, 5]
    let (c, nh) = (6, 2)

    /// Runs the padded kernel (B = 3, T = 5, key mask on the padding) on the same sequences and
    /// returns its output and dqkv repacked without padding.
    func padded(_ packed: [Float], dout: [Float], causal: Bool) -> (out: [Float], dqkv: [Float]) {
        let t = lengths.max()!, b = lengths.count
        var qkv = [Float](repeating: 0, count: b * t * 3 * c), g = [Float](repeating: 0, count: b * t * c)
        var mask = [Float](repeating: 0, count: b * t)
        var offset = 0
        for (s, l) in lengths.enumerated() {
            for i in 0..<l {
                mask[s * t + i] = 1
                for j in 0..<(3 * c) { qkv[(s * t + i) * 3 * c + j] = packed[(offset + i) * 3 * c + j] }
                for j in 0..<c { g[(s * t + i) * c + j] = dout[(offset + i) * c + j] }
            }
            offset += l
        }
        var out = [Float](repeating: 0, count: b * t * c), att = [Float](repeating: 0, count: b * nh * t * t)
        Attention.referenceForward(out: &out, att: &att, qkv: qkv, keyMask: mask, causal: causal, batch: b, length: t, channels: c, heads: nh)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        Attention.referenceBackward(dqkv: &dqkv, dout: g, qkv: qkv, att: att, batch: b, length: t, channels: c, heads: nh)
        var packedOut: [Float] = [], packedGradient: [Float] = []
        for (s, l) in lengths.enumerated() {
            for i in 0..<l {
                let row = s * t + i
                packedOut += out[(row * c)..<(row * c + c)]
                packedGradient += dqkv[(row * 3 * c)..<(row * 3 * c + 3 * c)]
            }
        }
        return (packedOut, packedGradient)
    }

    func check(causal: Bool) {
        let n = lengths.reduce(0, +)
        let offsets = [0, 3, 4, 9]
        let qkv = randoms(n * 3 * c).map(Float.init), dout = randoms(n * c).map(Float.init)
        var out = [Float](repeating: 0, count: n * c)
        var att = [Float](repeating: 0, count: PackedAttention.weightCount(offsets: offsets, heads: nh))
        XCTAssertEqual(att.count, nh * (9 + 1 + 25))
        PackedAttention.forward(out: &out, att: &att, qkv: qkv, offsets: offsets, causal: causal, channels: c, heads: nh)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        PackedAttention.backward(dqkv: &dqkv, dout: dout, qkv: qkv, att: att, offsets: offsets, channels: c, heads: nh)
        let expected = padded(qkv, dout: dout, causal: causal)
        for (a, e) in zip(out, expected.out) { XCTAssertEqual(a, e, accuracy: 1e-5) }
        for (a, e) in zip(dqkv, expected.dqkv) { XCTAssertEqual(a, e, accuracy: 1e-5) }
    }

    func testPackedCausalAttentionEqualsPaddedAttention() { check(causal: true) }
    func testPackedBidirectionalAttentionEqualsPaddedAttentionWithKeyMask() { check(causal: false) }

    func testPackedAttentionDropoutGradientMatchesFiniteDifferences() {
        let offsets = [0, 2, 5]
        let dropout = DropoutMask(probability: 0.4, seed: 21)
        let qkv = randoms(5 * 3 * c), g = randoms(5 * c)
        func loss(_ x: [Double]) -> Double {
            var out = [Float](repeating: 0, count: 5 * c)
            var att = [Float](repeating: 0, count: PackedAttention.weightCount(offsets: offsets, heads: nh)), dropped = att
            PackedAttention.forward(
                out: &out, att: &att, qkv: x.map(Float.init), offsets: offsets, causal: true, channels: c, heads: nh, dropout: dropout,
                dropped: &dropped)
            return zip(out, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        }
        var out = [Float](repeating: 0, count: 5 * c)
        var att = [Float](repeating: 0, count: PackedAttention.weightCount(offsets: offsets, heads: nh)), dropped = att
        PackedAttention.forward(
            out: &out, att: &att, qkv: qkv.map(Float.init), offsets: offsets, causal: true, channels: c, heads: nh, dropout: dropout, dropped: &dropped)
        var dqkv = [Float](repeating: 0, count: qkv.count)
        PackedAttention.backward(
            dqkv: &dqkv, dout: g.map(Float.init), qkv: qkv.map(Float.init), att: att, offsets: offsets, channels: c, heads: nh, dropout: dropout,
            dropped: dropped)
        assertClose(dqkv, numericGradient(qkv, h: 1e-2, loss), tolerance: 1e-2, "packed attention with dropout")
    }
}
