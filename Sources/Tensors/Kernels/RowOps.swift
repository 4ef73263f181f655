import Foundation

/// Row selection and per-row scoring against an embedding table: what a sequential recommender
/// needs between its encoder and its loss.
///
///     gather:    out (R, C) = inp[rows[r]]           inp (N, C)
///     rowBias:   out (N, V) = inp + bias             bias (V), broadcast over rows
///     pairDot:   out (N)    = inp[r] · table[ids[r]] table (V, C)
public enum RowOps {
    public static func gather(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows: UnsafePointer<Int32>, count r: Int, channels c: Int) {
        for i in 0..<r { (out + i * c).update(from: inp + Int(rows[i]) * c, count: c) }
    }

    /// Accumulates `dinp` (`+=`) from `dout` (R, C); a row selected twice gets both gradients.
    public static func gatherBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, rows: UnsafePointer<Int32>, count r: Int, channels c: Int) {
        for i in 0..<r {
            let d = dinp + Int(rows[i]) * c, g = dout + i * c
            for j in 0..<c { d[j] += g[j] }
        }
    }

    public static func rowBias(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows n: Int, width v: Int) {
        Parallel.forEachRange(n, minimumPerPart: 16) { part in
            for r in part {
                let o = out + r * v, x = inp + r * v
                for j in 0..<v { o[j] = x[j] + bias[j] }
            }
        }
    }

    /// Accumulates `dinp` and `dbias` (`+=`) from `dout` (N, V).
    public static func rowBiasBackward(
        dinp: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, rows n: Int, width v: Int
    ) {
        Parallel.forEachRange(n, minimumPerPart: 16) { part in
            for r in part {
                let d = dinp + r * v, g = dout + r * v
                for j in 0..<v { d[j] += g[j] }
            }
        }
        for r in 0..<n {
            let g = dout + r * v
            for j in 0..<v { dbias[j] += g[j] }
        }
    }

    public static func pairDot(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows n: Int,
        channels c: Int
    ) {
        for r in 0..<n {
            let x = inp + r * c, e = table + Int(ids[r]) * c
            var dot: Float = 0
            for j in 0..<c { dot += x[j] * e[j] }
            out[r] = dot
        }
    }

    /// Accumulates `dinp` and `dtable` (`+=`) from `dout` (N).
    public static func pairDotBackward(
        dinp: UnsafeMutablePointer<Float>, dtable: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
        table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows n: Int, channels c: Int
    ) {
        for r in 0..<n {
            let x = inp + r * c, dx = dinp + r * c
            let e = table + Int(ids[r]) * c, de = dtable + Int(ids[r]) * c
            let g = dout[r]
            for j in 0..<c {
                dx[j] += g * e[j]
                de[j] += g * x[j]
            }
        }
    }
}

/// Binary cross-entropy on logits over masked entries (SASRec's original loss, one positive and one
/// sampled negative per position):
///
///     loss = −(1/Σmask) Σ_i mask_i · [ y_i·log σ(x_i) + (1−y_i)·log(1−σ(x_i)) ]
///     dx_i = mask_i · (σ(x_i) − y_i) / Σmask · dloss
public enum BinaryCrossEntropy {
    @discardableResult
    public static func forwardBackward(
        logits x: UnsafePointer<Float>, labels y: UnsafePointer<Float>, mask: UnsafePointer<Float>, dlogits: UnsafeMutablePointer<Float>?,
        count n: Int, gradientScale: Float = 1
    ) -> Float {
        var total: Double = 0, count: Float = 0
        for i in 0..<n { count += mask[i] }
        guard count > 0 else {
            dlogits?.update(repeating: 0, count: n)
            return 0
        }
        for i in 0..<n {
            guard mask[i] != 0 else {
                dlogits?[i] = 0
                continue
            }
            // log σ(x) = −softplus(−x), log(1−σ(x)) = −softplus(x), softplus stable for either sign.
            let v = Double(x[i])
            let softplusPositive = max(v, 0) + log1p(exp(-abs(v)))
            let softplusNegative = softplusPositive - v
            total += Double(mask[i]) * (Double(y[i]) * softplusNegative + (1 - Double(y[i])) * softplusPositive)
            if let dlogits {
                let sigmoid = Float(1 / (1 + exp(-v)))
                dlogits[i] = mask[i] * (sigmoid - y[i]) / count * gradientScale
            }
        }
        return Float(total / Double(count))
    }
}
