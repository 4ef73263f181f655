import CSupervisedSpawn
import Foundation

/// Runs an `sh` block under `ShellBlock.shell` (dash or /bin/sh) with its output captured and an optional timeout. The shell
/// runs under a supervising process in its own process group (`CSupervisedSpawn`), so a timeout,
/// an interrupt or even `kill -9` of calrec stops everything the block started, and nothing the
/// block left in the background outlives it.
enum ShellBlock {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
    }

    /// The supervisor of the block running now, so an interrupt can stop it (0: none).
    nonisolated(unsafe) private static var runningSupervisor: pid_t = 0
    private static let runningLock = NSLock()

    /// Runs `script`; `environment` is added to calrec's own environment (it carries the parameters).
    static func run(script: String, environment: [String: String] = [:], timeout: Double?) throws -> Outcome {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-sh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outPath = folder.appendingPathComponent("stdout").path
        let errPath = folder.appendingPathComponent("stderr").path

        var pid: pid_t = 0
        let arguments = [shell, "-c", script]
        let variables = blockEnvironment(adding: environment).map { "\($0.key)=\($0.value)" }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        let spawned = calrec_spawn_supervised(shell, &argv, &envp, outPath, errPath, &pid)
        guard spawned == 0 else {
            throw WorkbenchError.io(path: shell, detail: "cannot start: \(String(cString: strerror(spawned)))")
        }
        setRunning(pid)

        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var status: Int32 = 0
        var timedOut = false
        var lost = false
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR {
                lost = true
                break
            }
            if let deadline, Date() >= deadline, !timedOut {
                timedOut = true
                kill(pid, SIGTERM)  // passed on to the block's process group
                let grace = Date().addingTimeInterval(2)
                var ended = false
                while !ended && Date() < grace {
                    ended = waitpid(pid, &status, WNOHANG) == pid
                    if !ended { usleep(10_000) }
                }
                if !ended {
                    kill(pid, SIGUSR1)  // the supervisor kills the group with SIGKILL and ends
                    _ = waitpid(pid, &status, 0)
                }
                break
            }
            usleep(5_000)
        }
        setRunning(0)  // reaped: its pid may be reused from here on
        if lost { throw WorkbenchError.io(path: shell, detail: "lost track of the block's process: \(String(cString: strerror(errno)))") }
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Outcome(status: exitStatus, stdout: out, stderr: err, timedOut: timedOut)
    }

    /// The shell of `sh` blocks: dash where it is installed (a POSIX shell without bash's
    /// evaluation of array subscripts in names and arithmetic), else /bin/sh.
    static let shell = FileManager.default.isExecutableFile(atPath: "/bin/dash") ? "/bin/dash" : "/bin/sh"

    /// calrec's environment without other runs' parameter variables, plus `added`.
    static func blockEnvironment(adding added: [String: String]) -> [String: String] {
        var result = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix(ShellPlaceholders.environmentPrefix) }
        result.merge(added) { $1 }
        return result
    }

    private static func setRunning(_ supervisor: pid_t) {
        runningLock.lock()
        runningSupervisor = supervisor
        runningLock.unlock()
    }

    /// Stops the running block's processes, if any (on interrupt): SIGTERM to its process group,
    /// then, if it is still running after `grace` seconds, SIGKILL. Returns whether one was running.
    @discardableResult
    static func terminateRunning(grace: Double = 2) -> Bool {
        runningLock.lock()
        let supervisor = runningSupervisor
        if supervisor > 0 { kill(supervisor, SIGTERM) }
        runningLock.unlock()
        guard supervisor > 0 else { return false }
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) {
            // Under the lock: the runner clears the pid as soon as it reaps the supervisor.
            runningLock.lock()
            if runningSupervisor == supervisor { kill(supervisor, SIGUSR1) }
            runningLock.unlock()
        }
        return true
    }
}
