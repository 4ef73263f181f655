import Foundation
import XCTest

/// End-to-end: the `calrec` binary as a user calls it.
final class CLITests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The real data sets the repository carries.
    static let data = repository.appendingPathComponent("Workbooks/data")

    private func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try CLIRunner().run(arguments)
    }

    private func scratch() throws -> String { try scratchFolder("calrec-cli") }

    func testHelpIsPrintedAndExitsZeroForTheRootAndEverySubcommand() throws {
        for arguments in [["--help"], ["baseline", "--help"], ["help", "features"], ["run", "-h"]] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.err)")
            XCTAssertTrue(result.out.contains("USAGE: calrec"), "\(arguments): \(result.out)")
            XCTAssertFalse(result.err.contains("CommandError"), result.err)
        }
        XCTAssertTrue(try run(["baseline", "--help"]).out.contains("unisrec-t"))
    }

    func testStatsJSONOnGiftCardsHasEveryKey() throws {
        let folder = Self.data.appendingPathComponent("amazon2018-gift-cards").path
        let result = try run(["stats", "--amazon2018", folder, "--category", "Gift_Cards", "--format", "json"])
        XCTAssertEqual(result.status, 0, result.err)
        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
        XCTAssertEqual(
            Set(object.keys),
            ["category", "users", "duplicate_pct", "items", "purchases", "items_per_user", "purchases_per_item", "density",
             "words_per_item", "vocab_size", "avg_word_freq"])
        XCTAssertEqual(object["category"] as? String, "Gift_Cards")
        XCTAssertEqual(object["users"] as? Int, 458)
    }

    func testStatsWithSampledUsersKeepsTheFraction() throws {
        let folder = Self.data.appendingPathComponent("amazon2018-gift-cards").path
        let result = try run(["stats", "--amazon2018", folder, "--sample-users", "0.5", "--sample-seed", "3", "--format", "json"])
        XCTAssertEqual(result.status, 0, result.err)
        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
        XCTAssertEqual(object["users"] as? Int, 229)
        let again = try run(["stats", "--amazon2018", folder, "--sample-users", "0.5", "--sample-seed", "3", "--format", "json"])
        XCTAssertEqual(again.out, result.out)
    }

    func testStatsOnRecBoleOffice() throws {
        let folder = Self.data.appendingPathComponent("office-2014-recbole").path
        let result = try run(["stats", "--recbole", folder, "--format", "json"])
        XCTAssertEqual(result.status, 0, result.err)
        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
        XCTAssertEqual(object["users"] as? Int, 4905)
        XCTAssertEqual(object["items"] as? Int, 2420)
        XCTAssertEqual(object["purchases"] as? Int, 53258)
        XCTAssertTrue(object["duplicate_pct"] is NSNull)
    }

    func testSynthThenPrepareWritesRecBoleFilesAndSplits() throws {
        let folder = try scratch()
        XCTAssertEqual(try run(["synth", "--out", folder + "/raw", "--users", "300", "--seed", "9"]).status, 0)
        let prepared = try run(["prepare", "--amazon2018", folder + "/raw", "--out", folder + "/out"])
        XCTAssertEqual(prepared.status, 0, prepared.err)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/out/Synthetic").sorted()
        XCTAssertEqual(names, ["Synthetic.inter", "Synthetic.item", "splits.json"])
        // The prepared folder reads back with the same statistics, minus the duplicate share.
        let raw = try run(["stats", "--amazon2018", folder + "/raw", "--format", "json"])
        let back = try run(["stats", "--recbole", folder + "/out/Synthetic", "--format", "json"])
        var a = try JSONSerialization.jsonObject(with: Data(raw.out.utf8)) as! [String: Any]
        var b = try JSONSerialization.jsonObject(with: Data(back.out.utf8)) as! [String: Any]
        a["duplicate_pct"] = nil
        b["duplicate_pct"] = nil
        XCTAssertEqual(NSDictionary(dictionary: a), NSDictionary(dictionary: b))
    }

    func testBadInputExitsNonZeroNamingFileLineAndLeavesNoOutput() throws {
        let folder = try scratch()
        try "{\"reviewerID\": \"U\", \"asin\": \"I\", \"overall\": 5.0, \"unixReviewTime\": 1}\n{\"reviewerID\": \"U\"\n"
            .write(toFile: folder + "/Bad_5.json", atomically: true, encoding: .utf8)
        try "{\"asin\": \"I\", \"title\": \"T\"}\n".write(toFile: folder + "/meta_Bad.json", atomically: true, encoding: .utf8)
        let result = try run(["prepare", "--amazon2018", folder, "--out", folder + "/out"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("Bad_5.json:2:"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out/Bad"))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/out")) ?? []
        XCTAssertEqual(leftovers, [])
        let skipping = try run(["stats", "--amazon2018", folder, "--skip-bad-lines", "--format", "json"])
        XCTAssertEqual(skipping.status, 0, skipping.err)
        XCTAssertTrue(skipping.err.contains("skipped 1"), skipping.err)
    }

    func testGenericBLASKernelMakesCalrecReexecuteWithABetterOne() throws {
        let process = Process()
        process.executableURL = CLIRunner().binary
        process.arguments = ["doctor"]
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_CORETYPE"] = nil
        environment["CALREC_ASSUME_GENERIC_BLAS"] = "1"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let flags = (try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).split(separator: "\n")
            .first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
        let expected = flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl")
            ? "SkylakeX" : flags.contains("avx2") && flags.contains("fma") ? "Haswell" : nil
        if let expected {
            XCTAssertTrue(text.contains("blas: OpenBLAS kernel \(expected) (OPENBLAS_CORETYPE=\(expected))"), text)
        } else {
            XCTAssertFalse(text.contains("OPENBLAS_CORETYPE="), text)
        }
    }

    /// `calrec lm score` on a tiny GPT-2 with a byte-level tokenizer; the expected value comes from
    /// NumPy (Tests/Fixtures/tiny-gpt2/make_fixture.py).
    func testLMScorePrintsTheLogProbabilityOfTheText() throws {
        let folder = Self.repository.appendingPathComponent("Tests/Fixtures/tiny-gpt2/bpe").path
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/expected_score.json"))) as! [String: Any]
        let result = try run(["lm", "score", "--model", folder, "--text", expected["text"] as! String])
        XCTAssertEqual(result.status, 0, result.err)
        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
        XCTAssertEqual(object["tokens"] as? Int, expected["tokens"] as? Int)
        XCTAssertEqual(object["logprob"] as! Double, expected["logprob"] as! Double, accuracy: 1e-3)
        let missing = try run(["lm", "score", "--model", "/nonexistent/model", "--text", "x"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("/nonexistent/model: no such model"), missing.err)
    }

    func testLMTrainThenGenerateOnATextFile() throws {
        let folder = try scratch()
        let lines = (0..<60).map { "Title: \(["red", "blue", "green"][$0 % 3]) pen pack of \($0 % 5), Brand: Acme" }
        try lines.joined(separator: "\n").write(toFile: folder + "/docs.txt", atomically: true, encoding: .utf8)
        let arguments = ["lm", "train", "--text-file", folder + "/docs.txt", "--vocab", "300", "--layers", "1", "--channels", "32",
                         "--heads", "2", "--context", "24", "--batch", "4", "--steps", "40", "--lr", "5e-3", "--seed", "3"]
        let trained = try run(arguments + ["--out", folder + "/a"])
        XCTAssertEqual(trained.status, 0, trained.err)
        for file in ["config.json", "model.safetensors", "vocab.json", "merges.txt", "train.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/a/" + file), file)
        }
        let curve = try String(contentsOfFile: folder + "/a/train.jsonl", encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertEqual(curve.count, 40)
        XCTAssertLessThan(curve.last!["loss"] as! Double, (curve.first!["loss"] as! Double) * 0.6)
        // Same seed, same weights.
        XCTAssertEqual(try run(arguments + ["--out", folder + "/b"]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/a/model.safetensors")),
                       try Data(contentsOf: URL(fileURLWithPath: folder + "/b/model.safetensors")))
        let generated = try run(["lm", "generate", "--model", folder + "/a", "--prompt", "Title:", "--samples", "3", "--max-new-tokens", "8", "--seed", "1"])
        XCTAssertEqual(generated.status, 0, generated.err)
        let samples = generated.out.split(separator: "\n")
        XCTAssertEqual(samples.count, 3)
        let first = try JSONSerialization.jsonObject(with: Data(samples[0].utf8)) as! [String: Any]
        XCTAssertNotNil(first["text"] as? String)
        XCTAssertLessThan(first["logprob"] as! Double, 0)
    }

    func testLMTrainResumedWithoutACheckpointSaysSoAndRecordsItsCost() throws {
        let folder = try scratch()
        let lines = (0..<30).map { "Title: \(["red", "blue"][$0 % 2]) pen pack of \($0 % 5)" }
        try lines.joined(separator: "\n").write(toFile: folder + "/docs.txt", atomically: true, encoding: .utf8)
        let trained = try run([
            "lm", "train", "--text-file", folder + "/docs.txt", "--out", folder + "/a", "--vocab", "280", "--layers", "1", "--channels", "16",
            "--heads", "2", "--context", "16", "--batch", "2", "--steps", "6", "--resume",
        ])
        XCTAssertEqual(trained.status, 0, trained.err)
        XCTAssertTrue(trained.err.contains("calrec: no checkpoint at \(folder)/a.checkpoint; starting from step 0"), trained.err)
        let cost = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/a/cost.json"))) as! [String: Any]
        XCTAssertGreaterThan(cost["cpu_seconds"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(cost["wall_seconds"] as? Double ?? 0, 0)
        XCTAssertEqual(cost["steps"] as? Int, 6)
        XCTAssertEqual(cost["resumed"] as? Bool, true)
    }

    func testAMissingMetadataFileIsNamed() throws {
        let folder = try scratch()
        try FileManager.default.copyItem(
            atPath: Self.data.appendingPathComponent("amazon2018-gift-cards/Gift_Cards_5.json.gz").path, toPath: folder + "/Gift_Cards_5.json.gz")
        for arguments in [["stats", "--amazon2018", folder], ["stats", "--amazon2018", folder, "--category", "Gift_Cards"]] {
            let result = try run(arguments)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.err.contains("has Gift_Cards_5.json.gz but no meta_Gift_Cards.json.gz (or meta_Gift_Cards.json)"), result.err)
        }
    }

    func testMissingPathAndUnknownCategoryAreClearErrors() throws {
        let missing = try run(["stats", "--amazon2018", "/nonexistent/folder"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("/nonexistent/folder: no such file or folder"), missing.err)
        let folder = Self.data.appendingPathComponent("amazon2018-gift-cards").path
        let unknown = try run(["stats", "--amazon2018", folder, "--category", "Office_Products"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("no category 'Office_Products'") && unknown.err.contains("Gift_Cards"), unknown.err)
    }
}

/// Runs the built `calrec` binary (found beside the test bundle) and captures its output.
struct CLIRunner {
    /// Variables added to the environment of every calrec it runs.
    var extraEnvironment: [String: String] = [:]

    var binary: URL {
        var folder = Bundle(for: CLITests.self).bundleURL
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("calrec").path) && folder.path != "/" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("calrec")
    }

    /// Runs calrec. Subcommands run directly record provenance in the git repository around `directory`
    /// — this one, when none is given — so that is switched off unless a test asks for it.
    func run(_ arguments: [String], in directory: String? = nil, recordProvenance: Bool = false) throws -> (status: Int32, out: String, err: String) {
        var environment = ProcessInfo.processInfo.environment
        if recordProvenance {
            environment["CALREC_NO_PROVENANCE"] = nil
        } else {
            environment["CALREC_NO_PROVENANCE"] = "1"
        }
        environment.merge(extraEnvironment) { $1 }
        return try run(executable: binary, arguments, in: directory, environment: environment)
    }

    func run(
        executable: URL, _ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil
    ) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read stderr on another thread so neither pipe can fill up and block the child.
        nonisolated(unsafe) var errData = Data()
        let errReader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        errReader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errReader.isFinished { usleep(1000) }
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}

extension XCTestCase {
    /// A new empty folder for an end-to-end test, removed when the test ends.
    func scratchFolder(_ prefix: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }
}
