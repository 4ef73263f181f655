import Foundation
import RecData

/// CPU seconds (user + system, all threads) and wall seconds a training run has cost. A run killed
/// and resumed costs the sum over its processes: its checkpoints carry what the processes before
/// them spent up to the checkpoint, so only the work after a killed process's last checkpoint (done
/// again on resuming) goes uncounted.
public struct TrainingCost: Codable, Sendable, Equatable {
    public var cpuSeconds: Double
    public var wallSeconds: Double

    public init(cpuSeconds: Double, wallSeconds: Double) {
        self.cpuSeconds = cpuSeconds
        self.wallSeconds = wallSeconds
    }

    public static let zero = TrainingCost(cpuSeconds: 0, wallSeconds: 0)

    public static func + (a: TrainingCost, b: TrainingCost) -> TrainingCost {
        TrainingCost(cpuSeconds: a.cpuSeconds + b.cpuSeconds, wallSeconds: a.wallSeconds + b.wallSeconds)
    }

    enum CodingKeys: String, CodingKey {
        case cpuSeconds = "cpu_seconds"
        case wallSeconds = "wall_seconds"
    }

    /// The CPU seconds this process has used so far.
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// A moment of this process: its CPU seconds and the wall clock then.
    public struct Mark: Sendable {
        public let cpuSeconds: Double
        public let wall: Date

        public static func now() -> Mark { Mark(cpuSeconds: TrainingCost.processCPUSeconds(), wall: Date()) }

        /// What this process has spent since the mark.
        public func elapsed() -> TrainingCost {
            TrainingCost(cpuSeconds: TrainingCost.processCPUSeconds() - cpuSeconds, wallSeconds: Date().timeIntervalSince(wall))
        }
    }
}

extension LanguageModelTraining {
    /// Where and how often the training state is saved, and whether to continue from it.
    public struct Checkpointing: Sendable {
        public var folder: String
        public var every: Int
        public var resume: Bool
        /// When this process's part of the run began (nil: when `train` is called); checkpoints add
        /// what it has spent since to the cost of the processes before it.
        public var started: TrainingCost.Mark?
        /// Where notices about the checkpoint go (standard error unless given).
        public var notice: @Sendable (String) -> Void

        public init(
            folder: String, every: Int, resume: Bool, started: TrainingCost.Mark? = nil,
            notice: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
        ) {
            self.folder = folder
            self.every = every
            self.resume = resume
            self.started = started
            self.notice = notice
        }

        /// Readies the folder for a run: removes what writers killed mid-checkpoint left beside it
        /// and, when resuming, reads the record of `training.json`. Resuming without a checkpoint
        /// says so through `notice` and gives nil: the run starts from step 0.
        package func recordToResume<Record: Decodable>(_ type: Record.Type) throws -> Record? {
            AtomicWrite.removeDebris(of: folder)
            guard resume else { return nil }
            guard let record = try Self.readRecord(type, in: folder) else {
                notice("no checkpoint at \(folder); starting from step 0")
                return nil
            }
            return record
        }

        /// Whether `step` (of `steps`) ends with a checkpoint.
        package func isDue(_ step: Int, of steps: Int) -> Bool { step % max(1, every) == 0 || step == steps }

        /// Replaces the folder atomically with what `fill` writes into the new one plus `record` as
        /// `training.json`.
        package func save<Record: Encodable>(_ record: Record, _ fill: (String) throws -> Void) throws {
            try AtomicWrite.folder(folder) { staging in
                try fill(staging)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try encoder.encode(record).write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("training.json")))
            }
        }

        /// The record of a checkpoint folder, nil when there is none yet.
        package static func readRecord<Record: Decodable>(_ type: Record.Type, in folder: String) throws -> Record? {
            let path = (folder as NSString).appendingPathComponent("training.json")
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            do {
                return try JSONDecoder().decode(Record.self, from: data)
            } catch {
                throw ModelError.malformed(path: path, detail: "unreadable training record (\(error.localizedDescription))")
            }
        }
    }
}
