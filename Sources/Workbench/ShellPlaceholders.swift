/// How a `{{name}}` placeholder reaches an `sh` block (docs/workbook-format.md, "Parameters in sh
/// blocks"): never as text. The value goes into the shell's environment as `CALREC_P_<name>`, and
/// the placeholder is rewritten into an expansion of that variable, so the script the shell parses
/// holds only variable names that the workbook author wrote. Whatever characters a value has, the
/// shell never reads it as syntax: the result of a parameter expansion is not parsed again.
///
/// The expansion depends on where the placeholder stands, and is made only where that is certain:
/// `"${CALREC_P_name}"` in a word of a command (at the top level or inside `$(…)`: one word, no
/// splitting, no globbing) and `${CALREC_P_name}` directly inside such a command's `"…"`. Anywhere
/// else — inside `'…'`, backquotes, a here-document, `${…}`, arithmetic (`$((…))`, `((…))`, `$[…]`,
/// `[[…]]`, `name[…]`), a command that evaluates its arguments as code (`eval`, `trap`, `let`,
/// `declare`, `typeset`, `local`), right after `\` or `$`, or anywhere after a construct this lexer
/// does not model exactly (`$'…'`, `$"…"`, `case` inside `$(…)`) — the block is refused before
/// anything runs, with the line and the expansion to write instead. The lexer errs only towards
/// refusing.
public enum ShellPlaceholders {
    /// The prefix of the environment variables that carry parameters into `sh` blocks.
    public static let environmentPrefix = "CALREC_P_"

    /// The environment variable that carries parameter `name`.
    public static func variable(_ name: String) -> String { environmentPrefix + name }

    /// Whether `name` can be a parameter: it must make a valid shell variable name after the prefix.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy(ShellLexer.isNameCharacter)
    }

    /// A placeholder the block cannot take: where it stands (0-based line within the block) and why.
    public struct Refusal: Error, Equatable {
        public var line: Int
        public var message: String
    }

    /// The parameters a script uses: those named by a placeholder and those whose variable
    /// (`CALREC_P_name`, as a whole name) the script names itself. They are what the block's
    /// environment and cache key receive.
    public static func parametersUsed(in script: String, among names: [String]) -> [String] {
        let referenced = Set(ParameterSubstitution.references(in: script))
        let named = ShellLexer.variableNames(in: script, prefix: environmentPrefix)
        return names.filter { referenced.contains($0) || named.contains(variable($0)) }
    }

    /// `script` with every placeholder rewritten into an expansion of its variable.
    public static func rewrite(_ script: String) throws -> String {
        var lexer = ShellLexer(Array(script.unicodeScalars))
        return try lexer.run()
    }
}

/// A small lexer of POSIX shell quoting, enough to know where each placeholder stands. It only
/// decides which expansion a placeholder becomes; the values never pass through it.
struct ShellLexer {
    private enum Frame: Equatable {
        case top
        case commandSubstitution(parentheses: Int)
        case doubleQuoted
        case parameterExpansion(braces: Int)
        /// `$((…))` and bash's `((…))` (where `;` separates the parts of `for ((…; …; …))`).
        case arithmetic(parentheses: Int, commands: Bool)
        /// bash's `$[…]` (closed by `]`, counting nested brackets) and `[[…]]` (closed by the word `]]`).
        case bracketed(closer: String, depth: Int)

        var parsesCommands: Bool {
            switch self {
            case .top, .commandSubstitution: return true
            default: return false
            }
        }
    }

    /// The state of the simple command being read.
    private struct CommandState {
        /// Where the word being read began (to recognise `case` and command names).
        var wordStart: Int?
        /// Whether the next word is a command's name (after keywords, assignments, `command`, `exec`).
        var commandNameNext = true
        /// Why the rest of the command cannot take a placeholder (`eval …`, a computed command name).
        var evaluating: String?
        /// Whether the current word has an unquoted `[` (a bash array subscript).
        var subscriptInWord = false
        /// Whether the next word is the target of a redirection (`> file`), not a command's name.
        var redirectionTargetNext = false
        /// The name of the command, once known, and whether its next word is a variable name.
        var currentCommand: String?
        var nameArgumentNext = false
        /// The last prefix read before the command's name (`time`, `exec`, …), and whether the next
        /// word is a prefix's option argument (`exec -a name`).
        var lastPrefix: String?
        var skipPrefixArgument = false

