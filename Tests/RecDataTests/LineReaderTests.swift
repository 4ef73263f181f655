import XCTest
@testable import RecData

final class LineReaderTests: XCTestCase {
    private func lines(_ text: String, chunkSize: Int, gzip: Bool = false, window: Int = 64 << 20) throws -> [(Int, String)] {
        let folder = try TestSupport.scratchFolder(self)
        let path = folder + (gzip ? "/f.gz" : "/f.txt")
        if gzip { try GzipFile.write(text, to: path) } else { _ = try TestSupport.write(text, folder, "f.txt") }
        var out: [(Int, String)] = []
        try LineReader(path: path, padding: 64, chunkSize: chunkSize, mappedWindow: window).forEachLine { number, bytes in
            out.append((number, String(decoding: bytes, as: UTF8.self)))
            // The padding after each line must be readable.
            XCTAssertNotNil(bytes.baseAddress.map { $0[bytes.count + 63] })
        }
        return out
    }

    func testLinesAcrossChunkBoundariesCRLFAndNoFinalNewline() throws {
        let long = String(repeating: "x", count: 1000)
        let text = "a\r\n\nbb\n\(long)\nlast"
        for (gzip, window) in [(false, 64 << 20), (false, 7), (false, 5000), (true, 0)] {
            let got = try lines(text, chunkSize: 7, gzip: gzip, window: window)
            XCTAssertEqual(got.map(\.0), [1, 3, 4, 5], "gzip \(gzip), window \(window)")
            XCTAssertEqual(got.map(\.1), ["a", "bb", long, "last"], "gzip \(gzip), window \(window)")
        }
        // Many lines across many page-sized windows, with the final newline.
        let many = (0..<3000).map { "line \($0) " + String(repeating: "x", count: $0 % 37) }
        for window in [4096, 100, 7] {
            let got = try lines(many.joined(separator: "\n") + "\n", chunkSize: 7, window: window)
            XCTAssertEqual(got.map(\.1), many, "window \(window)")
            XCTAssertEqual(got.last?.0, 3000)
        }
    }
}
