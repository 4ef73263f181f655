import COpenBLAS
import Foundation

/// Attention of new query positions over a key/value cache (incremental decoding), with
/// grouped-query sharing: query head `h` reads key/value head `h / (H / Hkv)` (Hkv = H for plain
/// multi-head attention).
///
///     queries:  (B, Tn, ·)    each row's H·D query channels first, rows `queryStride` apart
///                             (3C for GPT-2's packed q | k | v, C for a separate q)
///     kCache, vCache: (B, S, Hkv·D)  slots 0 ..< start + Tn are filled
///     keyMask:  (B, S)        1 for a real token, 0 for padding
///     out:      (B, Tn, H·D)
///
/// New position j sits in slot `start + j` and attends to slots 0 … start + j (causal by slot).
public enum CachedAttention {
    public static func forward(
        out: UnsafeMutablePointer<Float>, queries: UnsafePointer<Float>, queryStride: Int, kCache: UnsafePointer<Float>,
        vCache: UnsafePointer<Float>, keyMask: UnsafePointer<Float>, batch b: Int, newLength tn: Int, slots s: Int, start: Int,
        channels c: Int, heads nh: Int, keyValueHeads nkv: Int
    ) {
        let hs = c / nh, ckv = nkv * hs, group = nh / nkv
        let scale = 1 / sqrtf(Float(hs))
        // One (sequence, head) pair per task, each with its own weights row and output columns.
        Parallel.forEachRange(b * nh) { pairs in
            let weights = UnsafeMutablePointer<Float>.allocate(capacity: s)
            defer { weights.deallocate() }
            for pair in pairs {
                let bi = pair / nh, h = pair % nh
                for j in 0..<tn {
                    let q = queries + (bi * tn + j) * queryStride + h * hs
                    let last = start + j
                    // scores = K[0…last] · q · scale, then the padding slots masked out (one GEMV)
                    let keys = kCache + bi * s * ckv + (h / group) * hs, values = vCache + bi * s * ckv + (h / group) * hs
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(last + 1), Int32(hs), scale, keys, Int32(ckv), q, 1, 0, weights, 1)
                    for slot in 0...last where keyMask[bi * s + slot] == 0 { weights[slot] = -.infinity }
                    Attention.softmaxRow(weights, length: last + 1, limit: last + 1, keyMask: nil)
                    // out = V[0…last]ᵀ · weights (one GEMV; an all-padding row has zero weights, so zero output)
                    cblas_sgemv(
                        CblasRowMajor, CblasTrans, Int32(last + 1), Int32(hs), 1, values, Int32(ckv), weights, 1, 0,
                        out + (bi * tn + j) * c + h * hs, 1)
                }
            }
        }
    }
}
