import Foundation
import XCTest
@testable import RecData

final class GzipWriteTests: XCTestCase {
    func testWritingAGzipFileRemovesADeadWritersStagingAndReadsBack() throws {
        let folder = try TestSupport.scratchFolder(self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        let debris = try TestSupport.write("half", folder, ".X_5.json.gz.tmp-\(process.processIdentifier)-\(UUID().uuidString)")
        try GzipFile.write("{\"a\": 1}\n", to: folder + "/X_5.json.gz")
        XCTAssertFalse(FileManager.default.fileExists(atPath: debris))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["X_5.json.gz"])
        var lines: [String] = []
        try LineReader(path: folder + "/X_5.json.gz", padding: 64).forEachLine { _, bytes in lines.append(String(decoding: bytes, as: UTF8.self)) }
        XCTAssertEqual(lines, ["{\"a\": 1}"])
    }
}
