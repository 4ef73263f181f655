import Foundation
import Support
import Tensors

/// Where and how often a run's state is saved, and whether to continue from it. A checkpoint is a
/// folder (see `TrainingCheckpoint`) replaced as a whole through a staging folder and a rename
/// (`AtomicWrite.folder`), so a process killed mid-write leaves the previous checkpoint intact.
public struct Checkpointing: Sendable {
    public var folder: String
    /// Steps between checkpoints (the last step always writes one).
    public var every: Int
    public var resume: Bool
    /// When this process's part of the run began (nil: when training starts); checkpoints add what
    /// it has spent since to the cost of the processes before it.
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

    /// The version field alone, read before the rest.
    private struct FormatVersion: Decodable { var version: Int? }

    static let recordFile = "training.json"
    static let weightsFile = "model.safetensors"
    static let optimizerFile = "optimizer.safetensors"
    static let bestFile = "best.safetensors"

    func path(_ file: String) -> String { (folder as NSString).appendingPathComponent(file) }

    /// Whether `step` (of `steps`) ends with a checkpoint.
    public func isDue(_ step: Int, of steps: Int) -> Bool { step % max(1, every) == 0 || step == steps }

    /// Readies the folder for a run: removes what writers killed mid-checkpoint left beside it and,
    /// when resuming, reads `training.json`. Resuming without a checkpoint says so through `notice`
    /// and gives nil: the run starts from step 0.
    func recordToResume<Point>(_ type: Point.Type) throws -> TrainingCheckpoint<Point>? {
        AtomicWrite.removeDebris(of: folder)
        guard resume else { return nil }
        guard let record = try Self.readRecord(Point.self, in: folder) else {
            notice("no checkpoint at \(folder); starting from step 0")
            return nil
        }
        return record
    }

    /// The record of a checkpoint folder, nil when there is none yet. A folder of another format
    /// version is an error that says what to do.
    public static func readRecord<Point>(_ type: Point.Type, in folder: String) throws -> TrainingCheckpoint<Point>? {
        let path = (folder as NSString).appendingPathComponent(recordFile)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let version: Int?
        do {
            version = try JSONDecoder().decode(FormatVersion.self, from: data).version
        } catch {
            throw TrainingError.unreadableCheckpoint(path: path, detail: error.localizedDescription)
        }
        let current = TrainingCheckpoint<Point>.currentVersion
        guard version == current else { throw TrainingError.checkpointVersion(path: folder, found: version, expected: current) }
        do {
            return try JSONDecoder().decode(TrainingCheckpoint<Point>.self, from: data)
        } catch {
            throw TrainingError.unreadableCheckpoint(path: path, detail: "\(error)")
        }
    }

    /// Replaces the folder with `record`, the weights, moments and best weights of `parameters`,
    /// and what `files` writes (the model's configuration, a tokenizer).
    func save<Point>(
        _ record: TrainingCheckpoint<Point>, parameters: ParameterSet, best: FloatStorage?, files: (String) throws -> Void
    ) throws {
        try AtomicWrite.folder(folder) { staging in
            func inStaging(_ file: String) -> String { (staging as NSString).appendingPathComponent(file) }
            try files(staging)
            // Frozen tensors are the starting model's, which a resumed run loads again: only the
            // trainable ones are saved.
            try SafeTensors.write(parameters.weightTensors(trainableOnly: true), metadata: ["format": "pt"], to: inStaging(Self.weightsFile))
            try SafeTensors.write(
                parameters.momentTensors(), metadata: ["step": String(record.step)], to: inStaging(Self.optimizerFile))
            if let best, let step = record.bestStep {
                try SafeTensors.write(
                    parameters.weightTensors(of: best, trainableOnly: true), metadata: ["format": "pt", "step": String(step)],
                    to: inStaging(Self.bestFile))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(record).write(to: URL(fileURLWithPath: inStaging(Self.recordFile)))
        }
    }

    /// Sets the weights and moments of `parameters` (and `best`, when the record has a best step)
    /// from the folder written with `record`.
    func load<Point>(_ record: TrainingCheckpoint<Point>, into parameters: ParameterSet, best: FloatStorage) throws {
        do {
            try parameters.loadWeights(SafeTensors.read(path(Self.weightsFile)).tensors, trainableOnly: true)
            let (moments, metadata) = try SafeTensors.read(path(Self.optimizerFile))
            guard metadata["step"] == String(record.step) else {
                throw TrainingError.unreadableCheckpoint(
                    path: path(Self.optimizerFile), detail: "its step \(metadata["step"] ?? "none") is not the record's \(record.step)")
            }
            try parameters.loadMoments(moments)
            if record.bestStep != nil {
                parameters.copyWeights(into: best)
                try parameters.load(SafeTensors.read(path(Self.bestFile)).tensors, into: best, trainableOnly: true)
            }
        } catch let error as ParameterSetError {
            throw TrainingError.checkpointMismatch(path: folder, detail: "the checkpoint's model does not match this run's (\(error.localizedDescription))")
        }
    }
}
