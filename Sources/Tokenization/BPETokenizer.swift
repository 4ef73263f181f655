import Foundation

/// Errors of tokenizer files.
public enum TokenizerError: Error, LocalizedError, Equatable {
    case malformedFile(path: String, line: Int, detail: String)
    case io(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .malformedFile(let path, let line, let detail): return "\(path):\(line): \(detail)"
        case .io(let path, let detail): return "\(path): \(detail)"
        }
    }
}

/// A byte-level BPE tokenizer: a vocabulary (token → id) and merges (highest priority first), from
/// GPT-2's `vocab.json` + `merges.txt`, a Hugging Face `tokenizer.json` or a GGUF file's metadata.
/// Text is normalized (`TextNormalization`, Qwen2's NFC) and pre-tokenized (`PreTokenization`:
/// GPT-2's pattern, with every digit split off first, or Llama 3's and Qwen2's pattern),
/// each piece turned into byte-level characters (`ByteLevel`) and merged pair by pair in merge-rank
/// order, as GPT-2's `encoder.py` and Hugging Face's BPE model do. Special tokens (e.g.
/// `<|endoftext|>`) are matched in the text before pre-tokenization and encoded as their own ids.
/// Encodings of pieces are cached.
public final class BPETokenizer: @unchecked Sendable {
    public let vocabulary: [String: Int32]
    public let tokens: [String]  // id → token
    /// Merge pair → rank (lower merges first).
    let ranks: [Pair: Int]
    public let merges: [(String, String)]
    public let specialTokens: [String]
    /// The special tokens' scalars, longest first, and the scalars they start with.
    let specialScalars: [(token: String, scalars: [Unicode.Scalar])]
    let specialFirstScalars: Set<Unicode.Scalar>
    /// How text is cut into pieces before BPE.
    public let preTokenization: PreTokenization
    /// What is done to text (outside special tokens) before it is cut: nothing, or NFC (Qwen2's normalizer).
    public let normalization: TextNormalization
    /// A piece that is itself a token becomes that token without merging (Hugging Face's
    /// `ignore_merges`, Llama 3's setting).
    public let ignoreMerges: Bool
    /// Encodings of pieces, keyed by their byte-level text rather than the piece itself: `String`
    /// equality treats canonically equivalent texts of different bytes as one, and no two
    /// byte-level texts are canonically equivalent (the byte alphabet holds no combining marks).
    private var cache: [String: [Int32]] = [:]
    private let lock = NSLock()

    struct Pair: Hashable {
        var left: String
        var right: String
    }

    public init(
        vocabulary: [String: Int32], merges: [(String, String)], specialTokens: [String] = [], preTokenization: PreTokenization = .gpt2,
        normalization: TextNormalization = .none, ignoreMerges: Bool = false
    ) {
        self.vocabulary = vocabulary
        self.preTokenization = preTokenization
        self.normalization = normalization
        self.ignoreMerges = ignoreMerges
        var tokens = [String](repeating: "", count: (vocabulary.values.max().map { Int($0) + 1 }) ?? 0)
        for (token, id) in vocabulary { tokens[Int(id)] = token }
        self.tokens = tokens
        self.merges = merges
        var ranks: [Pair: Int] = [:]
        for (rank, merge) in merges.enumerated() where ranks[Pair(left: merge.0, right: merge.1)] == nil {
            ranks[Pair(left: merge.0, right: merge.1)] = rank
        }
        self.ranks = ranks
        self.specialTokens = specialTokens.filter { vocabulary[$0] != nil }.sorted { $0.count > $1.count }
        specialScalars = self.specialTokens.map { ($0, Array($0.unicodeScalars)) }.filter { !$0.1.isEmpty }
            .sorted { $0.1.count > $1.1.count }
        specialFirstScalars = Set(specialScalars.map { $0.1[0] })
    }

    /// The id of a special token.
    public func id(ofSpecial token: String) -> Int32? { specialTokens.contains(token) ? vocabulary[token] : nil }

    /// The token that ends a text: `<|endoftext|>` (GPT-2, SmolLM2, Qwen2) or, where there is none,
    /// `<|end_of_text|>` (Llama 3).
    public var endOfText: Int32? { id(ofSpecial: "<|endoftext|>") ?? id(ofSpecial: "<|end_of_text|>") }

    /// Token ids of `text`; special tokens in the text become their ids when `allowSpecial` is true.
    public func encode(_ text: String, allowSpecial: Bool = true) -> [Int32] {
        var ids: [Int32] = []
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        while start < scalars.endIndex {
            let next = allowSpecial ? firstSpecial(in: scalars[start...]) : nil
            let plain = normalization.apply(Substring(scalars[start..<(next?.range.lowerBound ?? scalars.endIndex)]))
            for piece in preTokenization.pieces(plain) { ids += encodePiece(piece) }
            guard let next else { break }
            ids.append(vocabulary[next.token]!)
            start = next.range.upperBound
        }
        return ids
    }

