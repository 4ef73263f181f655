/// Cleaning of the metadata strings of the Amazon 2018 dump, whose titles and brands carry HTML.
///
/// The rule, applied in this order:
/// 1. every tag — `<` followed by a letter, `/` or `!`, up to the next `>` — becomes one space;
/// 2. character references are decoded: `&name;` for the HTML 4.01 names (and `&apos;`), `&#NNN;`
///    and `&#xHHH;` (a reference to an invalid scalar becomes U+FFFD); anything else stays as written;
/// 3. runs of whitespace (Unicode White_Space, including no-break space) become one space, and the
///    ends are trimmed.
public enum TextCleaning {
    /// Cleans one metadata string by the rule above.
    public static func clean(_ raw: String) -> String {
        collapseWhitespace(decodeEntities(stripTags(raw)))
    }

    /// Replaces HTML tags with a space.
    static func stripTags(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "<")) else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "<", i + 1 < scalars.count, isTagStart(scalars[i + 1]),
                let close = scalars[(i + 1)...].firstIndex(of: ">")
            {
                out.append(" ")
                i = close + 1
                continue
            }
            out.append(c)
            i += 1
        }
        return String(out)
    }

    private static func isTagStart(_ c: Unicode.Scalar) -> Bool {
        c == "/" || c == "!" || (c.isASCII && c.properties.isAlphabetic)
    }

    /// Decodes `&name;`, `&#NNN;` and `&#xHHH;`.
    static func decodeEntities(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "&")) else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if scalars[i] == "&", let (decoded, next) = reference(in: scalars, at: i) {
                out.append(decoded)
                i = next
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }

    /// The character reference starting at `start` (an `&`) and the index after its `;`.
    private static func reference(in s: [Unicode.Scalar], at start: Int) -> (Unicode.Scalar, Int)? {
        let limit = min(s.count, start + 34)
        guard let semicolon = s[(start + 1)..<limit].firstIndex(of: ";"), semicolon > start + 1 else { return nil }
        let body = String(String.UnicodeScalarView(s[(start + 1)..<semicolon]))
        if body.hasPrefix("#") {
            let digits = body.dropFirst()
            let value: UInt32?
            if digits.hasPrefix("x") || digits.hasPrefix("X") {
                let hex = digits.dropFirst()
                value = hex.isEmpty || !hex.allSatisfy(\.isHexDigit) ? nil : UInt32(hex, radix: 16) ?? UInt32.max
            } else {
                value = digits.isEmpty || !digits.allSatisfy(\.isASCIIDigit) ? nil : UInt32(digits) ?? UInt32.max
            }
            guard let value else { return nil }
            let scalar = value == 0 ? nil : Unicode.Scalar(value)
            return (scalar ?? "\u{FFFD}", semicolon + 1)
        }
        guard let scalar = htmlNamedEntities[body] else { return nil }
        return (scalar, semicolon + 1)
    }

    /// Collapses runs of Unicode whitespace into single spaces and trims both ends.
    public static func collapseWhitespace(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for c in text.unicodeScalars {
            if c.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(c)
            }
        }
        return String(out)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
