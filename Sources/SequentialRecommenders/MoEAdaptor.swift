import Foundation
import Support
import Tensors

/// UniSRec's MoE-enhanced adaptor (Hou et al., KDD 2022, §2.2) over frozen text vectors x (N, D):
///
///     expert e (parametric whitening):  h_e = (drop_e(x) − b_e) · W_e            W_e: (D, P), b_e: (D)
///     gate:                              l = x · W_g  (+ ε ⊙ (softplus(x · W_n) + 0.01) when training)
///     output:                            y = Σ_e softmax(l)_e · h_e                 (N, P)
///
/// with ε ~ N(0, 1) per row and expert, and an independent dropout mask per expert, as the
/// authors' `MoEAdaptorLayer`/`PWLayer` compute it. The input gets no gradient (the text vectors are
/// frozen); W_e, b_e, W_g and W_n do.
struct MoEAdaptor {
    let experts: [(weight: Variable, bias: Variable)]
    let gate: Variable
    let noise: Variable
    let dropout: Float
    let noisyGating: Bool

    /// The adaptor's tensors under `prefix` for inputs of width `input`, outputs of width `output`.
    static func shapes(prefix p: String, input d: Int, output c: Int, experts: Int) -> [String: [Int]] {
        var shapes = [p + "gate.weight": [d, experts], p + "noise.weight": [d, experts]]
        for e in 0..<experts {
            shapes[p + "experts.\(e).weight"] = [d, c]
            shapes[p + "experts.\(e).bias"] = [d]
        }
        return shapes
    }

    init(_ set: ParameterSet, prefix p: String, experts: Int, dropout: Float, noisyGating: Bool) {
        self.experts = (0..<experts).map { (set.required(p + "experts.\($0).weight"), set.required(p + "experts.\($0).bias")) }
        gate = set.required(p + "gate.weight")
        noise = set.required(p + "noise.weight")
        self.dropout = dropout
        self.noisyGating = noisyGating
    }

    /// Records the adaptor over the rows of `x` (N, D; no gradient flows into it). `training` draws
    /// the gating noise and the experts' dropout masks; nil is inference (no noise, no dropout).
    func forward(_ tape: Tape, _ x: Variable, training random: inout SeededRandom?) -> Variable {
        let d = x.shape.last!, n = x.count / d, e = experts.count, c = experts[0].weight.shape[1]
        let out = Variable(zeros: [n, c])
        let xs = x.value.base
        // Experts: u_e = drop_e(x) − b_e, h_e = u_e · W_e.
        let inputs = (0..<e).map { _ in PooledBuffer(count: n * d) }
        let outputs = (0..<e).map { _ in PooledBuffer(count: n * c) }
        for (k, expert) in experts.enumerated() {
            let u = inputs[k].values.base
            if let seed = random?.next(), dropout > 0 {
                Dropout.forward(out: u, inp: xs, mask: DropoutMask(probability: dropout, seed: seed), count: n * d)
            } else {
                u.update(from: xs, count: n * d)
            }
            let b = expert.bias.value.base
            for r in 0..<n { for j in 0..<d { u[r * d + j] -= b[j] } }
            Linear.forward(out: outputs[k].values.base, inp: u, weight: expert.weight.value.base, bias: nil, rows: n, inFeatures: d, outFeatures: c)
        }
        // Gate: softmax over experts of the clean logits plus, when training, scaled Gaussian noise.
        let gates = PooledBuffer(count: n * e), raw = PooledBuffer(count: n * e), epsilon = PooledBuffer(count: n * e)
        let g = gates.values.base
        Linear.forward(out: g, inp: xs, weight: gate.value.base, bias: nil, rows: n, inFeatures: d, outFeatures: e)
        let noisy = noisyGating && random != nil
        if noisy {
            Linear.forward(out: raw.values.base, inp: xs, weight: noise.value.base, bias: nil, rows: n, inFeatures: d, outFeatures: e)
            for i in 0..<(n * e) {
                let u1 = max(random!.unit(), 1e-300), u2 = random!.unit()
                let z = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
                epsilon.values.base[i] = z
                g[i] += z * (Self.softplus(raw.values.base[i]) + 0.01)
            }
        }
        for r in 0..<n {
            let row = g + r * e
            var top = -Float.infinity
            for k in 0..<e { top = max(top, row[k]) }
            var sum: Float = 0
            for k in 0..<e {
                row[k] = expf(row[k] - top)
                sum += row[k]
            }
            for k in 0..<e { row[k] /= sum }
        }
        let y = out.value.base
        for k in 0..<e {
            let h = outputs[k].values.base
            for r in 0..<n {
                let w = g[r * e + k]
                for j in 0..<c { y[r * c + j] += w * h[r * c + j] }
            }
        }
        tape.record { [experts, gate, noise] in
            // The closure holds the buffers (not only their pointers) until the backward pass ran.
            let g = gates.values.base
            let dy = out.gradient.base
            // d(gate) = dy · h_e per row; then the softmax's backward into the logits.
            let dGates = PooledBuffer(count: n * e)
            let dg = dGates.values.base
            let dh = PooledBuffer(count: n * c)
            for (k, expert) in experts.enumerated() where expert.weight.requiresGradient {
                let h = outputs[k].values.base, dhk = dh.values.base
                for r in 0..<n {
                    let w = g[r * e + k]
                    var dot: Float = 0
                    for j in 0..<c {
                        dot += dy[r * c + j] * h[r * c + j]
                        dhk[r * c + j] = w * dy[r * c + j]
                    }
                    dg[r * e + k] = dot
                }
                Linear.backward(
                    dinp: nil, dweight: expert.weight.gradient.base, dbias: nil, dout: dhk, inp: inputs[k].values.base, weight: expert.weight.value.base,
                    rows: n, inFeatures: d, outFeatures: c)
                // u_e = … − b_e, so d(b_e) = −Σ_rows dh_e · W_eᵀ.
                var columnSums = [Float](repeating: 0, count: c)
                for r in 0..<n { for j in 0..<c { columnSums[j] += dhk[r * c + j] } }
                let wk = expert.weight.value.base, db = expert.bias.gradient.base
                for i in 0..<d {
                    var s: Float = 0
                    for j in 0..<c { s += wk[i * c + j] * columnSums[j] }
                    db[i] -= s
                }
            }
            guard gate.requiresGradient else { return }
            for r in 0..<n {
                var mean: Float = 0
                for k in 0..<e { mean += g[r * e + k] * dg[r * e + k] }
                for k in 0..<e { dg[r * e + k] = g[r * e + k] * (dg[r * e + k] - mean) }
            }
            Linear.backward(dinp: nil, dweight: gate.gradient.base, dbias: nil, dout: dg, inp: xs, weight: gate.value.base, rows: n, inFeatures: d, outFeatures: e)
            guard noisy else { return }
            // l = clean + ε · (softplus(raw) + 0.01): d(raw) = d(l) · ε · σ(raw).
            for i in 0..<(n * e) {
                let rawValue = raw.values.base[i]
                dg[i] *= epsilon.values.base[i] / (1 + expf(-rawValue))
            }
            Linear.backward(dinp: nil, dweight: noise.gradient.base, dbias: nil, dout: dg, inp: xs, weight: noise.value.base, rows: n, inFeatures: d, outFeatures: e)
        }
        return out
    }

    /// log(1 + eˣ), without overflow.
    static func softplus(_ x: Float) -> Float { max(x, 0) + log1pf(expf(-abs(x))) }
}
