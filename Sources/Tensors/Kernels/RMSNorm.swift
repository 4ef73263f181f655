import Foundation

/// Root-mean-square normalisation over the last axis (Llama; Zhang & Sennrich, 2019): no mean is
/// subtracted and there is no bias. Hugging Face's `LlamaRMSNorm` computes in Float32 as here.
///
///     inp, out: (N, C);  weight: (C);  rstd: (N) saved for the backward pass
///     out = inp · rstd · weight,  rstd = 1 / sqrt(mean(inp²) + ε)
public enum RMSNorm {
    public static func forward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows n: Int, channels c: Int, epsilon: Float
    ) {
        Parallel.forEachRange(n, minimumPerPart: 64) { rows in
            for r in rows {
                let x = inp + r * c
                var squares: Float = 0
                for i in 0..<c { squares += x[i] * x[i] }
                let s = 1 / sqrtf(squares / Float(c) + epsilon)
                let o = out + r * c
                for i in 0..<c { o[i] = x[i] * s * weight[i] }
                rstd[r] = s
            }
        }
    }

    /// Accumulates `dinp` and `dweight` (`+=`) from `dout` (N, C):
    /// `dweight += Σ_rows g · x · rstd`; `dx = rstd · (g·w − x · rstd² · mean(g·w·x))`.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows n: Int, channels c: Int
    ) {
        // Rows split across threads; each part sums its own weight gradient and the parts are added
        // in order, so the result depends only on the thread count.
        let parts = Parallel.partCount(n, minimumPerPart: 64)
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts * c)
        partial.initialize(repeating: 0, count: parts * c)
        defer { partial.deallocate() }
        Parallel.forEachPart(n, minimumPerPart: 64) { part, rows in
            let partWeight = partial + part * c
            for r in rows {
                let x = inp + r * c, g = dout + r * c, s = rstd[r]
                var meanGWX: Float = 0
                for i in 0..<c { meanGWX += g[i] * weight[i] * x[i] }
                meanGWX /= Float(c)
                let dx = dinp + r * c
                for i in 0..<c {
                    partWeight[i] += g[i] * x[i] * s
                    dx[i] += s * (g[i] * weight[i] - x[i] * s * s * meanGWX)
                }
            }
        }
        for part in 0..<parts {
            let partWeight = partial + part * c
            for i in 0..<c { dweight[i] += partWeight[i] }
        }
    }
}
