import Foundation
import XCTest

/// Where the tests find what `make models` and `make venv` install: the cached pretrained models
/// and the Python environment. Missing, a test that needs one is skipped — or fails where
/// `make test` asks for it (`CALREC_REQUIRE_MODELS=1`, `CALREC_REQUIRE_PYTHON=1`), since
/// `make test` installs both first.
public enum TestEnvironment {
    /// The repository root (two levels above this file's folder).
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// What a test needed and did not find where `make test` requires it.
    public enum Failure: LocalizedError, CustomStringConvertible {
        case missing(String)

        public var errorDescription: String? { description }

        /// What XCTest prints for a thrown error.
        public var description: String {
            switch self {
            case .missing(let why): return why
            }
        }
    }

    /// The all-MiniLM-L6-v2 folder (`CALREC_MINILM` overrides the path).
    public static func miniLM() throws -> String {
        let path = environment["CALREC_MINILM"] ?? cached("all-MiniLM-L6-v2")
        guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model.safetensors")) else {
            throw unavailable("\(path) is missing; `make models` fetches it", requiredBy: "CALREC_REQUIRE_MODELS")
        }
        return path
    }

    /// The SmolLM2-135M-Instruct GGUF file (`CALREC_SMOLLM2_GGUF` overrides the path).
    public static func smolLM2() throws -> String {
        let path = environment["CALREC_SMOLLM2_GGUF"] ?? cached("SmolLM2-135M-Instruct.Q4_1.gguf")
        guard FileManager.default.fileExists(atPath: path) else {
            throw unavailable("\(path) is missing; `make models` fetches it", requiredBy: "CALREC_REQUIRE_MODELS")
        }
        return path
    }

    /// The Python of the repository's environment (`CALREC_PYTHON` overrides it), checked once per
    /// test process to import `modules`.
    public static func python(importing modules: [String]) throws -> String {
        let python = environment["CALREC_PYTHON"] ?? repository.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw unavailable("no Python environment at \(python) (make venv)", requiredBy: "CALREC_REQUIRE_PYTHON")
        }
        let statement = "import " + modules.sorted().joined(separator: ", ")
        guard !modules.isEmpty, !importable.withLock({ $0.contains(python + "\n" + statement) }) else { return python }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", statement]
        let errors = Pipe()
        probe.standardError = errors
        probe.standardOutput = FileHandle.nullDevice
        try probe.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            throw unavailable("\(python) cannot run `\(statement)` (make venv): \(message)", requiredBy: "CALREC_REQUIRE_PYTHON")
        }
        importable.withLock { _ = $0.insert(python + "\n" + statement) }
        return python
    }

    /// The (Python, import statement) pairs already probed successfully in this process.
    private static let importable = LockedSet()

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    private static func cached(_ name: String) -> String {
        repository.appendingPathComponent(".cache/models").appendingPathComponent(name).path
    }

    /// A failure where `variable` is set to 1 (`make test`), a skip otherwise.
    private static func unavailable(_ why: String, requiredBy variable: String) -> Error {
        environment[variable] == "1" ? Failure.missing(why) : XCTSkip("\(why) (make test does)")
    }
}

/// A set of strings behind a lock, for state shared by tests that may run on any thread.
private final class LockedSet: @unchecked Sendable {
    private let lock = NSLock()
    private var members: Set<String> = []

    func withLock<T>(_ body: (inout Set<String>) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&members)
    }
}
