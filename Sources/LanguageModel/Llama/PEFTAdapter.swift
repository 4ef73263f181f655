import Foundation
import Support
import Tensors

/// LoRA adapters in PEFT's format, so they load with `PeftModel.from_pretrained(base, folder)`:
/// `adapter_config.json` (`peft_type` LORA, `r`, `lora_alpha`, `lora_dropout`, `target_modules`,
/// `layers_to_transform`) and `adapter_model.safetensors` whose keys are the module paths under
/// PEFT's wrapper: `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight` (r, in) and
/// `….lora_B.weight` (out, r).
public enum PEFTAdapter {
    public static let configName = "adapter_config.json"
    public static let weightsName = "adapter_model.safetensors"
    /// The prefix PEFT's wrapper adds to every module path.
    public static let keyPrefix = "base_model.model."

    /// `adapter_config.json`: the fields PEFT reads for a LoRA adapter.
    public struct Config: Codable, Sendable, Equatable {
        public var peftType = "LORA"
        public var taskType: String? = "CAUSAL_LM"
        public var r: Int
        public var loraAlpha: Float
        public var loraDropout: Float
        public var targetModules: [String]
        public var layersToTransform: [Int]?
        public var bias = "none"
        public var fanInFanOut = false
        public var useRslora = false
        public var useDora = false
        public var inferenceMode = true
        public var initLoraWeights = true
        public var baseModelNameOrPath: String?

        enum CodingKeys: String, CodingKey {
            case r, bias
            case peftType = "peft_type"
            case taskType = "task_type"
            case loraAlpha = "lora_alpha"
            case loraDropout = "lora_dropout"
            case targetModules = "target_modules"
            case layersToTransform = "layers_to_transform"
            case fanInFanOut = "fan_in_fan_out"
            case useRslora = "use_rslora"
            case useDora = "use_dora"
            case inferenceMode = "inference_mode"
            case initLoraWeights = "init_lora_weights"
            case baseModelNameOrPath = "base_model_name_or_path"
        }

        public init(lora: LoRAOptions, layers: [Int]?, base: String?) {
            r = lora.rank
            loraAlpha = lora.alpha
            loraDropout = lora.dropout
            targetModules = lora.targets.map(\.rawValue)
            layersToTransform = layers
            baseModelNameOrPath = base
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            peftType = try c.decode(String.self, forKey: .peftType)
            taskType = try c.decodeIfPresent(String.self, forKey: .taskType)
            r = try c.decode(Int.self, forKey: .r)
            loraAlpha = try c.decodeIfPresent(Float.self, forKey: .loraAlpha) ?? 8
            loraDropout = try c.decodeIfPresent(Float.self, forKey: .loraDropout) ?? 0
            if let list = try? c.decode([String].self, forKey: .targetModules) {
                targetModules = list
            } else {
                targetModules = [try c.decode(String.self, forKey: .targetModules)]
            }
            layersToTransform = try c.decodeIfPresent([Int].self, forKey: .layersToTransform)
            bias = try c.decodeIfPresent(String.self, forKey: .bias) ?? "none"
            fanInFanOut = try c.decodeIfPresent(Bool.self, forKey: .fanInFanOut) ?? false
            useRslora = try c.decodeIfPresent(Bool.self, forKey: .useRslora) ?? false
            useDora = try c.decodeIfPresent(Bool.self, forKey: .useDora) ?? false
            inferenceMode = try c.decodeIfPresent(Bool.self, forKey: .inferenceMode) ?? true
            baseModelNameOrPath = try c.decodeIfPresent(String.self, forKey: .baseModelNameOrPath)
        }
    }

