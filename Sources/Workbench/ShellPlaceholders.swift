/// How a `{{name}}` placeholder reaches an `sh` block (docs/workbook-format.md, "Parameters in sh
/// blocks"): never as text. The value goes into the shell's environment as `CALREC_P_<name>`, and
/// the placeholder is rewritten into an expansion of that variable, so the script the shell parses
/// holds only variable names that the workbook author wrote. Whatever characters a value has, the
/// shell never reads it as syntax: the result of a parameter expansion is not parsed again.
///
/// The expansion is chosen by where the placeholder stands, so the command receives exactly the
/// value: `"${CALREC_P_name}"` where a word is expected (a bare word, part of a path, inside `$(…)`
/// or backquotes: one word, no splitting, no globbing), `${CALREC_P_name}` inside `"…"` and in the
/// body of a here-document with an unquoted delimiter. Where no expansion can give the literal
/// value, the block is refused before anything runs, with the line and a suggested rewrite:
/// inside `'…'` and in a here-document with a quoted delimiter (the shell expands nothing there,
/// and such text is usually a program for another interpreter — `sh -c '…'`, `awk '…'`,
/// `python3 - <<'EOF'`), inside `${…}` and `$((…))`, and right after `\` or `$`.
public enum ShellPlaceholders {
    /// The prefix of the environment variables that carry parameters into `sh` blocks.
    public static let environmentPrefix = "CALREC_P_"

    /// The environment variable that carries parameter `name`.
    public static func variable(_ name: String) -> String { environmentPrefix + name }

    /// Whether `name` can be a parameter: it must make a valid shell variable name after the prefix.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !(first >= "0" && first <= "9") else { return false }
        return name.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
    }

    /// A placeholder the block cannot take: where it stands (0-based line within the block) and why.
    public struct Refusal: Error, Equatable {
        public var line: Int
        public var message: String
    }

    /// The parameters a script uses: those named by a placeholder and those whose variable
    /// (`CALREC_P_name`) the script names itself. They are what the block's environment and cache
    /// key receive.
    public static func parametersUsed(in script: String, among names: [String]) -> [String] {
        let referenced = Set(ParameterSubstitution.references(in: script))
        return names.filter { referenced.contains($0) || script.contains(variable($0)) }
    }

    /// `script` with every placeholder rewritten into an expansion of its variable.
    public static func rewrite(_ script: String) throws -> String {
        var lexer = ShellLexer(Array(script.unicodeScalars))
        return try lexer.run()
    }
}

/// A small lexer of POSIX shell quoting, enough to know the context of each placeholder: quotes,
/// backslashes, comments, `$(…)`, backquotes, `${…}`, `$((…))` and here-documents. It only decides
/// which expansion a placeholder becomes; the values never pass through it.
struct ShellLexer {
    private enum Frame {
        case top
        case doubleQuoted
        case commandSubstitution(parentheses: Int)
        case backquoted
        case parameterExpansion(braces: Int)
        case arithmetic(parentheses: Int)
        case hereDocument(delimiter: [Unicode.Scalar], stripsTabs: Bool)
    }

    private struct PendingHereDocument {
        var delimiter: [Unicode.Scalar]
        var stripsTabs: Bool
        var quoted: Bool
    }

    private let text: [Unicode.Scalar]
    /// Start offset → end offset (exclusive) and name of each placeholder, found as
    /// `ParameterSubstitution.references` finds them.
    private let placeholders: [Int: (end: Int, name: String)]
    private var out = String.UnicodeScalarView()
    private var frames: [Frame] = [.top]
    private var pending: [PendingHereDocument] = []
    private var i = 0

    init(_ text: [Unicode.Scalar]) {
        self.text = text
        var found: [Int: (end: Int, name: String)] = [:]
        var j = 0
        while j + 1 < text.count {
            if text[j] == "{" && text[j + 1] == "{", let close = Self.find(["}", "}"], in: text, from: j + 2) {
                let name = String(String.UnicodeScalarView(text[(j + 2)..<close])).trimmingCharacters(in: .whitespaces)
                found[j] = (close + 2, name)
                j = close + 2
            } else {
                j += 1
            }
        }
        placeholders = found
    }

