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

    /// A log with its ids replaced by the identifiers they stand for (ids are dense but their order
    /// depends on the number of parts, which hash-shard the tables).
    private struct Resolved: Equatable {
        var records: [[String]]
        var firstLines: [String: Int]

        init(_ log: ReviewLog) {
            records = log.records.map { [log.userIDs[Int($0.user)], log.itemIDs[Int($0.item)], "\($0.time)", "\($0.rating)", "\($0.textHash)"] }
            firstLines = Dictionary(uniqueKeysWithValues: zip(log.itemIDs, log.itemFirstLine))
        }
    }

    func testPartsGiveTheSameLogAsASequentialRead() throws {
        let path = try file(lines)
        let sequential = try Amazon2018ReviewReader.read(path: path, skipBadLines: false, threads: 1, minimumParallelBytes: 0)
        for threads in [2, 3, 7] {
            let parallel = try Amazon2018ReviewReader.read(path: path, skipBadLines: false, threads: threads, minimumParallelBytes: 0)
            XCTAssertEqual(Resolved(parallel), Resolved(sequential), "threads \(threads)")
            XCTAssertEqual(Set(parallel.userIDs), Set(sequential.userIDs))
            XCTAssertEqual(parallel.userIDs.count, 211)
            XCTAssertEqual(parallel.itemIDs.count, 97)
            // The same file and thread count always give the same ids.
            let again = try Amazon2018ReviewReader.read(path: path, skipBadLines: false, threads: threads, minimumParallelBytes: 0)
            XCTAssertEqual(again.records, parallel.records)
        }
        // Item 0 first appears on line 1, item "I13" on line 2 (line numbers are 1-based).
        XCTAssertEqual(Resolved(sequential).firstLines["I0"], 1)
        XCTAssertEqual(Resolved(sequential).firstLines["I13"], 2)
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
