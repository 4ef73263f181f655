import Foundation

/// Runs an `sh` block under `/bin/sh` with its output captured and an optional timeout. The shell
/// runs in its own process group, so a timeout or an interrupt stops everything it started.
enum ShellBlock {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
    }

    /// The process group running now, so an interrupt can stop it (0: none).
    nonisolated(unsafe) private static var runningGroup: pid_t = 0
    private static let runningLock = NSLock()

    static func run(script: String, timeout: Double?) throws -> Outcome {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-sh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outPath = folder.appendingPathComponent("stdout").path
        let errPath = folder.appendingPathComponent("stderr").path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", script]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        guard spawned == 0 else {
            throw WorkbenchError.io(path: "/bin/sh", detail: "cannot start: \(String(cString: strerror(spawned)))")
        }
        setRunning(pid)
        defer { setRunning(0) }

        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var status: Int32 = 0
        var timedOut = false
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { break }
            if let deadline, Date() >= deadline, !timedOut {
                timedOut = true
                kill(-pid, SIGTERM)
                let grace = Date().addingTimeInterval(1)
                while waitpid(pid, &status, WNOHANG) == 0 && Date() < grace { usleep(10_000) }
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(5_000)
        }
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Outcome(status: exitStatus, stdout: out, stderr: err, timedOut: timedOut)
    }

    private static func setRunning(_ group: pid_t) {
        runningLock.lock()
        runningGroup = group
        runningLock.unlock()
    }

    /// Stops the running block's processes, if any (on interrupt); returns whether there were any.
    @discardableResult
    static func terminateRunning() -> Bool {
        runningLock.lock()
        let group = runningGroup
        runningLock.unlock()
        if group > 0 { kill(-group, SIGTERM) }
        return group > 0
    }
}
