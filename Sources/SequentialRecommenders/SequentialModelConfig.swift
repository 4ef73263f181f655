import Foundation

/// Which ID-only sequential recommender, with the training objective that defines it.
public enum SequentialArchitecture: String, Codable, Sendable, CaseIterable {
    /// SASRec (Kang & McAuley, 2018): causal self-attention, next-item prediction at every position.
    case sasrec
    /// BERT4Rec (Sun et al., 2019): bidirectional self-attention, cloze (masked-item) training and a
    /// mask token appended to the history at inference.
    case bert4rec
}

/// SASRec's loss.
public enum SequentialLoss: String, Codable, Sendable, CaseIterable {
    /// Softmax cross-entropy over the whole catalogue (RecBole's default).
    case softmax
    /// Binary cross-entropy with one sampled negative per position (the original paper).
    case bce
}

/// The hyper-parameters of an ID-only sequential recommender. Defaults are the papers' (hidden 64, 2
/// layers, 2 heads, feed-forward 4×hidden, length 50); dropout is set per architecture by
/// `defaults(for:)`: SASRec 0.5 (the paper's rate for its sparse Amazon datasets), BERT4Rec 0.1.
public struct SequentialModelConfig: Codable, Sendable, Equatable {
    public var architecture: SequentialArchitecture
    /// Catalogue size; ids 1…itemCount are items, 0 is padding and (BERT4Rec) itemCount + 1 the mask.
    /// The training softmax runs over every id, as RecBole's SASRec does (its padding row included);
    /// padding and mask are never targets, so training only pushes them down, and they are never
    /// candidates at inference.
    public var itemCount: Int
    public var hidden: Int = 64
    public var layers: Int = 2
    public var heads: Int = 2
    public var innerSize: Int = 256
    public var maxLength: Int = 50
    public var hiddenDropout: Float = 0.5
    public var attentionDropout: Float = 0.5
    public var loss: SequentialLoss = .softmax
    /// BERT4Rec: probability of masking each training position.
    public var maskProbability: Float = 0.2

    enum CodingKeys: String, CodingKey {
        case architecture, itemCount = "item_count", hidden, layers, heads, innerSize = "inner_size", maxLength = "max_length"
        case hiddenDropout = "hidden_dropout", attentionDropout = "attention_dropout", loss, maskProbability = "mask_probability"
    }

    /// The papers' settings for `architecture` over `itemCount` items.
    public static func defaults(for architecture: SequentialArchitecture, itemCount: Int) -> SequentialModelConfig {
        let dropout: Float = architecture == .sasrec ? 0.5 : 0.1
        return SequentialModelConfig(architecture: architecture, itemCount: itemCount, hiddenDropout: dropout, attentionDropout: dropout)
    }

    public init(
        architecture: SequentialArchitecture, itemCount: Int, hidden: Int = 64, layers: Int = 2, heads: Int = 2, innerSize: Int? = nil,
        maxLength: Int = 50, hiddenDropout: Float = 0.5, attentionDropout: Float = 0.5, loss: SequentialLoss = .softmax,
        maskProbability: Float = 0.2
    ) {
        self.architecture = architecture
        self.itemCount = itemCount
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.innerSize = innerSize ?? 4 * hidden
        self.maxLength = maxLength
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
        self.loss = loss
        self.maskProbability = maskProbability
    }

    /// Rows of the embedding table: padding, the items, and BERT4Rec's mask token.
    public var vocabularySize: Int { itemCount + (architecture == .bert4rec ? 2 : 1) }

    /// BERT4Rec's mask token id.
    public var maskToken: Int32 { Int32(itemCount + 1) }

    /// Checks the settings; throws `SequentialModelError.invalidConfig` naming the field.
    public func validate() throws {
        func fail(_ field: String, _ detail: String) throws { throw SequentialModelError.invalidConfig(field: field, detail: detail) }
        if itemCount < 1 { try fail("item_count", "must be at least 1") }
        if hidden < 1 || heads < 1 || hidden % heads != 0 { try fail("hidden", "must be a positive multiple of heads (\(heads))") }
        if layers < 1 { try fail("layers", "must be at least 1") }
        if innerSize < 1 { try fail("inner_size", "must be at least 1") }
        if maxLength < 2 { try fail("max_length", "must be at least 2") }
        for (field, p) in [("hidden_dropout", hiddenDropout), ("attention_dropout", attentionDropout)] where !(0..<1).contains(p) {
            try fail(field, "must be in [0, 1)")
        }
        if !(maskProbability > 0 && maskProbability < 1) { try fail("mask_probability", "must be in (0, 1)") }
        if architecture == .bert4rec && loss == .bce { try fail("loss", "BERT4Rec trains with the softmax cloze loss only") }
    }
}

/// Errors of the sequential recommenders.
public enum SequentialModelError: Error, LocalizedError, Equatable {
    case invalidConfig(field: String, detail: String)
    case malformed(path: String, detail: String)
    case notEnoughData(detail: String)

    public var errorDescription: String? {
        switch self {
        case .invalidConfig(let field, let detail): return "sequential model setting '\(field)' \(detail)"
        case .malformed(let path, let detail): return "\(path): \(detail); write the folder again with `calrec baseline sasrec|bert4rec --out …`"
        case .notEnoughData(let detail): return "\(detail); the leave-one-out split needs users with at least three purchases"
        }
    }
}
