import Foundation
import Support
import Tensors
import Training

/// A Llama-family model with trainable parameters on the tape, fully or through LoRA adapters on a
/// frozen base (`FineTuningOptions`). Parameters live in one `ParameterSet` under Hugging Face's
/// names, adapters under PEFT's (`model.layers.3.self_attn.q_proj.lora_A.weight`); frozen tensors
/// get no weight gradients and no updates.
public final class LlamaTrainer {
    public let config: LlamaConfig
    public let fineTuning: FineTuningOptions
    public let parameterSet: ParameterSet
    public let weights: LlamaWeights
    public var optimizer = AdamW()
    /// Seeds LoRA dropout for the next forward passes; nil (validation, inference) turns it off.
    public var dropoutSeed: UInt64?
    /// Where the pretrained weights came from (recorded beside saved adapters).
    public var base: BaseModelReference? { baseModel.base }
    private let baseModel: LlamaModel
    private let rotary: RotaryEmbedding.Table
    private var dropoutCalls: UInt64 = 0

    /// A trainer starting from `model`; adapters the model already has (a LoRA stage before) keep
    /// training when `fineTuning` asks for LoRA with the same shape.
    public init(model: LlamaModel, fineTuning: FineTuningOptions) throws {
        config = model.config
        self.fineTuning = fineTuning
        baseModel = model
        rotary = model.rotary
        let layers = config.layers
        let top = min(fineTuning.trainableTopBlocks ?? layers, layers)
        guard top >= 1 else { throw ModelError.malformed(path: "fine-tuning", detail: "trainable top blocks must be at least 1") }
        let firstTrained = layers - top
        func blockOf(_ name: String) -> Int? {
            guard name.hasPrefix("model.layers.") else { return nil }
            return Int(name.dropFirst("model.layers.".count).prefix { $0 != "." })
        }
        // Training the weights themselves from an adapted model starts from the merged weights.
        let start = fineTuning.lora == nil ? try LoRAMerge.merged(model.parameters, adapters: model.adapters, scale: model.lora?.scale ?? 0) : model.parameters
        var initial: [ParameterSet.Initial] = start.keys.sorted().map { name in
            let tensor = start[name]!
            let trainable: Bool
            if fineTuning.lora != nil {
                trainable = false
            } else if let block = blockOf(name) {
                trainable = block >= firstTrained
            } else {
                trainable = name == "model.norm.weight" || top == layers
            }
            return ParameterSet.Initial(name: name, shape: tensor.shape, values: tensor.values, decays: tensor.shape.count == 2, trainable: trainable)
        }
        if let lora = fineTuning.lora {
            guard lora.rank >= 1, lora.dropout >= 0, lora.dropout < 1, !lora.targets.isEmpty else {
                throw ModelError.malformed(path: "fine-tuning", detail: "LoRA needs rank ≥ 1, dropout in [0, 1) and at least one target matrix")
            }
            var random = SeededRandom(seed: lora.seed ^ 0x10_2A)
            for layer in firstTrained..<layers {
                for target in LlamaMatrix.allCases where lora.targets.contains(target) {
                    let stem = target.stem(layer: layer)
                    let shape = model.parameters[stem + ".weight"]!.shape
                    let (out, inFeatures) = (shape[0], shape[1])
                    if let a = model.adapters[stem + ".lora_A.weight"], let b = model.adapters[stem + ".lora_B.weight"],
                        a.shape == [lora.rank, inFeatures], b.shape == [out, lora.rank]
                    {
                        initial.append(.init(name: stem + ".lora_A.weight", shape: a.shape, values: a.values, decays: true))
                        initial.append(.init(name: stem + ".lora_B.weight", shape: b.shape, values: b.values, decays: true))
                        continue
                    }
                    let bound = 1 / Double(inFeatures).squareRoot()
                    let a = (0..<(lora.rank * inFeatures)).map { _ in Float((2 * random.unit() - 1) * bound) }
                    initial.append(.init(name: stem + ".lora_A.weight", shape: [lora.rank, inFeatures], values: a, decays: true))
                    initial.append(
                        .init(name: stem + ".lora_B.weight", shape: [out, lora.rank], values: [Float](repeating: 0, count: out * lora.rank), decays: true))
                }
            }
            initial.sort { $0.name < $1.name }
        }
        parameterSet = ParameterSet(initial)
        weights = LlamaWeights(parameterSet, config: config)
    }

