import XCTest
@testable import RecData

final class LineReaderTests: XCTestCase {
    private func lines(_ text: String, chunkSize: Int, gzip: Bool = false) throws -> [(Int, String)] {
        let folder = try TestSupport.scratchFolder(self)
        let path = folder + (gzip ? "/f.gz" : "/f.txt")
        if gzip { try GzipFile.write(text, to: path) } else { _ = try TestSupport.write(text, folder, "f.txt") }
        var out: [(Int, String)] = []
        try LineReader(path: path, padding: 64, chunkSize: chunkSize).forEachLine { number, bytes in
            out.append((number, String(decoding: bytes, as: UTF8.self)))
            // The padding after each line must be readable.
            XCTAssertNotNil(bytes.baseAddress.map { $0[bytes.count + 63] })
        }
        return out
    }

    func testLinesAcrossChunkBoundariesCRLFAndNoFinalNewline() throws {
        let long = String(repeating: "x", count: 1000)
        let text = "a\r\n\nbb\n\(long)\nlast"
        for gzip in [false, true] {
            let got = try lines(text, chunkSize: 7, gzip: gzip)
            XCTAssertEqual(got.map(\.0), [1, 3, 4, 5])
            XCTAssertEqual(got.map(\.1), ["a", "bb", long, "last"])
        }
    }
}
