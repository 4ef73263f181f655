/// How text is cut into pieces before byte-level BPE, as a model's tokenizer defines it.
public enum PreTokenization: String, Sendable, Codable, CaseIterable {
    /// GPT-2's pattern (`PreTokenizer`): Hugging Face's `ByteLevel(use_regex: true)`.
    case gpt2
    /// Every digit its own piece, then GPT-2's pattern over each piece: Hugging Face's
    /// `Sequence[Digits(individual_digits: true), ByteLevel(use_regex: true)]`, the SmolLM family's
    /// pre-tokenizer (llama.cpp calls it `smollm`). " 2014" becomes " ", "2", "0", "1", "4".
    case individualDigits = "individual-digits"
    /// Llama 3's pattern (`LlamaThreePreTokenizer`, numbers in runs of up to three): Hugging Face's
    /// `Sequence[Split(Regex, Isolated), ByteLevel(use_regex: false)]`, llama.cpp's `llama-bpe`.
    case llama3
    /// The same pattern with every number its own piece: Qwen2's (llama.cpp's `qwen2`).
    case qwen2

    /// The pieces of `text`, in order; concatenated they give `text` back.
    public func pieces(_ text: Substring) -> [Substring] {
        switch self {
        case .gpt2:
            return PreTokenizer.pieces(String(text))
        case .individualDigits:
            var result: [Substring] = []
            for part in Self.splittingDigits(text) { result += PreTokenizer.pieces(String(part)) }
            return result
        case .llama3:
            return LlamaThreePreTokenizer.pieces(text, maxDigits: 3)
        case .qwen2:
            return LlamaThreePreTokenizer.pieces(text, maxDigits: 1)
        }
    }

    /// `text` cut before and after every numeric character (Unicode's `Nd`, `Nl` and `No`: Rust's
    /// `char::is_numeric`, which Hugging Face's `Digits` pre-tokenizer tests), each one its own part.
    static func splittingDigits(_ text: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = text.unicodeScalars.startIndex
        var index = start
        let scalars = text.unicodeScalars
        while index < scalars.endIndex {
            let next = scalars.index(after: index)
            if PreTokenizer.kind(scalars[index]) == .number {
                if start < index { parts.append(Substring(scalars[start..<index])) }
                parts.append(Substring(scalars[index..<next]))
                start = next
            }
            index = next
        }
        if start < scalars.endIndex { parts.append(Substring(scalars[start..<scalars.endIndex])) }
        return parts
    }
}
