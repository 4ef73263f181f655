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

    /// What a test needed and did not find, with the command that installs it.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// The all-MiniLM-L6-v2 folder (`CALREC_MINILM` overrides the path).
    public static func miniLM() throws -> String {
        let path = environment["CALREC_MINILM"] ?? cached("all-MiniLM-L6-v2")
        guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model.safetensors")) else {
            throw missing("\(path) is missing; `make models` fetches it", required: "CALREC_REQUIRE_MODELS")
        }
        return path
    }

    /// The SmolLM2-135M-Instruct GGUF file (`CALREC_SMOLLM2_GGUF` overrides the path).
    public static func smolLM2() throws -> String {
        let path = environment["CALREC_SMOLLM2_GGUF"] ?? cached("SmolLM2-135M-Instruct.Q4_1.gguf")
        guard FileManager.default.fileExists(atPath: path) else {
            throw missing("\(path) is missing; `make models` fetches it", required: "CALREC_REQUIRE_MODELS")
        }
        return path
    }

    /// The Python of the repository's environment (`CALREC_PYTHON` overrides it), checked to import
    /// `modules`.
    public static func python(importing modules: [String]) throws -> String {
        let python = environment["CALREC_PYTHON"] ?? repository.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw missing("no Python environment at \(python) (make venv)", required: "CALREC_REQUIRE_PYTHON")
        }
        guard !modules.isEmpty else { return python }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import " + modules.joined(separator: ", ")]
        let errors = Pipe()
        probe.standardError = errors
        probe.standardOutput = FileHandle.nullDevice
        try probe.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            throw missing("\(python) cannot import \(modules.joined(separator: ", ")) (make venv): \(message)", required: "CALREC_REQUIRE_PYTHON")
        }
        return python
    }

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    private static func cached(_ name: String) -> String {
        repository.appendingPathComponent(".cache/models").appendingPathComponent(name).path
    }

    private static func missing(_ why: String, required variable: String) -> Error {
        environment[variable] == "1" ? Missing(description: why) : XCTSkip("\(why) (make test does)")
    }
}
