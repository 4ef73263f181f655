import Foundation
import Reporting
import Support
import XCTest
@testable import Workbench

/// In-process commands for tests: `copy <src> --out <dst>` (appends a marker; reads src, writes dst),
/// `write <declared> <undeclared>` (writes both, declares the first), `emit <text>` and `fail` (no
/// files). Any other command declares nothing, which a run refuses.
final class FakeCommands: InProcessCommands, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var calls: [[String]] = []

    func run(_ arguments: [String]) throws {
        lock.lock()
        calls.append(arguments)
        lock.unlock()
        switch arguments.first {
        case "copy":
            let source = try String(contentsOfFile: arguments[1], encoding: .utf8)
            try (source + "+").write(toFile: arguments[3], atomically: true, encoding: .utf8)
            print("copied \(arguments[1])")
        case "emit":
            print(arguments.dropFirst().joined(separator: " "))
            var table = Table(columns: [.init("k", alignment: .left), .init("v")])
            table.append(["x", "1"])
            ResultCollector.current?.add(table)
        case "write":
            for path in arguments.dropFirst() { try "written".write(toFile: path, atomically: true, encoding: .utf8) }
        case "fail":
            struct Failure: LocalizedError { var errorDescription: String? { "deliberate failure" } }
            throw Failure()
        default:
            throw NSError(domain: "fake", code: 1)
        }
    }

    struct Undeclared: LocalizedError {
        var name: String
        var errorDescription: String? { "\(name) does not declare its files" }
    }

    func files(for arguments: [String]) throws -> CommandFiles {
        switch arguments.first {
        case "copy": return CommandFiles(inputs: [arguments[1]], outputs: [arguments[3]])
        case "write": return CommandFiles(outputs: [arguments[1]])
        case "emit", "fail": return CommandFiles()
        default: throw Undeclared(name: arguments.first ?? "")
        }
    }

    func count(_ name: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return calls.filter { $0.first == name }.count
    }
}

