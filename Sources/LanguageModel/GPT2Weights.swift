import Tensors

/// Typed views of a GPT-2's tensors in a `ParameterSet`, built once, so the forward pass reads
/// stored properties instead of looking names up. Names are Hugging Face's (`h.{i}.attn.c_attn.weight`).
public struct GPT2Weights {
    /// One transformer block.
    public struct Block {
        public let ln1Weight, ln1Bias: Variable
        public let attentionWeight, attentionBias: Variable
        public let attentionProjectionWeight, attentionProjectionBias: Variable
        public let ln2Weight, ln2Bias: Variable
        public let mlpUpWeight, mlpUpBias: Variable
        public let mlpDownWeight, mlpDownBias: Variable
    }

    /// Token embeddings (V, C), tied to the output logits.
    public let tokenEmbedding: Variable
    /// Position embeddings (T, C).
    public let positionEmbedding: Variable
    public let blocks: [Block]
    public let finalNormWeight, finalNormBias: Variable

    /// The views of `set`, which must hold every tensor of a GPT-2 with `config`.
    public init(_ set: ParameterSet, config: GPT2Config) {
        let v = set.required
        tokenEmbedding = v("wte.weight")
        positionEmbedding = v("wpe.weight")
        finalNormWeight = v("ln_f.weight")
        finalNormBias = v("ln_f.bias")
        blocks = (0..<config.layers).map { i in
            let h = "h.\(i)."
            return Block(
                ln1Weight: v(h + "ln_1.weight"), ln1Bias: v(h + "ln_1.bias"),
                attentionWeight: v(h + "attn.c_attn.weight"), attentionBias: v(h + "attn.c_attn.bias"),
                attentionProjectionWeight: v(h + "attn.c_proj.weight"), attentionProjectionBias: v(h + "attn.c_proj.bias"),
                ln2Weight: v(h + "ln_2.weight"), ln2Bias: v(h + "ln_2.bias"),
                mlpUpWeight: v(h + "mlp.c_fc.weight"), mlpUpBias: v(h + "mlp.c_fc.bias"),
                mlpDownWeight: v(h + "mlp.c_proj.weight"), mlpDownBias: v(h + "mlp.c_proj.bias"))
        }
    }
}

extension GPT2Model {
    /// This model's tensors as a parameter set, names sorted (the optimiser's order); matrices decay
    /// except the position embeddings, biases and layer-norm gains do not.
    public func parameterSet() -> ParameterSet {
        ParameterSet(parameters.keys.sorted().map { name in
            let tensor = parameters[name]!
            return ParameterSet.Initial(
                name: name, shape: tensor.shape, values: tensor.values, decays: tensor.shape.count == 2 && name != "wpe.weight")
        })
    }
}
