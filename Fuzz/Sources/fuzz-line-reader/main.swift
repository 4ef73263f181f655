// Fuzz target: LineReader, the line splitter under the JSON-lines readers. Each input is a file; it is
// read as a mapped plain file (one window, then small windows), in two byte ranges split at a line
// start, and gzip-compressed in small and default chunks. Every read must hand out exactly the lines
// of the documented contract (`referenceLines`), each followed by `padding` readable bytes.
// Inputs that start with the gzip magic are read as given (corrupt streams), without the comparisons.
import Foundation
import FuzzSupport
@testable import RecData

let padding = 64
nonisolated(unsafe) var sink: UInt8 = 0

/// The lines a reader hands out and the line count it returns.
func lines(_ reader: LineReader) throws -> (lines: [ReferenceLine], count: Int) {
    var lines: [ReferenceLine] = []
    let count = try reader.forEachLine { number, bytes in
        // The padding must be readable: ASan checks the heap buffers, the mapping faults past its end.
        let base = bytes.baseAddress!
        sink &+= base[bytes.count] &+ base[bytes.count + padding - 1]
        lines.append(ReferenceLine(number: number, bytes: Array(bytes)))
    }
    return (lines, count)
}

let plain = ScratchFiles.path("lines.txt")
let compressed = ScratchFiles.path("lines.txt.gz")

runFuzzer { input in
    ScratchFiles.write(input, to: plain)
    if hasGzipMagic(input) {
        _ = try? lines(LineReader(path: plain, padding: padding, chunkSize: 7))
        return
    }
    let want = referenceLines(input)
    let newlines = input.filter { $0 == UInt8(ascii: "\n") }.count
    let wantCount = newlines + (input.last.map { $0 == UInt8(ascii: "\n") ? 0 : 1 } ?? 0)
    let knob = Int(input.last ?? 0)
    func check(_ reader: LineReader, _ what: String) {
        do {
            let got = try lines(reader)
            expect(got.lines == want && got.count == wantCount, "\(what): \(got) instead of \(want), \(wantCount) lines")
        } catch {
            expect(false, "\(what): \(error)")
        }
    }
    check(LineReader(path: plain, padding: padding), "mapped file")
    check(LineReader(path: plain, padding: padding, mappedWindow: 1 + knob % 64), "mapped in windows of \(1 + knob % 64)")

    // Two byte ranges, split after a newline, read one after the other.
    let newlineEnds = input.indices.filter { input[$0] == UInt8(ascii: "\n") }.map { $0 + 1 }
    let split = newlineEnds.isEmpty ? 0 : newlineEnds[Int(input.first ?? 0) % newlineEnds.count]
    do {
        let head = try lines(LineReader(path: plain, padding: padding, byteRange: 0..<split, mappedWindow: 1 + knob % 13))
        let tail = try lines(LineReader(path: plain, padding: padding, byteRange: split..<input.count, mappedWindow: 1 + knob % 17))
        let joined = head.lines + tail.lines.map { ReferenceLine(number: $0.number + head.count, bytes: $0.bytes) }
        expect(joined == want && head.count + tail.count == wantCount, "ranges split at \(split): \(joined) instead of \(want)")
    } catch {
        expect(false, "ranges split at \(split): \(error)")
    }

    ScratchFiles.writeGzip(input, to: compressed)
    check(LineReader(path: compressed, padding: padding, chunkSize: 1 + knob % 32), "gzip in chunks of \(1 + knob % 32)")
    check(LineReader(path: compressed, padding: padding), "gzip")
}
