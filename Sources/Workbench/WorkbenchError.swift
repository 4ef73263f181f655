import Foundation

/// Problems with a workbook or its run. Parse errors name the workbook's file and line.
public enum WorkbenchError: Error, LocalizedError, Equatable {
    case parse(file: String, line: Int, message: String)
    case blockFailed(id: String, message: String)
    case locked(path: String, holder: String)
    case io(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .parse(let file, let line, let message): return "\(file):\(line): \(message)"
        case .blockFailed(let id, let message): return "block #\(id) failed: \(message)"
        case .locked(let path, let holder):
            return "\(path) is held by another run (\(holder)); wait for it to finish, or delete the lock file if that process is gone"
        case .io(let path, let detail): return "\(path): \(detail)"
        }
    }
}
