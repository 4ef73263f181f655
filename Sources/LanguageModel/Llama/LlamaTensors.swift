import Tensors

/// A Llama-family model's tensors as typed stored properties, built once, under Hugging Face's
/// names (`model.layers.{i}.self_attn.q_proj.weight` …). `Tensor` is what a name gives: a `Variable`
/// of a parameter set for training (`LlamaWeights`), the values of a loaded model for decoding.
public struct LlamaTensors<Tensor> {
    /// One matrix in `nn.Linear`'s (out, in) layout, with its optional bias (Qwen2-style attention)
    /// and, in training, its optional LoRA adapter.
    public struct Projection {
        public let weight: Tensor
        public let bias: Tensor?
        public let adapter: LoRAAdapter<Tensor>?
    }

    public struct Block {
        public let inputNorm: Tensor
        public let query, key, value, output: Projection
        public let postAttentionNorm: Tensor
        public let gate, up, down: Projection
    }

    /// Token embeddings (V, C).
    public let embedding: Tensor
    public let blocks: [Block]
    public let finalNorm: Tensor
    /// The output projection (V, C); nil when it is the embedding (tied).
    public let outputHead: Tensor?

    /// Every tensor of a model with `config`, each from `tensor(name)`; `optional(name)` gives the
    /// tensors a model may lack (biases, adapters).
    public init(config: LlamaConfig, tensor: (String) -> Tensor, optional: (String) -> Tensor?) {
        embedding = tensor("model.embed_tokens.weight")
        finalNorm = tensor("model.norm.weight")
        outputHead = config.tiedEmbeddings ? nil : tensor("lm_head.weight")
        blocks = (0..<config.layers).map { i in
            let prefix = "model.layers.\(i)."
            func projection(_ name: String) -> Projection {
                let base = prefix + name
                let adapter = optional(base + ".lora_A.weight").flatMap { a in
                    optional(base + ".lora_B.weight").map { LoRAAdapter(down: a, up: $0) }
                }
                return Projection(weight: tensor(base + ".weight"), bias: optional(base + ".bias"), adapter: adapter)
            }
            return Block(
                inputNorm: tensor(prefix + "input_layernorm.weight"),
                query: projection("self_attn.q_proj"), key: projection("self_attn.k_proj"), value: projection("self_attn.v_proj"),
                output: projection("self_attn.o_proj"),
                postAttentionNorm: tensor(prefix + "post_attention_layernorm.weight"),
                gate: projection("mlp.gate_proj"), up: projection("mlp.up_proj"), down: projection("mlp.down_proj"))
        }
    }
}

/// A LoRA adapter of one matrix (Hu et al., 2021): `W + (α/r) · B · A`, with A (r, in) — PEFT's
/// `lora_A` — and B (out, r) — `lora_B`.
public struct LoRAAdapter<Tensor> {
    public let down: Tensor
    public let up: Tensor
}

/// Views of a Llama's tensors in a `ParameterSet` (training).
public typealias LlamaWeights = LlamaTensors<Variable>

extension LlamaTensors where Tensor == Variable {
    /// The views of `set`, which must hold every tensor of a model with `config` (adapters where it has them).
    public init(_ set: ParameterSet, config: LlamaConfig) {
        self.init(config: config, tensor: set.required, optional: set.variable(named:))
    }
}

/// The matrices of a Llama block by their short names (LoRA's target modules).
public enum LlamaMatrix: String, CaseIterable, Sendable, Codable {
    case query = "q_proj", key = "k_proj", value = "v_proj", output = "o_proj"
    case gate = "gate_proj", up = "up_proj", down = "down_proj"

    /// The tensor-name stem in block `layer` (`model.layers.3.self_attn.q_proj`).
    public func stem(layer: Int) -> String {
        switch self {
        case .query, .key, .value, .output: return "model.layers.\(layer).self_attn.\(rawValue)"
        case .gate, .up, .down: return "model.layers.\(layer).mlp.\(rawValue)"
        }
    }
}
