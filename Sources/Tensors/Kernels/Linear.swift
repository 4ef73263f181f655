/// The linear layer in GPT-2's (HF `Conv1D`) layout: `out = inp · weight + bias`.
///
///     inp:    (N, C)        N = B·T rows
///     weight: (C, OC)       input features × output features, as GPT-2 checkpoints store it
///     bias:   (OC)          optional
///     out:    (N, OC)
public enum Linear {
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        rows n: Int, inFeatures c: Int, outFeatures oc: Int
    ) {
        if let bias {
            for r in 0..<n { (out + r * oc).update(from: bias, count: oc) }
            Matmul.gemm(inp, transposeA: false, weight, transposeB: false, out, m: n, n: oc, k: c, beta: 1)
        } else {
            Matmul.gemm(inp, transposeA: false, weight, transposeB: false, out, m: n, n: oc, k: c, beta: 0)
        }
    }

    /// Accumulates gradients (`+=`):
    ///
    ///     dinp    (N, C)   += dout · weightᵀ
    ///     dweight (C, OC)  += inpᵀ · dout
    ///     dbias   (OC)     += Σ_rows dout
    public static func backward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows n: Int, inFeatures c: Int, outFeatures oc: Int
    ) {
        if let dinp { Matmul.gemm(dout, transposeA: false, weight, transposeB: true, dinp, m: n, n: c, k: oc, beta: 1) }
        Matmul.gemm(inp, transposeA: true, dout, transposeB: false, dweight, m: c, n: oc, k: n, beta: 1)
        if let dbias {
            // Columns split across threads; each column is summed over the rows in order.
            Parallel.forEachRange(oc, minimumPerPart: 64) { columns in
                for r in 0..<n {
                    let row = dout + r * oc
                    for j in columns { dbias[j] += row[j] }
                }
            }
        }
    }
}