    /// The earliest special token in `scalars` (the longest of those that start there), matched
    /// scalar by scalar as Hugging Face matches added tokens: a combining mark after a token does
    /// not hide it, as it would from a search by grapheme clusters.
    func firstSpecial(in scalars: String.UnicodeScalarView.SubSequence) -> (range: Range<String.Index>, token: String)? {
        guard !specialScalars.isEmpty else { return nil }
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if specialFirstScalars.contains(scalars[index]) {
                for (token, tokenScalars) in specialScalars where scalars[index...].starts(with: tokenScalars) {
                    return (index..<scalars.index(index, offsetBy: tokenScalars.count), token)
                }
            }
            index = scalars.index(after: index)
        }
        return nil
    }

    /// The text of token ids (bytes that do not form valid UTF-8 become U+FFFD).
    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            guard Int(id) < tokens.count else { continue }
            let token = tokens[Int(id)]
            if specialTokens.contains(token) { bytes += Array(token.utf8) } else { bytes += ByteLevel.decode(token) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func encodePiece(_ piece: Substring) -> [Int32] {
        let word = ByteLevel.encode(piece.utf8)
        lock.lock()
        if let cached = cache[word] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let ids: [Int32]
        if ignoreMerges, let whole = vocabulary[word] {
            ids = [whole]
        } else {
            ids = bpe(word).map { vocabulary[$0] ?? 0 }
        }
        lock.lock()
        cache[word] = ids
        lock.unlock()
        return ids
    }

    /// GPT-2's merge loop: repeatedly merge the adjacent pair with the lowest rank, everywhere.
    func bpe(_ word: String) -> [String] {
        var symbols = word.map(String.init)
        while symbols.count > 1 {
            var best: (rank: Int, pair: Pair)?
            for i in 0..<(symbols.count - 1) {
                let pair = Pair(left: symbols[i], right: symbols[i + 1])
                if let rank = ranks[pair], best == nil || rank < best!.rank { best = (rank, pair) }
            }
            guard let best else { break }
            var merged: [String] = []
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count && symbols[i] == best.pair.left && symbols[i + 1] == best.pair.right {
                    merged.append(best.pair.left + best.pair.right)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        return symbols
    }

    // MARK: Files

    /// Loads `vocab.json` and `merges.txt` (GPT-2 format). Tokens of the form `<|…|>` in the
    /// vocabulary that no merge produces are special tokens.
    public convenience init(vocabularyFile: String, mergesFile: String) throws {
        guard let data = FileManager.default.contents(atPath: vocabularyFile) else {
            throw TokenizerError.io(path: vocabularyFile, detail: "cannot read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TokenizerError.malformedFile(path: vocabularyFile, line: 1, detail: "not a JSON object of token → id")
        }
        var vocabulary: [String: Int32] = [:]
        for (token, value) in object {
            guard let id = (value as? NSNumber)?.int32Value else {
                throw TokenizerError.malformedFile(path: vocabularyFile, line: 1, detail: "token \(token) has no integer id")
            }
            vocabulary[token] = id
        }
        guard let text = FileManager.default.contents(atPath: mergesFile).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw TokenizerError.io(path: mergesFile, detail: "cannot read")
        }
        var merges: [(String, String)] = []
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#version") || line.isEmpty { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.malformedFile(path: mergesFile, line: offset + 1, detail: "a merge is two tokens separated by one space")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let specials = vocabulary.keys.filter { $0.hasPrefix("<|") && $0.hasSuffix("|>") }
        self.init(vocabulary: vocabulary, merges: merges, specialTokens: Array(specials))
    }

    /// Writes the tokenizer into `folder`: GPT-2's `vocab.json` and `merges.txt` for GPT-2's
    /// pre-tokenization, a Hugging Face `tokenizer.json` otherwise (the only format that records it).
    public func save(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard preTokenization == .gpt2 && normalization == .none && !ignoreMerges else {
            try saveTokenizerJSON(to: folder)
            return
        }
        let vocabularyData = try JSONSerialization.data(withJSONObject: vocabulary.mapValues { Int($0) }, options: [.sortedKeys, .withoutEscapingSlashes])
        try vocabularyData.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("vocab.json")), options: .atomic)
        let mergesText = "#version: 0.2\n" + merges.map { "\($0.0) \($0.1)\n" }.joined()
        try Data(mergesText.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("merges.txt")), options: .atomic)
    }

    /// The tokenizer of a model folder: its `tokenizer.json` when there is one, else `vocab.json` + `merges.txt`.
    public static func load(folder: String) throws -> BPETokenizer {
        let json = (folder as NSString).appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: json) { return try read(tokenizerJSON: json) }
        return try BPETokenizer(
            vocabularyFile: (folder as NSString).appendingPathComponent("vocab.json"),
            mergesFile: (folder as NSString).appendingPathComponent("merges.txt"))
    }
}