final class WorkbookRunnerTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-wb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "seed".write(toFile: folder + "/input.txt", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func workbook(firstOut: String = "a.txt", extra: String = "") throws -> Workbook {
        try Workbook(
            text: """
                ---
                title: Cache test
                params:
                  marker: one
                ---
                ```calrec {#first}
                copy \(folder)/input.txt --out \(folder)/\(firstOut)
                ```

                ```calrec {#second}
                copy \(folder)/\(firstOut) --out \(folder)/b.txt
                emit {{marker}}
                ```
                \(extra)
                """, path: folder + "/cache.md")
    }

    private func run(_ workbook: Workbook, _ commands: FakeCommands, configure: (inout RunOptions) -> Void = { _ in }) throws -> RunReport {
        var options = RunOptions(toolVersion: "test")
        options.artifactsRoot = folder + "/artifacts"
        configure(&options)
        return try WorkbookRunner(workbook: workbook, options: options, commands: commands).run()
    }

    func testSecondRunIsServedFromTheCache() throws {
        let commands = FakeCommands()
        let first = try run(try workbook(), commands)
        XCTAssertEqual(first.outcomes.map(\.status), [.ran, .ran])
        XCTAssertEqual(first.outcomes[1].result?.stdout, "copied \(folder)/a.txt\none\n")
        XCTAssertEqual(first.outcomes[1].result?.tables.count, 1)
        let second = try run(try workbook(), commands)
        XCTAssertEqual(second.outcomes.map(\.status), [.cached, .cached])
        XCTAssertEqual(second.outcomes[1].result?.tables.count, 1, "a cached block keeps its results for the report")
        XCTAssertEqual(commands.count("copy"), 2)
    }

    func testParameterChangeRerunsOnlyTheBlockUsingIt() throws {
        let commands = FakeCommands()
        _ = try run(try workbook(), commands)
        let changed = try run(try workbook(), commands) { $0.overrides = ["marker": "two"] }
        XCTAssertEqual(changed.outcomes.map(\.status), [.cached, .ran])
        XCTAssertEqual(changed.outcomes[1].reasons, ["block text or parameters changed"])
    }

    func testInputFileChangeRerunsTheBlockAndItsDownstream() throws {
        let commands = FakeCommands()
        _ = try run(try workbook(), commands)
        try "changed".write(toFile: folder + "/input.txt", atomically: true, encoding: .utf8)
        let report = try run(try workbook(), commands)
        XCTAssertEqual(report.outcomes.map(\.status), [.ran, .ran])
        XCTAssertEqual(report.outcomes[0].reasons, ["input \(folder)/input.txt changed"])
        XCTAssertTrue(report.outcomes[1].reasons.contains("upstream block #first changed"), "\(report.outcomes[1].reasons)")
        XCTAssertEqual(try String(contentsOfFile: folder + "/b.txt", encoding: .utf8), "changed++")
    }

    func testBlockTextChangeAndModifiedOutputAreDetected() throws {
        let commands = FakeCommands()
        _ = try run(try workbook(), commands)
        try "tampered".write(toFile: folder + "/b.txt", atomically: true, encoding: .utf8)
        let status = try run(try workbook(), commands) { $0.dryRun = true }
        XCTAssertEqual(status.outcomes.map(\.status), [.cached, .wouldRun])
        XCTAssertEqual(status.outcomes[1].reasons, ["output \(folder)/b.txt was modified"])
        XCTAssertEqual(commands.count("copy"), 2, "a dry run runs nothing")
        // Editing the first block's text reruns it, and the second through its upstream key.
        let rerun = try run(try workbook(firstOut: "a2.txt"), commands)
        XCTAssertEqual(rerun.outcomes.map(\.status), [.ran, .ran])
        XCTAssertEqual(rerun.outcomes[0].reasons, ["block text or parameters changed", "output \(folder)/a2.txt is missing"])
        XCTAssertTrue(rerun.outcomes[1].reasons.contains("block text or parameters changed"))
    }

    func testFailingBlockStopsTheRunKeepsEarlierArtifactsAndShowsTheError() throws {
        let commands = FakeCommands()
        let failing = try workbook(extra: "\n```calrec {#broken}\nfail\n```\n\n```calrec {#after}\nemit never\n```\n")
        let report = try run(failing, commands)
        XCTAssertEqual(report.status, .failed)
        XCTAssertEqual(report.outcomes.map(\.status), [.ran, .ran, .failed, .notRun])
        XCTAssertEqual(report.outcomes[2].error, "calrec fail: deliberate failure")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/b.txt"))
        XCTAssertEqual(commands.count("emit"), 1)
        let paths = try ReportRenderer(workbook: failing, report: report).write(to: folder + "/Reports")
        let html = try String(contentsOfFile: paths.html, encoding: .utf8)
        XCTAssertTrue(html.contains("<strong>Error:</strong> calrec fail: deliberate failure"), html)
        XCTAssertTrue(try String(contentsOfFile: paths.markdown, encoding: .utf8).contains("> **Error in #broken:** calrec fail: deliberate failure"))
        // The blocks before the failure are cached on the next run.
        let again = try run(failing, commands)
        XCTAssertEqual(again.outcomes.prefix(2).map(\.status), [.cached, .cached])
    }

    func testShellBlocksCaptureOutputAndTimeOut() throws {
        let text = """
            ---
            title: Shell
            params:
              p: "\\"; rm -rf x; \\""
            ---
            ```sh {#echo outs=\(folder)/out.txt}
            printf '%s' {{p}} > \(folder)/out.txt; echo done
            ```

            ```sh {#slow timeout=0.5}
            sleep 5
            ```
            """
        let report = try run(try Workbook(text: text, path: folder + "/shell.md"), FakeCommands())
        XCTAssertEqual(report.outcomes[0].status, .ran)
        XCTAssertEqual(report.outcomes[0].result?.stdout, "done\n")
        XCTAssertEqual(try String(contentsOfFile: folder + "/out.txt", encoding: .utf8), "\"; rm -rf x; \"")
        XCTAssertEqual(report.outcomes[1].status, .failed)
        XCTAssertEqual(report.outcomes[1].error, "timed out after 0.5 s")
    }

    func testASecondRunIsRefusedWhileTheLockIsHeldButADryRunPlans() throws {
        let lockFolder = folder + "/artifacts/cache/.calrec"
        try FileManager.default.createDirectory(atPath: lockFolder, withIntermediateDirectories: true)
        // A live process holds the lock: PID 1 always exists.
        try "1\n".write(toFile: lockFolder + "/lock", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try run(try workbook(), FakeCommands())) { error in
            guard case .locked = error as? WorkbenchError else { return XCTFail("\(error)") }
        }
        // A dry run only reads: it plans while the other run holds the lock, and leaves the lock alone.
        XCTAssertEqual(try run(try workbook(), FakeCommands()) { $0.dryRun = true }.outcomes.map(\.status), [.wouldRun, .wouldRun])
        XCTAssertEqual(try String(contentsOfFile: lockFolder + "/lock", encoding: .utf8), "1\n")
        // A lock left by a process that is gone is taken over.
        try "999999999\n".write(toFile: lockFolder + "/lock", atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(try workbook(), FakeCommands()).status, .succeeded)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lockFolder + "/lock"))
    }

    func testAnArgumentNamingAFileThatIsNotDeclaredStaysOutOfTheKey() throws {
        // `emit` declares no files: its argument is text, even though a file has that name.
        let book = try Workbook(
            text: "---\ntitle: Undeclared\n---\n```calrec {#say}\nemit \(folder)/input.txt\n```\n", path: folder + "/say.md")
        let commands = FakeCommands()
        let first = try run(book, commands)
        XCTAssertEqual(first.outcomes.map(\.status), [.ran])
        try "changed".write(toFile: folder + "/input.txt", atomically: true, encoding: .utf8)
        let second = try run(book, commands)
        XCTAssertEqual(second.outcomes.map(\.status), [.cached])
        XCTAssertEqual(second.outcomes[0].key, first.outcomes[0].key)
        let record = try XCTUnwrap(RunState.load(folder + "/artifacts/say/.calrec/state.json").blocks["say"])
        XCTAssertEqual(record.parts.inputs, [:])
        XCTAssertEqual(commands.count("emit"), 1)
    }

    func testTheDeclaredInputsAreHashedIntoTheKey() throws {
        _ = try run(try workbook(), FakeCommands())
        let record = try XCTUnwrap(RunState.load(folder + "/artifacts/cache/.calrec/state.json").blocks["second"])
        // `copy a.txt --out b.txt`: a.txt is its one input, written by #first ("seed" + "+").
        XCTAssertEqual(record.parts.inputs, [folder + "/a.txt": ContentHash.sha256("seed+")])
        XCTAssertEqual(Array(record.parts.upstream.keys), ["first"])
    }

    func testTheDeclaredOutputsAreTheOnesRecorded() throws {
        let book = try Workbook(
            text: "---\ntitle: Outputs\n---\n```calrec {#w}\nwrite \(folder)/kept.txt \(folder)/scratch.txt\n```\n", path: folder + "/outs.md")
        let commands = FakeCommands()
        let report = try run(book, commands)
        XCTAssertEqual(report.outcomes[0].outputs, [folder + "/kept.txt"])
        let record = try XCTUnwrap(RunState.load(folder + "/artifacts/outs/.calrec/state.json").blocks["w"])
        XCTAssertEqual(record.outputs, [folder + "/kept.txt": ContentHash.sha256("written")])
        // A file the command writes but does not declare is not watched; a declared one is.
        try "other".write(toFile: folder + "/scratch.txt", atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(book, commands) { $0.dryRun = true }.outcomes.map(\.status), [.cached])
        try "other".write(toFile: folder + "/kept.txt", atomically: true, encoding: .utf8)
        let stale = try run(book, commands) { $0.dryRun = true }
        XCTAssertEqual(stale.outcomes[0].reasons, ["output \(folder)/kept.txt was modified"])
    }

    func testACommandThatDeclaresNoFilesIsRefusedBeforeAnythingRuns() throws {
        let commands = FakeCommands()
        let book = try workbook(extra: "\n```calrec {#mystery}\nmystery \(folder)/input.txt\n```\n")
        for dryRun in [true, false] {
            XCTAssertThrowsError(try run(book, commands) { $0.dryRun = dryRun }) { error in
                XCTAssertEqual(
                    error as? WorkbenchError,
                    .parse(file: folder + "/cache.md", line: 15, message: "block #mystery: mystery does not declare its files"))
            }
        }
        XCTAssertEqual(commands.calls, [], "no block ran, not even those before it")
    }

    func testUnknownOverrideAndUnknownBlockAreRefused() throws {
        XCTAssertThrowsError(try run(try workbook(), FakeCommands()) { $0.overrides = ["nope": "1"] })
        XCTAssertThrowsError(try run(try workbook(), FakeCommands()) { $0.only = "missing" })
    }
}
