import Foundation
import RecData
import Reporting
import Support

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
