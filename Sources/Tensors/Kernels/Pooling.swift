import Foundation

/// Mean-pooling over a segment of each sequence (CALRec's representations: the mean of the last
/// hidden states over the target tokens, or over the history tokens; docs/method.md §4).
///
///     inp: (B, T, C);  mask: (B, T) 1 on the segment's positions;  out: (B, C)
///
/// A sequence whose segment is empty gets a zero vector (and passes no gradient).
public enum SegmentMeanPool {
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, mask: UnsafePointer<Float>, batch b: Int, length t: Int,
        channels c: Int
    ) {
        for bi in 0..<b {
            let o = out + bi * c
            o.update(repeating: 0, count: c)
            var count: Float = 0
            for ti in 0..<t where mask[bi * t + ti] != 0 {
                count += mask[bi * t + ti]
                let x = inp + (bi * t + ti) * c
                for i in 0..<c { o[i] += mask[bi * t + ti] * x[i] }
            }
            if count > 0 { for i in 0..<c { o[i] /= count } }
        }
    }

    /// Accumulates `dinp` (`+=`) from `dout` (B, C).
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, mask: UnsafePointer<Float>, batch b: Int, length t: Int,
        channels c: Int
    ) {
        for bi in 0..<b {
            var count: Float = 0
            for ti in 0..<t { count += mask[bi * t + ti] }
            guard count > 0 else { continue }
            let g = dout + bi * c
            for ti in 0..<t where mask[bi * t + ti] != 0 {
                let w = mask[bi * t + ti] / count
                let d = dinp + (bi * t + ti) * c
                for i in 0..<c { d[i] += w * g[i] }
            }
        }
    }
}

/// Row-wise L2 normalisation: `out = x / max(‖x‖, ε)` (N, C), with `norm` (N) saved for backward.
public enum L2Normalize {
    public static let epsilon: Float = 1e-12

    public static func forward(out: UnsafeMutablePointer<Float>, norm: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows n: Int, channels c: Int) {
        for r in 0..<n {
            let x = inp + r * c
            var s: Float = 0
            for i in 0..<c { s += x[i] * x[i] }
            let length = max(sqrtf(s), epsilon)
            norm[r] = length
            let o = out + r * c
            for i in 0..<c { o[i] = x[i] / length }
        }
    }

    /// Accumulates `dinp += (dout − out · (out·dout)) / ‖x‖`.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, out: UnsafePointer<Float>, norm: UnsafePointer<Float>,
        rows n: Int, channels c: Int
    ) {
        for r in 0..<n {
            let y = out + r * c
            let g = dout + r * c
            var dot: Float = 0
            for i in 0..<c { dot += y[i] * g[i] }
            let d = dinp + r * c
            for i in 0..<c { d[i] += (g[i] - y[i] * dot) / norm[r] }
        }
    }
}

/// Mean of each packed sequence's rows (sentence-transformers' mean pooling without padding).
///
///     inp: (N, C) rows of the sequences end to end;  offsets: S + 1 starts (0 … N);  out: (S, C)
///
/// An empty sequence gets a zero vector (and passes no gradient).
public enum PackedMeanPool {
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, offsets: [Int], channels c: Int) {
        for s in 0..<(offsets.count - 1) {
            let o = out + s * c
            o.update(repeating: 0, count: c)
            let rows = offsets[s]..<offsets[s + 1]
            guard !rows.isEmpty else { continue }
            for r in rows {
                let x = inp + r * c
                for i in 0..<c { o[i] += x[i] }
            }
            let scale = 1 / Float(rows.count)
            for i in 0..<c { o[i] *= scale }
        }
    }

    /// Accumulates `dinp` (`+=`) from `dout` (S, C).
    public static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, offsets: [Int], channels c: Int) {
        for s in 0..<(offsets.count - 1) {
            let rows = offsets[s]..<offsets[s + 1]
            guard !rows.isEmpty else { continue }
            let scale = 1 / Float(rows.count)
            let g = dout + s * c
            for r in rows {
                let d = dinp + r * c
                for i in 0..<c { d[i] += scale * g[i] }
            }
        }
    }
}
