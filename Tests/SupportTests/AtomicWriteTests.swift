import Foundation
import XCTest
@testable import Support

/// What writers killed mid-write leave behind, and what the next write of the same output removes.
final class AtomicWriteTests: XCTestCase {
    /// The id of a process that has exited (and been waited for), so no process has it.
    private func deadProcessID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// Debris of `name` in `folder`: a staging folder of a dead writer (with a file in it), a dead
    /// writer's file, a name from before staging carried a process id, and a live writer's (ours).
    private func plantDebris(of name: String, in folder: String) throws -> (dead: [String], live: String) {
        let dead = try deadProcessID()
        let deadFolder = ".\(name).tmp-\(dead)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/" + deadFolder, withIntermediateDirectories: true)
        _ = try TestSupport.write("half a model", folder + "/" + deadFolder, "model.safetensors")
        let deadFile = try TestSupport.write("half", folder, ".\(name).tmp-\(dead)-\(UUID().uuidString)")
        let unnamed = try TestSupport.write("half", folder, ".\(name).tmp-\(UUID().uuidString)")
        let live = try TestSupport.write("being written", folder, ".\(name).tmp-\(getpid())-\(UUID().uuidString)")
        return ([folder + "/" + deadFolder, deadFile, unnamed], live)
    }

    private func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    func testWritingAFolderRemovesDeadWritersStagingAndKeepsALiveOnes() throws {
        let folder = try TestSupport.scratchFolder(self)
        let (dead, live) = try plantDebris(of: "model", in: folder)
        // Another output's staging, and one whose name only starts like ours, are not ours to remove.
        let other = try TestSupport.write("x", folder, ".other.tmp-\(try deadProcessID())-\(UUID().uuidString)")
        let longer = try TestSupport.write("x", folder, ".model.tmp-7.tmp-\(try deadProcessID())-\(UUID().uuidString)")
        try AtomicWrite.folder(folder + "/model") { staging in
            XCTAssertTrue((staging as NSString).lastPathComponent.hasPrefix(".model.tmp-\(getpid())-"), staging)
            _ = try TestSupport.write("weights", staging, "model.safetensors")
        }
        for path in dead { XCTAssertFalse(exists(path), path) }
        for path in [live, other, longer] { XCTAssertTrue(exists(path), path) }
        XCTAssertEqual(try String(contentsOfFile: folder + "/model/model.safetensors", encoding: .utf8), "weights")
    }

    func testWritingAFileRemovesDeadWritersStaging() throws {
        let folder = try TestSupport.scratchFolder(self)
        let (dead, live) = try plantDebris(of: "metrics.json", in: folder)
        try AtomicWrite.write("{}", to: folder + "/metrics.json")
        for path in dead { XCTAssertFalse(exists(path), path) }
        XCTAssertTrue(exists(live))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), [
            (live as NSString).lastPathComponent, "metrics.json",
        ].sorted())
    }

    func testAFolderMovedAsideByAKilledWriterIsPutBack() throws {
        // Killed between moving the previous folder aside and renaming the new one into place.
        let folder = try TestSupport.scratchFolder(self)
        let old = folder + "/.run.checkpoint.old-\(try deadProcessID())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true)
        _ = try TestSupport.write("step 40", old, "training.json")
        AtomicWrite.removeDebris(of: folder + "/run.checkpoint")
        XCTAssertEqual(try String(contentsOfFile: folder + "/run.checkpoint/training.json", encoding: .utf8), "step 40")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["run.checkpoint"])
    }

    func testReplacingAFolderLeavesNothingBesideIt() throws {
        let folder = try TestSupport.scratchFolder(self)
        for text in ["first", "second"] {
            try AtomicWrite.folder(folder + "/out") { _ = try TestSupport.write(text, $0, "a.txt") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out"])
        XCTAssertEqual(try String(contentsOfFile: folder + "/out/a.txt", encoding: .utf8), "second")
    }

    func testContentOfAWriteThatWillNotFinishIsADeadWritersOnly() throws {
        let uuid = UUID().uuidString
        let dead = try deadProcessID()
        XCTAssertTrue(AtomicWrite.isAbandonedContent(".m.tmp-\(dead)-\(uuid)"))
        XCTAssertTrue(AtomicWrite.isAbandonedContent(".m.tmp-\(uuid)"), "named before names carried a writer")
        XCTAssertFalse(AtomicWrite.isAbandonedContent(".m.tmp-\(getpid())-\(uuid)"), "this live process's: a thread may be writing it")
        XCTAssertFalse(AtomicWrite.isAbandonedContent(".m.tmp-\(getppid())-\(uuid)"), "another live writer's")
        XCTAssertFalse(AtomicWrite.isAbandonedContent(".m.old-\(dead)-\(uuid)"), "a folder moved aside is put back, not removed")
        XCTAssertFalse(AtomicWrite.isAbandonedContent("m.tmp-\(dead)-\(uuid)"), "not a staging name")
        XCTAssertFalse(AtomicWrite.isAbandonedContent(".m.tmp-\(dead)-notauuid"))
    }
}
