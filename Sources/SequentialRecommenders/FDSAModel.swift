import RecData
import Foundation
import Support
import Tensors
import TextEncoders

/// What FDSA's feature stream reads.
public enum FDSAFeatureSource: String, Codable, Sendable, CaseIterable {
    /// The item's frozen text vector through a learned linear map.
    case text
    /// RecBole's categorical attributes: the mean of the item's category embeddings and its brand's
    /// embedding, weighted by FDSA's attention over fields.
    case attributes
}

/// What an FDSA model reads besides item IDs: the text vectors, or the catalogue's attributes.
public enum FDSAInputs {
    case text(ItemFeatures)
    case attributes([ItemAttributes])
}

/// FDSA's hyper-parameters, defaults from RecBole's `fdsa.yaml`: hidden 64, 2 blocks per stream,
/// 2 heads, feed-forward 256, exact GELU, layer-norm ε 1e-12, dropout 0.5, the last 50 items.
public struct FDSAConfig: Codable, Sendable, Equatable {
    public var itemCount: Int
    public var featureSource: FDSAFeatureSource
    /// Width of the frozen item-text vectors (text features; 0 otherwise).
    public var featureDimension: Int
    /// The category and brand vocabularies (attribute features; empty otherwise).
    public var categories: [String] = []
    public var brands: [String] = []
    public var hidden = 64
    public var layers = 2
    public var heads = 2
    public var innerSize = 256
    public var maxLength = 50
    public var hiddenDropout: Float = 0.5
    public var attentionDropout: Float = 0.5
    public var layerNormEpsilon: Float = 1e-12
    /// `ItemFeatures.Header.cacheKey` of the text vectors it was trained on ("" for attributes).
    public var featuresKey: String

    enum CodingKeys: String, CodingKey {
        case itemCount = "item_count", featureSource = "feature_source", featureDimension = "feature_dimension", categories, brands, hidden, layers, heads, innerSize = "inner_size"
        case maxLength = "max_length", hiddenDropout = "hidden_dropout", attentionDropout = "attention_dropout"
        case layerNormEpsilon = "layer_norm_eps", featuresKey = "features_key"
    }

    /// Text features of width `featureDimension`.
    public init(itemCount: Int, featureDimension: Int, featuresKey: String) {
        self.itemCount = itemCount
        featureSource = .text
        self.featureDimension = featureDimension
        self.featuresKey = featuresKey
    }

    /// Categorical attributes: the vocabularies of `items`' category levels and brands.
    public init(itemCount: Int, attributesOf items: [ItemAttributes]) {
        self.itemCount = itemCount
        featureSource = .attributes
        featureDimension = 0
        featuresKey = ""
        categories = Array(Set(items.flatMap(\.categories))).sorted()
        brands = Array(Set(items.compactMap(\.brand))).sorted()
    }

    /// Checks the settings; throws `SequentialModelError.invalidConfig` naming the field.
    public func validate() throws {
        func fail(_ field: String, _ detail: String) throws { throw SequentialModelError.invalidConfig(field: field, detail: detail) }
        if itemCount < 1 { try fail("item_count", "must be at least 1") }
        switch featureSource {
        case .text: if featureDimension < 1 { try fail("feature_dimension", "must be at least 1") }
        case .attributes:
            if categories.isEmpty && brands.isEmpty {
                try fail("categories", "and brands are empty: FDSA's attribute stream needs items with a category or a brand")
            }
        }
        if hidden < 1 || heads < 1 || hidden % heads != 0 { try fail("hidden", "must be a positive multiple of heads (\(heads))") }
        if layers < 1 || innerSize < 1 || maxLength < 2 { try fail("layers", "sizes must be positive (max_length at least 2)") }
        for (field, p) in [("hidden_dropout", hiddenDropout), ("attention_dropout", attentionDropout)] where !(0..<1).contains(p) {
            try fail(field, "must be in [0, 1)")
        }
    }
}

/// FDSA (Zhang et al., IJCAI 2019) as RecBole lays it out: an item stream (ID embedding + position
/// → layer norm → dropout → causal post-LN blocks) and a feature stream (the item's features + the
/// same position embedding → the same layer norm → dropout → blocks of its own); the two last
/// states concatenated → linear → layer norm → dropout, scored by dot products with the ID
/// embeddings, trained with cross-entropy over the catalogue at every position. The features are
/// the frozen text vector through a learned linear map (one feature: FDSA's attention over
/// features gives it weight 1), or RecBole's categorical attributes — the mean of the item's
/// category-level embeddings and its brand's embedding, weighted by the attention over fields. The
/// layer norm is one set of parameters used at all three places, as in RecBole.
public final class FDSAModel: SequentialRecommender {
    public let config: FDSAConfig
    public let parameterSet: ParameterSet
    /// Text features: the frozen vectors and their linear map.
    let features: Variable?
    let featureWeight, featureBias: Variable?
    /// Attribute features: per field, a constant (items × vocabulary) matrix averaging the item's
    /// tokens, and the field's embedding table; the attention over fields.
    let fields: [(tokens: Variable, embedding: Variable)]
    let fieldAttention: FieldAttention?
    let itemEmbedding, position, normWeight, normBias: Variable
    let concatItemWeight, concatFeatureWeight, concatBias: Variable
    let itemBlocks, featureBlocks: [PostLNBlock]

