import Foundation
import Support

/// BERT's WordPiece tokenizer, as Hugging Face's `tokenizers` runs a BERT `tokenizer.json` (or
/// `BertTokenizer` a `vocab.txt`): special tokens matched in the raw text first, the rest normalised
/// and split into words (`BertPreTokenization`), each word split greedily into the longest
/// vocabulary pieces from its start (later pieces carry the `##` prefix); a word with no such split,
/// or longer than `maxCharactersPerWord` characters, becomes the unknown token. `encode` wraps the
/// ids in `[CLS] … [SEP]`.
public final class WordPieceTokenizer: @unchecked Sendable {
    public let vocabulary: [String: Int32]
    /// id → token.
    public let tokens: [String]
    public let preTokenization: BertPreTokenization
    public let unknownToken: String
    public let continuingPrefix: String
    public let maxCharactersPerWord: Int
    /// Tokens matched verbatim in the text before normalisation ([CLS], [SEP], [MASK] …), longest first.
    public let specialTokens: [String]
    public let classifierID: Int32
    public let separatorID: Int32
    public let unknownID: Int32
    public let paddingID: Int32

    public init(
        vocabulary: [String: Int32], preTokenization: BertPreTokenization = BertPreTokenization(), unknownToken: String = "[UNK]",
        continuingPrefix: String = "##", maxCharactersPerWord: Int = 100, specialTokens: [String] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        classifierToken: String = "[CLS]", separatorToken: String = "[SEP]", paddingToken: String = "[PAD]"
    ) throws {
        func id(_ token: String, _ role: String) throws -> Int32 {
            guard let id = vocabulary[token] else {
                throw TokenizerError.malformedFile(path: "", line: 0, detail: "the vocabulary has no \(role) token '\(token)'")
            }
            return id
        }
        self.vocabulary = vocabulary
        var tokens = [String](repeating: "", count: (vocabulary.values.max().map(Int.init) ?? -1) + 1)
        for (token, id) in vocabulary { tokens[Int(id)] = token }
        self.tokens = tokens
        self.preTokenization = preTokenization
        self.unknownToken = unknownToken
        self.continuingPrefix = continuingPrefix
        self.maxCharactersPerWord = maxCharactersPerWord
        self.specialTokens = specialTokens.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
        unknownID = try id(unknownToken, "unknown")
        classifierID = try id(classifierToken, "classifier")
        separatorID = try id(separatorToken, "separator")
        paddingID = try id(paddingToken, "padding")
    }

    /// `[CLS]`, the text's ids, `[SEP]`.
    public func encode(_ text: String) -> [Int32] {
        [classifierID] + encodeWithoutSpecialTokens(text) + [separatorID]
    }

    /// The text's ids without `[CLS]`/`[SEP]` around them.
    public func encodeWithoutSpecialTokens(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for segment in splitSpecialTokens(text) {
            switch segment {
            case .special(let token): ids.append(vocabulary[token]!)
            case .text(let text):
                for word in preTokenization.words(preTokenization.normalize(text)) { ids.append(contentsOf: encodeWord(word)) }
            }
        }
        return ids
    }

    enum Segment: Equatable {
        case text(String)
        case special(String)
    }

