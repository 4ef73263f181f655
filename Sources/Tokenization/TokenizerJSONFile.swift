import Foundation
import Support

/// The part of Hugging Face's `tokenizer.json` a byte-level BPE tokenizer needs: the BPE model
/// (vocabulary and merges), the pre-tokenizer, and the added tokens. Reading accepts what GPT-2,
/// SmolLM, Llama 3, Qwen2 and similar byte-level tokenizers use and names anything else it cannot
/// reproduce exactly (a normalizer other than NFC, byte fallback, another pre-tokenizer); writing gives a file Hugging Face's
/// `tokenizers` loads as the same tokenizer.
public struct TokenizerJSONFile: Codable, Sendable {
    public struct AddedToken: Codable, Sendable, Equatable {
        public var id: Int32
        public var content: String
        public var special: Bool
        public var singleWord = false
        public var lstrip = false
        public var rstrip = false
        public var normalized = false

        enum CodingKeys: String, CodingKey {
            case id, content, special, lstrip, rstrip, normalized
            case singleWord = "single_word"
        }
    }

    /// A pre-tokenizer as the file spells it (`{"type": "Sequence", "pretokenizers": [...]}` …).
    public indirect enum PreTokenizerSpec: Codable, Sendable, Equatable {
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
        case digits(individual: Bool)
        /// `Split` with a regular expression (`{"Regex": …}`) or a literal (`{"String": …}`).
        case split(pattern: SplitPattern, behavior: String, invert: Bool)
        case sequence([PreTokenizerSpec])
        case other(type: String)

        /// The pattern of a `Split` pre-tokenizer as the file spells it.
        public enum SplitPattern: Codable, Sendable, Equatable {
            case regex(String)
            case string(String)

            enum CodingKeys: String, CodingKey {
                case regex = "Regex"
                case string = "String"
            }

            public init(from decoder: Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                if let regex = try container.decodeIfPresent(String.self, forKey: .regex) {
                    self = .regex(regex)
                } else {
                    self = .string(try container.decode(String.self, forKey: .string))
                }
            }

            public func encode(to encoder: Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                switch self {
                case .regex(let pattern): try container.encode(pattern, forKey: .regex)
                case .string(let literal): try container.encode(literal, forKey: .string)
                }
            }
        }

        /// Llama 3's `Split` pattern (OpenAI's `cl100k_base`).
        static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        /// Qwen2's: the same with single digits.
        static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

        enum CodingKeys: String, CodingKey {
            case type, pretokenizers, pattern, behavior, invert
            case addPrefixSpace = "add_prefix_space"
            case useRegex = "use_regex"
            case individualDigits = "individual_digits"
            case trimOffsets = "trim_offsets"
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let type = try container.decode(String.self, forKey: .type)
            switch type {
            case "ByteLevel":
                self = .byteLevel(
                    addPrefixSpace: try container.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) ?? true,
                    useRegex: try container.decodeIfPresent(Bool.self, forKey: .useRegex) ?? true)
            case "Digits": self = .digits(individual: try container.decodeIfPresent(Bool.self, forKey: .individualDigits) ?? false)
            case "Split":
                self = .split(
                    pattern: try container.decode(SplitPattern.self, forKey: .pattern),
                    behavior: try container.decode(String.self, forKey: .behavior),
                    invert: try container.decodeIfPresent(Bool.self, forKey: .invert) ?? false)
            case "Sequence": self = .sequence(try container.decode([PreTokenizerSpec].self, forKey: .pretokenizers))
            default: self = .other(type: type)
            }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .byteLevel(let addPrefixSpace, let useRegex):
                try container.encode("ByteLevel", forKey: .type)
                try container.encode(addPrefixSpace, forKey: .addPrefixSpace)
                try container.encode(true, forKey: .trimOffsets)
                try container.encode(useRegex, forKey: .useRegex)
            case .digits(let individual):
                try container.encode("Digits", forKey: .type)
                try container.encode(individual, forKey: .individualDigits)
            case .split(let pattern, let behavior, let invert):
                try container.encode("Split", forKey: .type)
                try container.encode(pattern, forKey: .pattern)
                try container.encode(behavior, forKey: .behavior)
                try container.encode(invert, forKey: .invert)
            case .sequence(let parts):
                try container.encode("Sequence", forKey: .type)
                try container.encode(parts, forKey: .pretokenizers)
            case .other(let type):
                try container.encode(type, forKey: .type)
            }
        }

        /// The spec of each pre-tokenization this package performs.
        public init(_ preTokenization: PreTokenization) {
            switch preTokenization {
            case .gpt2: self = .byteLevel(addPrefixSpace: false, useRegex: true)
            case .individualDigits: self = .sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)])
            case .llama3: self = .sequence([.split(pattern: .regex(Self.llama3Pattern), behavior: "Isolated", invert: false), .byteLevel(addPrefixSpace: false, useRegex: false)])
            case .qwen2: self = .sequence([.split(pattern: .regex(Self.qwen2Pattern), behavior: "Isolated", invert: false), .byteLevel(addPrefixSpace: false, useRegex: false)])
            }
        }

        /// The pre-tokenization this spec describes, nil when this package cannot reproduce it.
        var preTokenization: PreTokenization? {
            switch self {
            case .byteLevel(addPrefixSpace: false, useRegex: true): return .gpt2
            case .sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)]): return .individualDigits
            case .sequence([.split(pattern: .regex(Self.llama3Pattern), behavior: "Isolated", invert: false), .byteLevel(addPrefixSpace: false, useRegex: false)]): return .llama3
            case .sequence([.split(pattern: .regex(Self.qwen2Pattern), behavior: "Isolated", invert: false), .byteLevel(addPrefixSpace: false, useRegex: false)]): return .qwen2
            default: return nil
            }
        }
    }

    /// The BPE model: vocabulary and merges. Merges are read as `"a b"` strings or `["a", "b"]` pairs.
    public struct Model: Codable, Sendable {
        public var type: String
        public var vocab: [String: Int32]
        public var merges: [[String]]
        public var byteFallback: Bool?
        public var ignoreMerges: Bool?
        public var unkToken: String?

        enum CodingKeys: String, CodingKey {
            case type, vocab, merges, dropout
            case byteFallback = "byte_fallback"
            case ignoreMerges = "ignore_merges"
            case unkToken = "unk_token"
            case fuseUnk = "fuse_unk"
            case continuingSubwordPrefix = "continuing_subword_prefix"
            case endOfWordSuffix = "end_of_word_suffix"
        }

        public init(vocab: [String: Int32], merges: [[String]]) {
            type = "BPE"
            self.vocab = vocab
            self.merges = merges
            byteFallback = false
            ignoreMerges = false
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decodeIfPresent(String.self, forKey: .type) ?? "BPE"
            vocab = try container.decode([String: Int32].self, forKey: .vocab)
            if let pairs = try? container.decode([[String]].self, forKey: .merges) {
                merges = pairs
            } else {
                merges = try container.decode([String].self, forKey: .merges).map { line in
                    line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                }
            }
            byteFallback = try container.decodeIfPresent(Bool.self, forKey: .byteFallback)
            ignoreMerges = try container.decodeIfPresent(Bool.self, forKey: .ignoreMerges)
            unkToken = try container.decodeIfPresent(String.self, forKey: .unkToken)
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encodeNil(forKey: .dropout)
            try container.encodeNil(forKey: .unkToken)
            try container.encodeNil(forKey: .continuingSubwordPrefix)
            try container.encodeNil(forKey: .endOfWordSuffix)
            try container.encode(false, forKey: .fuseUnk)
            try container.encode(byteFallback ?? false, forKey: .byteFallback)
            try container.encode(ignoreMerges ?? false, forKey: .ignoreMerges)
            try container.encode(vocab, forKey: .vocab)
            try container.encode(merges.map { $0.joined(separator: " ") }, forKey: .merges)
        }
    }

    /// The decoder (`ByteLevel` for these tokenizers); kept as read.
    public struct DecoderSpec: Codable, Sendable {
        public var type: String
    }

    public var version = "1.0"
    public var addedTokens: [AddedToken]
    /// A normalizer's type, when the file has one (this package reproduces NFC only).
    public var normalizer: Normalizer?
    public var preTokenizer: PreTokenizerSpec?
    public var decoder: DecoderSpec?
    public var model: Model

    /// The type of a normalizer.
    public struct Normalizer: Codable, Sendable {
        public var type: String
    }

    enum CodingKeys: String, CodingKey {
        case version, normalizer, decoder, model
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
    }

    /// The file of `tokenizer`.
    public init(_ tokenizer: BPETokenizer) {
        addedTokens = tokenizer.specialTokens.compactMap { token in
            tokenizer.vocabulary[token].map { AddedToken(id: $0, content: token, special: true) }
        }.sorted { $0.id < $1.id }
        switch tokenizer.normalization {
        case .none: normalizer = nil
        case .nfc: normalizer = Normalizer(type: "NFC")
        }
        preTokenizer = PreTokenizerSpec(tokenizer.preTokenization)
        decoder = DecoderSpec(type: "ByteLevel")
        model = Model(vocab: tokenizer.vocabulary, merges: tokenizer.merges.map { [$0.0, $0.1] })
        model.ignoreMerges = tokenizer.ignoreMerges
    }

    /// The tokenizer this file describes; `path` names the file in errors.
    public func tokenizer(path: String) throws -> BPETokenizer {
        func unsupported(_ detail: String) -> TokenizerError { .malformedFile(path: path, line: 1, detail: detail) }
        guard model.type == "BPE" else { throw unsupported("model.type is '\(model.type)'; only byte-level BPE tokenizers are supported") }
        var normalization = TextNormalization.none
        if let normalizer {
            guard normalizer.type == "NFC" else { throw unsupported("normalizer '\(normalizer.type)' is not supported (supported: none, NFC)") }
            normalization = .nfc
        }
        if model.byteFallback == true { throw unsupported("model.byte_fallback is true; only byte-level BPE (no byte fallback) is supported") }
        let preTokenization: PreTokenization
        if let preTokenizer {
            guard let known = preTokenizer.preTokenization else {
                let written = (try? String(decoding: JSONEncoder().encode(preTokenizer), as: UTF8.self)) ?? "?"
                throw unsupported(
                    "pre_tokenizer \(written) is not supported; supported: ByteLevel(add_prefix_space: false, use_regex: true), alone or after Digits(individual_digits: true), and Llama 3's or Qwen2's Split pattern (Isolated) before ByteLevel(use_regex: false)")
            }
            preTokenization = known
        } else {
            throw unsupported("pre_tokenizer is missing; byte-level BPE needs ByteLevel")
        }
        var vocabulary = model.vocab
        for token in addedTokens {
            if let existing = vocabulary[token.content], existing != token.id {
                throw unsupported("added token '\(token.content)' has id \(token.id) but the vocabulary gives it \(existing)")
            }
            vocabulary[token.content] = token.id
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(model.merges.count)
        for (index, merge) in model.merges.enumerated() {
            guard merge.count == 2 else { throw unsupported("model.merges[\(index)] is not a pair of tokens") }
            merges.append((merge[0], merge[1]))
        }
        return BPETokenizer(
            vocabulary: vocabulary, merges: merges, specialTokens: addedTokens.filter(\.special).map(\.content), preTokenization: preTokenization,
            normalization: normalization, ignoreMerges: model.ignoreMerges ?? false)
    }

    /// Reads `path`.
    public static func read(_ path: String) throws -> TokenizerJSONFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw TokenizerError.io(path: path, detail: "cannot read") }
        do {
            return try JSONDecoder().decode(TokenizerJSONFile.self, from: data)
        } catch let error as DecodingError {
            throw TokenizerError.malformedFile(path: path, line: 1, detail: DecodingErrorText.describe(error))
        }
    }

    /// Writes the file to `path` atomically.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicWrite.write(try encoder.encode(self), to: path)
    }
}