    /// Records the forward pass of `tokens` (B × T, right-padded: the causal mask keeps real tokens
    /// from seeing later padding) on `tape`; returns the last hidden states (B·T, C) after the final norm.
    public func hidden(_ tape: Tape, tokens: [[Int32]]) -> Variable {
        let b = tokens.count, t = tokens[0].count
        let flat = tokens.flatMap { $0 }
        let positions = (0..<b).flatMap { _ in (0..<t).map(Int32.init) }
        let (h, hkv, eps) = (config.attentionHeads, config.keyValueHeads, config.rmsNormEpsilon)
        var x = Ops.gatherRows(tape, weights.embedding, rows: flat)
        for block in weights.blocks {
            let n1 = Ops.rmsNorm(tape, x, weight: block.inputNorm, epsilon: eps)
            let q = Ops.rotary(tape, project(tape, n1, block.query), positions: positions, table: rotary, heads: h)
            let k = Ops.rotary(tape, project(tape, n1, block.key), positions: positions, table: rotary, heads: hkv)
            let v = project(tape, n1, block.value)
            let qkv = Ops.groupedQKV(tape, q: q, k: k, v: v, heads: h, keyValueHeads: hkv)
            let attended = Ops.attention(tape, qkv, keyMask: nil, causal: true, batch: b, length: t, heads: h)
            x = Ops.add(tape, x, project(tape, attended, block.output))
            let n2 = Ops.rmsNorm(tape, x, weight: block.postAttentionNorm, epsilon: eps)
            let activated = Ops.swiGLU(tape, gate: project(tape, n2, block.gate), up: project(tape, n2, block.up))
            x = Ops.add(tape, x, project(tape, activated, block.down))
        }
        return Ops.rmsNorm(tape, x, weight: weights.finalNorm, epsilon: eps)
    }

    /// Logits (N, V) of hidden states (N, C): the output head, or the embeddings when tied.
    public func outputLogits(_ tape: Tape, _ hidden: Variable) -> Variable {
        if let head = weights.outputHead { return Ops.projection(tape, hidden, weight: head) }
        return Ops.tiedLogits(tape, hidden, wte: weights.embedding)
    }

    /// `x · Wᵀ (+ (α/r) · B A dropout(x)) (+ b)`.
    private func project(_ tape: Tape, _ x: Variable, _ p: LlamaWeights.Projection) -> Variable {
        var out: Variable
        if let adapter = p.adapter, let lora = fineTuning.lora {
            var mask: DropoutMask?
            if let seed = dropoutSeed, lora.dropout > 0 {
                dropoutCalls += 1
                mask = DropoutMask(probability: lora.dropout, seed: seed &+ dropoutCalls &* 0x9E37_79B9_7F4A_7C15)
            }
            out = Ops.loraProjection(tape, x, weight: p.weight, down: adapter.down, up: adapter.up, scale: lora.scale, dropout: mask)
        } else {
            out = Ops.projection(tape, x, weight: p.weight)
        }
        if let bias = p.bias { out = Ops.addRowBias(tape, out, bias: bias) }
        return out
    }

    /// The adapters' tensors of a flat buffer in the set's layout (the current weights when nil).
    public func adapterTensors(of copy: FloatStorage? = nil) -> [String: SafeTensors.Tensor] {
        let all = copy.map { parameterSet.weightTensors(of: $0) } ?? parameterSet.weightTensors()
        return all.filter { $0.key.contains(".lora_") }
    }

    /// The model with the weights of `copy` (a flat buffer in the set's layout; the current weights
    /// when nil): for LoRA the frozen base with the trained adapters, otherwise the trained weights.
    public func model(weights copy: FloatStorage? = nil) throws -> LlamaModel {
        guard let lora = fineTuning.lora else {
            let all = copy.map { parameterSet.weightTensors(of: $0) } ?? parameterSet.weightTensors()
            return try LlamaModel(config: config, parameters: all, base: nil)
        }
        return try baseModel.with(adapters: adapterTensors(of: copy), lora: lora)
    }

    /// Starts a new dropout stream for the forward passes that follow (one seed per micro-batch).
    public func reseedDropout(_ seed: UInt64?) {
        dropoutSeed = seed
        dropoutCalls = 0
    }
}

extension LlamaModel: CausalLanguageModel {
    public var family: String { "llama" }

    /// The configuration and, when known, the base file's SHA-256 (frozen weights are not in checkpoints).
    public var configurationSetup: [String: String] {
        var setup = TrainingCheckpoint<Never>.setup(of: config)
        if let base { setup["base_sha256"] = base.sha256 }
        return setup
    }

    public func saveConfiguration(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try config.save(to: folder)
    }

    public func trainer(fineTuning: FineTuningOptions) throws -> any LanguageModelTrainer { try LlamaTrainer(model: self, fineTuning: fineTuning) }
}

extension LlamaTrainer: LanguageModelTrainer {
    public var usesDropout: Bool { (fineTuning.lora?.dropout ?? 0) > 0 }

    public func hiddenStates(_ tape: Tape, tokens: [[Int32]]) -> Variable { hidden(tape, tokens: tokens) }

    public func model(weights copy: FloatStorage?) throws -> any CausalLanguageModel { try model(weights: copy) as LlamaModel }
}
