import Foundation
import XCTest

/// `calrec train` and `calrec recommend` end to end on a synthetic category, tiny budget.
final class CALRecCLITests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try CLIRunner().run(arguments)
    }

    func testStagesZeroAndTwoThenRecommendWriteModelsSamplesAndMetrics() throws {
        let folder = try scratchFolder("calrec-train")
        let data = folder + "/data", prepared = folder + "/prepared"
        XCTAssertEqual(try run(["synth", "--out", data, "--budget", "tiny", "--seed", "3"]).status, 0)
        XCTAssertEqual(try run(["prepare", "--amazon2018", data, "--out", prepared]).status, 0)
        let recbole = prepared + "/Synthetic"
        let stage0 = try run([
            "train", "--stage", "0", "--recbole", recbole, "--out", folder + "/m0", "--budget", "tiny", "--vocab", "400",
            "--channels", "32", "--context", "128", "--template", "compact",
        ])
        XCTAssertEqual(stage0.status, 0, stage0.err)
        for file in ["config.json", "model.safetensors", "vocab.json", "merges.txt", "train.jsonl", "calrec.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/m0/" + file), file)
        }
        let stage2 = try run([
            "train", "--stage", "2", "--init", folder + "/m0", "--recbole", recbole, "--out", folder + "/m2", "--budget", "tiny",
            "--template", "compact", "--max-output", "32", "--checkpoint-every", "10",
        ])
        XCTAssertEqual(stage2.status, 0, stage2.err)
        XCTAssertTrue(stage2.out.contains("kept step"), stage2.out)
        let curve = try String(contentsOfFile: folder + "/m2/train.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(curve.count, 20)
        XCTAssertTrue(curve.last!.contains("valid_nig"))
        // The summary line gives the means of the first and last tenth of the steps (2 of 20), not one batch's loss.
        let nig = try curve.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.map { ($0["nig"] as! NSNumber).doubleValue }
        let summary = try XCTUnwrap(stage2.out.split(separator: "\n").first { $0.contains("L_NIG") && $0.contains("(means of the first/last 2 steps)") }, stage2.out)
        // "stage 2 → …: L_NIG 1.2811 → 0.7303 (means of the first/last 2 steps); kept step …"
        let range = try XCTUnwrap(summary.range(of: "L_NIG ")).upperBound..<(try XCTUnwrap(summary.range(of: " (means")).lowerBound)
        let printed = summary[range].components(separatedBy: " → ").compactMap { Double($0) }
        XCTAssertEqual(printed.count, 2, String(summary))
        XCTAssertEqual(printed.first ?? -1, (nig[0] + nig[1]) / 2, accuracy: 1e-4)
        XCTAssertEqual(printed.last ?? -1, (nig[18] + nig[19]) / 2, accuracy: 1e-4)
        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/m2/calrec.json"))) as! [String: Any]
        XCTAssertEqual(settings["max_input_tokens"] as? Int, 96)
        XCTAssertEqual((settings["template"] as? [String: String])?["next_item_prefix"], "Next:")
        XCTAssertGreaterThan(settings["cpu_seconds"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(settings["wall_seconds"] as? Double ?? 0, 0)

        // What the PyTorch engine reads: the prompt settings come from the model's calrec.json.
        let export = try run(["export", "--model", folder + "/m2", "--recbole", recbole, "--out", folder + "/export.json", "--max-users", "12"])
        XCTAssertEqual(export.status, 0, export.err)
        let exported = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/export.json"))) as! [String: Any]
        XCTAssertEqual(exported["format"] as? String, "calrec-training-export")
        XCTAssertEqual(exported["max_input_tokens"] as? Int, 96)
        XCTAssertEqual(exported["max_output_tokens"] as? Int, 32)
        XCTAssertEqual((exported["template"] as? [String: Any])?["name"] as? String, "compact")
        let exportedData = try XCTUnwrap((exported["datasets"] as? [[String: Any]])?.first)
        XCTAssertEqual((exportedData["evaluation"] as? [Any])?.count, 12)
        XCTAssertEqual((exportedData["item_tokens"] as? [Any])?.count, (exportedData["item_ids"] as? [Any])?.count)
        XCTAssertFalse((exportedData["sequences"] as? [Any] ?? []).isEmpty)
        let refused = try run(["export", "--model", folder + "/m2", "--recbole", recbole, "--out", folder + "/x/export.json", "--template", "wordy"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("--template must be paper or compact"), refused.err)

        let recommend = try run([
            "recommend", "--model", folder + "/m2", "--recbole", recbole, "--out", folder + "/rec", "--samples", "3", "--max-users", "12",
            "--metrics-file", folder + "/metrics/calrec.json", "--seed", "7",
        ])
        XCTAssertEqual(recommend.status, 0, recommend.err)
        let samples = try String(contentsOfFile: folder + "/rec/samples.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 36, "12 users × 3 samples")
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/metrics/calrec.json"))) as! [String: Any]
        XCTAssertEqual(metrics["method"] as? String, "calrec")
        let inference = metrics["settings"] as! [String: Any]
        XCTAssertEqual(inference["temperature"] as? Double, 0.5)
        XCTAssertEqual(inference["seed"] as? Int, 7, "the sampling seed given is the one used")
        XCTAssertEqual(inference["users_evaluated"] as? Int, 12)
        XCTAssertGreaterThan(inference["generation_cpu_seconds"] as? Double ?? 0, 0)
        // Training CPU is the chain m2 ← m0, read back from each stage's calrec.json.
        let stageZero = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/m0/calrec.json"))) as! [String: Any]
        let cpu = metrics["cpu_seconds"] as! [String: Any]
        XCTAssertEqual(
            cpu["training"] as? Double ?? -1, (stageZero["cpu_seconds"] as! Double) + (settings["cpu_seconds"] as! Double), accuracy: 1e-9)
        XCTAssertEqual((cpu["training_stages"] as? [String: Double])?.keys.sorted(), ["stage 0", "stage 2"])
        // The chain was recorded at training time: it holds when the folders move.
        try FileManager.default.moveItem(atPath: folder + "/m0", toPath: folder + "/m0-moved")
        let moved = try run([
            "recommend", "--model", folder + "/m2", "--recbole", recbole, "--out", folder + "/rec2", "--samples", "1", "--max-users", "2",
        ])
        XCTAssertEqual(moved.status, 0, moved.err)
        let movedMetrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/rec2/metrics.json"))) as! [String: Any]
        XCTAssertEqual((movedMetrics["cpu_seconds"] as! [String: Any])["training"] as? Double ?? -1, cpu["training"] as? Double ?? -2, accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(cpu["inference"] as? Double ?? 0, inference["generation_cpu_seconds"] as! Double)
        let results = try run(["results", "CALRec=" + folder + "/metrics/calrec.json"])
        XCTAssertEqual(results.status, 0, results.err)
        XCTAssertTrue(results.out.contains("CPU s (training + inference)"), results.out)
        XCTAssertEqual(try String(contentsOfFile: folder + "/rec/ranks.tsv", encoding: .utf8).split(separator: "\n").count, 13)
        // What the samples name: written by recommend, and the same again by evaluate from samples.jsonl.
        let grounding = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/rec/grounding.json"))) as! [String: Any]
        XCTAssertEqual(grounding["users"] as? Int, 12)
        XCTAssertEqual(grounding["samples"] as? Int, 36)
        XCTAssertTrue(recommend.out.contains("What calrec's samples name"), recommend.out)
        let evaluate = try run([
            "evaluate", folder + "/rec/samples.jsonl", "--recbole", recbole, "--out", folder + "/eval", "--max-users", "12",
        ])
        XCTAssertEqual(evaluate.status, 0, evaluate.err)
        // evaluate knows no model: the best matches agree, and whole bodies match no more often than
        // bodies cut at the output limit.
        let evaluated = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/eval/grounding.json"))) as! [String: Any]
        // JSON numbers come back as NSNumber (integers for 12, 36 or a share of exactly 0).
        func number(_ object: [String: Any], _ key: String) throws -> Double { try XCTUnwrap(object[key] as? NSNumber, key).doubleValue }
        for key in ["users", "samples", "best_match_in_history", "best_match_is_target", "unmatched", "distinct_texts_per_user"] {
            XCTAssertEqual(try number(evaluated, key), try number(grounding, key), key)
        }
        XCTAssertLessThanOrEqual(try number(evaluated, "catalogue_text"), try number(grounding, "catalogue_text"))
        // Told the model, evaluate cuts the item texts as recommend does: the same file.
        let withModel = try run([
            "evaluate", folder + "/rec/samples.jsonl", "--recbole", recbole, "--out", folder + "/eval-model", "--max-users", "12", "--model", folder + "/m2",
        ])
        XCTAssertEqual(withModel.status, 0, withModel.err)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: folder + "/eval-model/grounding.json")), try Data(contentsOf: URL(fileURLWithPath: folder + "/rec/grounding.json")))
    }

    /// Stage 0 killed with SIGKILL once it has written a checkpoint, then resumed: calrec.json's CPU
    /// seconds are those of both processes, more than the resumed one alone used, and no staging
    /// folder is left beside the output or the checkpoint.
    func testAKilledAndResumedStageZeroRecordsTheCPUOfBothProcesses() throws {
        let folder = try scratchFolder("calrec-kill")
        XCTAssertEqual(try run(["synth", "--out", folder + "/data", "--budget", "tiny", "--seed", "3"]).status, 0)
        XCTAssertEqual(try run(["prepare", "--amazon2018", folder + "/data", "--out", folder + "/prepared"]).status, 0)
        let out = folder + "/m0", checkpoint = out + ".checkpoint"
        let arguments = [
            "train", "--stage", "0", "--recbole", folder + "/prepared/Synthetic", "--out", out, "--steps", "300", "--checkpoint-every", "50",
            "--vocab", "300", "--layers", "1", "--channels", "16", "--heads", "2", "--context", "32", "--batch", "2", "--resume",
        ]
        let first = Process()
        first.executableURL = CLIRunner().binary
        first.arguments = arguments
        first.environment = ProcessInfo.processInfo.environment.merging(["CALREC_NO_PROVENANCE": "1"]) { $1 }
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/first.err", contents: nil))
        first.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/first.err"))
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint + "/training.json") && first.isRunning && Date() < deadline { usleep(2000) }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal, "the run ended before it could be killed; give it more steps")
        let firstErr = try String(contentsOfFile: folder + "/first.err", encoding: .utf8)
        XCTAssertTrue(firstErr.contains("calrec: no checkpoint at \(checkpoint); starting from step 0"), firstErr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: checkpoint + "/training.json"))) as! [String: Any]
        let killedCPU = try XCTUnwrap((record["cost"] as? [String: Any])?["cpu_seconds"] as? Double, "\(record.keys)")
        XCTAssertGreaterThan(killedCPU, 0)
        let childrenBefore = childrenCPUSeconds()
        let resumed = try run(arguments)
        let resumedCPU = childrenCPUSeconds() - childrenBefore
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertFalse(resumed.err.contains("no checkpoint"), resumed.err)

        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/calrec.json"))) as! [String: Any]
        let recorded = try XCTUnwrap(settings["cpu_seconds"] as? Double)
        XCTAssertEqual(settings["resumed"] as? Bool, true)
        XCTAssertGreaterThan(recorded, resumedCPU, "the resumed process alone used \(resumedCPU) s; the killed one \(killedCPU) s up to its checkpoint")
        XCTAssertLessThanOrEqual(recorded, killedCPU + resumedCPU + 0.01)
        XCTAssertEqual(((settings["training_chain"] as? [[String: Any]])?.first?["cpu_seconds"] as? Double) ?? -1, recorded, accuracy: 1e-9)
        XCTAssertEqual(try String(contentsOfFile: out + "/train.jsonl", encoding: .utf8).split(separator: "\n").count, 300)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".") }, [])
    }

    func testStageTwoRefusesSeveralDatasetsAndStageOneNeedsAStartingModel() throws {
        let office = CLITests.data.appendingPathComponent("office-2014-recbole").path
        let noInit = try run(["train", "--stage", "1", "--recbole", office, "--out", "/tmp/never"])
        XCTAssertNotEqual(noInit.status, 0)
        XCTAssertTrue(noInit.err.contains("--init"), noInit.err)
        let badStage = try run(["train", "--stage", "3", "--recbole", office, "--out", "/tmp/never"])
        XCTAssertNotEqual(badStage.status, 0)
        XCTAssertTrue(badStage.err.contains("--stage must be 0, 1 or 2"), badStage.err)
    }

    /// Every shipped workbook plans cleanly: front matter, parameters, and every calrec block's
    /// arguments as the subcommand parses them (a dry run runs nothing).
    func testEveryShippedWorkbookPassesADryRun() throws {
        let root = CLITests.repository.path
        let workbooks = try FileManager.default.contentsOfDirectory(atPath: root + "/Workbooks").filter { $0.hasSuffix(".md") }.sorted()
        XCTAssertTrue(workbooks.contains("calrec-office.md") && workbooks.contains("ablations.md") && workbooks.contains("quickstart.md"))
        for name in workbooks {
            let result = try CLIRunner().run(["run", "Workbooks/" + name, "--dry-run"], in: root)
            XCTAssertEqual(result.status, 0, "\(name): \(result.err)")
        }
    }

    func testADryRunNamesABlockWithABadOption() throws {
        let folder = try scratchFolder("calrec-dry")
        let path = folder + "/bad.md"
        try "---\ntitle: Bad\n---\n\n```calrec {#train}\ntrain --stage 2 --recbole x --out y --init z --alpah 0.1\n```\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let result = try CLIRunner().run(["run", path, "--dry-run"], in: folder)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("#train") && result.err.contains("alpah"), result.err)
    }
}

/// CPU seconds (user + system) of this process's children that have ended and been waited for.
func childrenCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
