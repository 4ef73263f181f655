import Foundation

/// Multi-head scaled dot-product attention over packed q, k, v, with a causal or bidirectional mask
/// and a key padding mask. `forward`/`backward` run each (batch, head) as strided GEMMs through
/// OpenBLAS; `referenceForward`/`referenceBackward` are the plain loops the tests compare them with.
///
///     qkv:     (B, T, 3C)   q | k | v, each C = heads · headSize
///     keyMask: (B, T)       1 for a real token, 0 for padding (nil: every key counts)
///     out:     (B, T, C)
///     att:     (B, NH, T, T) softmax weights, saved for the backward pass
///
/// A query whose keys are all masked gets zero output (and zero gradient).
public enum Attention {
    public static func forward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
        keyMask: UnsafePointer<Float>?, causal: Bool, batch b: Int, length t: Int, channels c: Int, heads nh: Int
    ) {
        let hs = c / nh
        let scale = 1 / sqrtf(Float(hs))
        // One (sequence, head) pair per task: each writes its own scores and its own output columns.
        Parallel.forEachRange(b * nh) { pairs in
            for pair in pairs {
                let bi = pair / nh, h = pair % nh
                let rows = qkv + bi * t * 3 * c
                let scores = att + pair * t * t
                // scores = q · kᵀ · scale   (T × T)
                Matmul.serialGemm(rows + h * hs, lda: 3 * c, transposeA: false, rows + c + h * hs, ldb: 3 * c, transposeB: true,
                                  scores, ldc: t, m: t, n: t, k: hs, alpha: scale)
                for ti in 0..<t {
                    softmaxRow(scores + ti * t, length: t, limit: causal ? ti + 1 : t, keyMask: keyMask.map { $0 + bi * t })
                }
                // out = att · v   (T × hs), written into this head's columns
                Matmul.serialGemm(scores, lda: t, transposeA: false, rows + 2 * c + h * hs, ldb: 3 * c, transposeB: false,
                                  out + bi * t * c + h * hs, ldc: c, m: t, n: hs, k: t)
            }
        }
    }

    /// Softmax of `row[0..<limit]` in place over the keys the mask keeps; the rest of the row becomes
    /// 0, as does a row with no key left.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, length t: Int, limit: Int, keyMask: UnsafePointer<Float>?) {
        if let keyMask {
            for tj in 0..<limit where keyMask[tj] == 0 { row[tj] = -.infinity }
        }
        let maxValue = VectorMath.maximum(row, count: limit)
        (row + limit).update(repeating: 0, count: t - limit)
        guard maxValue > -.infinity else {
            row.update(repeating: 0, count: limit)
            return
        }
        // Masked scores are −∞ and their exponentials exactly 0.
        let sum = VectorMath.exponentials(row, minus: maxValue, into: row, count: limit)
        VectorMath.scale(row, by: 1 / sum, count: limit)
    }

    /// Accumulates `dqkv` (`+=`) from `dout` (B, T, C), using the saved `att`.
    public static func backward(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
        batch b: Int, length t: Int, channels c: Int, heads nh: Int
    ) {
        let hs = c / nh
        let scale = 1 / sqrtf(Float(hs))
        // One (sequence, head) pair per task: each accumulates into its own columns of dqkv.
        Parallel.forEachRange(b * nh) { pairs in
            let datt = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
            defer { datt.deallocate() }
            for pair in pairs {
                let bi = pair / nh, h = pair % nh
                let rows = qkv + bi * t * 3 * c
                let drows = dqkv + bi * t * 3 * c
                let g = dout + bi * t * c
                let p = att + pair * t * t
                // dv += pᵀ · dout ;  datt = dout · vᵀ
                Matmul.serialGemm(p, lda: t, transposeA: true, g + h * hs, ldb: c, transposeB: false,
                                  drows + 2 * c + h * hs, ldc: 3 * c, m: t, n: hs, k: t, beta: 1)
                Matmul.serialGemm(g + h * hs, lda: c, transposeA: false, rows + 2 * c + h * hs, ldb: 3 * c, transposeB: true,
                                  datt, ldc: t, m: t, n: t, k: hs)
                // Softmax backward, then the scale: dscores = p ⊙ (datt − Σ p·datt) · scale
                for ti in 0..<t { softmaxBackwardRow(p + ti * t, datt + ti * t, length: t, scale: scale) }
                // dq += dscores · k ;  dk += dscoresᵀ · q
                Matmul.serialGemm(datt, lda: t, transposeA: false, rows + c + h * hs, ldb: 3 * c, transposeB: false,
                                  drows + h * hs, ldc: 3 * c, m: t, n: hs, k: t, beta: 1)
                Matmul.serialGemm(datt, lda: t, transposeA: true, rows + h * hs, ldb: 3 * c, transposeB: false,
                                  drows + c + h * hs, ldc: 3 * c, m: t, n: hs, k: t, beta: 1)
            }
        }
    }

    /// `d ← p ⊙ (d − Σ p·d) · scale` for one row.
    @inline(__always)
    static func softmaxBackwardRow(_ p: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, length t: Int, scale: Float) {
        typealias Vector = VectorMath.Vector
        let whole = t / 8 * 8
        var weightedVector = Vector.zero
        var j = 0
        while j < whole {
            weightedVector += UnsafeRawPointer(p + j).loadUnaligned(as: Vector.self) * UnsafeRawPointer(d + j).loadUnaligned(as: Vector.self)
            j += 8
        }
        var weighted = weightedVector.sum()
        for k in whole..<t { weighted += p[k] * d[k] }
        j = 0
        while j < whole {
            let pv = UnsafeRawPointer(p + j).loadUnaligned(as: Vector.self)
            let dv = UnsafeRawPointer(d + j).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(d + j).storeBytes(of: pv * (dv - weighted) * scale, as: Vector.self)
            j += 8
        }
        for k in whole..<t { d[k] = p[k] * (d[k] - weighted) * scale }
    }

    /// The plain-loop forward pass (reference for tests).
    public static func referenceForward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
        keyMask: UnsafePointer<Float>?, causal: Bool, batch b: Int, length t: Int, channels c: Int, heads nh: Int
    ) {
        let hs = c / nh
        let scale = 1 / sqrtf(Float(hs))
        for bi in 0..<b {
            for h in 0..<nh {
                for ti in 0..<t {
                    let q = qkv + (bi * t + ti) * 3 * c + h * hs
                    let row = att + ((bi * nh + h) * t + ti) * t
                    var maxValue = -Float.infinity
                    for tj in 0..<t {
                        if (causal && tj > ti) || (keyMask.map { $0[bi * t + tj] == 0 } ?? false) {
                            row[tj] = -.infinity
                            continue
                        }
                        let k = qkv + (bi * t + tj) * 3 * c + c + h * hs
                        var dot: Float = 0
                        for i in 0..<hs { dot += q[i] * k[i] }
                        row[tj] = dot * scale
                        maxValue = max(maxValue, row[tj])
                    }
                    let o = out + (bi * t + ti) * c + h * hs
                    o.update(repeating: 0, count: hs)
                    guard maxValue > -.infinity else {
                        row.update(repeating: 0, count: t)
                        continue
                    }
                    var sum: Float = 0
                    for tj in 0..<t {
                        row[tj] = row[tj] == -.infinity ? 0 : expf(row[tj] - maxValue)
                        sum += row[tj]
                    }
                    let inverse = 1 / sum
                    for tj in 0..<t where row[tj] != 0 {
                        row[tj] *= inverse
                        let v = qkv + (bi * t + tj) * 3 * c + 2 * c + h * hs
                        for i in 0..<hs { o[i] += row[tj] * v[i] }
                    }
                }
            }
        }
    }

    /// The plain-loop backward pass (reference for tests).
    public static func referenceBackward(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, att: UnsafePointer<Float>,
        batch b: Int, length t: Int, channels c: Int, heads nh: Int
    ) {
        let hs = c / nh
        let scale = 1 / sqrtf(Float(hs))
        var datt = [Float](repeating: 0, count: t)
        for bi in 0..<b {
            for h in 0..<nh {
                for ti in 0..<t {
                    let row = att + ((bi * nh + h) * t + ti) * t
                    let g = dout + (bi * t + ti) * c + h * hs
                    // Through the weighted sum of values.
                    var weighted: Float = 0
                    for tj in 0..<t {
                        let v = qkv + (bi * t + tj) * 3 * c + 2 * c + h * hs
                        let dv = dqkv + (bi * t + tj) * 3 * c + 2 * c + h * hs
                        var dot: Float = 0
                        for i in 0..<hs {
                            dot += v[i] * g[i]
                            dv[i] += row[tj] * g[i]
                        }
                        datt[tj] = dot
                        weighted += row[tj] * dot
                    }
                    // Through the softmax and the scaled dot products.
                    let q = qkv + (bi * t + ti) * 3 * c + h * hs
                    let dq = dqkv + (bi * t + ti) * 3 * c + h * hs
                    for tj in 0..<t where row[tj] != 0 {
                        let dpre = row[tj] * (datt[tj] - weighted) * scale
                        let k = qkv + (bi * t + tj) * 3 * c + c + h * hs
                        let dk = dqkv + (bi * t + tj) * 3 * c + c + h * hs
                        for i in 0..<hs {
                            dq[i] += dpre * k[i]
                            dk[i] += dpre * q[i]
                        }
                    }
                }
            }
        }
    }
}
