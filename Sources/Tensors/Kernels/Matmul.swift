import COpenBLAS

/// Row-major single-precision matrix products through OpenBLAS (`cblas_sgemm`), with the plain
/// triple loop beside them as the reference the tests compare against.
public enum Matmul {
    /// `c = alpha · op(a) · op(b) + beta · c`, row-major; `op` transposes when asked.
    /// Shapes: op(a) is (m, k), op(b) is (k, n), c is (m, n). Large products are split across
    /// `Parallel.threads` (see `gemm(_:lda:…)`).
    @inlinable
    public static func gemm(
        _ a: UnsafePointer<Float>, transposeA: Bool, _ b: UnsafePointer<Float>, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        gemm(a, lda: transposeA ? m : k, transposeA: transposeA, b, ldb: transposeB ? k : n, transposeB: transposeB,
             c, ldc: n, m: m, n: n, k: k, alpha: alpha, beta: beta)
    }

    /// Products below this many multiply-adds run on the calling thread.
    public static let parallelThreshold = 1 << 20

    /// `gemm` with explicit leading dimensions (row strides), for operands that are slices of wider
    /// rows — e.g. one head's q, k or v inside packed (T, 3C) rows. A large product is cut into one
    /// block of rows of `c` per thread (or of columns, when `c` is wider than tall), each block a
    /// single-threaded OpenBLAS call; each element of `c` is computed by exactly one call, so the
    /// result does not depend on the thread count.
    public static func gemm(
        _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool, _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        let threads = Parallel.threads
        guard threads > 1, m * n * k >= parallelThreshold else {
            serialGemm(a, lda: lda, transposeA: transposeA, b, ldb: ldb, transposeB: transposeB, c, ldc: ldc, m: m, n: n, k: k,
                       alpha: alpha, beta: beta)
            return
        }
        let operands = GemmOperands(a: a, b: b, c: c)
        if m >= n {
            Parallel.forEachRange(m, minimumPerPart: 32) { rows in
                // Rows of op(a): rows of a, or columns of a stored transposed.
                let aPart = transposeA ? operands.a + rows.lowerBound : operands.a + rows.lowerBound * lda
                serialGemm(aPart, lda: lda, transposeA: transposeA, operands.b, ldb: ldb, transposeB: transposeB,
                           operands.c + rows.lowerBound * ldc, ldc: ldc, m: rows.count, n: n, k: k, alpha: alpha, beta: beta)
            }
        } else {
            Parallel.forEachRange(n, minimumPerPart: 32) { columns in
                // Columns of op(b): columns of b, or rows of b stored transposed.
                let bPart = transposeB ? operands.b + columns.lowerBound * ldb : operands.b + columns.lowerBound
                serialGemm(operands.a, lda: lda, transposeA: transposeA, bPart, ldb: ldb, transposeB: transposeB,
                           operands.c + columns.lowerBound, ldc: ldc, m: m, n: columns.count, k: k, alpha: alpha, beta: beta)
            }
        }
    }

    /// One OpenBLAS call on the calling thread (for kernels that are already split across threads).
    @inlinable
    public static func serialGemm(
        _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool, _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The same product by three nested loops, accumulated in Double (reference for tests).
    public static func referenceGemm(
        _ a: [Float], transposeA: Bool, _ b: [Float], transposeB: Bool, _ c: inout [Float], m: Int, n: Int, k: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p * m + i] : a[i * k + p]
                    let y = transposeB ? b[j * k + p] : b[p * n + j]
                    sum += Double(x) * Double(y)
                }
                c[i * n + j] = Float(Double(alpha) * sum + Double(beta) * Double(c[i * n + j]))
            }
        }
    }
}

/// The operands of one product, handed to the parts of a split GEMM; each part writes its own block of `c`.
struct GemmOperands: @unchecked Sendable {
    let a: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let c: UnsafeMutablePointer<Float>
}
