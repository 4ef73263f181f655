import CCmark
import Foundation
import Mustache
import RecData
import Reporting
import Support

/// Renders a run of a workbook as `Reports/<name>.md` (GitHub-readable; charts as SVG files beside
/// it) and `Reports/<name>.html` (self-contained: inline CSS and SVG, no network). The HTML goes
/// through a Mustache template; every piece of text in it is escaped.
public struct ReportRenderer {
    public let workbook: Workbook
    public let report: RunReport
    /// Extra lines for the provenance footer (commit, dirty flag, …), as label → value.
    public var provenance: [(String, String)] = []

    public init(workbook: Workbook, report: RunReport, provenance: [(String, String)] = []) {
        self.workbook = workbook
        self.report = report
        self.provenance = provenance
    }

    /// Writes both reports into `folder` (atomically); returns their paths.
    @discardableResult
    public func write(to folder: String) throws -> (markdown: String, html: String) {
        let markdownPath = (folder as NSString).appendingPathComponent("\(workbook.name).md")
        let htmlPath = (folder as NSString).appendingPathComponent("\(workbook.name).html")
        let figures = (folder as NSString).appendingPathComponent("\(workbook.name)-figures")
        var svgFiles: [(String, String)] = []
        let markdown = self.markdown(figureFolder: "\(workbook.name)-figures", svgFiles: &svgFiles)
        if !svgFiles.isEmpty {
            try? FileManager.default.removeItem(atPath: figures)
            for (name, svg) in svgFiles { try AtomicWrite.write(svg, to: (figures as NSString).appendingPathComponent(name)) }
        }
        try AtomicWrite.write(markdown, to: markdownPath)
        try AtomicWrite.write(try html(), to: htmlPath)
        return (markdownPath, htmlPath)
    }

    /// What a block's error line is headed with.
    private static func errorLabel(_ o: BlockOutcome) -> String { o.status == .interrupted ? "Interrupted" : "Error" }

    private func outcome(_ id: String) -> BlockOutcome? { report.outcomes.first { $0.id == id } }

    private func statusLine(_ o: BlockOutcome) -> String {
        switch o.status {
        case .ran: return "ran in \(String(format: "%.1f", o.seconds)) s"
        case .cached: return "cached (unchanged since its last run)"
        case .failed: return "FAILED after \(String(format: "%.1f", o.seconds)) s"
        case .interrupted: return "INTERRUPTED after \(String(format: "%.1f", o.seconds)) s"
        case .notRun: return o.reasons.isEmpty ? "not run in this run" : "not run: \(o.reasons.joined(separator: "; "))"
        case .wouldRun: return "would run: \(o.reasons.joined(separator: "; "))"
        }
    }

    // MARK: Markdown

    func markdown(figureFolder: String, svgFiles: inout [(String, String)]) -> String {
        var out = "# \(workbook.title)\n\n"
        for segment in workbook.segments {
            switch segment {
            case .prose(let text):
                out += stripTitle(text) + "\n\n"
            case .block(let block):
                let o = outcome(block.id)
                out += "```\(block.kind.rawValue)\n\(o?.renderedText ?? block.text)\n```\n\n"
                guard let o else { continue }
                out += "<sub>#\(block.id) · \(statusLine(o))</sub>\n\n"
                if let error = o.error { out += "> **\(Self.errorLabel(o)) in #\(block.id):** \(error)\n\n" }
                if let result = o.result {
                    for table in result.tables { out += table.renderedMarkdown() + "\n" }
                    for (i, chart) in result.barCharts.enumerated() {
                        let name = "\(block.id)-bar-\(i + 1).svg"
                        svgFiles.append((name, SVGCharts.bars(chart)))
                        out += "![\(chart.title)](\(figureFolder)/\(name))\n\n"
                    }
                    for (i, chart) in result.lineCharts.enumerated() {
                        let name = "\(block.id)-line-\(i + 1).svg"
                        svgFiles.append((name, SVGCharts.lines(chart)))
                        out += "![\(chart.title)](\(figureFolder)/\(name))\n\n"
                    }
                    let text = result.tables.isEmpty ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : ""
                    if !text.isEmpty { out += "```text\n\(text)\n```\n\n" }
                }
            }
        }
        out += "---\n\n" + footerTable().renderedMarkdown()
        return out
    }

