import Foundation

/// `manifest.json` of a run record: everything needed to say which code, data and parameters
/// produced which artifact (ARCHITECTURE.md, "Provenance").
public struct RunManifest: Codable, Equatable, Sendable {
    public struct Source: Codable, Equatable, Sendable {
        /// HEAD when the run started (nil in a repository without commits).
        public var commit: String?
        public var branch: String?
        public var dirty: Bool
        /// When dirty: the tree of the working directory as it was (tracked + untracked, not ignored).
        public var snapshotTree: String?
        /// Root-relative paths that are the workbench's own outputs (reports, artifacts, the run
        /// lock), not source: left out of the dirty check, the snapshot and `calrec diff`'s code comparison.
        public var excluded: [String]?

        enum CodingKeys: String, CodingKey {
            case commit, branch, dirty, excluded
            case snapshotTree = "snapshot_tree"
        }

        public init(commit: String?, branch: String?, dirty: Bool, snapshotTree: String?, excluded: [String]? = nil) {
            self.commit = commit
            self.branch = branch
            self.dirty = dirty
            self.snapshotTree = snapshotTree
            self.excluded = excluded
        }
    }

    public struct Block: Codable, Equatable, Sendable {
        public var id: String
        public var status: String
        public var key: String
        public var seconds: Double
        public var metrics: [String: Double]
        /// Why the block failed or was interrupted.
        public var error: String?
        /// What an outside engine the block ran on reported (Python, torch, CUDA versions, devices,
        /// world size); absent for blocks that ran in calrec alone.
        public var environment: [String: String]?

        public init(
            id: String, status: String, key: String, seconds: Double, metrics: [String: Double], error: String? = nil,
            environment: [String: String]? = nil
        ) {
            self.id = id
            self.status = status
            self.key = key
            self.seconds = seconds
            self.metrics = metrics
            self.error = error
            self.environment = environment
        }
    }

    public struct Artifact: Codable, Equatable, Sendable {
        /// Relative to the repository's root (format calrec-run/2; in calrec-run/1, relative to the
        /// directory the run started in), or absolute for a file outside the repository.
        public var path: String
        public var size: Int
        public var sha256: String
        public var gitBlob: String
        /// Whether the file itself is inside the run commit's tree (small files), not only its hashes.
        public var stored: Bool

        enum CodingKeys: String, CodingKey {
            case path, size, sha256, stored
            case gitBlob = "git_blob"
        }
    }

    /// `calrec-run/2`: artifact paths relative to the repository root.
    public var format = RunManifest.currentFormat
    public static let currentFormat = "calrec-run/2"

    /// Whether artifact paths are relative to the repository root (from `calrec-run/2` on); the
    /// first format recorded them relative to the directory the run started in.
    public var hasRootRelativePaths: Bool { format != "calrec-run/1" }
    public var runID: String
    public var workbook: String
    public var status: String
    public var started: Date
    public var finished: Date
    public var source: Source
    public var parameters: [String: String]
    public var toolVersion: String
    public var swiftVersion: String
    public var machine: MachineInfo
    public var blocks: [Block]
    public var artifacts: [Artifact]
    /// A subcommand run directly rather than from a workbook: its arguments (`workbook` is then empty).
    public var command: [String]?

    enum CodingKeys: String, CodingKey {
        case format, workbook, status, started, finished, source, parameters, machine, blocks, artifacts, command
        case runID = "run_id"
        case toolVersion = "tool_version"
        case swiftVersion = "swift_version"
    }

    public init(
        runID: String, workbook: String, status: String, started: Date, finished: Date, source: Source,
        parameters: [String: String], toolVersion: String, swiftVersion: String, machine: MachineInfo, blocks: [Block],
        artifacts: [Artifact], command: [String]? = nil
    ) {
        self.runID = runID
        self.workbook = workbook
        self.status = status
        self.started = started
        self.finished = finished
        self.source = source
        self.parameters = parameters
        self.toolVersion = toolVersion
        self.swiftVersion = swiftVersion
        self.machine = machine
        self.blocks = blocks
        self.artifacts = artifacts
        self.command = command
    }

    /// What ran: the workbook's path, or `calrec <arguments>` for a direct subcommand.
    public var what: String { command.map { (["calrec"] + $0).joined(separator: " ") } ?? workbook }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> RunManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(RunManifest.self, from: data)
    }
}
