import Foundation

/// The in-batch contrastive loss of CALRec (docs/method.md §4, L_TT and L_UT), on L2-normalised rows:
///
///     a, b: (N, C) unit vectors (a_i = v_i^{T|U} or v_i^U, b_i = v_i^T)
///     S[j][i] = a_j · b_i / τ          (cosine similarity over temperature)
///     L = −(1/N) Σ_i log( exp(S[i][i]) / Σ_j exp(S[j][i]) )
///
/// For each target b_i the candidates are every a_j of the batch (in-batch negatives).
public enum InfoNCE {
    /// Returns the loss and accumulates `da`, `db` (`+=`) for `dloss = scale`.
    @discardableResult
    public static func forwardBackward(
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, da: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
        rows n: Int, channels c: Int, temperature: Float, scale: Float = 1
    ) -> Float {
        guard n > 0 else { return 0 }
        var s = [Float](repeating: 0, count: n * n)  // s[j * n + i]
        for j in 0..<n {
            for i in 0..<n {
                var dot: Float = 0
                for k in 0..<c { dot += a[j * c + k] * b[i * c + k] }
                s[j * n + i] = dot / temperature
            }
        }
        var loss: Double = 0
        var dS = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            var maxValue = -Float.infinity
            for j in 0..<n { maxValue = max(maxValue, s[j * n + i]) }
            var sum: Float = 0
            for j in 0..<n { sum += expf(s[j * n + i] - maxValue) }
            loss += Double(logf(sum) + maxValue - s[i * n + i])
            for j in 0..<n { dS[j * n + i] = expf(s[j * n + i] - maxValue) / sum * scale / Float(n) }
            dS[i * n + i] -= scale / Float(n)
        }
        for j in 0..<n {
            for i in 0..<n {
                let d = dS[j * n + i] / temperature
                if d == 0 { continue }
                if let da { for k in 0..<c { da[j * c + k] += d * b[i * c + k] } }
                if let db { for k in 0..<c { db[i * c + k] += d * a[j * c + k] } }
            }
        }
        return Float(loss / Double(n))
    }
}