    /// Writes the adapters (`lora_A`/`lora_B` by name without PEFT's prefix) into `folder`.
    public static func write(adapters: [String: SafeTensors.Tensor], lora: LoRAOptions, base: BaseModelReference, to folder: String) throws {
        let layers = Set(adapters.keys.compactMap(layer(of:))).sorted()
        let config = Config(lora: lora, layers: layers, base: base.path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicWrite.write(try encoder.encode(config), to: (folder as NSString).appendingPathComponent(configName))
        var keyed: [String: SafeTensors.Tensor] = [:]
        for (name, tensor) in adapters { keyed[keyPrefix + name] = tensor }
        try SafeTensors.write(keyed, metadata: ["format": "pt"], to: (folder as NSString).appendingPathComponent(weightsName))
    }

    /// The base model (from `base_model.json`, hash checked) with the adapters of `folder`.
    public static func load(folder: String) throws -> LlamaModel {
        let configPath = (folder as NSString).appendingPathComponent(configName)
        guard let data = FileManager.default.contents(atPath: configPath) else { throw ModelError.io(path: configPath, detail: "cannot read") }
        let config: Config
        do {
            config = try JSONDecoder().decode(Config.self, from: data)
        } catch let error as DecodingError {
            throw ModelError.malformed(path: configPath, detail: DecodingErrorText.describe(error))
        }
        guard config.peftType == "LORA", !config.useDora, !config.useRslora, !config.fanInFanOut, config.bias == "none" else {
            throw ModelError.malformed(
                path: configPath, detail: "only plain LoRA adapters are supported (peft_type LORA, no DoRA, no rsLoRA, bias none, fan_in_fan_out false)")
        }
        var targets: [LlamaMatrix] = []
        for name in config.targetModules {
            guard let target = LlamaMatrix(rawValue: name) else {
                throw ModelError.malformed(path: configPath, detail: "target module '\(name)' is not one of \(LlamaMatrix.allCases.map(\.rawValue))")
            }
            targets.append(target)
        }
        guard let base = try BaseModelReference.read(folder: folder) else {
            throw ModelError.io(path: folder, detail: "\(BaseModelReference.fileName) is missing: these adapters do not say which base model they belong to")
        }
        let weightsPath = (folder as NSString).appendingPathComponent(weightsName)
        var adapters: [String: SafeTensors.Tensor] = [:]
        for (key, tensor) in try SafeTensors.read(weightsPath).tensors {
            guard key.hasPrefix(keyPrefix) else { throw ModelError.malformed(path: weightsPath, detail: "key '\(key)' lacks PEFT's '\(keyPrefix)' prefix") }
            adapters[String(key.dropFirst(keyPrefix.count))] = tensor
        }
        let lora = LoRAOptions(rank: config.r, alpha: config.loraAlpha, dropout: config.loraDropout, targets: targets)
        let model = try base.load(recordedIn: folder)
        do {
            return try model.with(adapters: adapters, lora: lora)
        } catch let ModelError.malformed(_, detail) {
            throw ModelError.malformed(path: weightsPath, detail: detail)
        }
    }

    /// The block number in an adapter's name (`model.layers.3.…` → 3).
    static func layer(of name: String) -> Int? {
        guard name.hasPrefix("model.layers.") else { return nil }
        return Int(name.dropFirst("model.layers.".count).prefix { $0 != "." })
    }
}

/// Folding LoRA adapters into their matrices for decoding: `W + scale · B · A`.
enum LoRAMerge {
    /// `parameters` with every adapted matrix merged; adapters must come in `lora_A`/`lora_B` pairs
    /// whose shapes fit their matrix.
    static func merged(
        _ parameters: [String: SafeTensors.Tensor], adapters: [String: SafeTensors.Tensor], scale: Float
    ) throws -> [String: SafeTensors.Tensor] {
        guard !adapters.isEmpty else { return parameters }
        var result = parameters
        for (name, a) in adapters where name.hasSuffix(".lora_A.weight") {
            let stem = String(name.dropLast(".lora_A.weight".count))
            guard let b = adapters[stem + ".lora_B.weight"] else { throw ModelError.malformed(path: "", detail: "adapter '\(name)' has no lora_B") }
            guard let w = parameters[stem + ".weight"] else { throw ModelError.malformed(path: "", detail: "adapter '\(name)' adapts no matrix of this model") }
            let (out, inFeatures, rank) = (w.shape[0], w.shape[1], a.shape[0])
            guard a.shape == [rank, inFeatures], b.shape == [out, rank] else {
                throw ModelError.malformed(
                    path: "", detail: "adapter '\(stem)' has A \(a.shape) and B \(b.shape), which do not fit its \(w.shape) matrix")
            }
            var values = w.values
            Matmul.gemm(b.values, transposeA: false, a.values, transposeB: false, &values, m: out, n: inFeatures, k: rank, alpha: scale, beta: 1)
            result[stem + ".weight"] = SafeTensors.Tensor(shape: w.shape, values: values)
        }
        for name in adapters.keys where name.hasSuffix(".lora_B.weight") {
            guard adapters[String(name.dropLast(".lora_B.weight".count)) + ".lora_A.weight"] != nil else {
                throw ModelError.malformed(path: "", detail: "adapter '\(name)' has no lora_A")
            }
        }
        return result
    }
}
