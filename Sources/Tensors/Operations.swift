/// Differentiable operations on `Variable`s, each one fused kernel forward and one backward step
/// recorded on the tape. Shapes follow the kernels' documentation.
public enum Ops {
    /// (N, C) from token and position ids.
    public static func embedding(_ tape: Tape, tokens: [Int32], positions: [Int32], wte: Variable, wpe: Variable) -> Variable {
        let c = wte.shape[1], n = tokens.count
        let out = Variable(zeros: [n, c])
        Embedding.forward(out: out.value.base, tokens: tokens, positions: positions, wte: wte.value.base, wpe: wpe.value.base, rows: n, channels: c)
        tape.record {
            Embedding.backward(dwte: wte.gradient.base, dwpe: wpe.gradient.base, dout: out.gradient.base, tokens: tokens, positions: positions, rows: n, channels: c)
        }
        return out
    }

    /// Layer normalisation of each row of `x` (N, C) with ε `epsilon` (GPT-2's 1e-5 by default).
    public static func layerNorm(_ tape: Tape, _ x: Variable, weight: Variable, bias: Variable, epsilon: Float = LayerNorm.epsilon) -> Variable {
        let c = x.shape.last!, n = x.count / c
        let out = Variable(zeros: x.shape)
        let mean = PooledBuffer(count: n), rstd = PooledBuffer(count: n)
        LayerNorm.forward(
            out: out.value.base, mean: mean.values.base, rstd: rstd.values.base, inp: x.value.base, weight: weight.value.base, bias: bias.value.base, rows: n,
            channels: c, epsilon: epsilon)
        tape.record {
            LayerNorm.backward(
                dinp: x.gradient.base, dweight: weight.gradient.base, dbias: bias.gradient.base, dout: out.gradient.base, inp: x.value.base, weight: weight.value.base,
                mean: mean.values.base, rstd: rstd.values.base, rows: n, channels: c)
        }
        return out
    }

    /// `x · weight + bias` with weight (C, OC).
    public static func linear(_ tape: Tape, _ x: Variable, weight: Variable, bias: Variable?) -> Variable {
        let c = weight.shape[0], oc = weight.shape[1], n = x.count / c
        let out = Variable(zeros: Array(x.shape.dropLast()) + [oc])
        Linear.forward(out: out.value.base, inp: x.value.base, weight: weight.value.base, bias: bias?.value.base, rows: n, inFeatures: c, outFeatures: oc)
        tape.record {
            if let bias {
                Linear.backward(dinp: x.gradient.base, dweight: weight.gradient.base, dbias: bias.gradient.base, dout: out.gradient.base, inp: x.value.base, weight: weight.value.base, rows: n, inFeatures: c, outFeatures: oc)
            } else {
                Linear.backward(dinp: x.gradient.base, dweight: weight.gradient.base, dbias: nil, dout: out.gradient.base, inp: x.value.base, weight: weight.value.base, rows: n, inFeatures: c, outFeatures: oc)
            }
        }
        return out
    }

    /// GELU, elementwise: GPT-2's tanh form (the default) or the exact erf form of BERT.
    public static func gelu(_ tape: Tape, _ x: Variable, form: GELUForm = .tanh) -> Variable {
        let out = Variable(zeros: x.shape)
        switch form {
        case .tanh:
            GELU.forward(out: out.value.base, inp: x.value.base, count: x.count)
            tape.record { GELU.backward(dinp: x.gradient.base, inp: x.value.base, dout: out.gradient.base, count: x.count) }
        case .erf:
            ExactGELU.forward(out: out.value.base, inp: x.value.base, count: x.count)
            tape.record { ExactGELU.backward(dinp: x.gradient.base, inp: x.value.base, dout: out.gradient.base, count: x.count) }
        }
        return out
    }

    public static func add(_ tape: Tape, _ a: Variable, _ b: Variable) -> Variable {
        let out = Variable(zeros: a.shape)
        out.value.withUnsafeMutableBufferPointer { o in
            a.value.withUnsafeBufferPointer { x in
                b.value.withUnsafeBufferPointer { y in
                    for i in 0..<o.count { o[i] = x[i] + y[i] }
                }
            }
        }
        tape.record {
            out.gradient.withUnsafeBufferPointer { g in
                a.gradient.withUnsafeMutableBufferPointer { da in
                    for i in 0..<g.count { da[i] += g[i] }
                }
                b.gradient.withUnsafeMutableBufferPointer { db in
                    for i in 0..<g.count { db[i] += g[i] }
                }
            }
        }
        return out
    }

