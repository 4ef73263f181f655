import Foundation
import Tensors
import Tokenization

/// A Llama-family decoder (Llama, SmolLM2, Qwen2-style): token embeddings, blocks of RMSNorm →
/// grouped-query attention with rotary positions → residual, RMSNorm → SwiGLU feed-forward →
/// residual, a final RMSNorm and an output head (tied to the embeddings or not). Tensors use Hugging
/// Face's names and `nn.Linear` layout; they load from a GGUF file (dequantized, query and key rows
/// un-permuted) or from a Hugging Face folder (`config.json` + `model.safetensors`).
public final class LlamaModel {
    public let config: LlamaConfig
    /// Parameters by Hugging Face name: the base weights (adapters are kept apart in `adapters`).
    public let parameters: [String: SafeTensors.Tensor]
    /// LoRA adapters by PEFT name less its `base_model.model.` prefix (`model.layers.0.self_attn.q_proj.lora_A.weight`);
    /// empty for a plain model. Decoding reads the merged weights `W + (α/r)·B·A`.
    public let adapters: [String: SafeTensors.Tensor]
    /// How the adapters were trained (their rank, α, targets); nil without adapters.
    public let lora: LoRAOptions?
    /// The pretrained file these weights come from, when they come from one.
    public let base: BaseModelReference?
    /// The weights as the decode step reads them.
    let inferenceWeights: LlamaTensors<[Float]>
    /// cos/sin of every position the model has.
    let rotary: RotaryEmbedding.Table

    public init(
        config: LlamaConfig, parameters: [String: SafeTensors.Tensor], base: BaseModelReference? = nil,
        adapters: [String: SafeTensors.Tensor] = [:], lora: LoRAOptions? = nil
    ) throws {
        try Self.checkShapes(parameters, config: config)
        precondition(adapters.isEmpty || lora != nil, "adapters need their LoRA options")
        self.config = config
        self.parameters = parameters
        self.base = base
        self.adapters = adapters
        self.lora = adapters.isEmpty ? nil : lora
        let merged = try LoRAMerge.merged(parameters, adapters: adapters, scale: lora?.scale ?? 0)
        inferenceWeights = LlamaTensors(config: config, tensor: { merged[$0]!.values }, optional: { merged[$0]?.values })
        rotary = RotaryEmbedding.Table(positions: config.maxPositions, headSize: config.headSize, theta: config.ropeTheta)
    }

    /// Every tensor name of a model with `config`, with its shape (biases are optional and not listed).
    public static func shapes(_ config: LlamaConfig) -> [String: [Int]] {
        let c = config.hiddenSize, f = config.intermediateSize, kv = config.keyValueHeads * config.headSize
        var shapes: [String: [Int]] = ["model.embed_tokens.weight": [config.vocabularySize, c], "model.norm.weight": [c]]
        if !config.tiedEmbeddings { shapes["lm_head.weight"] = [config.vocabularySize, c] }
        for i in 0..<config.layers {
            let p = "model.layers.\(i)."
            shapes[p + "input_layernorm.weight"] = [c]
            shapes[p + "post_attention_layernorm.weight"] = [c]
            shapes[p + "self_attn.q_proj.weight"] = [c, c]
            shapes[p + "self_attn.k_proj.weight"] = [kv, c]
            shapes[p + "self_attn.v_proj.weight"] = [kv, c]
            shapes[p + "self_attn.o_proj.weight"] = [c, c]
            shapes[p + "mlp.gate_proj.weight"] = [f, c]
            shapes[p + "mlp.up_proj.weight"] = [f, c]
            shapes[p + "mlp.down_proj.weight"] = [c, f]
        }
        return shapes
    }

    private static func checkShapes(_ parameters: [String: SafeTensors.Tensor], config: LlamaConfig) throws {
        guard config.hiddenSize % config.attentionHeads == 0, config.attentionHeads % config.keyValueHeads == 0, config.headSize % 2 == 0 else {
            throw ModelError.malformed(
                path: "", detail: "hidden size \(config.hiddenSize), \(config.attentionHeads) heads and \(config.keyValueHeads) key/value heads do not fit together")
        }
        for (name, shape) in shapes(config).sorted(by: { $0.key < $1.key }) {
            guard let tensor = parameters[name] else { throw ModelError.malformed(path: "", detail: "tensor '\(name)' missing") }
            guard tensor.shape == shape else { throw ModelError.malformed(path: "", detail: "tensor '\(name)' has shape \(tensor.shape), expected \(shape)") }
        }
        let kv = config.keyValueHeads * config.headSize
        for i in 0..<config.layers {
            for (name, size) in [("q_proj", config.hiddenSize), ("k_proj", kv), ("v_proj", kv)] {
                let key = "model.layers.\(i).self_attn.\(name).bias"
                if let bias = parameters[key], bias.shape != [size] {
                    throw ModelError.malformed(path: "", detail: "tensor '\(key)' has shape \(bias.shape), expected [\(size)]")
                }
            }
        }
    }

