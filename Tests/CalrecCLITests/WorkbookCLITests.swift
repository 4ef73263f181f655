import Foundation
import XCTest
import TestEnvironment

/// End-to-end: `calrec run` on a workbook, its reports, and the HTML in headless Chromium.
final class WorkbookCLITests: XCTestCase {
    private let cli = CLIRunner()

    private func scratch() throws -> String { try scratchFolder("calrec-run") }

    private let workbook = """
        ---
        title: End to end
        params:
          budget: tiny
        ---
        # End to end

        Some *prose* with a table:

        | a | b |
        |---|---|
        | 1 | 2 |

        ```calrec {#synth}
        synth --out artifacts/e2e/data --budget {{budget}} --seed 3
        ```

        ```calrec {#table1}
        stats --amazon2018 artifacts/e2e/data
        ```

        ```calrec {#pop}
        baseline pop --amazon2018 artifacts/e2e/data --out artifacts/e2e/pop
        ```

        ```calrec {#bm25}
        baseline bm25 --amazon2018 artifacts/e2e/data --out artifacts/e2e/bm25
        ```

        ```calrec {#compare}
        compare artifacts/e2e/bm25/ranks.tsv artifacts/e2e/pop/ranks.tsv --name-a BM25 --name-b Pop
        ```

        ```sh {#listing deps=artifacts/e2e/pop}
        ls artifacts/e2e/pop
        ```
        """

    private func git(_ arguments: [String], in folder: String) throws -> String {
        let result = try cli.run(executable: URL(fileURLWithPath: "/usr/bin/git"), arguments, in: folder)
        XCTAssertEqual(result.status, 0, "git \(arguments): \(result.err)")
        return result.out
    }