    private static func find(_ needle: [Unicode.Scalar], in text: [Unicode.Scalar], from start: Int) -> Int? {
        var k = start
        while k + needle.count <= text.count {
            if Array(text[k..<(k + needle.count)]) == needle { return k }
            k += 1
        }
        return nil
    }

    private func at(_ k: Int) -> Unicode.Scalar? { k < text.count ? text[k] : nil }

    private func line(of offset: Int) -> Int { text[..<min(offset, text.count)].filter { $0 == "\n" }.count }

    private func refuse(_ offset: Int, _ message: String) -> ShellPlaceholders.Refusal {
        .init(line: line(of: offset), message: message)
    }

    private func name(at offset: Int) -> String { placeholders[offset]?.name ?? "name" }

    /// Copies `count` scalars; a placeholder starting inside the copied stretch (after its first
    /// scalar) would be swallowed by the token, so it is refused with `why`.
    private mutating func copy(_ count: Int, why: String) throws {
        let end = min(i + count, text.count)
        if let inside = ((i + 1)..<max(i + 1, end)).first(where: { placeholders[$0] != nil }) {
            throw refuse(inside, "the placeholder {{\(name(at: inside))}} stands right after '\(String(String.UnicodeScalarView(text[i..<inside])))' \(why)")
        }
        out.append(contentsOf: text[i..<end])
        i = end
    }

    /// Copies the current scalar.
    private mutating func pass() {
        out.append(text[i])
        i += 1
    }

    /// Copies the current scalar, which opens `frame`.
    private mutating func enter(_ frame: Frame) {
        pass()
        frames.append(frame)
    }

    private static func isBlank(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }
    private static func isOperator(_ c: Unicode.Scalar) -> Bool { ";&|()<>".unicodeScalars.contains(c) }

    private var wordStarts: Bool {
        guard let previous = out.last else { return true }
        return Self.isBlank(previous) || previous == "\n" || Self.isOperator(previous)
    }

    mutating func run() throws -> String {
        while i < text.count { try step() }
        return String(out)
    }

    /// One token: a placeholder, or whatever the innermost context reads next.
    private mutating func step() throws {
        if let placeholder = placeholders[i] {
            try substitute(placeholder.name, end: placeholder.end)
            return
        }
        switch frames.last! {
        case .top, .commandSubstitution, .backquoted:
            try command()
        case .parameterExpansion, .arithmetic:
            try expansion()
        case .doubleQuoted:
            try quoted(closesOnQuote: true)
        case .hereDocument(let delimiter, let stripsTabs):
            if atLineStart, try endsHereDocument(delimiter, stripsTabs: stripsTabs) { return }
            try quoted(closesOnQuote: false)
        }
    }

    private var atLineStart: Bool { i == 0 || text[i - 1] == "\n" }

    private mutating func substitute(_ name: String, end: Int) throws {
        let variable = "${\(ShellPlaceholders.variable(name))}"
        switch frames.last! {
        case .top, .commandSubstitution, .backquoted:
            out.append(contentsOf: "\"\(variable)\"".unicodeScalars)
        case .doubleQuoted, .hereDocument:
            out.append(contentsOf: variable.unicodeScalars)
        case .parameterExpansion:
            throw refuse(
                i, "the placeholder {{\(name)}} stands inside ${…}; use the variable there instead: ${other:-$\(ShellPlaceholders.variable(name))}")
        case .arithmetic:
            throw refuse(
                i,
                "the placeholder {{\(name)}} stands inside $((…)), where its value would be evaluated as an expression; "
                    + "check it first and use the variable: case \"$\(ShellPlaceholders.variable(name))\" in (''|*[!0-9]*) exit 2;; esac; "
                    + "then $(( \(ShellPlaceholders.variable(name)) + 1 ))")
        }
        i = end
    }