    /// The workbook's own first-level heading is replaced by the report title.
    private func stripTitle(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !($0.hasPrefix("# ") && $0.dropFirst(2).trimmingCharacters(in: .whitespaces) == workbook.title) }
            .joined(separator: "\n").trimmingCharacters(in: .newlines)
    }

    func footerTable() -> Table {
        var table = Table(caption: "Provenance", columns: [.init("Item", alignment: .left), .init("Value", alignment: .left)])
        let formatter = ISO8601DateFormatter()
        var rows: [(String, String)] = [
            ("run", report.runID), ("status", report.status.rawValue), ("workbook", report.workbook),
        ]
        rows += provenance
        rows += [
            ("parameters", report.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")),
            ("started", formatter.string(from: report.started)), ("finished", formatter.string(from: report.finished)),
            ("blocks", "\(report.outcomes.filter { $0.status == .ran }.count) ran, \(report.cacheHits) cached, "
                + "\(report.outcomes.filter { $0.status == .failed }.count) failed"
                + { n in n > 0 ? ", \(n) interrupted" : "" }(report.outcomes.filter { $0.status == .interrupted }.count)),
            ("timings", report.outcomes.filter { [.ran, .failed, .interrupted].contains($0.status) }
                .map { "#\($0.id) \(String(format: "%.1f", $0.seconds)) s" }.joined(separator: ", ")),
        ]
        for (k, v) in rows { table.append([.init(k), .init(v)]) }
        return table
    }

    // MARK: HTML

    func html() throws -> String {
        var sections: [[String: Any]] = []
        for segment in workbook.segments {
            switch segment {
            case .prose(let text):
                sections.append(["prose": Self.markdownToHTML(stripTitle(text))])
            case .block(let block):
                let o = outcome(block.id)
                var section: [String: Any] = [
                    "id": block.id, "kind": block.kind.rawValue, "code": o?.renderedText ?? block.text,
                    "status": o.map(statusLine) ?? "", "failed": o?.status == .failed || o?.status == .interrupted,
                ]
                if let error = o?.error {
                    section["error"] = error
                    section["errorLabel"] = o.map(Self.errorLabel)
                }
                if let result = o?.result {
                    section["tables"] = result.tables.map { ["html": $0.renderedHTML()] }
                    section["charts"] = result.barCharts.map { ["svg": SVGCharts.bars($0)] } + result.lineCharts.map { ["svg": SVGCharts.lines($0)] }
                    let text = result.tables.isEmpty ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : ""
                    if !text.isEmpty { section["output"] = text }
                }
                sections.append(["block": section])
            }
        }
        let context: [String: Any] = [
            "title": workbook.title, "sections": sections, "footer": footerTable().renderedHTML(),
            "status": report.status.rawValue, "failed": report.status == .failed,
            "interrupted": report.status == .interrupted,
        ]
        return try MustacheTemplate(string: Self.htmlTemplate).render(context)
    }

    /// CommonMark + GFM tables to HTML through cmark-gfm (raw HTML in prose is not passed through).
    static func markdownToHTML(_ markdown: String) -> String {
        cmark_gfm_core_extensions_ensure_registered()
        guard let parser = cmark_parser_new(CMARK_OPT_DEFAULT) else { return HTMLEscaping.escape(markdown) }
        defer { cmark_parser_free(parser) }
        for name in ["table", "strikethrough", "autolink"] {
            if let extensionHandle = cmark_find_syntax_extension(name) { cmark_parser_attach_syntax_extension(parser, extensionHandle) }
        }
        cmark_parser_feed(parser, markdown, markdown.utf8.count)
        guard let document = cmark_parser_finish(parser) else { return HTMLEscaping.escape(markdown) }
        defer { cmark_node_free(document) }
        guard let rendered = cmark_render_html(document, CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(parser)) else {
            return HTMLEscaping.escape(markdown)
        }
        defer { free(rendered) }
        return String(cString: rendered)
    }

    static let htmlTemplate = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title>
        <style>
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; line-height: 1.5; }
        h1 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
        pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; border-radius: 6px; font-size: 85%; }
        table { border-collapse: collapse; margin: .8rem 0; font-size: 90%; }
        th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; }
        th { background: #f6f8fa; }
        caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
        .block { border-left: 4px solid #4C78A8; padding-left: .8rem; margin: 1.2rem 0; }
        .block.failed { border-left-color: #E45756; }
        .status { color: #57606a; font-size: 85%; }
        .error { background: #ffebe9; border: 1px solid #E45756; padding: .5rem; border-radius: 6px; }
        .banner { padding: .5rem; border-radius: 6px; background: #ffebe9; }
        footer { margin-top: 2rem; border-top: 1px solid #d0d7de; }
        </style>
        </head>
        <body>
        <h1>{{title}}</h1>
        {{#failed}}<p class="banner">This run failed; the report shows the error at its block.</p>{{/failed}}
        {{#interrupted}}<p class="banner">This run was interrupted; the report shows the blocks up to the one that was running.</p>{{/interrupted}}
        {{#sections}}
        {{#prose}}{{{prose}}}{{/prose}}
        {{#block}}
        <section class="block{{#failed}} failed{{/failed}}" id="{{id}}">
        <pre><code class="language-{{kind}}">{{code}}</code></pre>
        <p class="status">#{{id}} · {{status}}</p>
        {{#error}}<p class="error"><strong>{{errorLabel}}:</strong> {{error}}</p>{{/error}}
        {{#tables}}{{{html}}}{{/tables}}
        {{#charts}}<figure>{{{svg}}}</figure>{{/charts}}
        {{#output}}<pre class="output">{{output}}</pre>{{/output}}
        </section>
        {{/block}}
        {{/sections}}
        <footer>{{{footer}}}</footer>
        </body>
        </html>

        """
}

