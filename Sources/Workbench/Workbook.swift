import CCmark
import Foundation
import Yams

/// A command block of a workbook.
public struct Block: Sendable, Equatable {
    public var id: String
    public var kind: BlockKind
    /// The block's text as written (before parameter substitution).
    public var text: String
    /// Line of the opening fence in the workbook file (1-based).
    public var line: Int
    /// Attributes other than `#id` (`timeout`, `deps`, `outs`, `cache`, …).
    public var attributes: [String: String]
    /// For an `sh` block: the script the shell runs, placeholders rewritten (`ShellPlaceholders`).
    public var shellScript: String?

    /// `timeout=` in seconds, if given.
    public var timeout: Double? { attributes["timeout"].flatMap(Double.init) }
    /// `cache=false` opts out of caching.
    public var cacheable: Bool { attributes["cache"] != "false" }
    /// `deps=a,b`: files an `sh` block reads.
    public var declaredInputs: [String] { list("deps") }
    /// `outs=c`: files or folders an `sh` block writes.
    public var declaredOutputs: [String] { list("outs") }

    private func list(_ key: String) -> [String] {
        attributes[key].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
    }
}

/// A piece of a workbook in order: Markdown prose, or a command block.
public enum WorkbookSegment: Sendable, Equatable {
    case prose(String)
    case block(Block)
}

/// A parsed workbook: YAML front matter (`title`, `params`, optional `reference`) and the document
/// split into prose and command blocks (ARCHITECTURE.md, "Workbook format"). Markdown is parsed by
/// cmark-gfm; command blocks are the fenced code blocks whose info string starts with `calrec` or
/// `sh`, wherever they stand (inside lists and quotes too).
public struct Workbook: Sendable {
    public var path: String
    public var title: String
    /// Parameters and their defaults, in the order the front matter lists them.
    public var parameters: [(name: String, value: String)]
    /// Paper reference numbers from the front matter (`reference:`), as JSON.
    public var referenceJSON: Data?
    public var segments: [WorkbookSegment]

    /// The built-in parameter naming a JSON file with the front matter's `reference` numbers
    /// (available when the workbook has them).
    public static let referenceParameter = "reference"

    /// The command blocks in order.
    public var blocks: [Block] {
        segments.compactMap { if case .block(let b) = $0 { return b } else { return nil } }
    }