    // MARK: Loading

    /// This model's base weights with `adapters` trained with `lora`.
    public func with(adapters: [String: SafeTensors.Tensor], lora: LoRAOptions) throws -> LlamaModel {
        try LlamaModel(config: config, parameters: parameters, base: base, adapters: adapters, lora: lora)
    }

    /// The model and tokenizer of a GGUF file (Llama architecture), dequantized to Float32; the
    /// model records the file's SHA-256 as its base.
    public static func load(gguf path: String) throws -> (model: LlamaModel, tokenizer: BPETokenizer) {
        try load(gguf: path, base: try BaseModelReference(file: path, format: .gguf))
    }

    /// The GGUF file at `path` whose reference (and hash) the caller already holds.
    static func load(gguf path: String, base: BaseModelReference) throws -> (model: LlamaModel, tokenizer: BPETokenizer) {
        let file = try GGUFFile(path: path)
        let config = try GGUFLlama.config(file)
        var parameters: [String: SafeTensors.Tensor] = [:]
        for info in file.tensors {
            guard let name = GGUFLlama.huggingFaceName(info.name) else { continue }
            let shape = Array(info.dimensions.reversed())
            var values = file.dequantize(info)
            if name.hasSuffix("q_proj.weight") || name.hasSuffix("k_proj.weight") {
                let heads = name.hasSuffix("q_proj.weight") ? config.attentionHeads : config.keyValueHeads
                values = GGUFLlama.unpermuteRows(values, rows: shape[0], columns: shape[1], heads: heads)
            }
            parameters[name] = SafeTensors.Tensor(shape: shape, values: values)
        }
        do {
            return (try LlamaModel(config: config, parameters: parameters, base: base), try GGUFTokenizer.tokenizer(file))
        } catch let ModelError.malformed(_, detail) {
            throw ModelError.malformed(path: path, detail: detail)
        }
    }

    /// The model of a Hugging Face folder: `config.json` (a `LlamaConfig`) and `model.safetensors`;
    /// or a LoRA folder this package wrote (`adapter_config.json`, `adapter_model.safetensors` and
    /// `base_model.json`, whose base file must still have the recorded SHA-256).
    public static func load(folder: String) throws -> LlamaModel {
        if FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(PEFTAdapter.configName)) {
            return try PEFTAdapter.load(folder: folder)
        }
        let config = try LlamaConfig.read((folder as NSString).appendingPathComponent("config.json"))
        let path = (folder as NSString).appendingPathComponent("model.safetensors")
        var parameters = try SafeTensors.read(path).tensors
        parameters = parameters.filter { !$0.key.hasSuffix("rotary_emb.inv_freq") }
        if config.tiedEmbeddings { parameters["lm_head.weight"] = nil }
        let base = try BaseModelReference.read(folder: folder)
        do {
            return try LlamaModel(config: config, parameters: parameters, base: base)
        } catch let ModelError.malformed(_, detail) {
            throw ModelError.malformed(path: path, detail: detail)
        }
    }

    /// Writes the model into `folder`: `config.json` always; the adapters in PEFT's format with
    /// `base_model.json` when it has adapters, else `model.safetensors` (Float32, Hugging Face names)
    /// and `base_model.json` when it knows its base.
    public func save(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try config.save(to: folder)
        if let lora, !adapters.isEmpty {
            guard let base else { throw ModelError.malformed(path: folder, detail: "adapters without a recorded base model cannot be saved") }
            try PEFTAdapter.write(adapters: adapters, lora: lora, base: base, to: folder)
        } else {
            try SafeTensors.write(parameters, metadata: ["format": "pt"], to: (folder as NSString).appendingPathComponent("model.safetensors"))
        }
        try base?.write(folder: folder)
    }
}
