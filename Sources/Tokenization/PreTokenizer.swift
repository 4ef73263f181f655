/// GPT-2's pre-tokenization, written out by hand instead of with a regular expression:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// Text is cut into pieces (contractions, words with their leading space, numbers, runs of other
/// symbols, whitespace), and BPE merges never cross a piece boundary.
public enum PreTokenizer {
    enum Kind { case letter, number, space, other }

    static func kind(_ scalar: Unicode.Scalar) -> Kind {
        if scalar.properties.isWhitespace { return .space }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

    /// The pieces of `text`, in order; concatenated they give `text` back.
    public static func pieces(_ text: String) -> [Substring] {
        let scalars = Array(text.unicodeScalars)
        let kinds = scalars.map(kind)
        var bounds: [Int] = []  // end offsets (in scalars) of each piece
        var i = 0
        let n = scalars.count
        while i < n {
            // Contractions.
            if scalars[i] == "'",
                let c = contractions.first(where: { c in i + 1 + c.count <= n && Array(scalars[(i + 1)..<(i + 1 + c.count)]) == c })
            {
                i += 1 + c.count
                bounds.append(i)
                continue
            }
            // An optional single space, then a run of one kind.
            var start = i
            if scalars[i] == " ", i + 1 < n, kinds[i + 1] != .space { start = i + 1 }
            if kinds[start] != .space {
                let k = kinds[start]
                var j = start + 1
                while j < n && kinds[j] == k { j += 1 }
                i = j
                bounds.append(i)
                continue
            }
            // Whitespace: the run, less its last character when a non-space follows (it then leads the next piece).
            var j = i
            while j < n && kinds[j] == .space { j += 1 }
            if j < n && j - i >= 2 { j -= 1 }
            i = j
            bounds.append(i)
        }
        return cut(Substring(text), at: bounds)
    }

    /// `text` cut at `bounds` (the end offset, in Unicode scalars, of each piece, increasing).
    static func cut(_ text: Substring, at bounds: [Int]) -> [Substring] {
        var result: [Substring] = []
        var index = text.unicodeScalars.startIndex
        var previous = 0
        for end in bounds {
            let next = text.unicodeScalars.index(index, offsetBy: end - previous)
            result.append(Substring(text.unicodeScalars[index..<next]))
            index = next
            previous = end
        }
        return result
    }
}
