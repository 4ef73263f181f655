import Foundation
import Support
import Tensors
import TextEncoders

/// UniSRec's two fine-tuning settings.
public enum UniSRecVariant: String, Codable, Sendable, CaseIterable {
    /// `T`, inductive: items are their adapted text vectors only.
    case text = "t"
    /// `ID+T`, transductive: the adapted text vector plus a learned ID embedding.
    case idText = "idt"

    public var methodName: String { "unisrec-\(rawValue)" }
}

/// UniSRec's hyper-parameters, defaults from the authors' configuration (`props/UniSRec.yaml`,
/// `props/finetune.yaml`): SASRec encoder of 2 blocks, 2 heads, width 300, feed-forward 256, exact
/// GELU, layer-norm ε 1e-12, dropout 0.5; an adaptor of 8 whitening experts with dropout 0.2 and
/// noisy gating; cosine scores over temperature 0.07; the last 50 items.
public struct UniSRecConfig: Codable, Sendable, Equatable {
    public var variant: UniSRecVariant
    public var itemCount: Int
    /// Width of the frozen text vectors.
    public var featureDimension: Int
    public var hidden = 300
    public var layers = 2
    public var heads = 2
    public var innerSize = 256
    public var maxLength = 50
    public var hiddenDropout: Float = 0.5
    public var attentionDropout: Float = 0.5
    public var experts = 8
    public var adaptorDropout: Float = 0.2
    public var noisyGating = true
    public var temperature: Float = 0.07
    public var layerNormEpsilon: Float = 1e-12
    /// `ItemFeatures.Header.cacheKey` of the text vectors it was trained on.
    public var featuresKey: String
    /// Whether fine-tuning keeps the pre-trained position embeddings and transformer blocks fixed
    /// (the authors' `fix_enc`, their default after pre-training); nil: trained.
    public var fixedEncoder: Bool?

    enum CodingKeys: String, CodingKey {
        case variant, itemCount = "item_count", featureDimension = "feature_dimension", hidden, layers, heads, innerSize = "inner_size"
        case maxLength = "max_length", hiddenDropout = "hidden_dropout", attentionDropout = "attention_dropout", experts
        case adaptorDropout = "adaptor_dropout", noisyGating = "noisy_gating", temperature, layerNormEpsilon = "layer_norm_eps"
        case featuresKey = "features_key", fixedEncoder = "fixed_encoder"
    }

    public init(variant: UniSRecVariant, itemCount: Int, featureDimension: Int, featuresKey: String) {
        self.variant = variant
        self.itemCount = itemCount
        self.featureDimension = featureDimension
        self.featuresKey = featuresKey
    }

    /// Checks the settings; throws `SequentialModelError.invalidConfig` naming the field.
    public func validate() throws {
        func fail(_ field: String, _ detail: String) throws { throw SequentialModelError.invalidConfig(field: field, detail: detail) }
        if itemCount < 1 { try fail("item_count", "must be at least 1") }
        if featureDimension < 1 { try fail("feature_dimension", "must be at least 1") }
        if hidden < 1 || heads < 1 || hidden % heads != 0 { try fail("hidden", "must be a positive multiple of heads (\(heads))") }
        if layers < 1 || innerSize < 1 || maxLength < 2 || experts < 1 { try fail("layers", "sizes must be positive (max_length at least 2)") }
        for (field, p) in [("hidden_dropout", hiddenDropout), ("attention_dropout", attentionDropout), ("adaptor_dropout", adaptorDropout)]
        where !(0..<1).contains(p) {
            try fail(field, "must be in [0, 1)")
        }
        if !(temperature > 0) { try fail("temperature", "must be positive") }
    }
}

/// UniSRec (Hou et al., KDD 2022) as the authors' `UniSRec` model fine-tunes it: each item is its
/// frozen text vector through the MoE adaptor (plus an ID embedding for `ID+T`); the sequence of
/// those plus learned positions → layer norm → dropout → SASRec's causal post-LN blocks; the last
/// position's state and every item's representation are scaled to unit length and compared by
/// cosine / τ, trained with cross-entropy over the whole catalogue. Training predicts the next item
/// at every position of each user's training sequence (with causal attention the same predictions as
/// RecBole's one-prefix-per-example augmentation). Without cross-domain pre-training every tensor is
/// trained; the adaptor and the ID table are initialised as the authors do (experts N(0, 0.02),
/// biases and gates 0).
public final class UniSRecModel: SequentialRecommender {
    public let config: UniSRecConfig
    public let parameterSet: ParameterSet
    /// The frozen text vectors, one row per item (no gradient).
    let features: Variable
    let adaptor: MoEAdaptor
    let position, inputNormWeight, inputNormBias: Variable
    let itemEmbedding: Variable?
    let blocks: [PostLNBlock]

