import Foundation

/// Layer normalisation over the last axis (ε: GPT-2 1e-5, the default; BERT 1e-12).
///
///     inp, out: (N, C);  weight, bias: (C);  mean, rstd: (N) saved for the backward pass
///     out = (inp − mean) · rstd · weight + bias,  rstd = 1 / sqrt(var + ε)
public enum LayerNorm {
    public static let epsilon: Float = 1e-5

    public static func forward(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows n: Int, channels c: Int,
        epsilon: Float = LayerNorm.epsilon
    ) {
        Parallel.forEachRange(n, minimumPerPart: 64) { rows in
            for r in rows {
                let x = inp + r * c
                var m: Float = 0
                for i in 0..<c { m += x[i] }
                m /= Float(c)
                var v: Float = 0
                for i in 0..<c {
                    let d = x[i] - m
                    v += d * d
                }
                v /= Float(c)
                let s = 1 / sqrtf(v + epsilon)
                let o = out + r * c
                for i in 0..<c { o[i] = (x[i] - m) * s * weight[i] + bias[i] }
                mean[r] = m
                rstd[r] = s
            }
        }
    }

    /// Accumulates `dinp`, `dweight`, `dbias` (`+=`) from `dout` (N, C).
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows n: Int, channels c: Int
    ) {
        // Rows split across threads; each part sums its own weight and bias gradients, and the parts
        // are added in order, so the result depends only on the thread count.
        let parts = Parallel.partCount(n, minimumPerPart: 64)
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts * 2 * c)
        partial.initialize(repeating: 0, count: parts * 2 * c)
        defer { partial.deallocate() }
        Parallel.forEachPart(n, minimumPerPart: 64) { part, rows in
            let partWeight = partial + part * 2 * c, partBias = partWeight + c
            for r in rows {
                let x = inp + r * c
                let g = dout + r * c
                let m = mean[r]
                let s = rstd[r]
                // dnorm = g · weight; dx = s · (dnorm − mean(dnorm) − norm · mean(dnorm · norm))
                var meanD: Float = 0
                var meanDN: Float = 0
                for i in 0..<c {
                    let norm = (x[i] - m) * s
                    let d = g[i] * weight[i]
                    meanD += d
                    meanDN += d * norm
                }
                meanD /= Float(c)
                meanDN /= Float(c)
                let dx = dinp + r * c
                for i in 0..<c {
                    let norm = (x[i] - m) * s
                    partBias[i] += g[i]
                    partWeight[i] += norm * g[i]
                    dx[i] += (g[i] * weight[i] - meanD - norm * meanDN) * s
                }
            }
        }
        for part in 0..<parts {
            let partWeight = partial + part * 2 * c
            for i in 0..<c {
                dweight[i] += partWeight[i]
                dbias[i] += partWeight[c + i]
            }
        }
    }
}
