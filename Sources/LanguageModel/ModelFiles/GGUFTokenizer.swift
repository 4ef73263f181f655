import Tokenization

/// The tokenizer a GGUF file carries in its `tokenizer.ggml.*` metadata, as the byte-level BPE
/// tokenizer Hugging Face builds for the same model: `tokens` (id order), `merges` ("a b", highest
/// priority first), `token_type` (3 = control, 4 = user-defined: both are matched as special
/// tokens), and the pre-tokenizer named by `tokenizer.ggml.pre`.
public enum GGUFTokenizer {
    /// The pre-tokenizations of llama.cpp's names that this package reproduces, with the
    /// normalizer and merge rule Hugging Face's tokenizer of the same family has (Llama 3 ignores
    /// merges for pieces in the vocabulary; Qwen2 composes to NFC first).
    static let preTokenizers: [String: (PreTokenization, TextNormalization, ignoreMerges: Bool)] = [
        "gpt2": (.gpt2, .none, false), "smollm": (.individualDigits, .none, false),
        "llama-bpe": (.llama3, .none, true), "llama3": (.llama3, .none, true), "llama-v3": (.llama3, .none, true),
        "qwen2": (.qwen2, .nfc, false),
    ]

    /// The tokenizer of `file`; an error names the metadata key that stops it.
    public static func tokenizer(_ file: GGUFFile) throws -> BPETokenizer {
        func malformed(_ detail: String) -> GGUFError { .malformed(path: file.path, detail: detail) }
        guard let model = file["tokenizer.ggml.model"]?.string else { throw malformed("metadata 'tokenizer.ggml.model' is missing") }
        guard model == "gpt2" else {
            throw malformed("tokenizer.ggml.model is '\(model)'; only byte-level BPE ('gpt2') tokenizers are supported")
        }
        let pre = file["tokenizer.ggml.pre"]?.string ?? "gpt2"
        guard let (preTokenization, normalization, ignoreMerges) = preTokenizers[pre] else {
            throw malformed(
                "tokenizer.ggml.pre is '\(pre)'; supported pre-tokenizers: \(preTokenizers.keys.sorted().joined(separator: ", "))")
        }
        guard let tokenValues = file["tokenizer.ggml.tokens"]?.array else { throw malformed("metadata 'tokenizer.ggml.tokens' is missing") }
        var tokens: [String] = []
        tokens.reserveCapacity(tokenValues.count)
        for (id, value) in tokenValues.enumerated() {
            guard let token = value.string else { throw malformed("tokenizer.ggml.tokens[\(id)] is not a string") }
            tokens.append(token)
        }
        let mergeValues = file["tokenizer.ggml.merges"]?.array ?? []
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeValues.count)
        for (index, value) in mergeValues.enumerated() {
            let parts = value.string?.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false) ?? []
            guard parts.count == 2 else { throw malformed("tokenizer.ggml.merges[\(index)] is not two tokens separated by a space") }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let types = file["tokenizer.ggml.token_type"]?.array?.map { $0.integer ?? 1 } ?? []
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where vocabulary[token] == nil { vocabulary[token] = Int32(id) }
        let specials = zip(tokens, types).filter { $0.1 == 3 || $0.1 == 4 }.map(\.0)
        return BPETokenizer(
            vocabulary: vocabulary, merges: merges, specialTokens: specials, preTokenization: preTokenization, normalization: normalization,
            ignoreMerges: ignoreMerges)
    }

    /// The id `tokenizer.ggml.<role>_token_id` names (`bos`, `eos`, `padding`, …), if the file has it.
    public static func tokenID(_ file: GGUFFile, role: String) -> Int32? {
        file["tokenizer.ggml.\(role)_token_id"]?.integer.map(Int32.init)
    }
}
