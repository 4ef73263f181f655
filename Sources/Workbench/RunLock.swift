import Foundation

/// Keeps two runs of one workbook from writing the same artifacts: a lock file created with
/// O_EXCL that holds the owner's process id. A lock whose process is gone is taken over.
final class RunLock: @unchecked Sendable {
    let path: String
    private var held = false

    init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        path = (folder as NSString).appendingPathComponent("lock")
        for _ in 0..<2 {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if descriptor >= 0 {
                let text = "\(getpid())\n"
                _ = text.withCString { write(descriptor, $0, strlen($0)) }
                close(descriptor)
                held = true
                return
            }
            guard errno == EEXIST else { throw WorkbenchError.io(path: path, detail: String(cString: strerror(errno))) }
            let owner = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if let pid = Int32(owner), pid != getpid(), kill(pid, 0) == 0 || errno == EPERM {
                throw WorkbenchError.locked(path: path, holder: "process \(pid)")
            }
            unlink(path)  // stale: its process is gone
        }
        throw WorkbenchError.locked(path: path, holder: "unknown")
    }

    func release() {
        guard held else { return }
        unlink(path)
        held = false
    }
}
