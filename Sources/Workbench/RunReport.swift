import Foundation
import Reporting

/// Options of `calrec run` / `calrec status`.
public struct RunOptions: Sendable {
    /// Re-run every block.
    public var force = false
    /// Re-run this block and every block after it; earlier blocks are not run.
    public var from: String?
    /// Re-run only this block.
    public var only: String?
    /// Say what would run, run nothing.
    public var dryRun = false
    /// `-p name=value` overrides of parameter defaults.
    public var overrides: [String: String] = [:]
    /// The tool version that enters every cache key.
    public var toolVersion: String
    /// Where artifacts go; the state lives in `<artifacts>/<workbook>/.calrec/`.
    public var artifactsRoot = "artifacts"

    public init(toolVersion: String) { self.toolVersion = toolVersion }
}

/// What happened to one block in a run.
public struct BlockOutcome: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case ran, cached, failed, interrupted, notRun = "not-run", wouldRun = "would-run"
    }

    public var id: String
    public var status: Status
    /// For `wouldRun` and `ran`: why the cache could not be used.
    public var reasons: [String]
    public var result: BlockResult?
    public var error: String?
    public var seconds: Double
    public var key: String
    /// The commands or script as run (after substitution).
    public var renderedText: String
    /// Files and folders the block writes.
    public var outputs: [String] = []
}

/// A whole run of a workbook.
public struct RunReport: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case succeeded, failed, interrupted, planned }

    public var runID: String
    public var workbook: String
    public var status: Status
    public var started: Date
    public var finished: Date
    public var parameters: [String: String]
    public var outcomes: [BlockOutcome]
    /// For an interrupted run: the signal that stopped it (SIGINT, SIGTERM).
    public var signal: Int32?

    /// Blocks served from the cache.
    public var cacheHits: Int { outcomes.filter { $0.status == .cached }.count }
}