    /// One step in a context where words and commands are parsed (the top level, `$(…)`, backquotes).
    private mutating func command() throws {
        let c = text[i]
        switch c {
        case "\\":
            try copy(2, why: "(a backslash before it would be taken literally); remove the backslash")
        case "'":
            try singleQuoted()
        case "\"":
            enter(.doubleQuoted)
        case "$":
            try dollar()
        case "`":
            pass()
            if case .backquoted = frames.last! { frames.removeLast() } else { frames.append(.backquoted) }
        case "(":
            if case .commandSubstitution(let depth) = frames.last! { frames[frames.count - 1] = .commandSubstitution(parentheses: depth + 1) }
            pass()
        case ")":
            if case .commandSubstitution(let depth) = frames.last! {
                if depth == 0 { frames.removeLast() } else { frames[frames.count - 1] = .commandSubstitution(parentheses: depth - 1) }
            }
            pass()
        case "#" where wordStarts:
            // A comment: copied as it is; nothing in it runs.
            while i < text.count && text[i] != "\n" {
                pass()
            }
        case "<" where at(i + 1) == "<" && at(i + 2) != "<":
            try hereDocumentOperator()
        case "<" where at(i + 1) == "<":
            try copy(3, why: "")
        case "\n":
            pass()
            try hereDocumentBodies()
        default:
            pass()
        }
    }

    /// `$` in a word: `$(`, `$((`, `${`, `$'…'`, or a plain parameter.
    private mutating func dollar() throws {
        if placeholders[i + 1] != nil {
            throw refuse(i + 1, "the placeholder {{\(name(at: i + 1))}} stands right after '$'; remove the '$'")
        }
        switch at(i + 1) {
        case "(" where at(i + 2) == "(":
            try copy(3, why: "")
            frames.append(.arithmetic(parentheses: 0))
        case "(":
            try copy(2, why: "")
            frames.append(.commandSubstitution(parentheses: 0))
        case "{":
            try copy(2, why: "")
            frames.append(.parameterExpansion(braces: 0))
        case "'" where parsesCommands:
            pass()
            try singleQuoted(ansiC: true)
        default:
            pass()
        }
    }

    private var parsesCommands: Bool {
        switch frames.last! {
        case .top, .commandSubstitution, .backquoted: return true
        default: return false
        }
    }

    /// `'…'`: copied as it is; a placeholder inside is refused.
    private mutating func singleQuoted(ansiC: Bool = false) throws {
        let start = i
        var end = i + 1
        while end < text.count && text[end] != "'" {
            if ansiC && text[end] == "\\" { end += 1 }  // $'…' has backslash escapes
            end += 1
        }
        end = min(end + 1, text.count)
        if let inside = (start..<end).first(where: { placeholders[$0] != nil }) {
            let name = self.name(at: inside)
            throw refuse(
                inside,
                "the placeholder {{\(name)}} stands inside '…', where the shell expands nothing; write it outside the single quotes "
                    + "or inside double quotes (\"… {{\(name)}} …\"). If the quoted text is a program for another interpreter "
                    + "(sh -c, awk, python3 -c), pass the value as an argument (sh -c '…\"$1\"…' sh {{\(name)}}) or read the environment "
                    + "variable \(ShellPlaceholders.variable(name)) in that program")
        }
        out.append(contentsOf: text[start..<end])
        i = end
    }

    /// Inside `${…}` or `$((…))`: quotes and nested expansions are followed until the closing brace or parentheses.
    private mutating func expansion() throws {
        let c = text[i]
        switch (frames.last!, c) {
        case (.parameterExpansion(let depth), "}"):
            if depth == 0 { frames.removeLast() } else { frames[frames.count - 1] = .parameterExpansion(braces: depth - 1) }
            pass()
        case (.parameterExpansion(let depth), "{"):
            frames[frames.count - 1] = .parameterExpansion(braces: depth + 1)
            pass()
        case (.arithmetic(let depth), "("):
            frames[frames.count - 1] = .arithmetic(parentheses: depth + 1)
            pass()
        case (.arithmetic(let depth), ")"):
            if depth == 0 && at(i + 1) == ")" {
                frames.removeLast()
                try copy(2, why: "")
            } else {
                frames[frames.count - 1] = .arithmetic(parentheses: max(0, depth - 1))
                pass()
            }
        case (_, "\\"):
            try copy(2, why: "(a backslash before it would be taken literally); remove the backslash")
        case (_, "'"):
            try singleQuoted()
        case (_, "\""):
            enter(.doubleQuoted)
        case (_, "$"):
            try dollar()
        case (_, "`"):
            enter(.backquoted)
        default:
            pass()
        }
    }

