/// The word-splitting rule used for Table 1 (and, later, BM25): lowercase the text (full Unicode
/// lowercase mapping), then split on every Unicode scalar that is not a letter (general categories
/// Lu, Ll, Lt, Lm, Lo) or a number (Nd, Nl, No). `"Post-it® Notes, 3x3"` → `post it notes 3x3`.
/// Combining marks separate words, as in Python's `re.findall(r"[^\W_]+", text.lower())`.
public enum WordAnalyzer {
    /// The words of `text`, in order.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            if isWordScalar(scalar) {
                current.append(scalar)
            } else if !current.isEmpty {
                words.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    /// Whether `scalar` is a letter or a number.
    public static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A)
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }
}
