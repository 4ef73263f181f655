import Foundation

/// What can go wrong in CALRec training and inference, with what to do about it.
public enum CALRecError: Error, LocalizedError, Equatable {
    case invalidOption(String)
    case invalidModel(String)
    case noTrainingData(String)
    case invalidExport(String)

    public var errorDescription: String? {
        switch self {
        case .invalidOption(let detail): return "invalid option: \(detail)"
        case .invalidModel(let detail): return "unusable model: \(detail)"
        case .noTrainingData(let detail): return "no training data: \(detail)"
        case .invalidExport(let detail): return "unusable training export: \(detail); write it again with calrec export"
        }
    }
}