    /// The text cut at every occurrence of a special token (leftmost first, longest at a position).
    func splitSpecialTokens(_ text: String) -> [Segment] {
        let specials = specialTokens.filter { vocabulary[$0] != nil }
        guard !specials.isEmpty else { return [.text(text)] }
        var segments: [Segment] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            var earliest: (range: Range<Substring.Index>, token: String)?
            for token in specials {
                if let range = rest.range(of: token, options: .literal),
                    earliest == nil || range.lowerBound < earliest!.range.lowerBound
                {
                    earliest = (range, token)
                }
            }
            guard let found = earliest else { break }
            if found.range.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<found.range.lowerBound]))) }
            segments.append(.special(found.token))
            rest = rest[found.range.upperBound...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        return segments
    }

    /// Greedy longest-match-first pieces of one word, or the unknown token.
    func encodeWord(_ word: String) -> [Int32] {
        let scalars = Array(word.unicodeScalars)
        guard scalars.count <= maxCharactersPerWord else { return [unknownID] }
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var found: Int32?
            while end > start {
                var piece = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { piece = continuingPrefix + piece }
                if let id = vocabulary[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { return [unknownID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }

    /// Tokens of `ids` joined as Hugging Face's WordPiece decoder does (`##` pieces glued to the
    /// previous one, spaces before punctuation removed), without special tokens.
    public func decode(_ ids: [Int32]) -> String {
        var out = ""
        for id in ids where Int(id) < tokens.count {
            let token = tokens[Int(id)]
            if specialTokens.contains(token) { continue }
            if token.hasPrefix(continuingPrefix) {
                out += token.dropFirst(continuingPrefix.count)
            } else {
                out += (out.isEmpty ? "" : " ") + token
            }
        }
        return out
    }

    // MARK: Files

    /// Loads a BERT tokenizer from a model folder: `tokenizer.json` when present (a WordPiece model
    /// with a BertNormalizer and a BertPreTokenizer), else `vocab.txt` (lowercasing per
    /// `tokenizer_config.json`'s `do_lower_case`, true when absent).
    public static func load(folder: String) throws -> WordPieceTokenizer {
        let json = (folder as NSString).appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: json) { return try load(tokenizerJSON: json) }
        let vocab = (folder as NSString).appendingPathComponent("vocab.txt")
        guard FileManager.default.fileExists(atPath: vocab) else {
            throw TokenizerError.io(path: folder, detail: "no tokenizer.json or vocab.txt: not a BERT tokenizer folder")
        }
        var lowercase = true
        let configPath = (folder as NSString).appendingPathComponent("tokenizer_config.json")
        if let data = FileManager.default.contents(atPath: configPath),
            let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let value = config["do_lower_case"] as? Bool
        {
            lowercase = value
        }
        return try load(vocabularyFile: vocab, lowercase: lowercase)
    }

    /// Loads `vocab.txt` (one token a line; the line number is the id).
    public static func load(vocabularyFile path: String, lowercase: Bool) throws -> WordPieceTokenizer {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError.io(path: path, detail: "cannot read it as UTF-8 text")
        }
        var vocabulary: [String: Int32] = [:]
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        for (n, line) in lines.enumerated() {
            let token = line.hasSuffix("\r") ? String(line.dropLast()) : line
            if vocabulary[token] == nil { vocabulary[token] = Int32(n) }
        }
        do {
            return try WordPieceTokenizer(
                vocabulary: vocabulary, preTokenization: BertPreTokenization(stripAccents: lowercase, lowercase: lowercase))
        } catch TokenizerError.malformedFile(_, _, let detail) {
            throw TokenizerError.malformedFile(path: path, line: 0, detail: detail)
        }
    }

    /// Loads a Hugging Face `tokenizer.json` of a WordPiece model; names anything it cannot reproduce.
    public static func load(tokenizerJSON path: String) throws -> WordPieceTokenizer {
        guard let data = FileManager.default.contents(atPath: path) else { throw TokenizerError.io(path: path, detail: "cannot read the file") }
        let file: WordPieceTokenizerFile
        do {
            file = try JSONDecoder().decode(WordPieceTokenizerFile.self, from: data)
        } catch {
            throw TokenizerError.malformedFile(path: path, line: 0, detail: "not a WordPiece tokenizer.json (\((error as? DecodingError).map(DecodingErrorText.describe) ?? error.localizedDescription))")
        }
        func fail(_ detail: String) -> TokenizerError { .malformedFile(path: path, line: 0, detail: detail) }
        guard file.model.type == "WordPiece" else { throw fail("model.type is '\(file.model.type)'; only WordPiece tokenizers load here") }
        var pre = BertPreTokenization()
        if let normalizer = file.normalizer {
            guard normalizer.type == "BertNormalizer" else { throw fail("normalizer.type is '\(normalizer.type)'; only BertNormalizer is reproduced") }
            pre.cleanText = normalizer.cleanText ?? true
            pre.handleChineseCharacters = normalizer.handleChineseChars ?? true
            pre.lowercase = normalizer.lowercase ?? true
            pre.stripAccents = normalizer.stripAccents ?? pre.lowercase
        } else {
            pre = BertPreTokenization(cleanText: false, handleChineseCharacters: false, stripAccents: false, lowercase: false)
        }
        if let preTokenizer = file.preTokenizer, preTokenizer.type != "BertPreTokenizer" {
            throw fail("pre_tokenizer.type is '\(preTokenizer.type)'; only BertPreTokenizer is reproduced")
        }
        var classifier = "[CLS]", separator = "[SEP]"
        if let post = file.postProcessor {
            switch post.type {
            case "BertProcessing":
                classifier = post.cls?.first ?? classifier
                separator = post.sep?.first ?? separator
            case "TemplateProcessing":
                let single = post.single ?? []
                guard single.count == 3, let first = single.first?.specialToken?.id, single[1].sequence != nil, let last = single.last?.specialToken?.id else {
                    throw fail("post_processor's single template is not [CLS] $A [SEP]")
                }
                classifier = first
                separator = last
            default: throw fail("post_processor.type is '\(post.type)'; BertProcessing and TemplateProcessing are reproduced")
            }
        }
        let specials = (file.addedTokens ?? []).filter { $0.special && !($0.normalized ?? false) }.map(\.content)
        let pad = (file.addedTokens ?? []).first { $0.content == "[PAD]" }?.content ?? "[PAD]"
        do {
            return try WordPieceTokenizer(
                vocabulary: file.model.vocab, preTokenization: pre, unknownToken: file.model.unkToken ?? "[UNK]",
                continuingPrefix: file.model.continuingSubwordPrefix ?? "##", maxCharactersPerWord: file.model.maxInputCharsPerWord ?? 100,
                specialTokens: specials, classifierToken: classifier, separatorToken: separator, paddingToken: pad)
        } catch TokenizerError.malformedFile(_, _, let detail) {
            throw fail(detail)
        }
    }

    /// SHA-256 of the vocabulary in id order and of the settings that decide what ids a text gets: two
    /// tokenizers with the same fingerprint encode every text alike.
    public var fingerprint: String {
        var text = "wordpiece v1\n"
        text += "clean \(preTokenization.cleanText) cjk \(preTokenization.handleChineseCharacters) accents \(preTokenization.stripAccents) lower \(preTokenization.lowercase)\n"
        text += "unk \(unknownToken) prefix \(continuingPrefix) max \(maxCharactersPerWord) cls \(classifierID) sep \(separatorID)\n"
        text += "specials " + specialTokens.sorted().joined(separator: " ") + "\n"
        text += tokens.joined(separator: "\n")
        return ContentHash.sha256(Data(text.utf8))
    }
}

/// The part of a WordPiece `tokenizer.json` that `WordPieceTokenizer` reads.
struct WordPieceTokenizerFile: Decodable {
    struct Normalizer: Decodable {
        var type: String
        var cleanText: Bool?
        var handleChineseChars: Bool?
        var stripAccents: Bool?
        var lowercase: Bool?
        enum CodingKeys: String, CodingKey {
            case type, lowercase
            case cleanText = "clean_text", handleChineseChars = "handle_chinese_chars", stripAccents = "strip_accents"
        }
    }
    struct PreTokenizer: Decodable { var type: String }
    struct Model: Decodable {
        var type: String
        var vocab: [String: Int32]
        var unkToken: String?
        var continuingSubwordPrefix: String?
        var maxInputCharsPerWord: Int?
        enum CodingKeys: String, CodingKey {
            case type, vocab
            case unkToken = "unk_token", continuingSubwordPrefix = "continuing_subword_prefix", maxInputCharsPerWord = "max_input_chars_per_word"
        }
    }
    struct TemplatePiece: Decodable {
        struct Special: Decodable { var id: String }
        struct Sequence: Decodable { var id: String }
        var specialToken: Special?
        var sequence: Sequence?
        enum CodingKeys: String, CodingKey {
            case specialToken = "SpecialToken", sequence = "Sequence"
        }
    }
    struct PostProcessor: Decodable {
        var type: String
        var single: [TemplatePiece]?
        /// BertProcessing: `["[CLS]", 101]`.
        var cls: [String]?
        var sep: [String]?
        enum CodingKeys: String, CodingKey { case type, single, cls, sep }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decode(String.self, forKey: .type)
            single = try c.decodeIfPresent([TemplatePiece].self, forKey: .single)
            func first(_ key: CodingKeys) -> [String]? {
                guard var pair = try? c.nestedUnkeyedContainer(forKey: key), let token = try? pair.decode(String.self) else { return nil }
                return [token]
            }
            cls = first(.cls)
            sep = first(.sep)
        }
    }
    struct AddedToken: Decodable {
        var content: String
        var special: Bool
        var normalized: Bool?
    }
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer?
    var model: Model
    var postProcessor: PostProcessor?
    var addedTokens: [AddedToken]?
    enum CodingKeys: String, CodingKey {
        case normalizer, model
        case preTokenizer = "pre_tokenizer", postProcessor = "post_processor", addedTokens = "added_tokens"
    }
}