    func testRunWritesReportsThatChromiumRendersAndRecordsProvenance() throws {
        let folder = try scratch()
        try workbook.write(toFile: folder + "/e2e.md", atomically: true, encoding: .utf8)
        // Outside a git repository the run is refused unless --no-provenance.
        let refused = try cli.run(["run", "e2e.md"], in: folder)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("not inside a git repository") && refused.err.contains("--no-provenance"), refused.err)
        _ = try git(["init", "-q"], in: folder)
        _ = try git(["-c", "user.email=t@e", "-c", "user.name=T", "commit", "-q", "--allow-empty", "-m", "start"], in: folder)
        let first = try cli.run(["run", "e2e.md"], in: folder)
        XCTAssertEqual(first.status, 0, first.err)
        let runs = try cli.run(["runs"], in: folder)
        XCTAssertEqual(runs.out.split(separator: "\n").count, 1, runs.out)
        XCTAssertTrue(runs.out.contains("+dirty"), "the workbook itself is not committed: \(runs.out)")
        let runID = String(runs.out.prefix { $0 != " " })
        XCTAssertTrue(try git(["notes", "--ref=calrec", "show", "HEAD"], in: folder).contains(runID))
        XCTAssertEqual(try cli.run(["audit", runID], in: folder).status, 0)
        let metricsPath = folder + "/artifacts/e2e/pop/metrics.json"
        let original = try Data(contentsOf: URL(fileURLWithPath: metricsPath))
        try "tampered".write(toFile: metricsPath, atomically: true, encoding: .utf8)
        let audit = try cli.run(["audit", "artifacts/e2e/pop/metrics.json"], in: folder)
        XCTAssertNotEqual(audit.status, 0)
        XCTAssertTrue(audit.out.contains("MODIFIED artifacts/e2e/pop/metrics.json"), audit.out)
        // Restored byte for byte (re-running the command would record another CPU time, a changed output).
        try original.write(to: URL(fileURLWithPath: metricsPath))
        let markdown = try String(contentsOfFile: folder + "/Reports/e2e.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("**Table 1: dataset statistics**"), markdown)
        XCTAssertTrue(markdown.contains("| Synthetic |"), markdown)
        XCTAssertTrue(markdown.contains("```text\nmetrics.json\nranks.tsv\n```"), markdown)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/Reports/e2e-figures/compare-bar-1.svg"))
        // The footer names the machine with the engine's thread count, which a reproduction must match.
        let threads = ProcessInfo.processInfo.environment["CALREC_THREADS"].flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount
        XCTAssertTrue(markdown.contains("| machine | ") && markdown.contains("; engine \(threads) threads; OpenBLAS "), markdown)
        let recorded = try git(["show", "refs/calrec/runs/\(runID):manifest.json"], in: folder)
        XCTAssertTrue(recorded.contains("\"engine_threads\" : \(threads)"), recorded)

        let second = try cli.run(["run", "e2e.md"], in: folder)
        XCTAssertEqual(try cli.run(["diff", runID, String(try cli.run(["runs"], in: folder).out.split(separator: "\n")[1].prefix { $0 != " " })], in: folder).status, 0)
        XCTAssertEqual(second.status, 0, second.err)
        XCTAssertTrue(second.err.contains("#bm25: cached"), second.err)
        XCTAssertTrue(try String(contentsOfFile: folder + "/Reports/e2e.md", encoding: .utf8).contains("6 cached"))

        // The HTML report in headless Chromium: the DOM holds the tables, the screenshot is not blank.
        let chromium = URL(fileURLWithPath: "/usr/bin/chromium")
        XCTAssertTrue(FileManager.default.fileExists(atPath: chromium.path), "make test installs Debian's chromium")
        let page = "file://\(folder)/Reports/e2e.html"
        let dom = try cli.run(executable: chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page])
        XCTAssertTrue(dom.out.contains("<caption>Table 1: dataset statistics</caption>"), String(dom.out.prefix(2000)))
        XCTAssertTrue(dom.out.contains("<td>Synthetic</td>"))
        XCTAssertTrue(dom.out.contains("<svg"))
        XCTAssertTrue(dom.out.contains("<em>prose</em>"))
        let shot = folder + "/shot.png"
        _ = try cli.run(executable: chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,1400", "--screenshot=\(shot)", page])
        let png = try Data(contentsOf: URL(fileURLWithPath: shot))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        // A blank 1000×1400 page compresses to a few kilobytes; text, tables and a chart do not.
        XCTAssertGreaterThan(png.count, 30_000)
    }

    /// A workbook whose blocks read the front matter's reference numbers and each other's outputs.
    private func declaredWorkbook(paperUsers: Int) -> String {
        """
        ---
        title: Declared files
        reference:
          table1:
            Synthetic: {users: \(paperUsers)}
        ---
        ```calrec {#data}
        synth --out artifacts/declared/data --budget tiny --seed 3
        ```

        ```calrec {#table1}
        stats --amazon2018 artifacts/declared/data --reference {{reference}} --format markdown
        ```

        ```calrec {#pop}
        baseline pop --amazon2018 artifacts/declared/data --out artifacts/declared/pop --metrics-file artifacts/declared/metrics/pop.json
        ```

        ```calrec {#results}
        results Pop=artifacts/declared/metrics/pop.json --reference {{reference}}
        ```
        """
    }