    /// The workbook's name: its file name without `.md`.
    public var name: String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }

    /// Reads and parses the workbook at `path`.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WorkbenchError.io(path: path, detail: "no such workbook")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses workbook `text`; `path` is used in error messages and for the name.
    public init(text: String, path: String) throws {
        self.path = path
        // Lines split on scalars: "\r\n" is one Character, and cmark-gfm counts CR, LF and CRLF alike.
        let lines = Self.lines(text)
        // Front matter: a first line '---', up to the next '---' or '...'.
        var bodyStart = 0
        var meta: [String: Any] = [:]
        if lines.first == "---" {
            guard let end = lines.dropFirst().firstIndex(where: { $0 == "---" || $0 == "..." }) else {
                throw WorkbenchError.parse(file: path, line: 1, message: "front matter opened with '---' is never closed")
            }
            let yaml = lines[1..<end].joined(separator: "\n")
            do {
                // Yams' constructor force-unwraps keys that are not plain scalars: checked first.
                if let node = try Yams.compose(yaml: yaml) { try Self.checkKeys(node, file: path) }
                meta = (try Yams.load(yaml: yaml) as? [String: Any]) ?? [:]
            } catch let error as WorkbenchError {
                throw error
            } catch {
                throw WorkbenchError.parse(file: path, line: 2, message: "front matter is not valid YAML: \(error)")
            }
            bodyStart = end + 1
        }
        title = (meta["title"] as? String) ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        parameters = try Self.parameters(meta["params"], file: path)
        if let reference = meta["reference"] {
            guard JSONSerialization.isValidJSONObject(reference) else {
                throw WorkbenchError.parse(file: path, line: 2, message: "'reference' must be a map of paper numbers")
            }
            referenceJSON = try JSONSerialization.data(withJSONObject: reference, options: [.sortedKeys])
        } else {
            referenceJSON = nil
        }
        segments = try Self.segments(lines: lines, bodyStart: bodyStart, file: path)
        try validate(lines: lines)
    }

    /// The lines of `text`, ended by LF, CRLF or a lone CR (as CommonMark ends them), without the endings.
    static func lines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            if scalar == "\n" || scalar == "\r" {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        lines.append(String(current))
        return lines
    }

    /// Front-matter mappings (and `!!set`s) must have plain keys, anywhere in the tree.
    private static func checkKeys(_ node: Node, file: String) throws {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard case .scalar = key else {
                    throw WorkbenchError.parse(file: file, line: 2, message: "front matter keys must be plain names (found a list, map or set as a key)")
                }
                try checkKeys(value, file: file)
            }
        case .sequence(let sequence):
            for element in sequence { try checkKeys(element, file: file) }
        default:
            break
        }
    }

    private static func parameters(_ value: Any?, file: String) throws -> [(name: String, value: String)] {
        guard let value else { return [] }
        guard let map = value as? [String: Any] else {
            throw WorkbenchError.parse(file: file, line: 2, message: "'params' must map names to default values")
        }
        // Yams gives an unordered dictionary; keep a stable (sorted) order.
        return try map.keys.sorted().map { name in
            guard name != referenceParameter else {
                throw WorkbenchError.parse(file: file, line: 2, message: "'reference' is a built-in parameter; use 'reference:' at the top level for paper numbers")
            }
            guard ShellPlaceholders.isValidName(name) else {
                throw WorkbenchError.parse(
                    file: file, line: 2,
                    message: "parameter name '\(name)' is not valid: use ASCII letters, digits and '_', not starting with a digit (sh blocks receive it as $\(ShellPlaceholders.variable(name)))")
            }
            let v = map[name]!
            if v is [Any] || v is [String: Any] {
                throw WorkbenchError.parse(file: file, line: 2, message: "parameter '\(name)' must be a single value")
            }
            return (name, v is NSNull ? "" : "\(v)")
        }
    }

    /// Splits the body into prose and command blocks using cmark-gfm's block positions.
    private static func segments(lines: [String], bodyStart: Int, file: String) throws -> [WorkbookSegment] {
        let body = lines[bodyStart...].joined(separator: "\n")
        var fences: [(start: Int, end: Int, info: String, literal: String)] = []  // 0-based line indices in `lines`
        cmark_gfm_core_extensions_ensure_registered()
        guard let parser = cmark_parser_new(CMARK_OPT_DEFAULT) else {
            throw WorkbenchError.parse(file: file, line: 1, message: "cmark-gfm could not start")
        }
        defer { cmark_parser_free(parser) }
        cmark_parser_feed(parser, body, body.utf8.count)
        guard let document = cmark_parser_finish(parser) else {
            throw WorkbenchError.parse(file: file, line: 1, message: "cmark-gfm could not parse the document")
        }
        defer { cmark_node_free(document) }
        let iterator = cmark_iter_new(document)
        defer { cmark_iter_free(iterator) }
        while cmark_iter_next(iterator) != CMARK_EVENT_DONE {
            guard let node = cmark_iter_get_node(iterator), cmark_node_get_type(node) == CMARK_NODE_CODE_BLOCK,
                cmark_iter_get_event_type(iterator) == CMARK_EVENT_ENTER
            else { continue }
            var length: Int32 = 0
            var offset: Int32 = 0
            var character: CChar = 0
            guard cmark_node_get_fenced(node, &length, &offset, &character) != 0 else { continue }
            let info = cmark_node_get_fence_info(node).map { String(cString: $0) } ?? ""
            let literal = cmark_node_get_literal(node).map { String(cString: $0) } ?? ""
            let start = Int(cmark_node_get_start_line(node)) - 1 + bodyStart
            let end = Int(cmark_node_get_end_line(node)) - 1 + bodyStart
            fences.append((start, end, info, literal))
        }
        var segments: [WorkbookSegment] = []
        var proseStart = bodyStart
        var ids = Set<String>()
        for fence in fences {
            let fail = { (message: String) -> Error in WorkbenchError.parse(file: file, line: fence.start + 1, message: message) }
            guard let info = try InfoString.parse(fence.info, fail: fail) else { continue }
            guard ids.insert(info.id).inserted else { throw fail("duplicate block id '#\(info.id)'") }
            if fence.start > proseStart {
                segments.append(.prose(lines[proseStart..<fence.start].joined(separator: "\n")))
            }
            var text = fence.literal
            if text.hasSuffix("\n") { text.removeLast() }
            var shellScript: String?
            if info.kind == .sh {
                do {
                    shellScript = try ShellPlaceholders.rewrite(text)
                } catch let refusal as ShellPlaceholders.Refusal {
                    throw WorkbenchError.parse(
                        file: file, line: fence.start + 2 + refusal.line, message: "block #\(info.id): \(refusal.message)")
                }
            }
            segments.append(
                .block(
                    Block(
                        id: info.id, kind: info.kind, text: text, line: fence.start + 1, attributes: info.attributes,
                        shellScript: shellScript)))
            proseStart = fence.end + 1
        }
        if proseStart < lines.count {
            let rest = lines[proseStart...].joined(separator: "\n")
            if !rest.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { segments.append(.prose(rest)) }
        }
        return segments
    }

    /// Checks, before anything runs, that every `{{name}}` names a parameter and every attribute is
    /// understood (`deps=` and `outs=` on `sh` blocks only).
    private func validate(lines: [String]) throws {
        var known = Set(parameters.map(\.name))
        if referenceJSON != nil { known.insert(Self.referenceParameter) }
        for block in blocks {
            for (offset, line) in block.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                for name in ParameterSubstitution.references(in: String(line)) where !known.contains(name) {
                    throw WorkbenchError.parse(
                        file: path, line: block.line + 1 + offset,
                        message: "unknown parameter '{{\(name)}}' in block #\(block.id); declare it under 'params' in the front matter")
                }
            }
            for key in block.attributes.keys where !["timeout", "deps", "outs", "cache"].contains(key) {
                throw WorkbenchError.parse(
                    file: path, line: block.line, message: "unknown attribute '\(key)' (known: timeout, deps, outs, cache)")
            }
            if block.kind == .calrec, let key = ["deps", "outs"].first(where: { block.attributes[$0] != nil }) {
                throw WorkbenchError.parse(
                    file: path, line: block.line,
                    message: "\(key)= is for sh blocks; a calrec subcommand declares the files it reads and writes itself, so remove it")
            }
            if let timeout = block.attributes["timeout"], Double(timeout).map({ $0 > 0 }) != true {
                throw WorkbenchError.parse(file: path, line: block.line, message: "timeout must be a positive number of seconds")
            }
            if let cache = block.attributes["cache"], cache != "true" && cache != "false" {
                throw WorkbenchError.parse(file: path, line: block.line, message: "cache must be true or false")
            }
        }
    }
}
