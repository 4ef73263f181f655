import Foundation
import Support

/// The PyTorch engine (`python/calrec_torch`) as `calrec train --engine torch` runs it: the
/// project's Python environment, one process or `accelerate launch` over several, its output on
/// this terminal, and what it reports about itself (versions, devices, world size).
struct TorchEngine {
    /// `CALREC_PYTHON`, else the project's `.venv/bin/python` (from the working directory), else `python3`.
    var python: String

    init(python: String? = nil) {
        let environment = ProcessInfo.processInfo.environment
        let venv = FileManager.default.currentDirectoryPath + "/.venv/bin/python"
        self.python = python ?? environment["CALREC_PYTHON"] ?? (FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3")
    }

    enum Failure: LocalizedError {
        case notStarted(String, String)
        case failed(command: String, status: Int32)

        var errorDescription: String? {
            switch self {
            case .notStarted(let python, let detail):
                return "cannot start the PyTorch engine with \(python) (\(detail)); run make venv, or point CALREC_PYTHON at a Python with python/calrec_torch installed"
            case .failed(let command, let status):
                return "the PyTorch engine exited with status \(status): \(command)"
            }
        }
    }

    /// Runs `calrec_torch <arguments>` in `processes` processes (`accelerate launch` when more than
    /// one; `--multi_gpu` there also spans CPU processes when the engine gets `--cpu`).
    func run(_ arguments: [String], processes: Int = 1) throws {
        var command: [String]
        if processes > 1 {
            let accelerate = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("accelerate").path
            command = [accelerate, "launch", "--multi_gpu", "--num_processes", String(processes), "--num_machines", "1", "--dynamo_backend", "no", "-m", "calrec_torch"]
        } else {
            command = [python, "-m", "calrec_torch"]
        }
        command += arguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0].contains("/") ? command[0] : "/usr/bin/env")
        process.arguments = command[0].contains("/") ? Array(command.dropFirst()) : command
        var environment = ProcessInfo.processInfo.environment
        environment["HF_HUB_OFFLINE"] = "1"
        environment["TRANSFORMERS_VERBOSITY"] = environment["TRANSFORMERS_VERBOSITY"] ?? "error"
        process.environment = environment
        log("PyTorch engine: " + command.joined(separator: " "))
        do {
            try process.run()
        } catch {
            throw Failure.notStarted(python, error.localizedDescription)
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure.failed(command: command.joined(separator: " "), status: process.terminationStatus) }
    }

    /// The `environment` object of a JSON file the engine wrote (`calrec_torch.json`,
    /// `sampling.json`), as strings; empty when there is none.
    static func environment(recordedIn path: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let environment = object["environment"] as? [String: Any]
        else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in environment {
            switch value {
            case let list as [Any]: result[key] = list.map { "\($0)" }.joined(separator: ", ")
            case is NSNull: result[key] = "none"
            default: result[key] = "\(value)"
            }
        }
        return result
    }
}