    /// Multi-head attention over packed qkv (B, T, 3C) → (B, T, C).
    public static func attention(_ tape: Tape, _ qkv: Variable, keyMask: [Float]?, causal: Bool, batch b: Int, length t: Int, heads: Int) -> Variable {
        let c = qkv.shape.last! / 3
        let out = Variable(zeros: [b, t, c])
        let att = PooledBuffer(count: b * heads * t * t)
        if let keyMask {
            Attention.forward(out: out.value.base, att: att.values.base, qkv: qkv.value.base, keyMask: keyMask, causal: causal, batch: b, length: t, channels: c, heads: heads)
        } else {
            Attention.forward(out: out.value.base, att: att.values.base, qkv: qkv.value.base, keyMask: nil, causal: causal, batch: b, length: t, channels: c, heads: heads)
        }
        tape.record {
            Attention.backward(dqkv: qkv.gradient.base, dout: out.gradient.base, qkv: qkv.value.base, att: att.values.base, batch: b, length: t, channels: c, heads: heads)
        }
        return out
    }

    /// Multi-head attention within each of the sequences packed in `qkv` (N, 3C) → (N, C); sequence
    /// `s` owns rows `offsets[s]..<offsets[s + 1]` (see `PackedAttention`).
    public static func packedAttention(
        _ tape: Tape, _ qkv: Variable, offsets: [Int], causal: Bool, heads: Int, dropout: DropoutMask? = nil
    ) -> Variable {
        let c = qkv.shape.last! / 3, n = qkv.count / (3 * c)
        precondition(offsets.first == 0 && offsets.last == n, "offsets must run from 0 to the \(n) packed rows")
        let out = Variable(zeros: [n, c])
        let weights = PackedAttention.weightCount(offsets: offsets, heads: heads)
        let att = PooledBuffer(count: weights)
        let dropped = dropout.map { _ in PooledBuffer(count: weights) }
        if let dropped {
            PackedAttention.forward(
                out: out.value.base, att: att.values.base, qkv: qkv.value.base, offsets: offsets, causal: causal, channels: c, heads: heads, dropout: dropout,
                dropped: dropped.values.base)
        } else {
            PackedAttention.forward(out: out.value.base, att: att.values.base, qkv: qkv.value.base, offsets: offsets, causal: causal, channels: c, heads: heads)
        }
        tape.record {
            if let dropped {
                PackedAttention.backward(
                    dqkv: qkv.gradient.base, dout: out.gradient.base, qkv: qkv.value.base, att: att.values.base, offsets: offsets, channels: c, heads: heads,
                    dropout: dropout, dropped: dropped.values.base)
            } else {
                PackedAttention.backward(
                    dqkv: qkv.gradient.base, dout: out.gradient.base, qkv: qkv.value.base, att: att.values.base, offsets: offsets, channels: c, heads: heads)
            }
        }
        return out
    }

    /// Inverted dropout with `mask` (training only; at inference skip the call).
    public static func dropout(_ tape: Tape, _ x: Variable, mask: DropoutMask) -> Variable {
        let out = Variable(zeros: x.shape)
        Dropout.forward(out: out.value.base, inp: x.value.base, mask: mask, count: x.count)
        tape.record { Dropout.backward(dinp: x.gradient.base, dout: out.gradient.base, mask: mask, count: x.count) }
        return out
    }

    /// The rows `rows` of `x` (N, C): (R, C).
    public static func gatherRows(_ tape: Tape, _ x: Variable, rows: [Int32]) -> Variable {
        let c = x.shape.last!
        let out = Variable(zeros: [rows.count, c])
        RowOps.gather(out: out.value.base, inp: x.value.base, rows: rows, count: rows.count, channels: c)
        guard x.requiresGradient else { return out }
        tape.record { RowOps.gatherBackward(dinp: x.gradient.base, dout: out.gradient.base, rows: rows, count: rows.count, channels: c) }
        return out
    }

    /// `x + bias` with `bias` (V) added to every row of `x` (N, V).
    public static func addRowBias(_ tape: Tape, _ x: Variable, bias: Variable) -> Variable {
        let v = bias.count, n = x.count / v
        let out = Variable(zeros: x.shape)
        RowOps.rowBias(out: out.value.base, inp: x.value.base, bias: bias.value.base, rows: n, width: v)
        tape.record { RowOps.rowBiasBackward(dinp: x.gradient.base, dbias: bias.gradient.base, dout: out.gradient.base, rows: n, width: v) }
        return out
    }

    /// `x[r] · table[ids[r]]` for every row of `x` (N, C) with `table` (V, C): (N).
    public static func pairDot(_ tape: Tape, _ x: Variable, table: Variable, ids: [Int32]) -> Variable {
        let c = x.shape.last!, n = x.count / c
        let out = Variable(zeros: [n])
        RowOps.pairDot(out: out.value.base, inp: x.value.base, table: table.value.base, ids: ids, rows: n, channels: c)
        tape.record {
            RowOps.pairDotBackward(
                dinp: x.gradient.base, dtable: table.gradient.base, dout: out.gradient.base, inp: x.value.base, table: table.value.base, ids: ids, rows: n, channels: c)
        }
        return out
    }

    /// Mean binary cross-entropy of `logits` against `labels` (0/1) over `mask`; seeds the backward
    /// pass with d(loss) = `weight` (a sink, like `crossEntropy`).
    public static func binaryCrossEntropy(_ tape: Tape, logits: Variable, labels: [Float], mask: [Float], weight: Float = 1) -> Float {
        BinaryCrossEntropy.forwardBackward(
            logits: logits.value.base, labels: labels, mask: mask, dlogits: logits.gradient.base, count: logits.count, gradientScale: weight)
    }

