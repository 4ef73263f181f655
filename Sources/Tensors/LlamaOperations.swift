/// The differentiable operations Llama-family models add to `Ops`: RMSNorm, SwiGLU, rotary
/// positions, grouped-query key/value sharing, and projections in `nn.Linear`'s (out, in) layout.
/// A weight whose `requiresGradient` is false (a frozen base matrix) gets no weight gradient: only
/// the input's gradient flows through.
extension Ops {
    public static func rmsNorm(_ tape: Tape, _ x: Variable, weight: Variable, epsilon: Float) -> Variable {
        let c = x.shape.last!, n = x.count / c
        let out = Variable(zeros: x.shape)
        let rstd = PooledBuffer(count: n)
        RMSNorm.forward(out: out.value.base, rstd: rstd.values.base, inp: x.value.base, weight: weight.value.base, rows: n, channels: c, epsilon: epsilon)
        tape.record {
            if weight.requiresGradient {
                RMSNorm.backward(
                    dinp: x.gradient.base, dweight: weight.gradient.base, dout: out.gradient.base, inp: x.value.base, weight: weight.value.base,
                    rstd: rstd.values.base, rows: n, channels: c)
            } else {
                // The weight gradient is computed into scratch and dropped.
                let scratch = PooledBuffer(count: c)
                RMSNorm.backward(
                    dinp: x.gradient.base, dweight: scratch.values.base, dout: out.gradient.base, inp: x.value.base, weight: weight.value.base,
                    rstd: rstd.values.base, rows: n, channels: c)
            }
        }
        return out
    }

    /// `silu(gate) · up`, element by element.
    public static func swiGLU(_ tape: Tape, gate: Variable, up: Variable) -> Variable {
        let out = Variable(zeros: gate.shape)
        SwiGLU.forward(out: out.value.base, gate: gate.value.base, up: up.value.base, count: gate.count)
        tape.record {
            SwiGLU.backward(
                dgate: gate.gradient.base, dup: up.gradient.base, dout: out.gradient.base, gate: gate.value.base, up: up.value.base, count: gate.count)
        }
        return out
    }

    /// Rotary positions on (N, H·D) rows of `heads` heads, row r at `positions[r]`.
    public static func rotary(_ tape: Tape, _ x: Variable, positions: [Int32], table: RotaryEmbedding.Table, heads: Int) -> Variable {
        let n = positions.count
        precondition(x.count == n * heads * table.headSize, "rotary: \(x.shape) is not \(n) rows of \(heads) heads of \(table.headSize)")
        let out = Variable(zeros: x.shape)
        RotaryEmbedding.forward(out: out.value.base, inp: x.value.base, positions: positions, table: table, rows: n, heads: heads)
        tape.record {
            RotaryEmbedding.backward(dinp: x.gradient.base, dout: out.gradient.base, positions: positions, table: table, rows: n, heads: heads)
        }
        return out
    }

    /// Packed `q | k | v` rows (N, 3·H·D) with each key/value head repeated for its query heads.
    public static func groupedQKV(_ tape: Tape, q: Variable, k: Variable, v: Variable, heads: Int, keyValueHeads: Int) -> Variable {
        let c = q.shape.last!, n = q.count / c, d = c / heads
        let out = Variable(zeros: [n, 3 * c])
        GroupedQKV.forward(
            qkv: out.value.base, q: q.value.base, k: k.value.base, v: v.value.base, rows: n, heads: heads, keyValueHeads: keyValueHeads, headSize: d)
        tape.record {
            GroupedQKV.backward(
                dq: q.gradient.base, dk: k.gradient.base, dv: v.gradient.base, dqkv: out.gradient.base, rows: n, heads: heads,
                keyValueHeads: keyValueHeads, headSize: d)
        }
        return out
    }

    /// `x · weightᵀ` with `weight` (OC, C), `nn.Linear`'s layout (no bias).
    public static func projection(_ tape: Tape, _ x: Variable, weight: Variable) -> Variable {
        let oc = weight.shape[0], c = weight.shape[1], n = x.count / c
        let out = Variable(zeros: Array(x.shape.dropLast()) + [oc])
        Matmul.gemm(x.value.base, transposeA: false, weight.value.base, transposeB: true, out.value.base, m: n, n: oc, k: c)
        tape.record {
            if x.requiresGradient {
                Matmul.gemm(out.gradient.base, transposeA: false, weight.value.base, transposeB: false, x.gradient.base, m: n, n: c, k: oc, beta: 1)
            }
            if weight.requiresGradient {
                Matmul.gemm(out.gradient.base, transposeA: true, x.value.base, transposeB: false, weight.gradient.base, m: oc, n: c, k: n, beta: 1)
            }
        }
        return out
    }

    /// `a + scale · b` (LoRA's scaled update added to the frozen product).
    public static func addScaled(_ tape: Tape, _ a: Variable, _ b: Variable, scale: Float) -> Variable {
        let out = Variable(zeros: a.shape)
        let count = a.count
        let (o, x, y) = (out.value.base, a.value.base, b.value.base)
        for i in 0..<count { o[i] = x[i] + scale * y[i] }
        tape.record {
            let (g, da, db) = (out.gradient.base, a.gradient.base, b.gradient.base)
            for i in 0..<count {
                da[i] += g[i]
                db[i] += scale * g[i]
            }
        }
        return out
    }
}
