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

    private func manifest(_ recorder: RunRecorder, id: String, parameters: [String: String] = ["seed": "1"]) throws -> RunManifest {
        RunManifest(
            runID: id, workbook: "Workbooks/x.md", status: "succeeded", started: Date(timeIntervalSince1970: 0),
            finished: Date(timeIntervalSince1970: 1), source: try recorder.sourceState(), parameters: parameters, toolVersion: "0.1.0",
            swiftVersion: MachineInfo.swiftVersion, machine: .current(),
            blocks: [.init(id: "pop", status: "ran", key: "k", seconds: 0.5, metrics: ["pop ndcg@10 opt": 0.1])],
            artifacts: try RunRecorder.artifacts(["artifacts/m"]))
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
    }

    func testOutsideARepositoryProvenanceIsRefused() {
        XCTAssertThrowsError(try GitRepository(discoveringFrom: "/")) { error in
            XCTAssertEqual(error as? ProvenanceError, .notARepository("/"))
            XCTAssertTrue(error.localizedDescription.contains("--no-provenance"))
        }
    }
}
