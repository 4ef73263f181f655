import Foundation
import RecData
import Reporting

/// What the cache key of a block is made of (ARCHITECTURE.md): kind, text after substitution,
/// attributes, the hash of every input file, the keys of the blocks that produced those inputs, and
/// the tool's version. Kept part by part so `calrec status` can say what changed.
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

/// The record of a block's last successful run.
public struct BlockRecord: Codable, Equatable, Sendable {
    public var parts: CacheKeyParts
    public var key: String
    /// Output path → content hash after the run.
    public var outputs: [String: String]
    public var result: BlockResult
    public var seconds: Double
    public var finished: Date
}

/// The per-workbook state file, `artifacts/<workbook>/.calrec/state.json`.
public struct RunState: Codable, Sendable {
    public var blocks: [String: BlockRecord] = [:]

    public init() {}

    static func load(_ path: String) -> RunState {
        guard let data = FileManager.default.contents(atPath: path) else { return RunState() }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return (try? decoder.decode(RunState.self, from: data)) ?? RunState()
    }

    func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        try AtomicWrite.write(try encoder.encode(self), to: path)
    }
}
