import Foundation

/// BERT's text normalisation and word splitting, as Hugging Face's `BertNormalizer` and
/// `BertPreTokenizer` define them (and Google's original `BasicTokenizer`): control characters
/// dropped, whitespace made a plain space, CJK ideographs set apart, accents stripped (NFD, then
/// nonspacing marks removed), lowercased; then words split at whitespace, every punctuation
/// character a word of its own. Works on Unicode scalars, as the reference does on Rust `char`s.
public struct BertPreTokenization: Sendable, Equatable {
    /// Drop control characters, U+0000 and U+FFFD; turn every whitespace character into a space.
    public var cleanText = true
    /// Surround CJK ideographs with spaces, so that each becomes a word.
    public var handleChineseCharacters = true
    /// Strip accents (NFD, then drop nonspacing marks). Hugging Face's `null` means "as lowercase".
    public var stripAccents = true
    public var lowercase = true

    public init(cleanText: Bool = true, handleChineseCharacters: Bool = true, stripAccents: Bool = true, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseCharacters = handleChineseCharacters
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    /// The normalised text.
    public func normalize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
                if Self.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if handleChineseCharacters && Self.isChineseCharacter(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        var out = String(scalars)
        if stripAccents {
            let decomposed = out.decomposedStringWithCanonicalMapping.unicodeScalars
            out = String(String.UnicodeScalarView(decomposed.filter { $0.properties.generalCategory != .nonspacingMark }))
        }
        if lowercase { out = Self.lowercased(out) }
        return out
    }

    /// The words of normalised `text`: split at whitespace (dropped) and around every punctuation
    /// character (kept as a word).
    public func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                flush()
            } else if Self.isPunctuation(scalar) {
                flush()
                words.append(String(scalar))
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    // MARK: Character classes (the reference's definitions)

    /// Tab, newline, carriage return, or a Unicode white space character.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.properties.isWhitespace
    }

    /// A character of the Unicode "Other" categories (Cc, Cf, Cs, Co, Cn), except tab, newline and
    /// carriage return.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// ASCII punctuation (every non-alphanumeric printable ASCII character) or a Unicode punctuation
    /// character (categories Pc, Pd, Ps, Pe, Pi, Pf, Po).
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT sets apart (not Hiragana, Katakana or Hangul), as
    /// Hugging Face `tokenizers` lists them (one block starts at U+2B920 where Google's starts at U+2B820).
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F, 0x2B920...0x2CEAF,
            0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }

    /// Lowercase scalar by scalar with the full Unicode mapping, as Rust's `char::to_lowercase` does
    /// (no context-sensitive rules, such as final sigma).
    static func lowercased(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.properties.changesWhenLowercased {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
