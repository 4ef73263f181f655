import COpenBLAS

/// Row-major single-precision matrix products through OpenBLAS (`cblas_sgemm`), with the plain
/// triple loop beside them as the reference the tests compare against.
public enum Matmul {
    /// `c = alpha · op(a) · op(b) + beta · c`, row-major; `op` transposes when asked.
    /// Shapes: op(a) is (m, k), op(b) is (k, n), c is (m, n).
    @inlinable
    public static func gemm(
        _ a: UnsafePointer<Float>, transposeA: Bool, _ b: UnsafePointer<Float>, transposeB: Bool,
        _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n), beta, c, Int32(n))
    }

    /// `gemm` with explicit leading dimensions (row strides), for operands that are slices of wider
    /// rows — e.g. one head's q, k or v inside packed (T, 3C) rows.
    @inlinable
    public static func gemm(
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