    func testAChangedDeclaredInputRerunsTheBlocksThatReadItAndNothingElse() throws {
        let folder = try scratch()
        try declaredWorkbook(paperUsers: 100).write(toFile: folder + "/declared.md", atomically: true, encoding: .utf8)
        // A file named like the value of --format, which is an option value, not a file of #table1.
        try "one".write(toFile: folder + "/markdown", atomically: true, encoding: .utf8)
        let first = try cli.run(["run", "declared.md", "--no-provenance"], in: folder)
        XCTAssertEqual(first.status, 0, first.err)
        func status() throws -> [String] { try cli.run(["status", "declared.md"], in: folder).out.split(separator: "\n").map(String.init) }
        let upToDate = ["#data: up to date", "#table1: up to date", "#pop: up to date", "#results: up to date"]
        XCTAssertEqual(try status(), upToDate)

        try "two".write(toFile: folder + "/markdown", atomically: true, encoding: .utf8)
        XCTAssertEqual(try status(), upToDate, "a file that is only an option's value does not enter the key")

        // The front matter's reference numbers reach the blocks through {{reference}}, a declared input.
        try declaredWorkbook(paperUsers: 200).write(toFile: folder + "/declared.md", atomically: true, encoding: .utf8)
        let reference = "input artifacts/declared/reference.json changed"
        XCTAssertEqual(
            try status(), ["#data: up to date", "#table1: stale — \(reference)", "#pop: up to date", "#results: stale — \(reference)"])
        let second = try cli.run(["run", "declared.md", "--no-provenance"], in: folder)
        XCTAssertEqual(second.status, 0, second.err)
        for id in ["data", "pop"] { XCTAssertTrue(second.err.contains("#\(id): cached"), second.err) }
        for id in ["table1", "results"] { XCTAssertTrue(second.err.contains("#\(id): running (\(reference))"), second.err) }
        XCTAssertEqual(try status(), upToDate)

        // --metrics-file is #pop's output and #results' input.
        let metrics = folder + "/artifacts/declared/metrics/pop.json"
        try (try String(contentsOfFile: metrics, encoding: .utf8) + " ").write(toFile: metrics, atomically: true, encoding: .utf8)
        XCTAssertEqual(
            try status(),
            [
                "#data: up to date", "#table1: up to date", "#pop: stale — output artifacts/declared/metrics/pop.json was modified",
                "#results: stale — input artifacts/declared/metrics/pop.json changed",
            ])
    }

    func testASubcommandRunDirectlyIsRecordedWithItsCommandLine() throws {
        let folder = try scratch()
        _ = try git(["init", "-q"], in: folder)
        _ = try git(["-c", "user.email=t@e", "-c", "user.name=T", "commit", "-q", "--allow-empty", "-m", "start"], in: folder)
        XCTAssertEqual(try cli.run(["synth", "--out", "data", "--budget", "tiny", "--seed", "3"], in: folder, recordProvenance: true).status, 0)
        let pop = try cli.run(["baseline", "pop", "--amazon2018", "data", "--out=runs/pop"], in: folder, recordProvenance: true)
        XCTAssertEqual(pop.status, 0, pop.err)
        XCTAssertTrue(pop.err.contains("run recorded: refs/calrec/runs/"), pop.err)
        let runs = try cli.run(["runs"], in: folder).out.split(separator: "\n")
        XCTAssertEqual(runs.count, 2, "\(runs)")
        // Both may start within one second, so find each by its command line.
        let popLine = try XCTUnwrap(runs.first { $0.hasSuffix("calrec baseline pop --amazon2018 data --out=runs/pop") }, "\(runs)")
        let synthLine = try XCTUnwrap(runs.first { $0.hasSuffix("calrec synth --out data --budget tiny --seed 3") }, "\(runs)")
        XCTAssertFalse(synthLine.contains("+dirty"), String(synthLine))
        XCTAssertTrue(popLine.contains("+dirty"), "data/ is not committed, so the source is snapshotted: \(popLine)")
        let runID = String(popLine.prefix { $0 != " " })
        let audit = try cli.run(["audit", runID], in: folder)
        XCTAssertEqual(audit.status, 0, audit.out)
        XCTAssertTrue(audit.out.contains("OK       runs/pop/metrics.json") && audit.out.contains("OK       runs/pop/ranks.tsv"), audit.out)
        // A command that fails writes nothing and records nothing; one that writes nothing is not recorded.
        XCTAssertNotEqual(try cli.run(["baseline", "pop", "--amazon2018", "nowhere", "--out", "runs/x"], in: folder, recordProvenance: true).status, 0)
        XCTAssertEqual(try cli.run(["stats", "--amazon2018", "data"], in: folder, recordProvenance: true).status, 0)
        XCTAssertEqual(try cli.run(["runs"], in: folder).out.split(separator: "\n").count, 2)
        // Outside a git repository the command still runs, and says that nothing was recorded.
        let outside = try scratch()
        if try cli.run(executable: URL(fileURLWithPath: "/usr/bin/git"), ["rev-parse", "--git-dir"], in: outside).status == 0 {
            throw XCTSkip("the temporary folder \(outside) is inside a git repository")
        }
        let unrecorded = try cli.run(["synth", "--out", "data", "--budget", "tiny"], in: outside, recordProvenance: true)
        XCTAssertEqual(unrecorded.status, 0, unrecorded.err)
        XCTAssertTrue(unrecorded.err.contains("provenance not recorded: ") && unrecorded.err.contains("not inside a git repository"), unrecorded.err)
    }

