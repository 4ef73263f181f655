import Foundation
import RecData
import Support
import Tokenization

/// An item as Recformer reads it (Li et al., KDD 2023): its attributes flattened to "key value"
/// words — `title`, `brand`, `category` (the category path joined by spaces), in that order, each
/// present one with its key's tokens (token type 1) followed by its value's (token type 2), the
/// pair cut to `attributeTokens` — without [CLS] or [SEP]. A text-only item (RecBole's `text`
/// field) is the one attribute `text`.
public struct RecformerItemTokens: Sendable, Equatable {
    public var ids: [Int32]
    public var types: [Int32]

    /// Token type of [CLS], of an attribute's key and of its value.
    public static let classifierType: Int32 = 0, keyType: Int32 = 1, valueType: Int32 = 2

    /// The attributes Recformer flattens, in its order; missing ones are left out.
    public static func attributes(of item: ItemAttributes) -> [(key: String, value: String)] {
        if item.title == nil, item.brand == nil, item.categories.isEmpty, let text = item.text { return [("text", text)] }
        let pairs: [(String, String?)] = [
            ("title", item.title ?? item.text), ("brand", item.brand), ("category", item.categories.isEmpty ? nil : item.categories.joined(separator: " ")),
        ]
        return pairs.compactMap { key, value in
            guard let value, !value.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            return (key, value)
        }
    }

    public init(ids: [Int32], types: [Int32]) {
        precondition(ids.count == types.count, "one token type per token")
        self.ids = ids
        self.types = types
    }

    /// The item's tokens under `tokenizer`, each key-value pair cut to `attributeTokens`.
    public init(item: ItemAttributes, tokenizer: WordPieceTokenizer, attributeTokens: Int) {
        var ids: [Int32] = [], types: [Int32] = []
        for (key, value) in Self.attributes(of: item) {
            let keyIDs = tokenizer.encodeWithoutSpecialTokens(key), valueIDs = tokenizer.encodeWithoutSpecialTokens(value)
            let pair = Array((keyIDs + valueIDs).prefix(attributeTokens))
            ids += pair
            types += pair.indices.map { $0 < keyIDs.count ? Self.keyType : Self.valueType }
        }
        self.init(ids: ids, types: types)
    }

    /// SHA-256 of every item's ids and types in catalogue order: what a saved model must be given again.
    public static func fingerprint(_ items: [RecformerItemTokens]) -> String {
        var text = ""
        for item in items {
            text += item.ids.map(String.init).joined(separator: ",") + ";" + item.types.map(String.init).joined(separator: ",") + "\n"
        }
        return ContentHash.sha256(Data(text.utf8))
    }
}

/// One encoder input: [CLS], then the items newest first (at most `maxItems`), the whole cut to
/// `maxTokens` — token ids, token types, and each token's item position (0 for [CLS], k for the
/// k-th newest item). Token positions are 0, 1, 2 … (the encoder's default).
public struct RecformerSequence: Sendable, Equatable {
    public var ids: [Int32]
    public var types: [Int32]
    public var itemPositions: [Int32]

    /// `history` (dataset item indices, oldest first) as Recformer's tokenizer lays it out.
    public init(history: some Collection<Int32>, items: [RecformerItemTokens], classifierID: Int32, maxItems: Int, maxTokens: Int) {
        var ids: [Int32] = [classifierID], types: [Int32] = [RecformerItemTokens.classifierType], positions: [Int32] = [0]
        for (k, item) in history.reversed().prefix(maxItems).enumerated() {
            let tokens = items[Int(item)]
            ids += tokens.ids
            types += tokens.types
            positions += [Int32](repeating: Int32(k + 1), count: tokens.ids.count)
            if ids.count >= maxTokens { break }
        }
        self.ids = Array(ids.prefix(maxTokens))
        self.types = Array(types.prefix(maxTokens))
        itemPositions = Array(positions.prefix(maxTokens))
    }
}