    public init(config: FDSAConfig, parameters: [String: [Float]], inputs: FDSAInputs) throws {
        try config.validate()
        let set = try SequentialParameters.set(Self.shapes(config), values: parameters)
        self.config = config
        parameterSet = set
        let v = set.required
        switch (config.featureSource, inputs) {
        case (.text, .text(let vectors)):
            guard vectors.header.itemCount == config.itemCount, vectors.header.dimension == config.featureDimension else {
                throw SequentialModelError.invalidConfig(
                    field: "feature_dimension",
                    detail: "is \(config.itemCount) × \(config.featureDimension) but the features are \(vectors.header.itemCount) × \(vectors.header.dimension)")
            }
            let frozen = Variable(shape: [vectors.header.itemCount, vectors.header.dimension], value: vectors.values)
            frozen.requiresGradient = false
            features = frozen
            featureWeight = v("feature.weight")
            featureBias = v("feature.bias")
            fields = []
            fieldAttention = nil
        case (.attributes, .attributes(let items)):
            guard items.count == config.itemCount else {
                throw SequentialModelError.invalidConfig(field: "item_count", detail: "is \(config.itemCount) but the catalogue has \(items.count) items")
            }
            func field(_ vocabulary: [String], _ name: String, _ tokens: (ItemAttributes) -> [String]) -> (Variable, Variable)? {
                guard !vocabulary.isEmpty else { return nil }
                let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) })
                var matrix = [Float](repeating: 0, count: items.count * vocabulary.count)
                for (i, item) in items.enumerated() {
                    let ids = tokens(item).compactMap { index[$0] }
                    for id in ids { matrix[i * vocabulary.count + id] += 1 / Float(ids.count) }
                }
                let constant = Variable(shape: [items.count, vocabulary.count], value: matrix)
                constant.requiresGradient = false
                return (constant, v("\(name)_embedding.weight"))
            }
            fields = [field(config.categories, "category", \.categories), field(config.brands, "brand") { $0.brand.map { [$0] } ?? [] }].compactMap { $0 }
            fieldAttention = FieldAttention(set, prefix: "field_attention.")
            features = nil
            featureWeight = nil
            featureBias = nil
        default:
            throw SequentialModelError.invalidConfig(field: "feature_source", detail: "is \(config.featureSource.rawValue) but the inputs given are the other kind")
        }
        itemEmbedding = v("item_embedding.weight")
        position = v("position_embedding.weight")
        normWeight = v("ln.weight")
        normBias = v("ln.bias")
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
            "ln.weight": [c], "ln.bias": [c], "concat.item.weight": [c, c], "concat.feature.weight": [c, c], "concat.bias": [c],
        ]
        switch config.featureSource {
        case .text:
            shapes["feature.weight"] = [config.featureDimension, c]
            shapes["feature.bias"] = [c]
        case .attributes:
            if !config.categories.isEmpty { shapes["category_embedding.weight"] = [config.categories.count, c] }
            if !config.brands.isEmpty { shapes["brand_embedding.weight"] = [config.brands.count, c] }
            shapes.merge(FieldAttention.shapes(prefix: "field_attention.", width: c, attention: c)) { $1 }
        }
        for i in 0..<config.layers {
            shapes.merge(PostLNBlock.shapes(prefix: "item_layers.\(i).", hidden: c, inner: config.innerSize)) { $1 }
            shapes.merge(PostLNBlock.shapes(prefix: "feature_layers.\(i).", hidden: c, inner: config.innerSize)) { $1 }
        }
        return shapes
    }

    /// RecBole's initialisation: linear weights and embeddings N(0, 0.02), biases 0, layer-norm
    /// gains 1. Deterministic for a seed.
    public static func initialized(config: FDSAConfig, inputs: FDSAInputs, seed: UInt64) throws -> FDSAModel {
        try config.validate()
        let parameters = SequentialParameters.recBoleInitial(shapes(config), seed: seed)
        return try FDSAModel(config: config, parameters: parameters, inputs: inputs)
    }

    // MARK: SequentialRecommender

    public var itemCount: Int { config.itemCount }
    public var methodName: String { "fdsa" }
    public var checkpointConfig: String { Self.checkpointText(config) }
    public var minimumTrainingLength: Int { 2 }

    public func saveConfig(to folder: String) throws { try Self.writeConfig(config, to: folder) }

    /// Loads `config.json` and `model.safetensors` from `folder`; text features must be the ones it
    /// was trained on (same cache key).
    public convenience init(folder: String, inputs: FDSAInputs) throws {
        let (config, parameters) = try SequentialParameters.read(folder: folder, kind: "FDSA", as: FDSAConfig.self)
        if case .text(let features) = inputs { try SequentialParameters.check(featuresKey: config.featuresKey, against: features, folder: folder) }
        try self.init(config: config, parameters: parameters, inputs: inputs)
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
        let text: Variable
        if let features, let featureWeight {
            text = Ops.linear(tape, Ops.gatherRows(tape, features, rows: ids.map { $0 - 1 }), weight: featureWeight, bias: featureBias)
        } else {
            // Every item's attribute vector once, then each token's row.
            let perField = fields.map { Ops.linear(tape, $0.tokens, weight: $0.embedding, bias: nil) }
            text = Ops.gatherRows(tape, fieldAttention!.forward(tape, perField), rows: ids.map { $0 - 1 })
        }
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