    func testAFailingBlockExitsNonZeroAndTheReportShowsTheError() throws {
        let folder = try scratch()
        let broken = """
            ---
            title: Broken
            ---
            ```calrec {#fine}
            synth --out artifacts/b/data --budget tiny
            ```

            ```calrec {#bad}
            stats --amazon2018 artifacts/b/data --category Nope
            ```

            ```calrec {#never}
            stats --amazon2018 artifacts/b/data
            ```
            """
        try broken.write(toFile: folder + "/broken.md", atomically: true, encoding: .utf8)
        let result = try cli.run(["run", "broken.md", "--no-provenance"], in: folder)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("block #bad failed"), result.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/artifacts/b/data/Synthetic_5.json.gz"))
        let markdown = try String(contentsOfFile: folder + "/Reports/broken.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("> **Error in #bad:**") && markdown.contains("no category 'Nope'"), markdown)
        XCTAssertTrue(markdown.contains("#never · not run: an earlier block failed"), markdown)
        let status = try cli.run(["status", "broken.md"], in: folder)
        XCTAssertTrue(status.out.contains("#fine: up to date") && status.out.contains("#bad: stale — never run"), status.out)
        let badParameter = try cli.run(["run", "broken.md", "--no-provenance", "-p", "nope=1"], in: folder)
        XCTAssertNotEqual(badParameter.status, 0)
        XCTAssertTrue(badParameter.err.contains("unknown parameter 'nope'"), badParameter.err)
    }

    func testInterruptStopsTheRunningBlockAndRecordsTheRun() throws {
        let folder = try scratch()
        try """
            ---
            title: Interrupted
            ---
            ```sh {#first outs=done.txt}
            echo finished > done.txt
            ```

            ```sh {#slow}
            sleep 30; echo never > never.txt
            ```
            """.write(toFile: folder + "/slow.md", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = cli.binary
        process.arguments = ["run", "slow.md", "--no-provenance"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let started = Date()
        try process.run()
        // Wait until the slow block is running, then press Ctrl-C.
        while !FileManager.default.fileExists(atPath: folder + "/done.txt") && Date().timeIntervalSince(started) < 20 { usleep(20_000) }
        usleep(300_000)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the sleeping block was stopped")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/done.txt"), "finished artifacts stay")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/never.txt"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/artifacts/slow/.calrec/lock"), "the lock is released")
        let log = try String(contentsOfFile: folder + "/artifacts/slow/.calrec/runs.jsonl", encoding: .utf8)
        XCTAssertTrue(log.contains("\"status\":\"interrupted\""), log)
        // The next run resumes: the finished block is cached.
        let status = try cli.run(["status", "slow.md"], in: folder)
        XCTAssertTrue(status.out.contains("#first: up to date"), status.out)
    }
}

