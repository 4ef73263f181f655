import Tensors

/// A GPT-2's tensors as typed stored properties, built once, so forward passes read properties
/// instead of looking names up. `Tensor` is what a name gives: a `Variable` of a parameter set for
/// training (`GPT2Weights`), the values of a loaded model for decoding (`GPT2InferenceWeights`).
/// Names are Hugging Face's (`h.{i}.attn.c_attn.weight`).
public struct GPT2Tensors<Tensor> {
    /// One transformer block.
    public struct Block {
        public let ln1Weight, ln1Bias: Tensor
        public let attentionWeight, attentionBias: Tensor
        public let attentionProjectionWeight, attentionProjectionBias: Tensor
        public let ln2Weight, ln2Bias: Tensor
        public let mlpUpWeight, mlpUpBias: Tensor
        public let mlpDownWeight, mlpDownBias: Tensor
    }

    /// Token embeddings (V, C), tied to the output logits.
    public let tokenEmbedding: Tensor
    /// Position embeddings (T, C).
    public let positionEmbedding: Tensor
    public let blocks: [Block]
    public let finalNormWeight, finalNormBias: Tensor

    /// Every tensor of a GPT-2 with `config`, each from `tensor(name)`.
    public init(config: GPT2Config, _ tensor: (String) -> Tensor) {
        let v = tensor
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

/// Views of a GPT-2's tensors in a `ParameterSet` (training).
public typealias GPT2Weights = GPT2Tensors<Variable>

extension GPT2Tensors where Tensor == Variable {
    /// The views of `set`, which must hold every tensor of a GPT-2 with `config`.
    public init(_ set: ParameterSet, config: GPT2Config) { self.init(config: config, set.required) }
}

/// A loaded GPT-2's weights as arrays sharing the tensors' storage (decoding).
typealias GPT2InferenceWeights = GPT2Tensors<[Float]>

extension GPT2Tensors where Tensor == [Float] {
    /// The values of `parameters`, which hold every tensor of a GPT-2 with `config` (checked on loading).
    init(_ parameters: [String: SafeTensors.Tensor], config: GPT2Config) {
        self.init(config: config) { name in
            guard let tensor = parameters[name] else { preconditionFailure("GPT-2 has no '\(name)'") }
            return tensor.values
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
