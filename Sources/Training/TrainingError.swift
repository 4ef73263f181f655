import Foundation

/// Why a training run stopped or could not resume.
public enum TrainingError: Error, LocalizedError, Equatable {
    /// The loss stopped being a finite number; the last checkpoint written (if any) is still good.
    case diverged(loss: Float, step: Int, checkpoint: String?)
    /// A checkpoint folder written by another format version of this tool.
    case checkpointVersion(path: String, found: Int?, expected: Int)
    /// A checkpoint made by another model, other options or other data.
    case checkpointMismatch(path: String, detail: String)
    /// A checkpoint file that cannot be read.
    case unreadableCheckpoint(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .diverged(let loss, let step, let checkpoint):
            let kept = checkpoint.map { "; the last good checkpoint is in \($0)" } ?? ""
            return "loss became \(loss) at step \(step)\(kept); lower the learning rate or clip harder and train again"
        case .checkpointVersion(let path, let found, let expected):
            let format = found.map { "checkpoint format \($0)" } ?? "an earlier checkpoint format without a version"
            return "\(path) was written in \(format), and this calrec reads format \(expected) only; "
                + "train afresh without --resume (the folder is replaced), or finish the run with the calrec that wrote it"
        case .checkpointMismatch(let path, let detail):
            return "\(path): \(detail); start afresh without --resume or use the same settings as the checkpoint"
        case .unreadableCheckpoint(let path, let detail):
            return "\(path): unreadable checkpoint (\(detail)); delete it and train without --resume"
        }
    }
}
