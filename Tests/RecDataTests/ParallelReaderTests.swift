import XCTest
@testable import RecData

final class ParallelReaderTests: XCTestCase {
    private func file(_ lines: [String]) throws -> String {
        let folder = try TestSupport.scratchFolder(self)
        return try TestSupport.write(lines.joined(separator: "\n") + "\n", folder, "P_5.json")
    }

    private var lines: [String] {
        (0..<3000).map { TestSupport.review("U\(($0 * 7) % 211)", "I\(($0 * 13) % 97)", 1000 + $0, rating: Double(1 + $0 % 5), text: "t\($0 % 5)") }
    }

    func testPartsGiveTheSameLogAsASequentialRead() throws {
        let path = try file(lines)
        let sequential = try Amazon2018ReviewReader.read(path: path, skipBadLines: false, threads: 1, minimumParallelBytes: 0)
        for threads in [2, 3, 7] {
            let parallel = try Amazon2018ReviewReader.read(path: path, skipBadLines: false, threads: threads, minimumParallelBytes: 0)
            XCTAssertEqual(parallel.records, sequential.records, "threads \(threads)")
            XCTAssertEqual(parallel.userIDs, sequential.userIDs)
            XCTAssertEqual(parallel.itemIDs, sequential.itemIDs)
            XCTAssertEqual(parallel.itemFirstLine, sequential.itemFirstLine)
        }
        XCTAssertEqual(sequential.records.count, 3000)
        XCTAssertEqual(sequential.userIDs.count, 211)
        XCTAssertEqual(sequential.itemIDs.count, 97)
        XCTAssertEqual(sequential.userIDs.prefix(3), ["U0", "U7", "U14"])
    }

    func testErrorInALaterPartReportsItsLineInTheWholeFile() throws {
        var broken = lines
        broken[2499] = "{\"reviewerID\": \"U\", \"asin\": \"I\", \"overall\": 5.0}"
        let path = try file(broken)
        XCTAssertThrowsError(try Amazon2018ReviewReader.read(path: path, skipBadLines: false, threads: 3, minimumParallelBytes: 0)) { error in
            XCTAssertEqual(error as? RecDataError, .missingField(file: path, line: 2500, field: "unixReviewTime"))
        }
        let skipped = try Amazon2018ReviewReader.read(path: path, skipBadLines: true, threads: 3, minimumParallelBytes: 0)
        XCTAssertEqual(skipped.skipped.count, 1)
        XCTAssertEqual(skipped.skipped.examples, [.missingField(file: path, line: 2500, field: "unixReviewTime")])
        XCTAssertEqual(skipped.records.count, 2999)
    }
}
