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

/// Ctrl-C during a run: stop the running `sh` block, remove temporary files of interrupted atomic
/// writes, record the run as interrupted, release the lock, exit with status 130. Finished
/// artifacts stay; nothing half-written is left (every artifact write is atomic).
///
/// While an `sh` block runs, the handler only stops its process group and raises the flag; the
/// runner then records the run and ends it. Otherwise (an in-process block, which cannot be stopped
/// half-way) the handler does the recording itself and exits.
enum Interrupts {
    nonisolated(unsafe) private static var source: DispatchSourceSignal?
    nonisolated(unsafe) private static var flag = false
    private static let lock = NSLock()

    /// Whether Ctrl-C was pressed during this run.
    static var requested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }

    static func install(stateFolder: String, lock runLock: RunLock) {
        lock.lock()
        flag = false
        lock.unlock()
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            lock.lock()
            flag = true
            lock.unlock()
            if ShellBlock.terminateRunning() { return }
            finish(stateFolder: stateFolder, lock: runLock, entry: ["status": "interrupted"])
            exit(130)
        }
        source.resume()
        Self.source = source
    }

    /// Records an interrupted run and cleans up (called once, by the handler or by the runner).
    static func finish(stateFolder: String, lock runLock: RunLock, entry: [String: Any]) {
        removeTemporaryFiles(under: "artifacts")
        var entry = entry
        entry["time"] = ISO8601DateFormatter().string(from: Date())
        try? RunLog.appendLine(entry, folder: stateFolder)
        runLock.release()
        FileHandle.standardError.write(Data("calrec run: interrupted; finished artifacts are kept\n".utf8))
    }

    static func uninstall() {
        source?.cancel()
        source = nil
        signal(SIGINT, SIG_DFL)
    }

    static func removeTemporaryFiles(under folder: String) {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return }
        while let relative = enumerator.nextObject() as? String {
            guard (relative as NSString).lastPathComponent.contains(".tmp-") else { continue }
            try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(relative))
        }
    }
}