    public init(config: UniSRecConfig, parameters: [String: [Float]], features: ItemFeatures) throws {
        try config.validate()
        guard features.header.itemCount == config.itemCount, features.header.dimension == config.featureDimension else {
            throw SequentialModelError.invalidConfig(
                field: "feature_dimension",
                detail: "is \(config.itemCount) × \(config.featureDimension) but the features are \(features.header.itemCount) × \(features.header.dimension)")
        }
        let fixed = config.fixedEncoder == true
        let set = try SequentialParameters.set(Self.shapes(config), values: parameters) { fixed && ($0.hasPrefix("position_embedding.") || $0.hasPrefix("layers.")) }
        self.config = config
        parameterSet = set
        let frozen = Variable(shape: [features.header.itemCount, features.header.dimension], value: features.values)
        frozen.requiresGradient = false
        self.features = frozen
        adaptor = MoEAdaptor(set, prefix: "adaptor.", experts: config.experts, dropout: config.adaptorDropout, noisyGating: config.noisyGating)
        position = set.required("position_embedding.weight")
        inputNormWeight = set.required("input_ln.weight")
        inputNormBias = set.required("input_ln.bias")
        itemEmbedding = config.variant == .idText ? set.required("item_embedding.weight") : nil
        blocks = (0..<config.layers).map { PostLNBlock(set, prefix: "layers.\($0).") }
    }

    /// Every parameter with its shape. Linear weights are (in, out).
    public static func shapes(_ config: UniSRecConfig) -> [String: [Int]] {
        let c = config.hidden
        var shapes: [String: [Int]] = ["position_embedding.weight": [config.maxLength, c], "input_ln.weight": [c], "input_ln.bias": [c]]
        if config.variant == .idText { shapes["item_embedding.weight"] = [config.itemCount + 1, c] }
        for i in 0..<config.layers { shapes.merge(PostLNBlock.shapes(prefix: "layers.\(i).", hidden: c, inner: config.innerSize)) { $1 } }
        shapes.merge(MoEAdaptor.shapes(prefix: "adaptor.", input: config.featureDimension, output: c, experts: config.experts)) { $1 }
        return shapes
    }

    /// The authors' initialisation: linear weights and embeddings N(0, 0.02); biases, the experts'
    /// whitening biases, the gate and noise matrices 0; layer-norm gains 1. Deterministic for a seed.
    public static func initialized(config: UniSRecConfig, features: ItemFeatures, seed: UInt64) throws -> UniSRecModel {
        try config.validate()
        let parameters = SequentialParameters.recBoleInitial(shapes(config), seed: seed, isZero: { $0.hasPrefix("adaptor.gate") || $0.hasPrefix("adaptor.noise") })
        return try UniSRecModel(config: config, parameters: parameters, features: features)
    }

    /// A model for `config` over `features` that starts from `pretrained`'s position embeddings,
    /// input layer norm, transformer blocks and adaptor (an `ID+T` model's ID embeddings start as
    /// `initialized` draws them); `config.fixedEncoder` then keeps the first and third fixed.
    public static func fineTuning(from pretrained: UniSRecModel, config: UniSRecConfig, features: ItemFeatures, seed: UInt64) throws -> UniSRecModel {
        guard pretrained.config.hidden == config.hidden, pretrained.config.layers == config.layers, pretrained.config.heads == config.heads,
            pretrained.config.innerSize == config.innerSize, pretrained.config.experts == config.experts,
            pretrained.config.featureDimension == config.featureDimension, pretrained.config.maxLength == config.maxLength
        else {
            throw SequentialModelError.invalidConfig(field: "hidden", detail: "differs from the pre-trained model's shape (\(checkpointText(pretrained.config)))")
        }
        var parameters = SequentialParameters.recBoleInitial(shapes(config), seed: seed, isZero: { $0.hasPrefix("adaptor.gate") || $0.hasPrefix("adaptor.noise") })
        for (name, tensor) in pretrained.parameterSet.weightTensors() where parameters[name] != nil { parameters[name] = tensor.values }
        return try UniSRecModel(config: config, parameters: parameters, features: features)
    }

    // MARK: SequentialRecommender

    public var itemCount: Int { config.itemCount }
    public var methodName: String { config.variant.methodName }
    public var checkpointConfig: String { Self.checkpointText(config) }
    public var minimumTrainingLength: Int { 2 }

    public func saveConfig(to folder: String) throws { try Self.writeConfig(config, to: folder) }

