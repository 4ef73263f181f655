/// `{{name}}` substitution into command blocks (docs/workbook-format.md): `calrec` blocks are first
/// split into arguments (no shell) and values are then substituted inside an argument, so a value
/// can never become more than the argument it stands in; `sh` blocks never see a value as text
/// (`ShellPlaceholders`: values travel in the environment).
public enum ParameterSubstitution {
    /// The parameter names referenced in `text`, in order (`{{ name }}` may have spaces inside).
    public static func references(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            names.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// Replaces every `{{name}}` in `text` with `transform(value)`.
    static func replace(_ text: String, _ values: [String: String], transform: (String) -> String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            out += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            out += values[name].map(transform) ?? String(rest[open.lowerBound..<close.upperBound])
            rest = rest[close.upperBound...]
        }
        return out + rest
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