    /// Inside `"…"` (or the body of a here-document with an unquoted delimiter, where `"` is plain text).
    private mutating func quoted(closesOnQuote: Bool) throws {
        let c = text[i]
        switch c {
        case "\"" where closesOnQuote:
            frames.removeLast()
            pass()
        case "\\":
            try copy(2, why: "(the backslash would escape the expansion's '$'); remove the backslash")
        case "$":
            try dollar()
        case "`":
            enter(.backquoted)
        case "\n" where !closesOnQuote:
            pass()
        default:
            pass()
        }
    }

    /// `<<` or `<<-` and the delimiter word: the body starts after the end of this line.
    private mutating func hereDocumentOperator() throws {
        try copy(2, why: "")
        var stripsTabs = false
        if at(i) == "-" {
            stripsTabs = true
            out.append("-")
            i += 1
        }
        while let c = at(i), Self.isBlank(c) {
            pass()
        }
        var delimiter: [Unicode.Scalar] = []
        var quoted = false
        var quote: Unicode.Scalar?
        while let c = at(i) {
            if placeholders[i] != nil {
                throw refuse(i, "the placeholder {{\(name(at: i))}} stands in a here-document's delimiter; write the delimiter literally")
            }
            if let q = quote {
                if c == q { quote = nil } else { delimiter.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                quoted = true
            } else if c == "\\" {
                quoted = true
                if let next = at(i + 1) {
                    delimiter.append(next)
                    pass()
                    out.append(next)
                    i += 1
                    continue
                }
            } else if Self.isBlank(c) || c == "\n" || Self.isOperator(c) {
                break
            } else {
                delimiter.append(c)
            }
            pass()
        }
        pending.append(PendingHereDocument(delimiter: delimiter, stripsTabs: stripsTabs, quoted: quoted))
    }

    /// After a newline: the bodies of the here-documents opened on the line just ended.
    private mutating func hereDocumentBodies() throws {
        guard !pending.isEmpty else { return }
        let documents = pending
        pending.removeAll()
        for document in documents {
            if document.quoted {
                try quotedHereDocumentBody(document)
            } else {
                // Lexed like the inside of "…" until the delimiter line; a later body follows it.
                frames.append(.hereDocument(delimiter: document.delimiter, stripsTabs: document.stripsTabs))
                let depth = frames.count
                while i < text.count && frames.count >= depth { try step() }
            }
        }
    }

    /// At a line start inside a here-document: whether this line is the delimiter (then it is
    /// copied and the here-document's frame is closed).
    private mutating func endsHereDocument(_ delimiter: [Unicode.Scalar], stripsTabs: Bool) throws -> Bool {
        var k = i
        if stripsTabs { while at(k) == "\t" { k += 1 } }
        var end = k
        while end < text.count && text[end] != "\n" { end += 1 }
        guard Array(text[k..<end]) == delimiter else { return false }
        out.append(contentsOf: text[i..<end])
        i = end
        if i < text.count {
            out.append("\n")
            i += 1
        }
        frames.removeLast()
        return true
    }

    /// The body of a here-document with a quoted delimiter: copied as it is; placeholders are refused.
    private mutating func quotedHereDocumentBody(_ document: PendingHereDocument) throws {
        while i < text.count {
            var k = i
            if document.stripsTabs { while at(k) == "\t" { k += 1 } }
            var end = k
            while end < text.count && text[end] != "\n" { end += 1 }
            let isDelimiter = Array(text[k..<end]) == document.delimiter
            if !isDelimiter, let inside = (i..<end).first(where: { placeholders[$0] != nil }) {
                let name = self.name(at: inside)
                let word = String(String.UnicodeScalarView(document.delimiter))
                throw refuse(
                    inside,
                    "the placeholder {{\(name)}} stands in a here-document with a quoted delimiter (<<'\(word)'), where the shell expands nothing; "
                        + "if the body is plain text, unquote the delimiter (<<\(word)); if it is a program for another interpreter, "
                        + "read the environment variable \(ShellPlaceholders.variable(name)) there (\"$\(ShellPlaceholders.variable(name))\", "
                        + "os.environ['\(ShellPlaceholders.variable(name))'])")
            }
            out.append(contentsOf: text[i..<end])
            i = end
            if i < text.count {
                out.append("\n")
                i += 1
            }
            if isDelimiter { return }
        }
    }
}
