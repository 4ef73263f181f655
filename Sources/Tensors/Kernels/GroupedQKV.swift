/// Grouped-query attention's key/value sharing (Ainslie et al., 2023) laid out for the attention
/// kernels, which read packed `q | k | v` rows of H heads each: query head `h` uses key/value head
/// `h / (H / Hkv)`, so each key and value head is repeated for its group of query heads.
///
///     q: (N, H·D);  k, v: (N, Hkv·D)  →  qkv: (N, 3·H·D)
public enum GroupedQKV {
    public static func forward(
        qkv: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, rows n: Int, heads h: Int,
        keyValueHeads hkv: Int, headSize d: Int
    ) {
        let c = h * d, ckv = hkv * d, group = h / hkv
        Parallel.forEachRange(n, minimumPerPart: 64) { rows in
            for r in rows {
                let out = qkv + r * 3 * c
                out.update(from: q + r * c, count: c)
                for head in 0..<h {
                    let source = (head / group) * d
                    (out + c + head * d).update(from: k + r * ckv + source, count: d)
                    (out + 2 * c + head * d).update(from: v + r * ckv + source, count: d)
                }
            }
        }
    }

    /// Accumulates `dq`, `dk` and `dv` (`+=`) from `dqkv`: each key/value head gets the sum of its group's gradients.
    public static func backward(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, dqkv: UnsafePointer<Float>, rows n: Int,
        heads h: Int, keyValueHeads hkv: Int, headSize d: Int
    ) {
        let c = h * d, ckv = hkv * d, group = h / hkv
        Parallel.forEachRange(n, minimumPerPart: 64) { rows in
            for r in rows {
                let g = dqkv + r * 3 * c
                let dqRow = dq + r * c
                for i in 0..<c { dqRow[i] += g[i] }
                for head in 0..<h {
                    let target = (head / group) * d
                    let gk = g + c + head * d, gv = g + 2 * c + head * d
                    let dkRow = dk + r * ckv + target, dvRow = dv + r * ckv + target
                    for i in 0..<d {
                        dkRow[i] += gk[i]
                        dvRow[i] += gv[i]
                    }
                }
            }
        }
    }
}
