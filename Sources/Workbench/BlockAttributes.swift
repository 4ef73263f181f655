/// What a command block is.
public enum BlockKind: String, Sendable, Codable {
    /// `calrec` subcommands, one a line, run in-process; arguments are split without a shell.
    case calrec
    /// A `/bin/sh` script; parameters reach it as environment variables (`ShellPlaceholders`).
    case sh
}

/// The info string of a fenced block: a kind, then optional attributes in braces —
/// ```` ```calrec {#train-stage1 timeout=3600 deps=a,b} ````. `#id` is required and unique; values may
/// be double-quoted. Returns nil for fences that are not command blocks (```` ```swift ````).
struct InfoString: Equatable {
    var kind: BlockKind
    var id: String
    var attributes: [String: String]

    /// Parses `info`; `fail` builds the error for a malformed attribute list.
    static func parse(_ info: String, fail: (String) -> Error) throws -> InfoString? {
        let trimmed = info.trimmingCharacters(in: .whitespaces)
        let kindEnd = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "{" }) ?? trimmed.endIndex
        guard let kind = BlockKind(rawValue: String(trimmed[..<kindEnd])) else { return nil }
        let rest = trimmed[kindEnd...].trimmingCharacters(in: .whitespaces)
        guard rest.hasPrefix("{"), rest.hasSuffix("}"), rest.count >= 2 else {
            throw fail(
                rest.isEmpty
                    ? "a \(kind.rawValue) block needs an id: write {#name} after '\(kind.rawValue)'"
                    : "attributes must be one {…} group after '\(kind.rawValue)', found '\(rest)'")
        }
        var id: String?
        var attributes: [String: String] = [:]
        for token in try tokens(String(rest.dropFirst().dropLast()), fail: fail) {
            if token.hasPrefix("#") {
                let name = String(token.dropFirst())
                guard id == nil else { throw fail("a block has one #id; found a second, '#\(name)'") }
                guard isIdentifier(name) else { throw fail("'#\(name)' is not a valid id (letters, digits, '-', '_', '.')") }
                id = name
            } else if let equals = token.firstIndex(of: "=") {
                let key = String(token[..<equals])
                var value = String(token[token.index(after: equals)...])
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                guard isIdentifier(key) else { throw fail("'\(key)' is not a valid attribute name") }
                guard attributes[key] == nil else { throw fail("attribute '\(key)' is given twice") }
                attributes[key] = value
            } else {
                throw fail("malformed attribute '\(token)'; write #id or key=value")
            }
        }
        guard let id else { throw fail("a \(kind.rawValue) block needs an id: add #name inside the braces") }
        return InfoString(kind: kind, id: id, attributes: attributes)
    }

    /// Whitespace-separated tokens; a double-quoted stretch may hold spaces.
    private static func tokens(_ text: String, fail: (String) -> Error) throws -> [String] {
        var tokens: [String] = []
        var current = ""
        var quoted = false
        for c in text {
            if c == "\"" {
                quoted.toggle()
                current.append(c)
            } else if (c == " " || c == "\t") && !quoted {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if quoted { throw fail("unterminated quote in attributes") }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
    }
}
