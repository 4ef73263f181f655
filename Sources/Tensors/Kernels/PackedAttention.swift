import Foundation

/// Multi-head attention over sequences packed end to end without padding (the layout of
/// FlashAttention's "varlen" kernels): sequence `s` owns rows `offsets[s]..<offsets[s + 1]` of
/// `qkv`, and each token attends only within its own sequence (to earlier tokens when `causal`).
/// Everything outside attention (linear layers, layer norm, GELU, dropout) works per token, so a
/// batch of short sequences costs its real tokens only, however long the longest one is.
///
///     qkv:     (N, 3C)  q | k | v per token, N = offsets.last
///     out:     (N, C)
///     att:     Σ_s NH·L_s² softmax weights, sequence s's block at NH·Σ_{r<s} L_r²  (`weightCount`)
///     dropped: same size, the weights after dropout (only with `dropout`)
///
/// `Attention` (padded batches with a key mask) computes the same thing and is the reference the
/// tests compare this with.
public enum PackedAttention {
    /// Softmax weights stored for `offsets` with `heads` heads.
    public static func weightCount(offsets: [Int], heads: Int) -> Int {
        zip(offsets, offsets.dropFirst()).reduce(0) { $0 + heads * ($1.1 - $1.0) * ($1.1 - $1.0) }
    }

    /// Where each sequence's block of weights starts.
    static func weightOffsets(_ offsets: [Int], heads: Int) -> [Int] {
        var starts = [0]
        for s in 0..<(offsets.count - 1) {
            let l = offsets[s + 1] - offsets[s]
            starts.append(starts[s] + heads * l * l)
        }
        return starts
    }

    public static func forward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, offsets: [Int], causal: Bool,
        channels c: Int, heads nh: Int, dropout: DropoutMask? = nil, dropped: UnsafeMutablePointer<Float>? = nil
    ) {
        precondition(dropout == nil || dropped != nil, "attention dropout needs a buffer for the dropped weights")
        let hs = c / nh
        let scale = 1 / sqrtf(Float(hs))
        let starts = weightOffsets(offsets, heads: nh)
        let sequences = offsets.count - 1
        Parallel.forEachRange(sequences * nh) { pairs in
            for pair in pairs {
                let s = pair / nh, h = pair % nh
                let t = offsets[s + 1] - offsets[s]
                guard t > 0 else { continue }
                let rows = qkv + offsets[s] * 3 * c
                let base = starts[s] + h * t * t
                let scores = att + base
                Matmul.serialGemm(rows + h * hs, lda: 3 * c, transposeA: false, rows + c + h * hs, ldb: 3 * c, transposeB: true,
                                  scores, ldc: t, m: t, n: t, k: hs, alpha: scale)
                for ti in 0..<t { Attention.softmaxRow(scores + ti * t, length: t, limit: causal ? ti + 1 : t, keyMask: nil) }
                var weights = UnsafePointer(scores)
                if let dropout, let dropped {
                    for k in 0..<(t * t) { dropped[base + k] = scores[k] * dropout.factor(base + k) }
                    weights = UnsafePointer(dropped + base)
                }
                Matmul.serialGemm(weights, lda: t, transposeA: false, rows + 2 * c + h * hs, ldb: 3 * c, transposeB: false,
                                  out + offsets[s] * c + h * hs, ldc: c, m: t, n: hs, k: t)
            }
        }
    }

    /// Accumulates `dqkv` (`+=`) from `dout` (N, C).
    public static func backward(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, att: UnsafePointer<Float>, offsets: [Int],
        channels c: Int, heads nh: Int, dropout: DropoutMask? = nil, dropped: UnsafePointer<Float>? = nil
    ) {
        precondition(dropout == nil || dropped != nil, "attention dropout needs the dropped weights of the forward pass")
        let hs = c / nh
        let scale = 1 / sqrtf(Float(hs))
        let starts = weightOffsets(offsets, heads: nh)
        let sequences = offsets.count - 1
        let longest = zip(offsets, offsets.dropFirst()).map { $0.1 - $0.0 }.max() ?? 0
        Parallel.forEachRange(sequences * nh) { pairs in
            let datt = UnsafeMutablePointer<Float>.allocate(capacity: max(1, longest * longest))
            defer { datt.deallocate() }
            for pair in pairs {
                let s = pair / nh, h = pair % nh
                let t = offsets[s + 1] - offsets[s]
                guard t > 0 else { continue }
                let rows = qkv + offsets[s] * 3 * c
                let drows = dqkv + offsets[s] * 3 * c
                let g = dout + offsets[s] * c
                let base = starts[s] + h * t * t
                let p = att + base
                let weights = dropout != nil ? dropped! + base : p
                Matmul.serialGemm(weights, lda: t, transposeA: true, g + h * hs, ldb: c, transposeB: false,
                                  drows + 2 * c + h * hs, ldc: 3 * c, m: t, n: hs, k: t, beta: 1)
                Matmul.serialGemm(g + h * hs, lda: c, transposeA: false, rows + 2 * c + h * hs, ldb: 3 * c, transposeB: true,
                                  datt, ldc: t, m: t, n: t, k: hs)
                if let dropout { for k in 0..<(t * t) { datt[k] *= dropout.factor(base + k) } }
                for ti in 0..<t { Attention.softmaxBackwardRow(p + ti * t, datt + ti * t, length: t, scale: scale) }
                Matmul.serialGemm(datt, lda: t, transposeA: false, rows + c + h * hs, ldb: 3 * c, transposeB: false,
                                  drows + h * hs, ldc: 3 * c, m: t, n: hs, k: t, beta: 1)
                Matmul.serialGemm(datt, lda: t, transposeA: true, rows + h * hs, ldb: 3 * c, transposeB: false,
                                  drows + c + h * hs, ldc: 3 * c, m: t, n: hs, k: t, beta: 1)
            }
        }
    }
}
