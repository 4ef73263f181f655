import Foundation
import XCTest
@testable import Support

final class SeededRandomAndHashTests: XCTestCase {
    /// SplitMix64's published outputs for seed 0 (the reference C code of Steele, Lea & Flood, as
    /// used to seed xoshiro): 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f.
    func testSeededRandomReproducesSplitMix64ReferenceOutputs() {
        var random = SeededRandom(seed: 0)
        XCTAssertEqual(random.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(random.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(random.next(), 0x06C4_5D18_8009_454F)
    }

    func testSavedStateContinuesTheSameSequence() {
        var random = SeededRandom(seed: 42)
        _ = random.next()
        var resumed = SeededRandom(seed: random.state)
        XCTAssertEqual((0..<5).map { _ in random.next() }, (0..<5).map { _ in resumed.next() })
    }

    func testBelowStaysInRangeAndUnitIsInHalfOpenInterval() {
        var random = SeededRandom(seed: 7)
        for bound in [1, 2, 3, 10, 1000] {
            for _ in 0..<200 { XCTAssert((0..<bound).contains(random.below(bound))) }
        }
        for _ in 0..<1000 {
            let u = random.unit()
            XCTAssert(u >= 0 && u < 1)
        }
    }

    /// FIPS 180-2's examples: SHA-256("abc") and of the empty message.
    func testContentHashOfTextMatchesTheStandardsExamples() {
        XCTAssertEqual(ContentHash.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(ContentHash.sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testFolderHashChangesWithAnyFileAndIgnoresStagingFiles() throws {
        let folder = try TestSupport.scratchFolder(self)
        let file = try TestSupport.write("abc", folder, "a.txt")
        XCTAssertEqual(try ContentHash.file(file), ContentHash.sha256("abc"))
        let before = try ContentHash.path(folder)
        _ = try TestSupport.write("half", folder, ".b.txt.tmp-1-\(UUID().uuidString)")
        XCTAssertEqual(try ContentHash.path(folder), before, "a staging file entered the folder's hash")
        _ = try TestSupport.write("x", folder + "/sub", "c.txt")
        XCTAssertNotEqual(try ContentHash.path(folder), before)
        XCTAssertNil(try ContentHash.path(folder + "/missing"))
        XCTAssertThrowsError(try ContentHash.file(folder + "/missing")) { error in
            XCTAssertEqual(error as? ContentHashError, .unreadable(path: folder + "/missing"))
        }
    }

    func testPlatformProbesDescribeThisProcess() {
        XCTAssert(FileManager.default.isExecutableFile(atPath: Platform.executablePath))
        XCTAssert(Platform.isAlive(getpid()))
        let before = Platform.processCPUSeconds()
        var x = 0.0
        for i in 0..<5_000_000 { x += Double(i).squareRoot() }
        XCTAssert(x > 0 && Platform.processCPUSeconds() > before)
    }
}