extension BPETokenizer {
    /// Loads a Hugging Face `tokenizer.json`.
    public static func read(tokenizerJSON path: String) throws -> BPETokenizer { try TokenizerJSONFile.read(path).tokenizer(path: path) }

    /// Writes this tokenizer as a Hugging Face `tokenizer.json` into `folder`.
    public func saveTokenizerJSON(to folder: String) throws {
        try TokenizerJSONFile(self).write(to: (folder as NSString).appendingPathComponent("tokenizer.json"))
    }
}

extension BPETokenizer {
    /// SHA-256 of what decides the ids: the pre-tokenization, every token with its id, the merges in
    /// rank order and the special tokens. Two tokenizers with the same fingerprint encode every text alike.
    public var fingerprint: String {
        var text = "pre-tokenization \(preTokenization.rawValue)\n"
        // Added only when set, so that the fingerprints of tokenizers without them stay as they were.
        if normalization != .none { text += "normalization \(normalization.rawValue)\n" }
        if ignoreMerges { text += "ignore-merges\n" }
        for (id, token) in tokens.enumerated() { text += "\(id) \(token)\n" }
        text += "merges\n"
        for (left, right) in merges { text += "\(left) \(right)\n" }
        text += "specials\n" + specialTokens.sorted().joined(separator: "\n")
        return ContentHash.sha256(text)
    }
}