    /// Loads `config.json` and `model.safetensors` from `folder`; `features` must be the ones it was
    /// trained on (same cache key).
    public convenience init(folder: String, features: ItemFeatures) throws {
        let (config, parameters) = try SequentialParameters.read(folder: folder, kind: "UniSRec", as: UniSRecConfig.self)
        try SequentialParameters.check(featuresKey: config.featuresKey, against: features, folder: folder)
        try self.init(config: config, parameters: parameters, features: features)
    }

    // MARK: Forward pass

    /// Each item's representation (itemCount, C): its adapted text vector, plus its ID embedding for
    /// `ID+T`. `training` draws the adaptor's dropout and gating noise.
    func itemTable(_ tape: Tape, training random: inout SeededRandom?) -> Variable {
        let adapted = adaptor.forward(tape, features, training: &random)
        guard let itemEmbedding else { return adapted }
        return Ops.add(tape, adapted, Ops.gatherRows(tape, itemEmbedding, rows: (1...config.itemCount).map(Int32.init)))
    }

    /// The encoder's states over `sequences` (model ids: item index + 1), packed end to end.
    /// `itemVectors` (Σ lengths, feature dimension), when given, replaces the items' text vectors
    /// (pre-training's word-drop view).
    func encode(_ tape: Tape, sequences: [[Int32]], dropout: inout SeededRandom?, itemVectors: Variable? = nil) -> Variable {
        let ids = sequences.flatMap { $0 }
        let positions = sequences.flatMap { $0.indices.map(Int32.init) }
        var offsets = [0]
        for sequence in sequences { offsets.append(offsets.last! + sequence.count) }
        let tokenFeatures = itemVectors ?? Ops.gatherRows(tape, features, rows: ids.map { $0 - 1 })
        var x = Ops.add(tape, adaptor.forward(tape, tokenFeatures, training: &dropout), Ops.gatherRows(tape, position, rows: positions))
        if let itemEmbedding { x = Ops.add(tape, x, Ops.gatherRows(tape, itemEmbedding, rows: ids)) }
        x = Ops.layerNorm(tape, x, weight: inputNormWeight, bias: inputNormBias, epsilon: config.layerNormEpsilon)
        if let seed = dropout?.next(), config.hiddenDropout > 0 {
            x = Ops.dropout(tape, x, mask: DropoutMask(probability: config.hiddenDropout, seed: seed))
        }
        let settings = PostLNBlock.Settings(
            heads: config.heads, causal: true, layerNormEpsilon: config.layerNormEpsilon, gelu: .erf, hiddenDropout: config.hiddenDropout,
            attentionDropout: config.attentionDropout)
        for block in blocks { x = block.forward(tape, x, offsets: offsets, settings: settings, dropout: &dropout) }
        return x
    }

    /// Cross-entropy of cosine / τ between each position's state and every item, at every position.
    public func trainingLoss(_ tape: Tape, sequences: [[Int32]], random: inout SeededRandom, dropout: inout SeededRandom?) -> Float {
        let batch = SequentialBatches.nextItem(
            sequences: sequences, maxLength: config.maxLength, itemCount: config.itemCount, sampleNegatives: false, random: &random)
        let hidden = encode(tape, sequences: batch.sequences, dropout: &dropout)
        let states = Ops.l2Normalize(tape, Ops.gatherRows(tape, hidden, rows: batch.rows))
        let table = Ops.l2Normalize(tape, itemTable(tape, training: &dropout))
        let logits = Ops.tiedLogits(tape, Ops.scale(tape, states, by: 1 / config.temperature), wte: table)
        return Ops.crossEntropy(tape, logits: logits, targets: batch.targets.map { $0 - 1 }, mask: [Float](repeating: 1, count: batch.targets.count))
    }

    public func scores(histories: [[Int32]]) -> [Float] {
        let n = config.itemCount
        var inference: SeededRandom? = nil
        // The items' unit representations once, as a constant for every batch of histories.
        let tableTape = Tape()
        let computed = Ops.l2Normalize(tableTape, itemTable(tableTape, training: &inference))
        let table = Variable(shape: computed.shape, value: computed.value.array)
        table.requiresGradient = false
        tableTape.reset()
        return batchedScores(histories: histories, maxLength: config.maxLength, width: n, firstItemColumn: 0) { tape, sequences, last in
            let hidden = encode(tape, sequences: sequences, dropout: &inference)
            return Ops.tiedLogits(tape, Ops.l2Normalize(tape, Ops.gatherRows(tape, hidden, rows: last)), wte: table)
        }
    }
}
