import Foundation
import TextEncoders

/// Recformer's settings (Li et al., KDD 2023; the authors' `finetune.py`): at most 50 items a
/// sequence (51 item positions with [CLS]'s), 1,024 tokens, 32 tokens per attribute, [CLS]
/// pooling, cosine scores over temperature 0.05. `encoder` is the bidirectional encoder as Recformer
/// runs it — the pretrained BERT's shape with its token positions extended to `maxTokens` and three
/// token types ([CLS], key, value).
public struct RecformerConfig: Codable, Sendable, Equatable {
    public var itemCount: Int
    public var encoder: BertConfig
    /// The pretrained encoder it started from (folder name) and the SHA-256 of its weights file.
    public var encoderName: String
    public var encoderWeightsSHA256: String?
    /// `WordPieceTokenizer.fingerprint` of the tokenizer saved beside the weights.
    public var tokenizerFingerprint: String
    /// `RecformerItemTokens.fingerprint` of the catalogue's tokens it was trained on.
    public var itemsFingerprint: String
    /// The limits and temperature.
    public var settings: RecformerSettings

    enum CodingKeys: String, CodingKey {
        case itemCount = "item_count", encoder, encoderName = "encoder_name", encoderWeightsSHA256 = "encoder_weights_sha256"
        case tokenizerFingerprint = "tokenizer_fingerprint", itemsFingerprint = "items_fingerprint", settings
    }

    public init(
        itemCount: Int, encoder: BertConfig, encoderName: String, encoderWeightsSHA256: String?, tokenizerFingerprint: String, itemsFingerprint: String,
        settings: RecformerSettings
    ) {
        self.itemCount = itemCount
        self.encoder = encoder
        self.encoderName = encoderName
        self.encoderWeightsSHA256 = encoderWeightsSHA256
        self.tokenizerFingerprint = tokenizerFingerprint
        self.itemsFingerprint = itemsFingerprint
        self.settings = settings
    }

    /// Checks the settings; throws `SequentialModelError.invalidConfig` naming the field.
    public func validate() throws {
        func fail(_ field: String, _ detail: String) throws { throw SequentialModelError.invalidConfig(field: field, detail: detail) }
        let (maxItems, maxTokens, attributeTokens, temperature) = (settings.maxItems, settings.maxTokens, settings.attributeTokens, settings.temperature)
        if itemCount < 1 { try fail("item_count", "must be at least 1") }
        if maxItems < 1 { try fail("max_items", "must be at least 1") }
        if maxTokens < 2 { try fail("max_tokens", "must be at least 2 ([CLS] and one token)") }
        if attributeTokens < 1 { try fail("attribute_tokens", "must be at least 1") }
        if !(temperature > 0) { try fail("temperature", "must be positive") }
        if encoder.maxPositions < maxTokens { try fail("max_tokens", "is \(maxTokens) but the encoder has \(encoder.maxPositions) positions") }
        if encoder.typeVocabularySize < 3 { try fail("encoder.type_vocab_size", "must be at least 3 ([CLS], key, value)") }
    }
}

/// What a user sets of Recformer (the rest comes from the pretrained encoder and the catalogue).
public struct RecformerSettings: Codable, Sendable, Equatable {
    public var maxItems = 50
    public var maxTokens = 1024
    public var attributeTokens = 32
    public var temperature: Float = 0.05

    public init(maxItems: Int = 50, maxTokens: Int = 1024, attributeTokens: Int = 32, temperature: Float = 0.05) {
        self.maxItems = maxItems
        self.maxTokens = maxTokens
        self.attributeTokens = attributeTokens
        self.temperature = temperature
    }

    enum CodingKeys: String, CodingKey {
        case maxItems = "max_items", maxTokens = "max_tokens", attributeTokens = "attribute_tokens", temperature
    }
}
