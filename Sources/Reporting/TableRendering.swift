/// The output formats of a `Table`.
public enum TableFormat: String, Sendable, CaseIterable {
    case text, markdown, html
}

extension Table {
    /// Renders in `format`.
    public func rendered(as format: TableFormat) -> String {
        switch format {
        case .text: return renderedText()
        case .markdown: return renderedMarkdown()
        case .html: return renderedHTML()
        }
    }

    /// Columns padded to their widest cell (counted in characters); bold cells are marked `*…*`.
    public func renderedText() -> String {
        let header = columns.map(\.title)
        let body = rows.map { $0.map { $0.bold ? "*\($0.text)*" : $0.text } }
        let widths = columns.indices.map { c in ([header[c]] + body.map { $0[c] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.indices.map { c in
                let pad = String(repeating: " ", count: widths[c] - cells[c].count)
                return columns[c].alignment == .right ? pad + cells[c] : cells[c] + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out: [String] = []
        if let caption { out.append(caption) }
        out.append(line(header))
        out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        out += body.map(line)
        return out.joined(separator: "\n") + "\n"
    }

    /// A GitHub-flavoured Markdown table; `|` in cells is escaped, bold cells use `**…**`.
    public func renderedMarkdown() -> String {
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
        var out: [String] = []
        if let caption { out.append("**\(escape(caption))**\n") }
        out.append("| " + columns.map { escape($0.title) }.joined(separator: " | ") + " |")
        out.append("|" + columns.map { $0.alignment == .right ? "---:" : ":---" }.joined(separator: "|") + "|")
        for row in rows {
            out.append("| " + row.map { $0.bold ? "**\(escape($0.text))**" : escape($0.text) }.joined(separator: " | ") + " |")
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// An HTML `<table>` with escaped text; bold cells use `<strong>`.
    public func renderedHTML() -> String {
        func style(_ column: Column) -> String { column.alignment == .right ? " style=\"text-align:right\"" : "" }
        var out = ["<table>"]
        if let caption { out.append("  <caption>\(HTMLEscaping.escape(caption))</caption>") }
        out.append("  <thead><tr>" + columns.map { "<th\(style($0))>\(HTMLEscaping.escape($0.title))</th>" }.joined() + "</tr></thead>")
        out.append("  <tbody>")
        for row in rows {
            let cells = zip(columns, row).map { column, cell in
                let text = HTMLEscaping.escape(cell.text)
                return "<td\(style(column))>\(cell.bold ? "<strong>\(text)</strong>" : text)</td>"
            }
            out.append("    <tr>" + cells.joined() + "</tr>")
        }
        out.append("  </tbody>")
        out.append("</table>")
        return out.joined(separator: "\n") + "\n"
    }
}

/// Escaping of text placed in HTML element content or attribute values.
public enum HTMLEscaping {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
