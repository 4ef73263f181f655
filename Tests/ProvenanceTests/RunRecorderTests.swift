import Foundation
import XCTest
@testable import Provenance

/// Run records written through libgit2, checked with the `git` command line (an independent reader).
final class RunRecorderTests: XCTestCase {
    var folder = ""
    var previous = ""

    @discardableResult
    private func git(_ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "git \(arguments.joined(separator: " "))")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-git-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(folder)
        try git("init", "-q")
        try git("config", "user.email", "test@example.com")
        try git("config", "user.name", "Test")
        try "code v1\n".write(toFile: folder + "/code.swift", atomically: true, encoding: .utf8)
        try "artifacts/\n".write(toFile: folder + "/.gitignore", atomically: true, encoding: .utf8)
        try git("add", "-A")
        try git("commit", "-q", "-m", "first")
        try FileManager.default.createDirectory(atPath: folder + "/artifacts/m", withIntermediateDirectories: true)
        try "{\"ndcg@10\": 0.1}".write(toFile: folder + "/artifacts/m/metrics.json", atomically: true, encoding: .utf8)
        try "u\tt\t1\t2\n".write(toFile: folder + "/artifacts/m/ranks.tsv", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        FileManager.default.changeCurrentDirectoryPath(previous)
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func manifest(
        _ recorder: RunRecorder, id: String, parameters: [String: String] = ["seed": "1"], outputs: [String] = [],
        artifacts: [String] = ["artifacts/m"]
    ) throws -> RunManifest {
        RunManifest(
            runID: id, workbook: "Workbooks/x.md", status: "succeeded", started: Date(timeIntervalSince1970: 0),
            finished: Date(timeIntervalSince1970: 1), source: try recorder.sourceState(excluding: outputs), parameters: parameters,
            toolVersion: "0.1.0", swiftVersion: MachineInfo.swiftVersion, machine: .current(blasKernel: "Zen", blasThreads: 1, engineThreads: 2, build: "portable"),
            blocks: [.init(id: "pop", status: "ran", key: "k", seconds: 0.5, metrics: ["pop ndcg@10 opt": 0.1])],
            artifacts: try recorder.artifacts(artifacts))
    }

    func testRunCommitHasTheSourceAsParentAndTheNoteListsIt() throws {
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: folder))
        let head = try git("rev-parse", "HEAD")
        let m = try manifest(recorder, id: "run-1")
        XCTAssertFalse(m.source.dirty)
        XCTAssertEqual(m.source.commit, head)
        let commit = try recorder.record(m)
        XCTAssertEqual(try git("rev-parse", "refs/calrec/runs/run-1"), commit.hex)
        XCTAssertEqual(try git("rev-parse", "refs/calrec/runs/run-1^"), head)
        XCTAssertEqual(try git("ls-tree", "--name-only", "refs/calrec/runs/run-1"), "artifacts\nmanifest.json")
        XCTAssertEqual(try git("show", "refs/calrec/runs/run-1:artifacts/artifacts/m/metrics.json"), "{\"ndcg@10\": 0.1}")
        let stored = try RunManifest.decode(Data(try git("show", "refs/calrec/runs/run-1:manifest.json").utf8))
        XCTAssertEqual(stored.artifacts.map(\.path), ["artifacts/m/metrics.json", "artifacts/m/ranks.tsv"])
        XCTAssertEqual(stored.artifacts[0].gitBlob, try git("hash-object", "artifacts/m/metrics.json"))
        XCTAssertEqual(stored.artifacts[0].sha256.count, 64)
        XCTAssertTrue(try git("notes", "--ref=calrec", "show", "HEAD").contains("calrec run run-1 succeeded Workbooks/x.md"))
        // A second run appends to the note.
        try recorder.record(try manifest(recorder, id: "run-2"))
        XCTAssertEqual(try git("notes", "--ref=calrec", "show", "HEAD").split(separator: "\n").count, 2)
        XCTAssertEqual(try recorder.runIDs(), ["run-1", "run-2"])
    }

    func testDirtyWorkingTreeIsPinnedInTheSnapshot() throws {
        try "code v2\n".write(toFile: folder + "/code.swift", atomically: true, encoding: .utf8)
        try "new file\n".write(toFile: folder + "/untracked.txt", atomically: true, encoding: .utf8)
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: folder))
        let m = try manifest(recorder, id: "dirty")
        XCTAssertTrue(m.source.dirty)
        let snapshot = try XCTUnwrap(m.source.snapshotTree)
        XCTAssertEqual(try git("show", "\(snapshot):code.swift"), "code v2")
        XCTAssertEqual(try git("show", "\(snapshot):untracked.txt"), "new file")
        XCTAssertFalse(try git("ls-tree", "-r", "--name-only", snapshot).contains("artifacts/"), "ignored files stay out")
        // The index on disk is untouched: the change is still unstaged, the new file untracked.
        XCTAssertEqual(try git("diff", "--cached", "--name-only"), "", "nothing staged")
        XCTAssertEqual(try git("diff", "--name-only"), "code.swift")
        XCTAssertEqual(try git("ls-files", "--others", "--exclude-standard"), "untracked.txt")
        try recorder.record(m)
        XCTAssertEqual(try git("rev-parse", "refs/calrec/runs/dirty:source"), snapshot)
    }

    func testAuditCatchesModifiedAndMissingArtifacts() throws {
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: folder))
        try recorder.record(try manifest(recorder, id: "audited"))
        XCTAssertEqual(try recorder.audit(run: "audited").map(\.state), [.ok, .ok])
        try "{\"ndcg@10\": 0.9}".write(toFile: folder + "/artifacts/m/metrics.json", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: folder + "/artifacts/m/ranks.tsv")
        XCTAssertEqual(try recorder.audit(run: "audited").map(\.state), [.modified, .missing])
        XCTAssertEqual(try recorder.latestRun(with: "artifacts/m/metrics.json"), "audited")
        XCTAssertThrowsError(try recorder.audit(run: "nope")) { XCTAssertEqual($0 as? ProvenanceError, .unknownRun("nope")) }
    }

    func testDiffShowsOnlyWhatDiffers() throws {
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: folder))
        try recorder.record(try manifest(recorder, id: "a"))
        try "code v3\n".write(toFile: folder + "/code.swift", atomically: true, encoding: .utf8)
        try recorder.record(try manifest(recorder, id: "b", parameters: ["seed": "2"]))
        let lines = try recorder.diff("a", "b")
        XCTAssertEqual(lines[0], "param seed: 1 → 2")
        XCTAssertTrue(lines.contains("  changed: code.swift"), "\(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("metric") })
        XCTAssertFalse(lines.contains { $0.hasPrefix("engine threads") }, "same thread count: \(lines)")
    }

    /// The engine's thread count decides a result's last bits, so a diff says when it changed (and
    /// the manifest keeps it under machine.engine_threads).
    func testDiffNamesAChangedEngineThreadCount() throws {
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: folder))
        try recorder.record(try manifest(recorder, id: "two"))
        var sixteen = try manifest(recorder, id: "sixteen")
        sixteen.machine.engineThreads = 16
        try recorder.record(sixteen)
        XCTAssertEqual(try recorder.diff("two", "sixteen"), ["engine threads: 2 → 16"])
        XCTAssertTrue(try git("show", "refs/calrec/runs/sixteen:manifest.json").contains("\"engine_threads\" : 16"))
    }

    func testOutsideARepositoryProvenanceIsRefusedWithoutNamingAnOptionOfOneCommand() {
        XCTAssertThrowsError(try GitRepository(discoveringFrom: "/")) { error in
            XCTAssertEqual(error as? ProvenanceError, .notARepository("/"))
            XCTAssertTrue(error.localizedDescription.contains("not inside a git repository"), error.localizedDescription)
            XCTAssertFalse(error.localizedDescription.contains("--"), error.localizedDescription)
        }
    }

    func testArtifactPathsAreRootRelativeAndAuditWorksFromAnyDirectory() throws {
        try FileManager.default.createDirectory(atPath: folder + "/Workbooks/deep", withIntermediateDirectories: true)
        // Recorded from a subdirectory: `../artifacts/m` is `artifacts/m` from the root.
        FileManager.default.changeCurrentDirectoryPath(folder + "/Workbooks")
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: folder + "/Workbooks"))
        let recorded = try manifest(recorder, id: "sub", artifacts: ["../artifacts/m/metrics.json", folder + "/artifacts/m/ranks.tsv"])
        XCTAssertEqual(recorded.format, "calrec-run/2")
        XCTAssertEqual(recorded.artifacts.map(\.path), ["artifacts/m/metrics.json", "artifacts/m/ranks.tsv"])
        try recorder.record(recorded)
        XCTAssertEqual(try git("show", "refs/calrec/runs/sub:artifacts/artifacts/m/metrics.json"), "{\"ndcg@10\": 0.1}")
        for directory in [folder, folder + "/Workbooks", folder + "/Workbooks/deep", folder + "/artifacts/m"] {
            FileManager.default.changeCurrentDirectoryPath(directory)
            let fresh = RunRecorder(repository: try GitRepository(discoveringFrom: directory))
            XCTAssertEqual(try fresh.audit(run: "sub").map(\.state), [.ok, .ok], directory)
        }
        // An artifact named as the user sees it from where they stand.
        FileManager.default.changeCurrentDirectoryPath(folder + "/artifacts/m")
        XCTAssertEqual(try recorder.latestRun(with: "metrics.json"), "sub")
        XCTAssertEqual(try recorder.audit(run: "sub", only: "ranks.tsv").map(\.path), ["artifacts/m/ranks.tsv"])
        try "changed".write(toFile: folder + "/artifacts/m/ranks.tsv", atomically: true, encoding: .utf8)
        XCTAssertEqual(try recorder.audit(run: "sub").map(\.state), [.ok, .modified])
    }

    func testAnArtifactsFolderLinkedOutOfTheRepositoryIsStillRecordedRootRelative() throws {
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-disk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: elsewhere + "/n", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        try "{}".write(toFile: elsewhere + "/n/metrics.json", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: folder + "/artifacts")
        try FileManager.default.createSymbolicLink(atPath: folder + "/artifacts", withDestinationPath: elsewhere)
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: folder))
        let recorded = try manifest(recorder, id: "linked", artifacts: ["artifacts/n"])
        XCTAssertEqual(recorded.artifacts.map(\.path), ["artifacts/n/metrics.json"])
        try recorder.record(recorded)
        FileManager.default.changeCurrentDirectoryPath(folder + "/artifacts/n")
        XCTAssertEqual(try recorder.audit(run: "linked").map(\.state), [.ok])
        // A file truly outside the repository is recorded by its absolute path.
        let outside = try recorder.artifacts([elsewhere + "/n/metrics.json"])
        XCTAssertEqual(outside.map(\.path), [URL(fileURLWithPath: elsewhere + "/n/metrics.json").resolvingSymlinksInPath().path])
    }

    func testWorkbenchOutputsAreNotSourceSoAParameterChangeShowsNoCode() throws {
        // Reports are committed in this repository and the artifacts folder is not ignored.
        try FileManager.default.createDirectory(atPath: folder + "/Reports", withIntermediateDirectories: true)
        try "report v1\n".write(toFile: folder + "/Reports/x.md", atomically: true, encoding: .utf8)
        try "".write(toFile: folder + "/.gitignore", atomically: true, encoding: .utf8)
        try git("add", "Reports", ".gitignore")
        try git("commit", "-q", "-m", "reports")
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: folder))
        let outputs = ["Reports", "artifacts"]
        try "report v2\n".write(toFile: folder + "/Reports/x.md", atomically: true, encoding: .utf8)
        try "lock".write(toFile: folder + "/artifacts/m/lock", atomically: true, encoding: .utf8)
        let a = try manifest(recorder, id: "a", outputs: outputs)
        XCTAssertFalse(a.source.dirty, "only the workbench's outputs changed")
        XCTAssertEqual(a.source.excluded, outputs)
        try recorder.record(a)
        try "report v3\n".write(toFile: folder + "/Reports/x.md", atomically: true, encoding: .utf8)
        try "new\n".write(toFile: folder + "/Reports/y.html", atomically: true, encoding: .utf8)
        try "{\"ndcg@10\": 0.2}".write(toFile: folder + "/artifacts/m/metrics.json", atomically: true, encoding: .utf8)
        try recorder.record(try manifest(recorder, id: "b", parameters: ["seed": "2"], outputs: outputs))
        XCTAssertEqual(try recorder.diff("a", "b"), ["param seed: 1 → 2"])
        // A real source change beside them is dirty, snapshotted without the outputs, and shown.
        try "code v2\n".write(toFile: folder + "/code.swift", atomically: true, encoding: .utf8)
        let c = try manifest(recorder, id: "c", outputs: outputs)
        XCTAssertTrue(c.source.dirty)
        let snapshot = try XCTUnwrap(c.source.snapshotTree)
        XCTAssertEqual(try git("show", "\(snapshot):Reports/x.md"), "report v1", "the committed report, not the re-rendered one")
        XCTAssertFalse(try git("ls-tree", "-r", "--name-only", snapshot).contains("artifacts/"))
        XCTAssertFalse(try git("ls-tree", "-r", "--name-only", snapshot).contains("y.html"))
        try recorder.record(c)
        let head = try git("rev-parse", "HEAD")
        XCTAssertEqual(try recorder.diff("b", "c"), ["param seed: 2 → 1", "code: \(head) → \(head)+dirty", "  changed: code.swift"])
    }
}
