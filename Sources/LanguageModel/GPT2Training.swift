import Foundation
import Tensors

/// GPT-2 with trainable parameters on the tape: the forward pass records every operation, the loss
/// seeds the backward pass, AdamW updates the parameters (weight decay on matrices only).
public final class GPT2Trainer {
    public let config: GPT2Config
    /// Parameters by Hugging Face name.
    public let parameters: [String: Variable]
    let names: [String]
    var m: [String: [Float]] = [:]
    var v: [String: [Float]] = [:]
    public var optimizer = AdamW()
    /// AdamW updates made so far.
    public private(set) var step = 0

    /// Resumes from a folder written by `saveState(to:)`: weights, AdamW moments and step count.
    public convenience init(stateFolder folder: String) throws {
        self.init(model: try GPT2Model(folder: folder))
        let path = (folder as NSString).appendingPathComponent("optimizer.safetensors")
        let (tensors, metadata) = try SafeTensors.read(path)
        guard let text = metadata["step"], let step = Int(text) else {
            throw ModelError.malformed(path: path, detail: "metadata has no step count")
        }
        for name in names {
            guard let m = tensors["m." + name], let v = tensors["v." + name], m.values.count == self.m[name]!.count,
                v.values.count == m.values.count
            else { throw ModelError.malformed(path: path, detail: "moments of \(name) are missing or of the wrong size") }
            self.m[name] = m.values
            self.v[name] = v.values
        }
        self.step = step
    }

    /// Writes `config.json` and `model.safetensors` (the weights, as a model folder has them) and
    /// `optimizer.safetensors` (AdamW's first and second moments as `m.<name>` / `v.<name>`, the
    /// step count in the metadata) into `folder`.
    public func saveState(to folder: String) throws {
        try model().save(to: folder)
        var moments: [String: SafeTensors.Tensor] = [:]
        for name in names {
            let shape = parameters[name]!.shape
            moments["m." + name] = SafeTensors.Tensor(shape: shape, values: m[name]!)
            moments["v." + name] = SafeTensors.Tensor(shape: shape, values: v[name]!)
        }
        try SafeTensors.write(
            moments, metadata: ["step": String(step)], to: (folder as NSString).appendingPathComponent("optimizer.safetensors"))
    }

    public init(model: GPT2Model) {
        config = model.config
        var parameters: [String: Variable] = [:]
        for (name, tensor) in model.parameters { parameters[name] = Variable(shape: tensor.shape, value: tensor.values) }
        self.parameters = parameters
        names = parameters.keys.sorted()
        for name in names {
            m[name] = [Float](repeating: 0, count: parameters[name]!.count)
            v[name] = m[name]
        }
    }

    /// The current weights as a model (for generation and saving).
    public func model() throws -> GPT2Model {
        try GPT2Model(config: config, parameters: parameters.mapValues { SafeTensors.Tensor(shape: $0.shape, values: $0.value) })
    }

    /// Records the forward pass of `tokens` (B × T) on `tape`; returns the last hidden states (B·T, C)
    /// after the final layer norm.
    public func hidden(_ tape: Tape, tokens: [[Int32]], keyMask: [[Float]]? = nil) -> Variable {
        let b = tokens.count, t = tokens[0].count
        let p = parameters
        var x = Ops.embedding(
            tape, tokens: tokens.flatMap { $0 }, positions: (0..<b).flatMap { _ in (0..<t).map(Int32.init) }, wte: p["wte.weight"]!,
            wpe: p["wpe.weight"]!)
        let mask = keyMask?.flatMap { $0 }
        for i in 0..<config.layers {
            let h = "h.\(i)."
            let n1 = Ops.layerNorm(tape, x, weight: p[h + "ln_1.weight"]!, bias: p[h + "ln_1.bias"]!)
            let qkv = Ops.linear(tape, n1, weight: p[h + "attn.c_attn.weight"]!, bias: p[h + "attn.c_attn.bias"]!)
            let att = Ops.attention(tape, qkv, keyMask: mask, causal: true, batch: b, length: t, heads: config.heads)
            x = Ops.add(tape, x, Ops.linear(tape, att, weight: p[h + "attn.c_proj.weight"]!, bias: p[h + "attn.c_proj.bias"]!))
            let n2 = Ops.layerNorm(tape, x, weight: p[h + "ln_2.weight"]!, bias: p[h + "ln_2.bias"]!)
            let up = Ops.gelu(tape, Ops.linear(tape, n2, weight: p[h + "mlp.c_fc.weight"]!, bias: p[h + "mlp.c_fc.bias"]!))
            x = Ops.add(tape, x, Ops.linear(tape, up, weight: p[h + "mlp.c_proj.weight"]!, bias: p[h + "mlp.c_proj.bias"]!))
        }
        return Ops.layerNorm(tape, x, weight: p["ln_f.weight"]!, bias: p["ln_f.bias"]!)
    }

    /// Next-token cross-entropy of `tokens` over the positions `mask` marks (mask[b][t] = 1 scores
    /// the prediction of tokens[b][t + 1]); records the backward pass, returns the loss.
    public func languageModelLoss(
        _ tape: Tape, tokens: [[Int32]], lossMask: [[Float]], keyMask: [[Float]]? = nil, lossWeight: Float = 1
    ) -> Float {
        let t = tokens[0].count
        let targets = tokens.map { row in (0..<t).map { $0 + 1 < t ? row[$0 + 1] : 0 } }
        let mask = lossMask.map { row in (0..<t).map { $0 + 1 < t ? row[$0] : 0 } }
        return languageModelLoss(tape, tokens: tokens, targets: targets, lossMask: mask, keyMask: keyMask, lossWeight: lossWeight)
    }

    /// Cross-entropy of predicting `targets[b][t]` at every position `lossMask[b][t]` marks. The
    /// backward pass is seeded with `lossWeight` (e.g. 1/k for one of k accumulated micro-batches);
    /// the returned loss is unweighted.
    public func languageModelLoss(
        _ tape: Tape, tokens: [[Int32]], targets: [[Int32]], lossMask: [[Float]], keyMask: [[Float]]? = nil, lossWeight: Float = 1
    ) -> Float {
        let hidden = hidden(tape, tokens: tokens, keyMask: keyMask)
        let logits = Ops.tiedLogits(tape, hidden, wte: parameters["wte.weight"]!)
        return Ops.crossEntropy(
            tape, logits: logits, targets: targets.flatMap { $0 }, mask: lossMask.flatMap { $0 }, weight: lossWeight)
    }

    /// Global-norm clipping of all gradients together; returns the norm before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float) -> Float {
        GradientClipping.clip(names.map { parameters[$0]! }, maxNorm: maxNorm)
    }

    /// Zeroes every gradient.
    public func zeroGradients() {
        for name in names {
            let p = parameters[name]!
            for i in 0..<p.count { p.gradient[i] = 0 }
        }
    }

    /// One AdamW update with learning rate `lr`; matrices decay, biases and layer-norm gains do not.
    public func update(lr: Float) {
        step += 1
        for name in names {
            let p = parameters[name]!
            optimizer.update(
                parameters: &p.value, gradients: p.gradient, m: &m[name]!, v: &v[name]!, count: p.count, step: step, lr: lr,
                decay: p.shape.count == 2 && name != "wpe.weight")
        }
    }
}