        init(evaluating: String? = nil) { self.evaluating = evaluating }
    }

    private struct PendingHereDocument {
        /// How many frames were open at the `<<`: its body starts after a newline at that depth.
        var depth: Int
        var delimiter: [Unicode.Scalar]
        var stripsTabs: Bool
        var quoted: Bool
    }

    /// Commands that evaluate their arguments as shell code or arithmetic.
    /// (`alias`, `.` and `source` run text later; in bash, the others evaluate subscripts of names.)
    private static let evaluatingCommands: Set<String> = [
        "eval", "trap", "alias", ".", "source", "let", "unset", "getopts", "mapfile", "readarray",
    ]
    /// Commands whose arguments are variable names (`name` or `name=value`): a placeholder may stand
    /// after the `=`, not in the name (bash evaluates a subscript there).
    private static let declaringCommands: Set<String> = ["declare", "typeset", "local", "readonly", "export", "read"]
    /// Commands whose option `-v` (or `wait -p`) takes a variable name.
    private static let nameOptionCommands: Set<String> = ["printf", "test", "[", "[[", "wait"]

    private let text: [Unicode.Scalar]
    /// Start offset → end offset (exclusive) and name of each placeholder, found as
    /// `ParameterSubstitution.references` finds them.
    private let placeholders: [Int: (end: Int, name: String)]
    private var out = String.UnicodeScalarView()
    private var frames: [Frame] = [.top]
    private var pending: [PendingHereDocument] = []
    private var i = 0
    /// Whether the next scalar starts a word (where `#` starts a comment).
    private var wordStarts = true
    /// What is known of the simple command being read; each open `$(…)` has its own, and the
    /// enclosing command's waits on `enclosing` (with what the substitution's commands inherit).
    private var state = CommandState()
    private var enclosing: [(state: CommandState, inherited: String?)] = []
    /// Set by a construct the lexer does not model exactly: every later placeholder is refused.
    private var uncertain: (offset: Int, what: String)?

    init(_ text: [Unicode.Scalar]) {
        self.text = text
        placeholders = Dictionary(uniqueKeysWithValues: ParameterSubstitution.placeholders(in: text).map { ($0.start, ($0.end, $0.name)) })
    }

