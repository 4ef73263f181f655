import Foundation
import Support
import Tensors
import TextEncoders

/// FDSA's hyper-parameters, defaults from RecBole's `fdsa.yaml`: hidden 64, 2 blocks per stream,
/// 2 heads, feed-forward 256, exact GELU, layer-norm ε 1e-12, dropout 0.5, the last 50 items.
public struct FDSAConfig: Codable, Sendable, Equatable {
    public var itemCount: Int
    /// Width of the frozen item-text vectors.
    public var featureDimension: Int
    public var hidden = 64
    public var layers = 2
    public var heads = 2
    public var innerSize = 256
    public var maxLength = 50
    public var hiddenDropout: Float = 0.5
    public var attentionDropout: Float = 0.5
    public var layerNormEpsilon: Float = 1e-12
    /// `ItemFeatures.Header.cacheKey` of the text vectors it was trained on.
    public var featuresKey: String

    enum CodingKeys: String, CodingKey {
        case itemCount = "item_count", featureDimension = "feature_dimension", hidden, layers, heads, innerSize = "inner_size"
        case maxLength = "max_length", hiddenDropout = "hidden_dropout", attentionDropout = "attention_dropout"
        case layerNormEpsilon = "layer_norm_eps", featuresKey = "features_key"
    }

    public init(itemCount: Int, featureDimension: Int, featuresKey: String) {
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
        if layers < 1 || innerSize < 1 || maxLength < 2 { try fail("layers", "sizes must be positive (max_length at least 2)") }
        for (field, p) in [("hidden_dropout", hiddenDropout), ("attention_dropout", attentionDropout)] where !(0..<1).contains(p) {
            try fail(field, "must be in [0, 1)")
        }
    }
}

/// FDSA (Zhang et al., IJCAI 2019) as RecBole lays it out, with the item's text vector as its one
/// feature: an item stream (ID embedding + position → layer norm → dropout → causal post-LN
/// blocks) and a feature stream (the frozen text vector through a learned linear map + the same
/// position embedding → the same layer norm → dropout → blocks of its own); the two last states
/// concatenated → linear → layer norm → dropout, scored by dot products with the ID embeddings,
/// trained with cross-entropy over the catalogue at every position. With one feature, FDSA's
/// attention over features gives it weight 1, so it is the identity here. The layer norm is one
/// set of parameters used at all three places, as in RecBole.
public final class FDSAModel: SequentialRecommender {
    public let config: FDSAConfig
    public let parameterSet: ParameterSet
    let features: Variable
    let itemEmbedding, position, normWeight, normBias: Variable
    let featureWeight, featureBias: Variable
    let concatItemWeight, concatFeatureWeight, concatBias: Variable
    let itemBlocks, featureBlocks: [PostLNBlock]

    public init(config: FDSAConfig, parameters: [String: [Float]], features: ItemFeatures) throws {
        try config.validate()
        guard features.header.itemCount == config.itemCount, features.header.dimension == config.featureDimension else {
            throw SequentialModelError.invalidConfig(
                field: "feature_dimension",
                detail: "is \(config.itemCount) × \(config.featureDimension) but the features are \(features.header.itemCount) × \(features.header.dimension)")
        }
        let set = try SequentialParameters.set(Self.shapes(config), values: parameters)
        self.config = config
        parameterSet = set
        let v = set.required
        let frozen = Variable(shape: [features.header.itemCount, features.header.dimension], value: features.values)
        frozen.requiresGradient = false
        self.features = frozen
        itemEmbedding = v("item_embedding.weight")
        position = v("position_embedding.weight")
        normWeight = v("ln.weight")
        normBias = v("ln.bias")
        featureWeight = v("feature.weight")
        featureBias = v("feature.bias")
        concatItemWeight = v("concat.item.weight")
        concatFeatureWeight = v("concat.feature.weight")
        concatBias = v("concat.bias")
        itemBlocks = (0..<config.layers).map { PostLNBlock(set, prefix: "item_layers.\($0).") }
        featureBlocks = (0..<config.layers).map { PostLNBlock(set, prefix: "feature_layers.\($0).") }
    }

    /// Every parameter with its shape. Linear weights are (in, out); RecBole's concat layer (2C → C)
    /// is kept as its two (C, C) halves.
    public static func shapes(_ config: FDSAConfig) -> [String: [Int]] {
        let c = config.hidden
        var shapes: [String: [Int]] = [
            "item_embedding.weight": [config.itemCount + 1, c], "position_embedding.weight": [config.maxLength, c],
            "ln.weight": [c], "ln.bias": [c], "feature.weight": [config.featureDimension, c], "feature.bias": [c],
            "concat.item.weight": [c, c], "concat.feature.weight": [c, c], "concat.bias": [c],
        ]
        for i in 0..<config.layers {
            shapes.merge(PostLNBlock.shapes(prefix: "item_layers.\(i).", hidden: c, inner: config.innerSize)) { $1 }
            shapes.merge(PostLNBlock.shapes(prefix: "feature_layers.\(i).", hidden: c, inner: config.innerSize)) { $1 }
        }
        return shapes
    }

