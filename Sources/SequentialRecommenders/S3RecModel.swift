import Foundation
import RecData
import Support
import Tensors

/// S³-Rec's hyper-parameters, defaults from RecBole's `s3rec.yaml`: hidden 64, 2 blocks, 2 heads,
/// feed-forward 256, exact GELU, ε 1e-12, dropout 0.5, mask ratio 0.2, loss weights AAP 0.2,
/// MIP 1.0, MAP 1.0, SP 0.5 (RecBole 1.2.1's `S3Rec.yaml`, as the authors' code weighs them).
public struct S3RecConfig: Codable, Sendable, Equatable {
    public var itemCount: Int
    /// The attribute tokens (`category:…`, `brand:…`), in id order.
    public var attributes: [String]
    public var hidden = 64
    public var layers = 2
    public var heads = 2
    public var innerSize = 256
    public var maxLength = 50
    public var hiddenDropout: Float = 0.5
    public var attentionDropout: Float = 0.5
    public var layerNormEpsilon: Float = 1e-12
    public var maskRatio: Float = 0.2
    public var weights = LossWeights()

    /// The weights of the four pre-training losses.
    public struct LossWeights: Codable, Sendable, Equatable {
        public var associatedAttribute: Float = 0.2
        public var maskedItem: Float = 1.0
        public var maskedAttribute: Float = 1.0
        public var segment: Float = 0.5
        enum CodingKeys: String, CodingKey {
            case associatedAttribute = "aap", maskedItem = "mip", maskedAttribute = "map", segment = "sp"
        }
        public init() {}
    }

    enum CodingKeys: String, CodingKey {
        case itemCount = "item_count", attributes, hidden, layers, heads, innerSize = "inner_size", maxLength = "max_length"
        case hiddenDropout = "hidden_dropout", attentionDropout = "attention_dropout", layerNormEpsilon = "layer_norm_eps"
        case maskRatio = "mask_ratio", weights = "loss_weights"
    }

    public init(itemCount: Int, attributes: [String]) {
        self.itemCount = itemCount
        self.attributes = attributes
    }

    /// The mask token's id (padding is 0, items 1…itemCount).
    public var maskToken: Int32 { Int32(itemCount + 1) }

    /// Checks the settings; throws `SequentialModelError.invalidConfig` naming the field.
    public func validate() throws {
        func fail(_ field: String, _ detail: String) throws { throw SequentialModelError.invalidConfig(field: field, detail: detail) }
        if itemCount < 2 { try fail("item_count", "must be at least 2") }
        if attributes.isEmpty { try fail("attributes", "must not be empty: S³-Rec learns from item attributes") }
        if hidden < 1 || heads < 1 || hidden % heads != 0 { try fail("hidden", "must be a positive multiple of heads (\(heads))") }
        if layers < 1 || innerSize < 1 || maxLength < 2 { try fail("layers", "sizes must be positive (max_length at least 2)") }
        for (field, p) in [("hidden_dropout", hiddenDropout), ("attention_dropout", attentionDropout)] where !(0..<1).contains(p) {
            try fail(field, "must be in [0, 1)")
        }
        if !(maskRatio > 0 && maskRatio < 1) { try fail("mask_ratio", "must be in (0, 1)") }
    }

    /// The attribute tokens of a catalogue, RecBole's categorical form: every category level and the
    /// brand of each item, sorted. Empty for a catalogue with neither (a text-only RecBole file).
    public static func attributeVocabulary(_ items: [ItemAttributes]) -> [String] {
        Array(Set(items.flatMap(attributeTokens))).sorted()
    }

    static func attributeTokens(_ item: ItemAttributes) -> [String] {
        item.categories.map { "category:\($0)" } + (item.brand.map { ["brand:\($0)"] } ?? [])
    }
}

/// S³-Rec (Zhou et al., CIKM 2020) as RecBole implements it: a SASRec encoder pre-trained with four
/// self-supervised losses over item attributes (associated attribute prediction, masked item
/// prediction, masked attribute prediction, segment prediction; bidirectional attention, items
/// masked with probability 0.2 and always the last), then fine-tuned as SASRec (causal attention,
/// cross-entropy over the catalogue at every position). Each loss is a sum, as RecBole's
/// `BCELoss(reduction='none')` summed; MIP and SP compare σ(positive score) with σ(negative score)
/// through another sigmoid, as RecBole does.
public final class S3RecModel: SequentialRecommender {
    public let config: S3RecConfig
    public let parameterSet: ParameterSet
    /// Each item's attribute ids (dataset order).
    let itemAttributes: [[Int32]]
    let itemEmbedding, position, normWeight, normBias, featureEmbedding: Variable
    let heads: [String: (weight: Variable, bias: Variable)]
    let blocks: [PostLNBlock]