    static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_"
    }

    /// Whole variable names in `script` that start with `prefix`.
    static func variableNames(in script: String, prefix: String) -> Set<String> {
        let scalars = Array(script.unicodeScalars)
        let needle = Array(prefix.unicodeScalars)
        var names = Set<String>()
        var j = 0
        while let start = find(needle, in: scalars, from: j) {
            var end = start + needle.count
            while end < scalars.count && isNameCharacter(scalars[end]) { end += 1 }
            if start == 0 || !isNameCharacter(scalars[start - 1]) {
                names.insert(String(String.UnicodeScalarView(scalars[start..<end])))
            }
            j = end
        }
        return names
    }

    private static func find(_ needle: [Unicode.Scalar], in text: [Unicode.Scalar], from start: Int) -> Int? {
        var k = start
        while k + needle.count <= text.count {
            if text[k..<(k + needle.count)].elementsEqual(needle) { return k }
            k += 1
        }
        return nil
    }

    private func at(_ k: Int) -> Unicode.Scalar? { k < text.count ? text[k] : nil }

    /// The offset of the first scalar at or after `k` that is not a line continuation (`\` + newline),
    /// which the shell removes before it reads tokens outside single quotes.
    private func logical(_ k: Int) -> Int {
        var k = k
        while at(k) == "\\" && at(k + 1) == "\n" { k += 2 }
        return k
    }

    /// The end (exclusive) of `token` read from `start` across line continuations, or nil.
    private func match(_ token: String, at start: Int) -> Int? {
        var k = start
        for (n, c) in token.unicodeScalars.enumerated() {
            if n > 0 { k = logical(k) }
            guard at(k) == c else { return nil }
            k += 1
        }
        return k
    }

    private func line(of offset: Int) -> Int { text[..<min(offset, text.count)].filter { $0 == "\n" }.count }

    private func refuse(_ offset: Int, _ message: String) -> ShellPlaceholders.Refusal {
        .init(line: line(of: offset), message: message)
    }

    private func name(at offset: Int) -> String { placeholders[offset]?.name ?? "name" }

    private func variable(at offset: Int) -> String { ShellPlaceholders.variable(name(at: offset)) }

    /// Refuses the first placeholder in `range`, if any, for `reason` (which the placeholder's
    /// name and variable complete).
    private func refusePlaceholders(in range: Range<Int>, _ reason: (_ name: String, _ variable: String) -> String) throws {
        if let inside = range.clamped(to: 0..<text.count).first(where: { placeholders[$0] != nil }) {
            throw refuse(inside, reason(name(at: inside), variable(at: inside)))
        }
    }

    /// At a `\`: a placeholder right after it would have its expansion's `$` escaped.
    private func refusePlaceholderAfterBackslash() throws {
        try refusePlaceholders(in: (i + 1)..<(i + 2)) { name, _ in
            "the placeholder {{\(name)}} stands right after '\\', which would make its expansion literal text; remove the backslash"
        }
    }

    /// Copies up to `end`; a placeholder inside the stretch after its first scalar would be
    /// swallowed by the token being copied, so it is refused.
    private mutating func copy(to end: Int) throws {
        let end = min(end, text.count)
        try refusePlaceholders(in: (i + 1)..<max(i + 1, end)) { name, _ in
            "the placeholder {{\(name)}} stands inside the token '\(String(String.UnicodeScalarView(text[i..<end])))'; write it as a separate word"
        }
        out.append(contentsOf: text[i..<end])
        i = end
    }

    private mutating func pass() {
        out.append(text[i])
        i += 1
    }

    private mutating func markUncertain(_ what: String) {
        if uncertain == nil { uncertain = (i, what) }
    }

    private static func isBlank(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }
    private static func isOperator(_ c: Unicode.Scalar) -> Bool { ";&|()<>".unicodeScalars.contains(c) }

    mutating func run() throws -> String {
        while i < text.count { try step() }
        return String(out)
    }

    /// One token: a placeholder, a line continuation, or whatever the innermost context reads next.
    private mutating func step() throws {
        if let placeholder = placeholders[i] {
            try substitute(placeholder.name, end: placeholder.end)
            return
        }
        if text[i] == "\\" && at(i + 1) == "\n" {
            // A line continuation vanishes before the shell reads tokens: nothing changes.
            out.append(contentsOf: text[i..<(i + 2)])
            i += 2
            return
        }
        switch frames.last! {
        case .top, .commandSubstitution: try command()
        case .doubleQuoted: try doubleQuoted()
        case .parameterExpansion, .arithmetic, .bracketed: try expansion()
        }
    }

    private mutating func substitute(_ name: String, end: Int) throws {
        let variable = ShellPlaceholders.variable(name)
        if let uncertain {
            throw refuse(
                i,
                "calrec cannot tell where the placeholder {{\(name)}} stands after \(uncertain.what) on line \(line(of: uncertain.offset) + 1) "
                    + "of the block; write the expansion yourself: \"$\(variable)\" where a word is expected, $\(variable) inside \"…\"")
        }
        if let why = state.subscriptInWord ? "a subscript name[…]" : state.evaluating {
            throw refuse(
                i,
                "the placeholder {{\(name)}} stands in \(why), which would evaluate its value as code or arithmetic; "
                    + "check the value first and use \"$\(variable)\" in a plain command")
        }
        let frame = frames.last!
        let parent = frames.count >= 2 ? frames[frames.count - 2] : nil
        if frame.parsesCommands || (frame == .doubleQuoted && parent?.parsesCommands == true), inVariableName {
            throw refuse(
                i, "the placeholder {{\(name)}} stands in a variable's name (of '\(state.currentCommand ?? "")'), where bash evaluates a subscript; "
                    + "name the variable in the workbook and give the value after '='")
        }
        if frame.parsesCommands || (frame == .doubleQuoted && parent?.parsesCommands == true), inCommandName {
            throw refuse(
                i, "the placeholder {{\(name)}} stands in the name of the command that runs, so its value would choose what runs; "
                    + "name the command in the workbook and pass the value as an argument")
        }
        switch frame {
        case .top, .commandSubstitution:
            out.append(contentsOf: "\"${\(variable)}\"".unicodeScalars)
        case .doubleQuoted where parent?.parsesCommands == true:
            out.append(contentsOf: "${\(variable)}".unicodeScalars)
        case .doubleQuoted:
            throw refuse(i, "the placeholder {{\(name)}} stands in \"…\" inside ${…} or arithmetic; use $\(variable) there yourself")
        case .parameterExpansion:
            throw refuse(i, "the placeholder {{\(name)}} stands inside ${…}; use the variable there instead: ${other:-$\(variable)}")
        case .arithmetic, .bracketed:
            throw refuse(
                i,
                "the placeholder {{\(name)}} stands in an arithmetic expression or test, where its value would be evaluated; "
                    + "check it first and use the variable: case \"$\(variable)\" in (''|*[!0-9]*) exit 2;; esac")
        }
        if state.wordStart == nil { state.wordStart = i }
        i = end
        wordStarts = false
    }

    /// Keywords and prefixes after which the next word is still a command's name.
    private static let commandPrefixes: Set<String> = [
        "if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "command", "builtin", "exec", "nohup", "coproc",
    ]
    /// Prefixes whose options (`time -p`, `command -p`, `exec -a name`) come before the command's name.
    private static let prefixesWithOptions: Set<String> = ["time", "command", "exec"]

    /// Ends the word being read (before a blank, newline or operator).
    private mutating func endWord() {
        defer {
            state.wordStart = nil
            state.subscriptInWord = false
        }
        guard let start = state.wordStart else { return }
        let raw = String(String.UnicodeScalarView(text[start..<i]))
        let value = raw.replacingOccurrences(of: "\\\n", with: "").filter { $0 != "'" && $0 != "\"" && $0 != "\\" }
        if raw == "case", frames.contains(where: { if case .commandSubstitution = $0 { return true } else { return false } }) {
            markUncertain("'case' inside $(…)")
        }
        if state.redirectionTargetNext {
            state.redirectionTargetNext = false
            return
        }
        if let command = state.currentCommand, !state.commandNameNext {
            // An argument: `-v` of printf/test/wait (`-p`) makes the next one a variable name;
            // an option of declare & co. may set an attribute (-i, -n, -u) that changes later assignments.
            state.nameArgumentNext = Self.nameOptionCommands.contains(command) && (value == "-v" || (command == "wait" && value == "-p"))
            if Self.declaringCommands.contains(command), value.hasPrefix("-"), command != "read" { markUncertain("'\(command) \(value)'") }
            return
        }
        guard state.commandNameNext else { return }
        if Self.commandPrefixes.contains(value) {
            state.lastPrefix = value
            return
        }
        if let prefix = state.lastPrefix, Self.prefixesWithOptions.contains(prefix), value.hasPrefix("-") {
            if prefix == "exec" && value == "-a" { state.skipPrefixArgument = true }
            return
        }
        if state.skipPrefixArgument {
            state.skipPrefixArgument = false
            return
        }
        if let equals = raw.firstIndex(of: "="), raw[..<equals].unicodeScalars.allSatisfy(Self.isNameCharacter), equals != raw.startIndex {
            return  // an assignment before the command
        }
        state.commandNameNext = false
        state.lastPrefix = nil
        state.currentCommand = value
        if Self.evaluatingCommands.contains(value) {
            state.evaluating = "the '\(value)' command"
        } else if raw.contains("$") || raw.contains("`") || placeholders.keys.contains(where: { $0 >= start && $0 < i }) {
            state.evaluating = "a command whose name is computed"
        }
        if value == "alias" { markUncertain("an alias definition") }
    }

    /// Ends a simple command (newline, `;`, `&`, `|`, parentheses).
    private mutating func endCommand() {
        endWord()
        // Inside `$(…)`, what the enclosing command evaluates (its output) stays evaluated.
        state = CommandState(evaluating: enclosing.last?.inherited ?? nil)
    }

    /// Whether the word being read names a variable: an argument of `declare` & co. before its `=`,
    /// or the argument of `-v`.
    private var inVariableName: Bool {
        guard !state.redirectionTargetNext, !state.commandNameNext, let command = state.currentCommand else { return false }
        if state.nameArgumentNext { return true }
        guard Self.declaringCommands.contains(command) else { return false }
        guard let start = state.wordStart else { return true }
        return !text[start..<i].contains("=")
    }

    /// Whether the word being read is the name of the command that runs (not an assignment before it).
    private var inCommandName: Bool {
        guard state.commandNameNext, !state.redirectionTargetNext else { return false }
        guard let start = state.wordStart else { return true }
        let sofar = text[start..<i]
        guard let equals = sofar.firstIndex(of: "=") else { return true }
        return equals == start || !sofar[start..<equals].allSatisfy(Self.isNameCharacter)
    }

    /// Notes that a word of a command goes on at the current scalar.
    private mutating func inWord() {
        if state.wordStart == nil { state.wordStart = i }
        wordStarts = false
    }

    /// One step where words and commands are parsed (the top level, `$(…)`).
    private mutating func command() throws {
        let c = text[i]
        switch c {
        case " ", "\t":
            endWord()
            pass()
            wordStarts = true
        case "\n":
            endCommand()
            pass()
            wordStarts = true
            try hereDocumentBodies()
        case "#" where wordStarts:
            // A comment: copied as it is; nothing in it runs.
            while i < text.count && text[i] != "\n" { pass() }
        case "\\":
            try refusePlaceholderAfterBackslash()
            inWord()
            try copy(to: i + 2)
        case "'":
            inWord()
            try singleQuoted()
        case "\"":
            inWord()
            pass()
            frames.append(.doubleQuoted)
        case "`":
            inWord()
            try backquoted()
        case "$":
            inWord()
            try dollar()
        case "(" where match("((", at: i) != nil:
            // bash's arithmetic command (and `for ((…))`); in dash, two subshells.
            try copy(to: match("((", at: i)!)
            frames.append(.arithmetic(parentheses: 0, commands: true))
        case "[" where wordStarts && match("[[", at: i) != nil
            && (at(logical(match("[[", at: i)!)).map { Self.isBlank($0) || $0 == "\n" } ?? true):
            try copy(to: match("[[", at: i)!)
            frames.append(.bracketed(closer: "]]", depth: 0))
        case "[" where !wordStarts:
            // `name[…]`: an array subscript in bash, evaluated as arithmetic.
            state.subscriptInWord = true
            pass()
        case "(" where !wordStarts:
            // `name=(…)`: a bash array, whose `[…]=` elements are evaluated subscripts.
            markUncertain("an array assignment name=(…)")
            pass()
        case "(":
            if case .commandSubstitution(let depth) = frames.last! { frames[frames.count - 1] = .commandSubstitution(parentheses: depth + 1) }
            endCommand()
            pass()
            wordStarts = true
        case ")":
            if case .commandSubstitution(let depth) = frames.last! {
                if depth == 0 {
                    endWord()
                    frames.removeLast()
                    if let outer = enclosing.popLast() { state = outer.state }
                    pass()
                    wordStarts = false  // `$(…)` is part of the word around it
                    return
                }
                frames[frames.count - 1] = .commandSubstitution(parentheses: depth - 1)
            }
            endCommand()
            pass()
            wordStarts = true
        case "<" where match("<<<", at: i) != nil:
            endWord()
            try copy(to: match("<<<", at: i)!)
            state.redirectionTargetNext = true
            wordStarts = true
        case "<" where match("<<", at: i) != nil:
            endWord()
            try hereDocumentOperator()
        case ";", "&", "|":
            endCommand()
            pass()
            wordStarts = true
        case "<" where at(logical(i + 1)) == "(", ">" where at(logical(i + 1)) == "(":
            // bash's process substitution: a command substitution read or written as a file.
            endWord()
            inWord()
            try enterCommandSubstitution(end: logical(i + 1) + 1)
        case "<", ">":
            // A redirection: `2>` (the digits are its descriptor), `>>`, `>&`, `>|`, `<&`, `<>`, then its target word.
            if let start = state.wordStart, text[start..<i].allSatisfy({ ("0"..."9").contains($0) }) { state.wordStart = nil }
            endWord()
            pass()
            if let next = at(i), (c == ">" ? ">&|" : "&>").unicodeScalars.contains(next) { pass() }
            state.redirectionTargetNext = true
            wordStarts = true
        default:
            inWord()
            pass()
        }
    }

    /// `$` outside single quotes: `$(`, `$((`, `${`, `$[`, `$'…'`, `$"…"`, or a plain parameter.
    private mutating func dollar() throws {
        let next = logical(i + 1)
        try refusePlaceholders(in: next..<(next + 1)) { name, _ in
            "the placeholder {{\(name)}} stands right after '$'; remove the '$'"
        }
        if let end = match("$((", at: i) {
            try copy(to: end)
            frames.append(.arithmetic(parentheses: 0, commands: false))
        } else if let end = match("$(", at: i) {
            try enterCommandSubstitution(end: end)
        } else if let end = match("${", at: i) {
            try copy(to: end)
            frames.append(.parameterExpansion(braces: 0))
        } else if let end = match("$[", at: i) {
            try copy(to: end)
            frames.append(.bracketed(closer: "]", depth: 0))
        } else if frames.last!.parsesCommands, at(next) == "'" || at(next) == "\"" {
            // bash reads $'…' with escapes and $"…" through a message catalogue; dash reads neither.
            markUncertain(at(next) == "'" ? "$'…'" : "$\"…\"")
            pass()
        } else {
            pass()
        }
    }

    /// `$(` or bash's `<(`, `>(` up to `end`: the substitution's own commands follow. What the
    /// enclosing command evaluates, they evaluate too; where the substitution stands as a command's
    /// name its output is run as a command.
    private mutating func enterCommandSubstitution(end: Int) throws {
        try copy(to: end)
        frames.append(.commandSubstitution(parentheses: 0))
        let around = frames.dropLast()
        let evaluated = around.contains { if case .doubleQuoted = $0 { return false } else { return !$0.parsesCommands } }
        let runsOutput = around.last!.parsesCommands && inCommandName
        let why = runsOutput
            ? "a command substitution whose output runs as a command"
            : evaluated ? "a command substitution inside arithmetic or ${…}, whose output is evaluated" : state.evaluating
        var outer = state
        if runsOutput { outer.evaluating = why }
        enclosing.append((outer, why))
        state = CommandState(evaluating: why)
        wordStarts = true
    }

    /// `'…'`: copied as it is; a placeholder inside is refused.
    private mutating func singleQuoted() throws {
        var end = i + 1
        while end < text.count && text[end] != "'" { end += 1 }
        end = min(end + 1, text.count)
        try refusePlaceholders(in: i..<end) { name, variable in
            "the placeholder {{\(name)}} stands inside '…', where the shell expands nothing; write it outside the single quotes "
                + "or inside double quotes (\"… {{\(name)}} …\"). If the quoted text is a program for another interpreter "
                + "(sh -c, awk, python3 -c), pass the value as an argument (sh -c '…\"$1\"…' sh {{\(name)}}) or read the environment "
                + "variable \(variable) in that program"
        }
        out.append(contentsOf: text[i..<end])
        i = end
    }

    /// `` `…` ``: copied whole; a placeholder inside is refused (backquotes quote by their own rules).
    private mutating func backquoted() throws {
        var end = i + 1
        while end < text.count && text[end] != "`" { end += text[end] == "\\" ? 2 : 1 }
        end = min(end + 1, text.count)
        try refusePlaceholders(in: i..<end) { name, variable in
            "the placeholder {{\(name)}} stands inside `…`; write the command substitution as $(…) or use \"$\(variable)\" inside it"
        }
        out.append(contentsOf: text[i..<end])
        i = end
    }

    /// Inside `"…"`.
    private mutating func doubleQuoted() throws {
        switch text[i] {
        case "\"":
            frames.removeLast()
            pass()
        case "\\":
            try refusePlaceholderAfterBackslash()
            try copy(to: i + 2)
        case "$":
            try dollar()
        case "`":
            try backquoted()
        default:
            pass()
        }
    }

    /// Inside `${…}`, arithmetic or `[[…]]`: quotes and nested expansions are followed to the closer.
    private mutating func expansion() throws {
        let c = text[i]
        let frame = frames.last!
        switch (frame, c) {
        case (.parameterExpansion(let depth), "}"):
            if depth == 0 { frames.removeLast() } else { frames[frames.count - 1] = .parameterExpansion(braces: depth - 1) }
            pass()
        case (.parameterExpansion, "{"):
            markUncertain("a '{' inside ${…}")
            pass()
        case (.arithmetic(let depth, let commands), "("):
            frames[frames.count - 1] = .arithmetic(parentheses: depth + 1, commands: commands)
            pass()
        case (.arithmetic(let depth, let commands), ")"):
            if depth == 0, let end = match("))", at: i) {
                frames.removeLast()
                try copy(to: end)
            } else {
                if depth == 0 { markUncertain("an unbalanced ')' in arithmetic") }
                frames[frames.count - 1] = .arithmetic(parentheses: max(0, depth - 1), commands: commands)
                pass()
            }
        case (.arithmetic(_, false), ";"), (.arithmetic, "\n"):
            markUncertain("a command inside $((…))")
            pass()
        case (.bracketed("]", let depth), "["):
            frames[frames.count - 1] = .bracketed(closer: "]", depth: depth + 1)
            pass()
        case (.bracketed("]", let depth), "]"):
            if depth == 0 { frames.removeLast() } else { frames[frames.count - 1] = .bracketed(closer: "]", depth: depth - 1) }
            pass()
        case (.bracketed("]]", _), "]") where i > 0 && Self.isBlank(text[i - 1]) && match("]]", at: i) != nil
            && (at(match("]]", at: i)!).map { Self.isBlank($0) || $0 == "\n" || Self.isOperator($0) } ?? true):
            frames.removeLast()
            try copy(to: match("]]", at: i)!)
        case (_, "\\"):
            try refusePlaceholderAfterBackslash()
            try copy(to: i + 2)
        case (_, "'"):
            try singleQuoted()
        case (_, "\""):
            pass()
            frames.append(.doubleQuoted)
        case (_, "$"):
            try dollar()
        case (_, "`"):
            try backquoted()
        default:
            pass()
        }
    }

    /// `<<` or `<<-` and the delimiter word: the body starts after the end of this line.
    private mutating func hereDocumentOperator() throws {
        try copy(to: match("<<", at: i)!)
        var stripsTabs = false
        if at(logical(i)) == "-" { try copy(to: logical(i) + 1); stripsTabs = true }
        while let c = at(i), Self.isBlank(c) { pass() }
        var delimiter: [Unicode.Scalar] = []
        var quoted = false
        var quote: Unicode.Scalar?
        while let c = at(i) {
            try refusePlaceholders(in: i..<(i + 1)) { name, _ in
                "the placeholder {{\(name)}} stands in a here-document's delimiter; write the delimiter literally"
            }
            if let q = quote {
                if c == q { quote = nil } else { delimiter.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                quoted = true
            } else if c == "\\", let next = at(i + 1) {
                quoted = true
                delimiter.append(next)
                pass()
            } else if Self.isBlank(c) || c == "\n" || Self.isOperator(c) {
                break
            } else {
                delimiter.append(c)
            }
            pass()
        }
        pending.append(PendingHereDocument(depth: frames.count, delimiter: delimiter, stripsTabs: stripsTabs, quoted: quoted))
        wordStarts = false
    }

    /// After a newline: the bodies of the here-documents opened on the line just ended, each up to
    /// its delimiter line. A placeholder in a body is refused: the expansion there would be
    /// literal text (quoted delimiter) or unquoted text whose context the author sees best.
    private mutating func hereDocumentBodies() throws {
        guard !pending.isEmpty else { return }
        guard pending.allSatisfy({ $0.depth == frames.count }) else {
            // A newline inside a substitution opened after the `<<`: where the shells start the body
            // then is beyond what this lexer follows.
            markUncertain("a here-document whose line goes on inside $(…)")
            pending.removeAll()
            return
        }
        let documents = pending
        pending.removeAll()
        for document in documents {
            let word = String(String.UnicodeScalarView(document.delimiter))
            var continued = false
            while i < text.count {
                var end = i
                while end < text.count && text[end] != "\n" { end += 1 }
                var k = i
                if document.stripsTabs { while k < end && text[k] == "\t" { k += 1 } }
                let isDelimiter = !continued && text[k..<end].elementsEqual(document.delimiter)
                if !isDelimiter {
                    try refusePlaceholders(in: i..<end) { name, variable in
                        document.quoted
                            ? "the placeholder {{\(name)}} stands in a here-document with a quoted delimiter (<<'\(word)'), where the shell expands nothing; "
                                + "if the body is plain text, unquote the delimiter and write ${\(variable)}; if it is a program for another "
                                + "interpreter, read the environment variable \(variable) there (os.environ['\(variable)'])"
                            : "the placeholder {{\(name)}} stands in a here-document; write ${\(variable)} there yourself (an unquoted "
                                + "here-document expands it once, literally)"
                    }
                }
                // In an unquoted body a line ending in an odd number of backslashes continues on the next.
                var backslashes = 0
                while end - backslashes - 1 >= i && text[end - backslashes - 1] == "\\" { backslashes += 1 }
                continued = !document.quoted && backslashes % 2 == 1
                out.append(contentsOf: text[i..<end])
                i = end
                if i < text.count { pass() }
                if isDelimiter { break }
            }
        }
    }
}
