import Foundation

/// Runs an `sh` block under `/bin/sh` with its output captured and an optional timeout.
enum ShellBlock {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
    }

    /// The process running now, so an interrupt can stop it.
    nonisolated(unsafe) static var running: Process?
    private static let runningLock = NSLock()

    static func run(script: String, timeout: Double?) throws -> Outcome {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-sh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout")
        let errURL = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        setRunning(process)
        defer { setRunning(nil) }
        var timedOut = false
        if let timeout {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                timedOut = true
                process.terminate()
                usleep(200_000)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
        }
        process.waitUntilExit()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return Outcome(status: process.terminationStatus, stdout: out, stderr: err, timedOut: timedOut)
    }

    private static func setRunning(_ process: Process?) {
        runningLock.lock()
        running = process
        runningLock.unlock()
    }

    /// Stops the running block's process, if any (on interrupt).
    static func terminateRunning() {
        runningLock.lock()
        let process = running
        runningLock.unlock()
        if let process, process.isRunning { process.terminate() }
    }
}