    public init(config: S3RecConfig, parameters: [String: [Float]], items: [ItemAttributes]) throws {
        try config.validate()
        guard items.count == config.itemCount else {
            throw SequentialModelError.invalidConfig(field: "item_count", detail: "is \(config.itemCount) but the catalogue has \(items.count) items")
        }
        let index = Dictionary(uniqueKeysWithValues: config.attributes.enumerated().map { ($1, Int32($0)) })
        itemAttributes = items.map { S3RecConfig.attributeTokens($0).compactMap { index[$0] } }
        let set = try SequentialParameters.set(Self.shapes(config), values: parameters)
        self.config = config
        parameterSet = set
        let v = set.required
        itemEmbedding = v("item_embedding.weight")
        position = v("position_embedding.weight")
        normWeight = v("input_ln.weight")
        normBias = v("input_ln.bias")
        featureEmbedding = v("feature_embedding.weight")
        heads = Dictionary(uniqueKeysWithValues: Self.headNames.map { ($0, (v("\($0).weight"), v("\($0).bias"))) })
        blocks = (0..<config.layers).map { PostLNBlock(set, prefix: "layers.\($0).") }
    }

    /// RecBole's projections before each pre-training score (`aap_norm` … are linear layers).
    static let headNames = ["aap_norm", "mip_norm", "map_norm", "sp_norm"]

    public static func shapes(_ config: S3RecConfig) -> [String: [Int]] {
        let c = config.hidden
        var shapes: [String: [Int]] = [
            "item_embedding.weight": [config.itemCount + 2, c], "position_embedding.weight": [config.maxLength, c],
            "input_ln.weight": [c], "input_ln.bias": [c], "feature_embedding.weight": [config.attributes.count, c],
        ]
        for name in headNames {
            shapes["\(name).weight"] = [c, c]
            shapes["\(name).bias"] = [c]
        }
        for i in 0..<config.layers { shapes.merge(PostLNBlock.shapes(prefix: "layers.\(i).", hidden: c, inner: config.innerSize)) { $1 } }
        return shapes
    }

    public static func initialized(config: S3RecConfig, items: [ItemAttributes], seed: UInt64) throws -> S3RecModel {
        try config.validate()
        return try S3RecModel(config: config, parameters: SequentialParameters.recBoleInitial(shapes(config), seed: seed), items: items)
    }

    /// Loads `config.json` and `model.safetensors` from `folder` for the catalogue `items`.
    public convenience init(folder: String, items: [ItemAttributes]) throws {
        let (config, parameters) = try SequentialParameters.read(folder: folder, kind: "S³-Rec", as: S3RecConfig.self)
        try self.init(config: config, parameters: parameters, items: items)
    }

    // MARK: SequentialRecommender

    public var itemCount: Int { config.itemCount }
    public var methodName: String { "s3rec" }
    public var checkpointConfig: String { Self.checkpointText(config) }
    public var minimumTrainingLength: Int { 2 }
    public func saveConfig(to folder: String) throws { try Self.writeConfig(config, to: folder) }

    // MARK: Encoder

    /// The encoder's states over `sequences` (model ids), packed end to end. Positions count from 0,
    /// or with `rightAligned` end at `maxLength − 1` (RecBole's pre-training pads on the left, so a
    /// sequence of L items sits at positions maxLength − L …; its fine-tuning pads on the right).
    func encode(_ tape: Tape, sequences: [[Int32]], causal: Bool, dropout: inout SeededRandom?, rightAligned: Bool = false) -> Variable {
        var offsets = [0]
        for sequence in sequences { offsets.append(offsets.last! + sequence.count) }
        let positions = sequences.flatMap { sequence in
            let first = rightAligned ? config.maxLength - sequence.count : 0
            return sequence.indices.map { Int32(first + $0) }
        }
        var x = Ops.embedding(tape, tokens: sequences.flatMap { $0 }, positions: positions, wte: itemEmbedding, wpe: position)
        x = Ops.layerNorm(tape, x, weight: normWeight, bias: normBias, epsilon: config.layerNormEpsilon)
        if let seed = dropout?.next(), config.hiddenDropout > 0 {
            x = Ops.dropout(tape, x, mask: DropoutMask(probability: config.hiddenDropout, seed: seed))
        }
        let settings = PostLNBlock.Settings(
            heads: config.heads, causal: causal, layerNormEpsilon: config.layerNormEpsilon, gelu: .erf, hiddenDropout: config.hiddenDropout,
            attentionDropout: config.attentionDropout)
        for block in blocks { x = block.forward(tape, x, offsets: offsets, settings: settings, dropout: &dropout) }
        return x
    }

    /// Fine-tuning: SASRec's next-item cross-entropy at every position.
    public func trainingLoss(_ tape: Tape, sequences: [[Int32]], random: inout SeededRandom, dropout: inout SeededRandom?) -> Float {
        let batch = SequentialBatches.nextItem(
            sequences: sequences, maxLength: config.maxLength, itemCount: config.itemCount, sampleNegatives: false, random: &random)
        let hidden = encode(tape, sequences: batch.sequences, causal: true, dropout: &dropout)
        let logits = Ops.tiedLogits(tape, Ops.gatherRows(tape, hidden, rows: batch.rows), wte: itemEmbedding)
        return Ops.crossEntropy(tape, logits: logits, targets: batch.targets, mask: [Float](repeating: 1, count: batch.targets.count))
    }

    public func scores(histories: [[Int32]]) -> [Float] {
        batchedScores(histories: histories, maxLength: config.maxLength, width: config.itemCount + 2, firstItemColumn: 1) { tape, sequences, last in
            var inference: SeededRandom? = nil
            let hidden = encode(tape, sequences: sequences, causal: true, dropout: &inference)
            return Ops.tiedLogits(tape, Ops.gatherRows(tape, hidden, rows: last), wte: itemEmbedding)
        }
    }
}