/// A workbook whose CALRec stage and inference run on the PyTorch engine: trained, sampled,
/// evaluated here, reported, and the engine's environment in the run record.
final class TorchWorkbookCLITests: XCTestCase {
    func testAWorkbookTrainsAndSamplesOnThePyTorchEngineAndRecordsItsEnvironment() throws {
        let python = try TestEnvironment.python(importing: ["torch", "transformers", "accelerate"])
        let cli = CLIRunner(extraEnvironment: ["CALREC_PYTHON": python])
        let folder = try scratchFolder("calrec-torch-run")
        let workbook = """
            ---
            title: Torch engine
            params:
              budget: tiny
            ---
            ```calrec {#data}
            synth --out artifacts/t/data --budget {{budget}} --seed 3
            prepare --amazon2018 artifacts/t/data --out artifacts/t/prepared
            ```

            ```calrec {#stage0}
            train --stage 0 --recbole artifacts/t/prepared/Synthetic --out artifacts/t/m0 --budget {{budget}} --vocab 400 --channels 32 --context 128 --template compact
            ```

            ```calrec {#stage2}
            train --stage 2 --engine torch --device cpu --init artifacts/t/m0 --recbole artifacts/t/prepared/Synthetic --out artifacts/t/m2 --budget {{budget}} --template compact --max-output 32 --lr 1e-3
            ```

            ```calrec {#calrec}
            recommend --engine torch --device cpu --model artifacts/t/m2 --recbole artifacts/t/prepared/Synthetic --out artifacts/t/rec --budget {{budget}} --samples 3 --metrics-file artifacts/t/metrics/calrec.json --method calrec-torch
            ```

            ```calrec {#results}
            results CALRec-torch=artifacts/t/metrics/calrec.json
            ```
            """
        try workbook.write(toFile: folder + "/torch.md", atomically: true, encoding: .utf8)
        for arguments in [["init", "-q"], ["-c", "user.email=t@e", "-c", "user.name=T", "commit", "-q", "--allow-empty", "-m", "start"]] {
            XCTAssertEqual(try cli.run(executable: URL(fileURLWithPath: "/usr/bin/git"), arguments, in: folder).status, 0)
        }
        let run = try cli.run(["run", "torch.md"], in: folder)
        XCTAssertEqual(run.status, 0, run.err)
        let curve = try String(contentsOfFile: folder + "/artifacts/t/m2/train.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(curve.count, 20, "tiny: 20 steps")
        let samples = try String(contentsOfFile: folder + "/artifacts/t/rec/samples.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 150, "50 users × 3 samples")
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/artifacts/t/metrics/calrec.json"))) as! [String: Any]
        XCTAssertEqual(metrics["method"] as? String, "calrec-torch")
        let report = try String(contentsOfFile: folder + "/Reports/torch.md", encoding: .utf8)
        XCTAssertTrue(report.contains("CALRec-torch"), report)
        // The run record: each torch block with the engine's versions, devices and world size.
        let runs = try cli.run(["runs"], in: folder)
        let runID = String(runs.out.prefix { $0 != " " })
        let manifest = try cli.run(executable: URL(fileURLWithPath: "/usr/bin/git"), ["show", "refs/calrec/runs/\(runID):manifest.json"], in: folder)
        XCTAssertEqual(manifest.status, 0, manifest.err)
        let object = try JSONSerialization.jsonObject(with: Data(manifest.out.utf8)) as! [String: Any]
        let blocks = Dictionary(uniqueKeysWithValues: (object["blocks"] as! [[String: Any]]).map { ($0["id"] as! String, $0) })
        let trained = try XCTUnwrap(blocks["stage2"]?["environment"] as? [String: String], "\(blocks["stage2"] ?? [:])")
        XCTAssertEqual(trained["engine"], "torch")
        XCTAssertEqual(trained["torch"]?.hasPrefix("2.15.0"), true, "\(trained)")
        XCTAssertEqual(trained["world_size"], "1")
        for key in ["python", "transformers", "accelerate", "cuda", "devices"] { XCTAssertNotNil(trained[key], key) }
        XCTAssertEqual((blocks["calrec"]?["environment"] as? [String: String])?["engine"], "torch")
        XCTAssertNil(blocks["stage0"]?["environment"], "a block on this engine alone records none")
    }
}
