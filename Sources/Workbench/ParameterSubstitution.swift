/// `{{name}}` substitution into command blocks (docs/workbook-format.md): `calrec` blocks are first
/// split into arguments (no shell) and values are then substituted inside an argument, so a value
/// can never become more than the argument it stands in; `sh` blocks never see a value as text
/// (`ShellPlaceholders`: values travel in the environment).
public enum ParameterSubstitution {
    /// Every `{{name}}` in `scalars`, in order: the offsets of its first and past its last scalar,
    /// and the name with surrounding blanks trimmed. Found on Unicode scalars — not Characters,
    /// which would glue a combining mark to a brace — so every reader of placeholders (validation,
    /// the calrec split, the sh lexer) sees the same ones.
    static func placeholders(in scalars: [Unicode.Scalar]) -> [(start: Int, end: Int, name: String)] {
        var found: [(start: Int, end: Int, name: String)] = []
        var j = 0
        while j + 1 < scalars.count {
            guard scalars[j] == "{" && scalars[j + 1] == "{" else {
                j += 1
                continue
            }
            var close = j + 2
            while close + 1 < scalars.count && !(scalars[close] == "}" && scalars[close + 1] == "}") { close += 1 }
            guard close + 1 < scalars.count else { break }
            let name = String(String.UnicodeScalarView(scalars[(j + 2)..<close])).trimmingCharacters(in: .whitespaces)
            found.append((j, close + 2, name))
            j = close + 2
        }
        return found
    }

    /// The parameter names referenced in `text`, in order (`{{ name }}` may have spaces inside).
    public static func references(in text: String) -> [String] {
        placeholders(in: Array(text.unicodeScalars)).map(\.name)
    }

    /// Replaces every `{{name}}` in `text` with `transform(value)`.
    static func replace(_ text: String, _ values: [String: String], transform: (String) -> String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var copied = 0
        for placeholder in placeholders(in: scalars) {
            out.append(contentsOf: scalars[copied..<placeholder.start])
            if let value = values[placeholder.name] {
                out.append(contentsOf: transform(value).unicodeScalars)
            } else {
                out.append(contentsOf: scalars[placeholder.start..<placeholder.end])
            }
            copied = placeholder.end
        }
        out.append(contentsOf: scalars[copied...])
        return String(out)
    }

    /// POSIX shell single-quoting, for displaying commands: `it's` → `'it'\''s'`.
    public static func shellQuote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A `calrec` block's commands: one per line (a trailing `\` continues a line; blank lines and
    /// lines starting with `#` are skipped), each split into arguments like a shell would split
    /// words — whitespace separates, '…' and "…" group, `\` escapes the next character — but with no
    /// expansion of any kind. Values are substituted after the split.
    public static func calrecCommands(_ text: String, _ values: [String: String]) throws -> [[String]] {
        var logical: [String] = []
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
            } else {
                logical.append(pending + line)
                pending = ""
            }
        }
        if !pending.isEmpty { logical.append(pending) }
        return try logical.compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
            var words = try split(trimmed).map { replace($0, values, transform: { $0 }) }
            if words.first == "calrec" { words.removeFirst() }
            return words
        }
    }

    enum SplitError: Error, Equatable { case unterminatedQuote }

    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in line {
            if escaped {
                current.append(c)
                escaped = false
            } else if let q = quote {
                if c == q { quote = nil } else if c == "\\" && q == "\"" { escaped = true } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == "\\" {
                escaped = true
                inWord = true
            } else if c == " " || c == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        if quote != nil || escaped { throw SplitError.unterminatedQuote }
        if inWord { words.append(current) }
        return words
    }
}
