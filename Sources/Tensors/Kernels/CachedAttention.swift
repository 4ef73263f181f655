import Foundation

/// Attention of new query positions over a key/value cache (incremental decoding).
///
///     qkv:      (B, Tn, 3C)   the new positions' q | k | v (k and v are already copied into the cache)
///     kCache, vCache: (B, S, C)  slots 0 ..< start + Tn are filled
///     keyMask:  (B, S)        1 for a real token, 0 for padding
///     out:      (B, Tn, C)
///
/// New position j sits in slot `start + j` and attends to slots 0 … start + j (causal by slot).
public enum CachedAttention {
    public static func forward(
        out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, kCache: UnsafePointer<Float>, vCache: UnsafePointer<Float>,
        keyMask: UnsafePointer<Float>, batch b: Int, newLength tn: Int, slots s: Int, start: Int, channels c: Int, heads nh: Int
    ) {
        let hs = c / nh
        let scale = 1 / sqrtf(Float(hs))
        var weights = [Float](repeating: 0, count: s)
        for bi in 0..<b {
            for h in 0..<nh {
                for j in 0..<tn {
                    let q = qkv + (bi * tn + j) * 3 * c + h * hs
                    let last = start + j
                    var maxValue = -Float.infinity
                    for slot in 0...last {
                        guard keyMask[bi * s + slot] != 0 else {
                            weights[slot] = -.infinity
                            continue
                        }
                        let k = kCache + (bi * s + slot) * c + h * hs
                        var dot: Float = 0
                        for i in 0..<hs { dot += q[i] * k[i] }
                        weights[slot] = dot * scale
                        maxValue = max(maxValue, weights[slot])
                    }
                    let o = out + (bi * tn + j) * c + h * hs
                    o.update(repeating: 0, count: hs)
                    guard maxValue > -.infinity else { continue }
                    var sum: Float = 0
                    for slot in 0...last {
                        weights[slot] = weights[slot] == -.infinity ? 0 : expf(weights[slot] - maxValue)
                        sum += weights[slot]
                    }
                    for slot in 0...last where weights[slot] != 0 {
                        let w = weights[slot] / sum
                        let v = vCache + (bi * s + slot) * c + h * hs
                        for i in 0..<hs { o[i] += w * v[i] }
                    }
                }
            }
        }
    }
}
