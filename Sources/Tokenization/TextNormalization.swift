import Foundation

/// What a tokenizer does to text before pre-tokenization (Hugging Face's `normalizer`).
public enum TextNormalization: String, Sendable, Codable, CaseIterable {
    /// The text as given (GPT-2, SmolLM2, Llama 3).
    case none
    /// Unicode canonical composition (`{"type": "NFC"}`: Qwen2's tokenizers): "e\u{301}" becomes "é".
    case nfc

    /// `text` normalized.
    func apply(_ text: Substring) -> Substring {
        switch self {
        case .none: return text
        case .nfc: return Substring(String(text).precomposedStringWithCanonicalMapping)
        }
    }
}