    /// RecBole's initialisation: linear weights and embeddings N(0, 0.02), biases 0, layer-norm
    /// gains 1. Deterministic for a seed.
    public static func initialized(config: FDSAConfig, features: ItemFeatures, seed: UInt64) throws -> FDSAModel {
        try config.validate()
        let parameters = SequentialParameters.recBoleInitial(shapes(config), seed: seed)
        return try FDSAModel(config: config, parameters: parameters, features: features)
    }

    // MARK: SequentialRecommender

    public var itemCount: Int { config.itemCount }
    public var methodName: String { "fdsa" }
    public var checkpointConfig: String { Self.checkpointText(config) }
    public var minimumTrainingLength: Int { 2 }

    public func saveConfig(to folder: String) throws { try Self.writeConfig(config, to: folder) }

    /// Loads `config.json` and `model.safetensors` from `folder`; `features` must be the ones it was
    /// trained on (same cache key).
    public convenience init(folder: String, features: ItemFeatures) throws {
        let (config, parameters) = try SequentialParameters.read(folder: folder, kind: "FDSA", as: FDSAConfig.self)
        try SequentialParameters.check(featuresKey: config.featuresKey, against: features, folder: folder)
        try self.init(config: config, parameters: parameters, features: features)
    }

    // MARK: Forward pass

    /// The sequence representation at `rows` of the packed `sequences` (model ids: item index + 1).
    func represent(_ tape: Tape, sequences: [[Int32]], rows: [Int32], dropout: inout SeededRandom?) -> Variable {
        let ids = sequences.flatMap { $0 }
        var offsets = [0]
        for sequence in sequences { offsets.append(offsets.last! + sequence.count) }
        let positions = Ops.gatherRows(tape, position, rows: sequences.flatMap { $0.indices.map(Int32.init) })
        func normDrop(_ x: Variable) -> Variable {
            let normed = Ops.layerNorm(tape, x, weight: normWeight, bias: normBias, epsilon: config.layerNormEpsilon)
            guard let seed = dropout?.next(), config.hiddenDropout > 0 else { return normed }
            return Ops.dropout(tape, normed, mask: DropoutMask(probability: config.hiddenDropout, seed: seed))
        }
        let settings = PostLNBlock.Settings(
            heads: config.heads, causal: true, layerNormEpsilon: config.layerNormEpsilon, gelu: .erf, hiddenDropout: config.hiddenDropout,
            attentionDropout: config.attentionDropout)
        var items = normDrop(Ops.add(tape, Ops.gatherRows(tape, itemEmbedding, rows: ids), positions))
        let text = Ops.linear(tape, Ops.gatherRows(tape, features, rows: ids.map { $0 - 1 }), weight: featureWeight, bias: featureBias)
        var texts = normDrop(Ops.add(tape, text, positions))
        for block in itemBlocks { items = block.forward(tape, items, offsets: offsets, settings: settings, dropout: &dropout) }
        for block in featureBlocks { texts = block.forward(tape, texts, offsets: offsets, settings: settings, dropout: &dropout) }
        let joined = Ops.add(
            tape, Ops.linear(tape, Ops.gatherRows(tape, items, rows: rows), weight: concatItemWeight, bias: concatBias),
            Ops.linear(tape, Ops.gatherRows(tape, texts, rows: rows), weight: concatFeatureWeight, bias: nil))
        return normDrop(joined)
    }

    /// Cross-entropy over every id (RecBole's SASRec family: the padding row included, never a
    /// target) of the dot products with the ID embeddings, at every position.
    public func trainingLoss(_ tape: Tape, sequences: [[Int32]], random: inout SeededRandom, dropout: inout SeededRandom?) -> Float {
        let batch = SequentialBatches.nextItem(
            sequences: sequences, maxLength: config.maxLength, itemCount: config.itemCount, sampleNegatives: false, random: &random)
        let states = represent(tape, sequences: batch.sequences, rows: batch.rows, dropout: &dropout)
        let logits = Ops.tiedLogits(tape, states, wte: itemEmbedding)
        return Ops.crossEntropy(tape, logits: logits, targets: batch.targets, mask: [Float](repeating: 1, count: batch.targets.count))
    }

    public func scores(histories: [[Int32]]) -> [Float] {
        batchedScores(histories: histories, maxLength: config.maxLength, width: config.itemCount + 1, firstItemColumn: 1) { tape, sequences, last in
            var inference: SeededRandom? = nil
            return Ops.tiedLogits(tape, represent(tape, sequences: sequences, rows: last, dropout: &inference), wte: itemEmbedding)
        }
    }
}
