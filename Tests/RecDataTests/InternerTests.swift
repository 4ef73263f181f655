import CJSONLines
import XCTest

/// The identifier table behind the review reader (C++, `CJSONLines`), through its C interface.
final class InternerTests: XCTestCase {
    private func intern(_ table: OpaquePointer, _ s: String) -> Int32 {
        var s = s
        return s.withUTF8 { cjl_intern(table, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
    }

    private func string(_ table: OpaquePointer, _ id: Int32) -> String {
        let view = cjl_interner_string(table, id)
        return view.data.withMemoryRebound(to: UInt8.self, capacity: view.length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: view.length), as: UTF8.self)
        }
    }

    func testIdsAreDenseInFirstSeenOrderAcrossGrowth() {
        let table = cjl_interner_create()!
        defer { cjl_interner_destroy(table) }
        // Long keys sharing their first 16 bytes, short keys, and the empty string; 50,000 of them
        // (the table starts with 16,384 slots, so it grows several times).
        let keys = (0..<50_000).map { $0 % 3 == 0 ? "shared-prefix-16b-\($0)" : "k\($0)" } + [""]
        for (i, key) in keys.enumerated() { XCTAssertEqual(intern(table, key), Int32(i)) }
        for (i, key) in keys.enumerated().reversed() { XCTAssertEqual(intern(table, key), Int32(i)) }
        XCTAssertEqual(cjl_interner_count(table), keys.count)
        for i in stride(from: 0, to: keys.count, by: 997) { XCTAssertEqual(string(table, Int32(i)), keys[i]) }
    }

    func testMergeKeepsTheTargetsIdsAndAppendsNewOnesInOrder() {
        let a = cjl_interner_create()!
        let b = cjl_interner_create()!
        defer {
            cjl_interner_destroy(a)
            cjl_interner_destroy(b)
        }
        for key in ["x", "y"] { _ = intern(a, key) }
        for key in ["z", "y", "w"] { _ = intern(b, key) }
        var map = [Int32](repeating: -1, count: 3)
        map.withUnsafeMutableBufferPointer { cjl_interner_merge(a, b, $0.baseAddress!) }
        XCTAssertEqual(map, [2, 1, 3])
        XCTAssertEqual((0..<4).map { string(a, Int32($0)) }, ["x", "y", "z", "w"])
    }
}