    /// `x · wteᵀ`: logits (N, V) from hidden states (N, C) and the tied embeddings (V, C).
    public static func tiedLogits(_ tape: Tape, _ x: Variable, wte: Variable) -> Variable {
        let v = wte.shape[0], c = wte.shape[1], n = x.count / c
        let out = Variable(zeros: [n, v])
        Matmul.gemm(x.value.base, transposeA: false, wte.value.base, transposeB: true, out.value.base, m: n, n: v, k: c)
        tape.record {
            Matmul.gemm(out.gradient.base, transposeA: false, wte.value.base, transposeB: false, x.gradient.base, m: n, n: c, k: v, beta: 1)
            if wte.requiresGradient {
                Matmul.gemm(out.gradient.base, transposeA: true, x.value.base, transposeB: false, wte.gradient.base, m: v, n: c, k: n, beta: 1)
            }
        }
        return out
    }

    /// Mean cross-entropy over masked positions; seeds the backward pass with d(loss) = `weight`.
    /// The gradient is written straight into `logits.gradient` (no vocabulary-sized copy per step),
    /// so `logits` must be a fresh output that nothing else has sent gradient to.
    public static func crossEntropy(_ tape: Tape, logits: Variable, targets: [Int32], mask: [Float], weight: Float = 1) -> Float {
        let v = logits.shape.last!, n = logits.count / v
        let loss = CrossEntropy.forwardBackward(
            logits: logits.value.base, targets: targets, mask: mask, dlogits: logits.gradient.base, rows: n, vocabulary: v, gradientScale: weight)
        return loss
    }

    /// Mean of the rows of `x` (B·T, C) that `mask` (B·T) marks, per sequence: (B, C). A sequence
    /// with no marked row gets zeros.
    public static func segmentMeanPool(_ tape: Tape, _ x: Variable, mask: [Float], batch b: Int, length t: Int) -> Variable {
        let c = x.shape.last!
        let out = Variable(zeros: [b, c])
        SegmentMeanPool.forward(out: out.value.base, inp: x.value.base, mask: mask, batch: b, length: t, channels: c)
        tape.record {
            SegmentMeanPool.backward(dinp: x.gradient.base, dout: out.gradient.base, mask: mask, batch: b, length: t, channels: c)
        }
        return out
    }

    /// The mean row of each packed sequence: (N, C) with `offsets` (S + 1 starts) → (S, C).
    public static func packedMeanPool(_ tape: Tape, _ x: Variable, offsets: [Int]) -> Variable {
        let c = x.shape.last!
        precondition(offsets.first == 0 && offsets.last == x.count / c, "offsets must run from 0 to the packed rows")
        let out = Variable(zeros: [offsets.count - 1, c])
        PackedMeanPool.forward(out: out.value.base, inp: x.value.base, offsets: offsets, channels: c)
        guard x.requiresGradient else { return out }
        tape.record { PackedMeanPool.backward(dinp: x.gradient.base, dout: out.gradient.base, offsets: offsets, channels: c) }
        return out
    }

    /// `factor · x`, elementwise (a temperature's 1/τ).
    public static func scale(_ tape: Tape, _ x: Variable, by factor: Float) -> Variable {
        let out = Variable(zeros: x.shape)
        let count = x.count
        let (o, inp) = (out.value.base, x.value.base)
        for i in 0..<count { o[i] = factor * inp[i] }
        guard x.requiresGradient else { return out }
        tape.record {
            let (g, d) = (out.gradient.base, x.gradient.base)
            for i in 0..<count { d[i] += factor * g[i] }
        }
        return out
    }

    /// Rows scaled to unit length: (N, C) → (N, C).
    public static func l2Normalize(_ tape: Tape, _ x: Variable) -> Variable {
        let c = x.shape.last!, n = x.count / c
        let out = Variable(zeros: x.shape)
        let norm = PooledBuffer(count: n)
        L2Normalize.forward(out: out.value.base, norm: norm.values.base, inp: x.value.base, rows: n, channels: c)
        tape.record {
            L2Normalize.backward(dinp: x.gradient.base, dout: out.gradient.base, out: out.value.base, norm: norm.values.base, rows: n, channels: c)
        }
        return out
    }

    /// In-batch InfoNCE between unit rows `a` and `b` (N, C) at `temperature`; seeds their gradients
    /// for d(loss) = `weight` (like `crossEntropy`, the loss is a sink: nothing is recorded).
    public static func infoNCE(_ tape: Tape, _ a: Variable, _ b: Variable, temperature: Float, weight: Float = 1) -> Float {
        let c = a.shape.last!, n = a.count / c
        return InfoNCE.forwardBackward(
            a: a.value.base, b: b.value.base, da: a.gradient.base, db: b.gradient.base, rows: n, channels: c, temperature: temperature, scale: weight)
    }
}
