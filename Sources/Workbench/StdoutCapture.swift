import Foundation

/// Captures what in-process code writes to standard output (file descriptor 1) by pointing the
/// descriptor at a temporary file while `body` runs.
enum StdoutCapture {
    // fflush(nil) flushes every C stream, standard output included, without naming the global.
    static func capture(_ body: () throws -> Void) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-out-\(UUID().uuidString)").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw WorkbenchError.io(path: path, detail: "cannot capture output") }
        defer {
            close(descriptor)
            unlink(path)
        }
        fflush(nil)
        let saved = dup(STDOUT_FILENO)
        dup2(descriptor, STDOUT_FILENO)
        var failure: Error?
        do { try body() } catch { failure = error }
        fflush(nil)
        dup2(saved, STDOUT_FILENO)
        close(saved)
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        if let failure { throw CapturedFailure(error: failure, output: text) }
        return text
    }

    /// An error raised inside a capture, with the output written before it.
    struct CapturedFailure: Error {
        var error: Error
        var output: String
    }
}
