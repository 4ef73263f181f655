import XCTest
@testable import RecData

final class DeduplicationTests: XCTestCase {
    private func record(item: Int32 = 1, time: Int64 = 100, rating: Float = 5, text: UInt64 = 7) -> ReviewRecord {
        ReviewRecord(user: 0, item: item, time: time, rating: rating, textHash: text)
    }

    func testDedupRuleTable() {
        let base = record()
        let cases: [(String, ReviewRecord, Bool)] = [
            ("exact duplicate is dropped", record(), true),
            ("same item at another time is kept", record(time: 200), false),
            ("same time with a different rating is kept", record(rating: 4), false),
            ("same time and rating with another text is kept", record(text: 8), false),
            ("another item at the same time is kept", record(item: 2), false),
        ]
        for (name, candidate, duplicate) in cases {
            XCTAssertEqual(Deduplication.isDuplicate(candidate, of: base), duplicate, name)
        }
    }

    func testDedupKeepsSameItemAtAnotherTime() {
        let records = [record(time: 1), record(time: 2), record(time: 3)]
        XCTAssertEqual(Deduplication.apply(records).kept.count, 3)
    }

    func testRunOfIdenticalRecordsKeepsOnlyTheFirst() {
        let records = [record(), record(), record(), record(time: 200)]
        let (kept, dropped) = Deduplication.apply(records)
        XCTAssertEqual(kept.map(\.time), [100, 200])
        XCTAssertEqual(dropped, 2)
    }

    func testDuplicateMustFollowImmediately() {
        // A, B, A (same time as the first A): the third repeats A but not its predecessor B — kept.
        let records = [record(item: 1), record(item: 2), record(item: 1)]
        XCTAssertEqual(Deduplication.apply(records).dropped, 0)
    }

    func testReaderHashesTextSoDifferentTextsAreNotDuplicates() throws {
        let folder = try TestSupport.scratchFolder(self)
        let lines = [
            TestSupport.review("U", "I", 10, text: "same"),
            TestSupport.review("U", "I", 10, text: "same"),
            TestSupport.review("U", "I", 10, text: "other"),
            TestSupport.review("U", "I", 10, text: "other", summary: "changed"),
        ]
        let path = try TestSupport.write(lines.joined(separator: "\n"), folder, "X_5.json")
        let log = try Amazon2018ReviewReader.read(path: path)
        let (kept, dropped) = Deduplication.apply(log.records)
        XCTAssertEqual(dropped, 1)
        XCTAssertEqual(kept.count, 3)
    }
}
