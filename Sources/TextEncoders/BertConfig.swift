import Foundation
import Tensors

/// A BERT encoder's hyper-parameters, read from a Hugging Face `config.json` (`model_type` `bert`,
/// absolute positions): all-MiniLM-L6-v2 (6 layers, 384 wide, 12 heads), bert-base-uncased and
/// other BERT checkpoints.
public struct BertConfig: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var hidden: Int
    public var layers: Int
    public var heads: Int
    public var intermediate: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    /// `gelu` (exact, BERT's) or `gelu_new` / `gelu_pytorch_tanh` (tanh form).
    public var hiddenActivation: String
    public var hiddenDropout: Float
    public var attentionDropout: Float
    public var modelType: String
    public var positionEmbeddingType: String

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", hidden = "hidden_size", layers = "num_hidden_layers", heads = "num_attention_heads"
        case intermediate = "intermediate_size", maxPositions = "max_position_embeddings", typeVocabularySize = "type_vocab_size"
        case layerNormEpsilon = "layer_norm_eps", hiddenActivation = "hidden_act", hiddenDropout = "hidden_dropout_prob"
        case attentionDropout = "attention_probs_dropout_prob", modelType = "model_type", positionEmbeddingType = "position_embedding_type"
    }

    public init(
        vocabularySize: Int, hidden: Int, layers: Int, heads: Int, intermediate: Int, maxPositions: Int = 512, typeVocabularySize: Int = 2,
        layerNormEpsilon: Float = 1e-12, hiddenActivation: String = "gelu", hiddenDropout: Float = 0.1, attentionDropout: Float = 0.1
    ) {
        self.vocabularySize = vocabularySize
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.intermediate = intermediate
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.hiddenActivation = hiddenActivation
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
        modelType = "bert"
        positionEmbeddingType = "absolute"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        hidden = try c.decode(Int.self, forKey: .hidden)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        intermediate = try c.decode(Int.self, forKey: .intermediate)
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 512
        typeVocabularySize = try c.decodeIfPresent(Int.self, forKey: .typeVocabularySize) ?? 2
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-12
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? "gelu"
        hiddenDropout = try c.decodeIfPresent(Float.self, forKey: .hiddenDropout) ?? 0.1
        attentionDropout = try c.decodeIfPresent(Float.self, forKey: .attentionDropout) ?? 0.1
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "bert"
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? "absolute"
    }

    /// The activation of the feed-forward layers.
    public var geluForm: GELUForm? {
        switch hiddenActivation {
        case "gelu": return .erf
        case "gelu_new", "gelu_pytorch_tanh": return .tanh
        default: return nil
        }
    }

    /// Checks what the engine can run; throws `TextEncoderError.unsupported` naming the field.
    public func validate(path: String) throws {
        func fail(_ field: String, _ detail: String) throws { throw TextEncoderError.unsupported(path: path, field: field, detail: detail) }
        if modelType != "bert" { try fail("model_type", "is '\(modelType)'; BERT encoders (model_type bert) are supported") }
        if positionEmbeddingType != "absolute" { try fail("position_embedding_type", "is '\(positionEmbeddingType)'; only absolute positions are supported") }
        if geluForm == nil { try fail("hidden_act", "is '\(hiddenActivation)'; gelu, gelu_new and gelu_pytorch_tanh are supported") }
        if hidden < 1 || heads < 1 || hidden % heads != 0 { try fail("hidden_size", "must be a positive multiple of num_attention_heads (\(heads))") }
        if layers < 1 || intermediate < 1 || vocabularySize < 1 || maxPositions < 1 || typeVocabularySize < 1 {
            try fail("num_hidden_layers", "sizes must be positive")
        }
    }
}

/// Errors of the text encoders and their feature files.
public enum TextEncoderError: Error, LocalizedError, Equatable {
    case unsupported(path: String, field: String, detail: String)
    case malformed(path: String, detail: String)
    case mismatch(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .unsupported(let path, let field, let detail): return "\(path): '\(field)' \(detail)"
        case .malformed(let path, let detail): return "\(path): \(detail)"
        case .mismatch(let path, let detail): return "\(path): \(detail); compute the features again with `calrec features`"
        }
    }
}
