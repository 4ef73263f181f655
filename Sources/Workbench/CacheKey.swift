import Foundation
import Support

/// What the cache key of a block is made of (ARCHITECTURE.md): kind, text after substitution,
/// attributes, the hash of every input file or folder the block declares (its commands' own
/// declarations, or `deps=`), the keys of the blocks that produced those inputs, and the tool's
/// version. Kept part by part so `calrec status` can say what changed.
public struct CacheKeyParts: Codable, Equatable, Sendable {
    public var kind: String
    public var textHash: String
    public var attributes: [String: String]
    /// Input path → content hash ("missing" when absent).
    public var inputs: [String: String]
    /// Upstream block id → its cache key, for inputs that an earlier block wrote.
    public var upstream: [String: String]
    public var toolVersion: String

    /// The key: SHA-256 over the parts in a fixed order.
    public var key: String {
        var text = "calrec-cache-key/1\nkind \(kind)\ntext \(textHash)\ntool \(toolVersion)\n"
        for (k, v) in attributes.sorted(by: { $0.key < $1.key }) { text += "attr \(k)=\(v)\n" }
        for (k, v) in inputs.sorted(by: { $0.key < $1.key }) { text += "input \(k) \(v)\n" }
        for (k, v) in upstream.sorted(by: { $0.key < $1.key }) { text += "upstream \(k) \(v)\n" }
        return ContentHash.sha256(text)
    }

    /// Why `self` (now) differs from `recorded` (last successful run), in words.
    public func differences(from recorded: CacheKeyParts) -> [String] {
        var reasons: [String] = []
        if kind != recorded.kind || textHash != recorded.textHash { reasons.append("block text or parameters changed") }
        if attributes != recorded.attributes { reasons.append("attributes changed") }
        if toolVersion != recorded.toolVersion { reasons.append("calrec version changed (\(recorded.toolVersion) → \(toolVersion))") }
        for (path, hash) in inputs.sorted(by: { $0.key < $1.key }) where recorded.inputs[path] != hash {
            reasons.append(recorded.inputs[path] == nil ? "new input \(path)" : "input \(path) changed")
        }
        for path in recorded.inputs.keys.sorted() where inputs[path] == nil { reasons.append("input \(path) no longer used") }
        for (id, key) in upstream.sorted(by: { $0.key < $1.key }) where recorded.upstream[id] != key {
            reasons.append("upstream block #\(id) changed")
        }
        return reasons
    }
}

/// A block's cache key from its prepared form, and why a recorded run no longer serves it.
extension WorkbookRunner {
    /// A block planned or run before the current one: its id, the outputs it declares, its key.
    typealias Earlier = (id: String, outputs: [String], key: String)

    /// The cache-key parts of a prepared block, given the keys of the blocks before it and their outputs.
    func keyParts(_ prepared: Prepared, earlier: [Earlier]) throws -> CacheKeyParts {
        var inputs: [String: String] = [:]
        for path in prepared.inputs { inputs[path] = try ContentHash.path(path) ?? "missing" }
        var upstream: [String: String] = [:]
        for path in prepared.inputs {
            for producer in earlier where producer.outputs.contains(where: { Self.overlaps($0, path) }) {
                upstream[producer.id] = producer.key
            }
        }
        let text = prepared.block.kind == .calrec
            ? prepared.commands.map { $0.joined(separator: "\u{1F}") }.joined(separator: "\n")
            : ([prepared.script] + prepared.environment.sorted { $0.key < $1.key }.map { "\($0.key)\u{1F}\($0.value)" }).joined(separator: "\u{1E}")
        var attributes = prepared.block.attributes
        attributes["id"] = prepared.block.id
        return CacheKeyParts(
            kind: prepared.block.kind.rawValue, textHash: ContentHash.sha256(text), attributes: attributes, inputs: inputs,
            upstream: upstream, toolVersion: options.toolVersion)
    }

    /// Whether one path lies inside the other (or they are equal).
    static func overlaps(_ a: String, _ b: String) -> Bool {
        let x = (a as NSString).standardizingPath
        let y = (b as NSString).standardizingPath
        return x == y || x.hasPrefix(y + "/") || y.hasPrefix(x + "/")
    }

    /// Why a block cannot come from the cache (empty: it can).
    func staleness(_ parts: CacheKeyParts, record: BlockRecord?, block: Block, outputs: [String]) throws -> [String] {
        if !block.cacheable { return ["cache=false"] }
        guard let record else { return ["never run"] }
        var reasons = parts.differences(from: record.parts)
        if reasons.isEmpty && parts.key != record.key { reasons.append("cache key changed") }
        for path in outputs {
            let now = try ContentHash.path(path)
            if now == nil {
                reasons.append("output \(path) is missing")
            } else if now != record.outputs[path] {
                reasons.append("output \(path) was modified")
            }
        }
        return reasons
    }
}
