import Foundation
import XCTest

/// Checkpoints from the command line: `calrec baseline sasrec --checkpoint-every/--resume` killed
/// with SIGKILL and resumed ends with the uninterrupted run's weights, curve and metrics; checkpoints
/// of other settings or of an earlier format are refused with what to do.
final class CheckpointCLITests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try CLIRunner().run(arguments)
    }

    func testAKilledAndResumedSASRecRunEndsWithTheUninterruptedWeightsAndMetrics() throws {
        let folder = try scratchFolder("calrec-sasrec-kill")
        XCTAssertEqual(try run(["synth", "--out", folder + "/data", "--budget", "tiny", "--seed", "5"]).status, 0)
        XCTAssertEqual(try run(["prepare", "--amazon2018", folder + "/data", "--out", folder + "/prepared"]).status, 0)
        func arguments(_ out: String) -> [String] {
            [
                "baseline", "sasrec", "--recbole", folder + "/prepared/Synthetic", "--split", "test", "--max-epochs", "60", "--patience", "60",
                "--hidden", "16", "--layers", "1", "--max-length", "10", "--batch", "16", "--seed", "2", "--out", out,
                "--metrics-file", out + "/metrics.json",
            ]
        }
        let straight = folder + "/straight", killed = folder + "/killed"
        let uninterrupted = try run(arguments(straight))
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.err)

        let checkpoint = killed + "/model.checkpoint"
        let first = Process()
        first.executableURL = CLIRunner().binary
        first.arguments = arguments(killed) + ["--checkpoint-every", "1", "--resume"]
        first.environment = ProcessInfo.processInfo.environment.merging(["CALREC_NO_PROVENANCE": "1"]) { $1 }
        first.standardError = FileHandle.nullDevice
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint + "/training.json") && first.isRunning && Date() < deadline { usleep(1000) }
        usleep(20_000)  // into a later epoch, possibly mid-checkpoint
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal, "the run ended before it could be killed; give it more epochs")
        XCTAssertFalse(FileManager.default.fileExists(atPath: killed + "/metrics.json"))

        let resumed = try run(arguments(killed) + ["--checkpoint-every", "1", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertFalse(resumed.err.contains("no checkpoint"), resumed.err)

        XCTAssertEqual(
            FileManager.default.contents(atPath: killed + "/model/model.safetensors"),
            FileManager.default.contents(atPath: straight + "/model/model.safetensors"), "the resumed run's weights differ")
        func curve(_ out: String) throws -> [NSDictionary] {
            try String(contentsOfFile: out + "/model/train.jsonl", encoding: .utf8).split(separator: "\n").map { line in
                var record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                record["seconds"] = nil
                return record as NSDictionary
            }
        }
        XCTAssertEqual(try curve(killed), try curve(straight))
        func metrics(_ out: String) throws -> NSDictionary {
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
            object["cpu_seconds"] = nil
            var settings = object["settings"] as! [String: Any]
            var training = settings["training"] as! [String: Any]
            for key in ["cpu_seconds", "wall_seconds", "resumed"] { training[key] = nil }
            settings["training"] = training
            object["settings"] = settings
            return object as NSDictionary
        }
        XCTAssertEqual(try metrics(killed), try metrics(straight))
        let recorded = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: killed + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(((recorded["settings"] as? [String: Any])?["training"] as? [String: Any])?["resumed"] as? Bool, true)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: killed).filter { $0.hasPrefix(".") }, [], "no staging debris")
    }

    func testResumingWithAnotherSeedIsRefusedNamingTheCheckpoint() throws {
        let folder = try scratchFolder("calrec-sasrec-mismatch")
        XCTAssertEqual(try run(["synth", "--out", folder + "/data", "--budget", "tiny", "--seed", "5"]).status, 0)
        XCTAssertEqual(try run(["prepare", "--amazon2018", folder + "/data", "--out", folder + "/prepared"]).status, 0)
        let base = [
            "baseline", "bert4rec", "--recbole", folder + "/prepared/Synthetic", "--split", "test", "--max-epochs", "2", "--hidden", "16",
            "--layers", "1", "--max-length", "10", "--out", folder + "/run", "--metrics-file", folder + "/run/metrics.json", "--checkpoint-every", "1",
        ]
        XCTAssertEqual(try run(base + ["--seed", "1"]).status, 0)
        let other = try run(base + ["--seed", "2", "--resume"])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.err.contains(folder + "/run/model.checkpoint"), other.err)
        XCTAssertTrue(other.err.contains("seed: 1 in the checkpoint, 2 now"), other.err)
        XCTAssertTrue(other.err.contains("without --resume"), other.err)
    }

    func testAnEarlierFormatCheckpointIsRefusedNamingTheFolder() throws {
        let folder = try scratchFolder("calrec-old-checkpoint")
        let text = folder + "/docs.txt", out = folder + "/lm", checkpoint = out + ".checkpoint"
        try (0..<30).map { "document \($0) about item \($0 % 4)" }.joined(separator: "\n").write(toFile: text, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: checkpoint, withIntermediateDirectories: true)
        // What checkpoints held before the format had a version.
        try #"{"options": {}, "streamTokens": 10, "step": 2, "randomState": 7, "curve": []}"#.write(
            toFile: checkpoint + "/training.json", atomically: true, encoding: .utf8)
        let result = try run([
            "lm", "train", "--text-file", text, "--out", out, "--vocab", "300", "--layers", "1", "--channels", "16", "--heads", "2",
            "--context", "8", "--steps", "3", "--resume",
        ])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("\(checkpoint) was written in an earlier checkpoint format"), result.err)
        XCTAssertTrue(result.err.contains("train afresh without --resume"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
