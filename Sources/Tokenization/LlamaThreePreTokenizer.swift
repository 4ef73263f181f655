/// The pre-tokenization of Llama 3 (OpenAI's `cl100k_base` pattern) and, with single digits, of
/// Qwen2, written out by hand instead of with a regular expression:
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// (Qwen2: `\p{N}` for `\p{N}{1,3}`). At each position the first alternative that matches wins,
/// as in the regular expression: a contraction in either case; a run of letters with at most one
/// leading character that is neither a line break, a letter nor a number (a space, a tab, an
/// opening bracket …); up to `maxDigits` numbers; an optional space, a run of other symbols and the
/// line breaks after it; whitespace up to its last line break; whitespace less its last character
/// when a non-space follows; the rest of a whitespace run. Letters, numbers and whitespace are
/// classified as in `PreTokenizer` (GPT-2's pattern). The case-insensitive contractions match ASCII
/// letters only (Unicode case folding of `ſ` and the like is not reproduced).
enum LlamaThreePreTokenizer {
    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool { scalar == "\r" || scalar == "\n" }

    /// The ASCII lowercase of `scalar` (the contractions' case-insensitive match).
    static func lowercased(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
    }

    /// The pieces of `text`, in order; concatenated they give `text` back. `maxDigits` is 3 for
    /// Llama 3 and 1 for Qwen2.
    static func pieces(_ text: Substring, maxDigits: Int) -> [Substring] {
        let scalars = Array(text.unicodeScalars)
        let kinds = scalars.map(PreTokenizer.kind)
        let n = scalars.count
        var bounds: [Int] = []  // end offsets (in scalars) of each piece
        var i = 0
        while i < n {
            i = pieceEnd(from: i, scalars: scalars, kinds: kinds, maxDigits: maxDigits)
            bounds.append(i)
        }
        return PreTokenizer.cut(text, at: bounds)
    }

    /// Where the piece that starts at `i` ends (exclusive; always after `i`).
    static func pieceEnd(from i: Int, scalars: [Unicode.Scalar], kinds: [PreTokenizer.Kind], maxDigits: Int) -> Int {
        let n = scalars.count
        func run(of kind: PreTokenizer.Kind, from start: Int) -> Int {
            var j = start
            while j < n && kinds[j] == kind { j += 1 }
            return j
        }
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if scalars[i] == "'" {
            for c in PreTokenizer.contractions where i + 1 + c.count <= n {
                if (0..<c.count).allSatisfy({ lowercased(scalars[i + 1 + $0]) == c[$0] }) { return i + 1 + c.count }
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if kinds[i] == .letter { return run(of: .letter, from: i) }
        if kinds[i] != .number && !isLineBreak(scalars[i]) && i + 1 < n && kinds[i + 1] == .letter { return run(of: .letter, from: i + 1) }
        // \p{N}{1,maxDigits}
        if kinds[i] == .number {
            var j = i + 1
            while j < n && j - i < maxDigits && kinds[j] == .number { j += 1 }
            return j
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        let symbolStart = scalars[i] == " " && i + 1 < n && kinds[i + 1] == .other ? i + 1 : i
        if kinds[symbolStart] == .other {
            var j = run(of: .other, from: symbolStart)
            while j < n && isLineBreak(scalars[j]) { j += 1 }
            return j
        }
        // Whitespace from here on: \s*[\r\n]+ ends after the run's last line break.
        let end = run(of: .space, from: i)
        if let lastBreak = (i..<end).last(where: { isLineBreak(scalars[$0]) }) { return lastBreak + 1 }
        // \s+(?!\S), then \s+
        if end < n && end - i >= 2 { return end - 1 }
        return end
    }
}
