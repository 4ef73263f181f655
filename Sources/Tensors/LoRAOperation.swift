extension Ops {
    /// A LoRA-adapted projection in one operation (Hu et al., 2021):
    ///
    ///     out = x · Wᵀ + scale · (dropout(x) · Aᵀ) · Bᵀ      W (OC, C), A (r, C), B (OC, r)
    ///
    /// Only the (N, r) product `h = dropout(x) · Aᵀ` is kept for the backward pass: the dropped
    /// input is recomputed from the counter-based mask, so an adapter costs N·r floats of
    /// activation memory instead of a copy of its input and output. A frozen `W` gets no gradient.
    public static func loraProjection(
        _ tape: Tape, _ x: Variable, weight: Variable, down a: Variable, up b: Variable, scale: Float, dropout: DropoutMask?
    ) -> Variable {
        let oc = weight.shape[0], c = weight.shape[1], r = a.shape[0], n = x.count / c
        precondition(a.shape == [r, c] && b.shape == [oc, r], "LoRA shapes A \(a.shape), B \(b.shape) do not fit W \(weight.shape)")
        let out = Variable(zeros: Array(x.shape.dropLast()) + [oc])
        let h = PooledBuffer(count: n * r)
        Matmul.gemm(x.value.base, transposeA: false, weight.value.base, transposeB: true, out.value.base, m: n, n: oc, k: c)
        if let dropout {
            let dropped = PooledBuffer(count: n * c)
            Dropout.forward(out: dropped.values.base, inp: x.value.base, mask: dropout, count: n * c)
            Matmul.gemm(dropped.values.base, transposeA: false, a.value.base, transposeB: true, h.values.base, m: n, n: r, k: c)
        } else {
            Matmul.gemm(x.value.base, transposeA: false, a.value.base, transposeB: true, h.values.base, m: n, n: r, k: c)
        }
        Matmul.gemm(h.values.base, transposeA: false, b.value.base, transposeB: true, out.value.base, m: n, n: oc, k: r, alpha: scale, beta: 1)
        tape.record {
            let g = out.gradient.base
            // dB += scale · gᵀ h;  dh = scale · g B
            Matmul.gemm(g, transposeA: true, h.values.base, transposeB: false, b.gradient.base, m: oc, n: r, k: n, alpha: scale, beta: 1)
            let dh = PooledBuffer(count: n * r)
            Matmul.gemm(g, transposeA: false, b.value.base, transposeB: false, dh.values.base, m: n, n: r, k: oc, alpha: scale)
            // The dropped input, again, for dA += dhᵀ · dropout(x).
            let dropped = dropout.map { mask in
                let buffer = PooledBuffer(count: n * c)
                Dropout.forward(out: buffer.values.base, inp: x.value.base, mask: mask, count: n * c)
                return buffer
            }
            Matmul.gemm(
                dh.values.base, transposeA: true, dropped?.values.base ?? x.value.base, transposeB: false, a.gradient.base, m: r, n: c, k: n, beta: 1)
            guard x.requiresGradient else { return }
            // dx += g W + dropout'(dh A)
            Matmul.gemm(g, transposeA: false, weight.value.base, transposeB: false, x.gradient.base, m: n, n: c, k: oc, beta: 1)
            if let dropout {
                let dxd = PooledBuffer(count: n * c)
                Matmul.gemm(dh.values.base, transposeA: false, a.value.base, transposeB: false, dxd.values.base, m: n, n: c, k: r)
                Dropout.backward(dinp: x.gradient.base, dout: dxd.values.base, mask: dropout, count: n * c)
            } else {
                Matmul.gemm(dh.values.base, transposeA: false, a.value.base, transposeB: false, x.gradient.base, m: n, n: c, k: r, beta: 1)
            }
            if weight.requiresGradient {
                Matmul.gemm(g, transposeA: true, x.value.base, transposeB: false, weight.gradient.base, m: oc, n: c, k: n, beta: 1)
            }
        }
        return out
    }
}
