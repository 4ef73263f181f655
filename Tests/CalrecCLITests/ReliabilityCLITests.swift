import Foundation
import XCTest

/// What `calrec` guarantees when runs are killed, interrupted or audited from elsewhere.
final class ReliabilityCLITests: XCTestCase {
    private let cli = CLIRunner()

    private func scratch() throws -> String { try scratchFolder("calrec-reliable") }

    @discardableResult
    private func git(_ arguments: [String], in folder: String) throws -> String {
        let result = try cli.run(executable: URL(fileURLWithPath: "/usr/bin/git"), arguments, in: folder)
        XCTAssertEqual(result.status, 0, "git \(arguments): \(result.err)")
        return result.out
    }

    private func repository() throws -> String {
        let folder = try scratch()
        try git(["init", "-q"], in: folder)
        try git(["config", "user.email", "t@example.com"], in: folder)
        try git(["config", "user.name", "T"], in: folder)
        try "artifacts/\n".write(toFile: folder + "/.gitignore", atomically: true, encoding: .utf8)
        try git(["add", "-A"], in: folder)
        try git(["commit", "-q", "-m", "start"], in: folder)
        return folder
    }

    /// Starts `calrec` with `arguments` in `folder` without waiting for it; its standard error goes to `<folder>/stderr.txt`.
    private func start(_ arguments: [String], in folder: String) throws -> Process {
        let process = Process()
        process.executableURL = cli.binary
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: folder + "/stderr.txt", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: folder + "/stderr.txt")
        try process.run()
        return process
    }

    /// Waits for `process` to end; one that has not ended after `seconds` is killed and the test fails.
    private func waitForExit(_ process: Process, seconds: Double = 30) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            XCTFail("calrec did not end within \(seconds) s")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
    }

    private func waitFor(_ path: String, seconds: Double = 30) {
        let deadline = Date().addingTimeInterval(seconds)
        while !FileManager.default.fileExists(atPath: path) && Date() < deadline { usleep(20_000) }
    }

    /// Whether process `pid` still runs (a zombie waiting for its parent to reap it does not).
    private func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return kill(pid, 0) == 0 }
        let state = stat.split(separator: ")").last?.split(separator: " ").first
        return state != "Z" && state != "X"
    }

    private func pid(_ path: String) throws -> pid_t {
        try XCTUnwrap(pid_t(try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)), path)
    }

    func testKillingTheRunnerWithSIGKILLLeavesNoProcessOfAShellBlock() throws {
        let folder = try scratch()
        try """
            ---
            title: Orphans
            ---
            ```sh {#sleepers}
            sleep 61 & echo $! > background.pid
            setsid sleep 66 & echo $! > session.pid
            sleep 62 & echo $! > waited.pid
            wait
            ```
            """.write(toFile: folder + "/orphans.md", atomically: true, encoding: .utf8)
        let runner = try start(["run", "orphans.md", "--no-provenance"], in: folder)
        waitFor(folder + "/waited.pid")
        usleep(100_000)
        let sleepers = [try pid(folder + "/background.pid"), try pid(folder + "/session.pid"), try pid(folder + "/waited.pid")]
        XCTAssertTrue(sleepers.allSatisfy(isRunning), "the block's processes run")
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        let killed = Date()
        while sleepers.contains(where: isRunning) && Date().timeIntervalSince(killed) < 1 { usleep(10_000) }
        XCTAssertFalse(sleepers.contains(where: isRunning), "a sleep of the block outlived kill -9 of calrec by a second")
    }

    func testWhatAShellBlockLeavesInTheBackgroundEndsWithTheBlock() throws {
        let folder = try scratch()
        try """
            ---
            title: Leftovers
            ---
            ```sh {#leave}
            sleep 63 & echo $! > left.pid
            setsid sleep 67 & echo $! > session.pid
            echo done
            ```
            """.write(toFile: folder + "/left.md", atomically: true, encoding: .utf8)
        let result = try cli.run(["run", "left.md", "--no-provenance"], in: folder)
        XCTAssertEqual(result.status, 0, result.err)
        let left = [try pid(folder + "/left.pid"), try pid(folder + "/session.pid")]
        let ended = Date()
        while left.contains(where: isRunning) && Date().timeIntervalSince(ended) < 1 { usleep(10_000) }
        XCTAssertFalse(left.contains(where: isRunning), "a process the block left, in its group or in a new session")
    }

    func testInterruptedAndFailedRunsAreListedAndTheirReportsShowWhereTheyStopped() throws {
        let folder = try repository()
        let documents = (0..<200).map { "document \($0) about item \($0 % 17) and item \($0 % 5)" }.joined(separator: "\n")
        try documents.write(toFile: folder + "/docs.txt", atomically: true, encoding: .utf8)
        try """
            ---
            title: Stopped
            ---
            ```sh {#first}
            echo finished > first.txt
            ```

            ```calrec {#train}
            lm train --text-file docs.txt --out artifacts/lm --steps 1000000 --vocab 300 --layers 1 --channels 32 --heads 2
            ```

            ```sh {#slow}
            echo started > slow.txt; sleep 30
            ```

            ```sh {#after}
            echo never > after.txt
            ```
            """.write(toFile: folder + "/stopped.md", atomically: true, encoding: .utf8)

        // Ctrl-C while an in-process command runs: the run is recorded and rendered, then calrec exits.
        let first = try start(["run", "stopped.md"], in: folder)
        waitFor(folder + "/first.txt")
        usleep(1_500_000)
        kill(first.processIdentifier, SIGINT)
        waitForExit(first)
        XCTAssertEqual(first.terminationStatus, 130)
        var report = try String(contentsOfFile: folder + "/Reports/stopped.md", encoding: .utf8)
        XCTAssertTrue(report.contains("> **Interrupted in #train:** interrupted by SIGINT (Ctrl-C) after "), report)
        XCTAssertTrue(report.contains("#after · not run: the run was interrupted"), report)
        XCTAssertTrue(report.contains("| status | interrupted |"), report)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/artifacts/stopped/.calrec/lock"))

        // SIGTERM while an sh block runs: the block is stopped, the rest does not run.
        let second = try start(["run", "stopped.md", "--from", "slow"], in: folder)
        waitFor(folder + "/slow.txt")
        usleep(200_000)
        kill(second.processIdentifier, SIGTERM)
        waitForExit(second)
        XCTAssertEqual(second.terminationStatus, 128 + SIGTERM)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/after.txt"))
        report = try String(contentsOfFile: folder + "/Reports/stopped.md", encoding: .utf8)
        XCTAssertTrue(report.contains("> **Interrupted in #slow:** interrupted by SIGTERM after "), report)

        // A failing run is listed too, with its error in the record.
        try "---\ntitle: Fails\n---\n```sh {#bad}\nexit 3\n```\n".write(toFile: folder + "/fails.md", atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try cli.run(["run", "fails.md"], in: folder).status, 0)

        let runs = try cli.run(["runs"], in: folder).out.split(separator: "\n")
        XCTAssertEqual(runs.count, 3, "\(runs)")
        XCTAssertEqual(runs.filter { $0.contains(" interrupted ") && $0.hasSuffix("stopped.md") }.count, 2, "\(runs)")
        let failed = try XCTUnwrap(runs.first { $0.contains(" failed ") && $0.hasSuffix("fails.md") }, "\(runs)")
        let manifest = try git(["show", "refs/calrec/runs/\(failed.prefix { $0 != " " }):manifest.json"], in: folder)
        XCTAssertTrue(manifest.contains("\"error\" : \"/bin/sh exited with status 3\""), manifest)
    }

    func testASignalAtAnyMomentEndsTheRunAndRecordsItOnce() throws {
        let folder = try scratch()
        let blocks = (0..<40).map { "```calrec {#d\($0) cache=false}\ndoctor\n```\n\n```sh {#s\($0) cache=false}\ntrue\n```\n" }
        try ("---\ntitle: Many\n---\n" + blocks.joined(separator: "\n")).write(toFile: folder + "/many.md", atomically: true, encoding: .utf8)
        var generator = SystemRandomNumberGenerator()
        let rounds = 8
        var runs = 0
        for round in 0..<rounds {
            let process = try start(["run", "many.md", "--no-provenance"], in: folder)
            usleep(UInt32.random(in: 100_000...900_000, using: &generator))
            kill(process.processIdentifier, round % 2 == 0 ? SIGINT : SIGTERM)
            waitForExit(process)
            // A signal before the run began (a loaded machine starts slowly) ends calrec as it would any program.
            if process.terminationReason == .uncaughtSignal { continue }
            runs += 1
            let stderr = (try? String(contentsOfFile: folder + "/stderr.txt", encoding: .utf8)) ?? ""
            let report = try XCTUnwrap(
                try? String(contentsOfFile: folder + "/Reports/many.md", encoding: .utf8),
                "round \(round): status \(process.terminationStatus), no report: \(stderr.suffix(600))")
            if process.terminationStatus == 0 {
                XCTAssertTrue(report.contains("| status | succeeded |"), "round \(round)")
            } else {
                XCTAssertEqual(process.terminationStatus, 128 + (round % 2 == 0 ? SIGINT : SIGTERM), "round \(round)")
                XCTAssertTrue(report.contains("| status | interrupted |"), "round \(round)")
            }
            try? FileManager.default.removeItem(atPath: folder + "/Reports/many.md")
        }
        let log = try String(contentsOfFile: folder + "/artifacts/many/.calrec/runs.jsonl", encoding: .utf8)
        // A run that ended just before the signal came is recorded too; none twice.
        let ids = log.split(separator: "\n").map { $0.components(separatedBy: "\"run_id\":\"")[1].prefix(22) }
        XCTAssertEqual(Set(ids).count, ids.count, "one line per run: \(ids)")
        XCTAssertGreaterThanOrEqual(ids.count, runs)
        XCTAssertGreaterThan(runs, rounds / 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/artifacts/many/.calrec/lock"))
    }

    func testAuditFromASubdirectoryResolvesArtifactsAgainstTheRepositoryRoot() throws {
        let folder = try repository()
        try FileManager.default.createDirectory(atPath: folder + "/Workbooks", withIntermediateDirectories: true)
        try """
            ---
            title: Audited
            ---
            ```calrec {#data}
            synth --out artifacts/audited/data --budget tiny --seed 1
            ```
            """.write(toFile: folder + "/Workbooks/audited.md", atomically: true, encoding: .utf8)
        XCTAssertEqual(try cli.run(["run", "Workbooks/audited.md"], in: folder).status, 0)
        let runID = String(try cli.run(["runs"], in: folder).out.prefix { $0 != " " })
        for directory in [folder, folder + "/Workbooks", folder + "/artifacts/audited"] {
            let audit = try cli.run(["audit", runID], in: directory)
            XCTAssertEqual(audit.status, 0, "\(directory): \(audit.out)")
            XCTAssertTrue(audit.out.contains("OK       artifacts/audited/data/Synthetic_5.json.gz"), audit.out)
            XCTAssertTrue(audit.out.contains("paths relative to the repository root "), audit.out)
            XCTAssertFalse(audit.out.contains("MISSING"), audit.out)
        }
        // An artifact named from where the user stands.
        let one = try cli.run(["audit", "data/meta_Synthetic.json.gz"], in: folder + "/artifacts/audited")
        XCTAssertEqual(one.status, 0, one.out + one.err)
        XCTAssertTrue(one.out.contains("1 OK, 0 not"), one.out)
    }

    func testTwoRunsDifferingInOneParameterDifferOnlyInThatParameterAndItsMetrics() throws {
        let folder = try repository()
        try """
            ---
            title: Parameter
            params:
              seed: 1
            ---
            ```calrec {#data}
            synth --out artifacts/p/data --budget tiny --seed {{seed}}
            ```
            """.write(toFile: folder + "/p.md", atomically: true, encoding: .utf8)
        XCTAssertEqual(try cli.run(["run", "p.md"], in: folder).status, 0)
        // The reports are committed, as in a repository that publishes them; the next runs rewrite them.
        try git(["add", "-A"], in: folder)
        try git(["commit", "-q", "-m", "workbook and report"], in: folder)
        XCTAssertEqual(try cli.run(["run", "p.md", "-p", "seed=2"], in: folder).status, 0)
        XCTAssertEqual(try cli.run(["run", "p.md", "-p", "seed=3"], in: folder).status, 0)
        let ids = try cli.run(["runs"], in: folder).out.split(separator: "\n").map { String($0.prefix { $0 != " " }) }
        XCTAssertEqual(ids.count, 3)
        // Runs started within one second list in any order: find each by its parameter.
        func run(seed: String) throws -> String {
            try XCTUnwrap(try ids.first { try git(["show", "refs/calrec/runs/\($0):manifest.json"], in: folder).contains("\"seed\" : \"\(seed)\"") })
        }
        let diff = try cli.run(["diff", try run(seed: "2"), try run(seed: "3")], in: folder)
        XCTAssertEqual(diff.status, 0, diff.err)
        XCTAssertEqual(diff.out.split(separator: "\n").filter { !$0.hasPrefix("metric ") }, ["param seed: 2 → 3"], diff.out)
        let later = [try run(seed: "2"), try run(seed: "3")]
        let lines = try cli.run(["runs"], in: folder).out.split(separator: "\n").filter { line in later.contains { line.hasPrefix($0) } }
        XCTAssertEqual(lines.count, 2)
        XCTAssertFalse(lines.contains { $0.contains("+dirty") }, "only the workbench's outputs changed: \(lines)")
    }

    func testProvenanceVariableSetToZeroLeavesProvenanceOn() throws {
        let folder = try repository()
        var environment = ProcessInfo.processInfo.environment
        for (value, recorded) in [("0", true), ("false", true), ("", true), ("1", false), ("yes", false)] {
            environment["CALREC_NO_PROVENANCE"] = value
            let result = try cli.run(
                executable: cli.binary, ["synth", "--out", "data-\(value)", "--budget", "tiny"], in: folder, environment: environment)
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertEqual(result.err.contains("run recorded: refs/calrec/runs/"), recorded, "CALREC_NO_PROVENANCE=\(value): \(result.err)")
        }
    }

    func testRunsOutsideARepositorySaysSoWithoutSuggestingAnOptionItLacks() throws {
        let outside = try scratch()
        if try cli.run(executable: URL(fileURLWithPath: "/usr/bin/git"), ["rev-parse", "--git-dir"], in: outside).status == 0 {
            throw XCTSkip("the temporary folder \(outside) is inside a git repository")
        }
        for command in [["runs"], ["audit", "x"], ["diff", "a", "b"]] {
            let result = try cli.run(command, in: outside)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.err.contains("not inside a git repository"), result.err)
            XCTAssertFalse(result.err.contains("--no-provenance"), result.err)
        }
    }
}
