import CZlib
import Foundation

/// Streams the lines of a plain or gzip-compressed text file — gzip through zlib in fixed-size
/// chunks, plain files through memory-mapped windows — so memory stays proportional to the chunk
/// (or window) and the longest line, not to the file. Each line is handed out as a borrowed byte range followed by at least `padding` readable
/// bytes, which is what simdjson needs to parse in place.
struct LineReader {
    /// The file being read, as given by the caller (used in error messages).
    let path: String
    /// Readable bytes guaranteed after the end of every line handed out.
    let padding: Int
    /// Bytes requested from zlib per read.
    let chunkSize: Int
    /// For uncompressed files read in parts: the byte range to read (it must start at a line start
    /// and end after a newline or at the end of the file). Nil reads the whole file.
    let byteRange: Range<Int>?
    /// Bytes of an uncompressed file mapped at a time.
    let mappedWindow: Int

    init(path: String, padding: Int, chunkSize: Int = 4 << 20, byteRange: Range<Int>? = nil, mappedWindow: Int = 64 << 20) {
        self.path = path
        self.padding = padding
        self.chunkSize = chunkSize
        self.byteRange = byteRange
        self.mappedWindow = mappedWindow
    }

    /// Whether the file starts with the gzip magic bytes.
    static func isGzip(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 2)) ?? Data()
        return magic.count == 2 && magic[magic.startIndex] == 0x1F && magic[magic.startIndex + 1] == 0x8B
    }

    /// Calls `body(lineNumber, bytes)` for every line (1-based numbers, `\n` and a trailing `\r`
    /// removed; blank lines are not handed out). `bytes.baseAddress! + bytes.count + padding` is
    /// readable. Returns the number of lines seen.
    @discardableResult
    func forEachLine(_ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Int {
        try forEachChunk { firstLine, chunk in
            try Self.forEachLine(in: chunk, firstLine: firstLine, body)
        }
    }

    /// Calls `body(firstLineNumber, bytes)` for runs of whole lines, in order: each chunk ends with
    /// `\n`, except the last one of a file without a final newline; at least `padding` readable bytes
    /// follow it. `body` returns the number of lines in the chunk (counting a final line without a
    /// newline), which it knows from splitting it. Returns the number of lines seen.
    @discardableResult
    func forEachChunk(_ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Int) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { throw RecDataError.missingPath(path) }
        if !Self.isGzip(path) { return try forEachMappedChunk(body) }
        guard let file = gzopen(path, "rb") else {
            throw RecDataError.io(path: path, detail: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 20)
        var remainingInRange = Int.max
        if let byteRange {
            guard gzseek(file, byteRange.lowerBound, SEEK_SET) == byteRange.lowerBound else {
                throw RecDataError.io(path: path, detail: "cannot seek to byte \(byteRange.lowerBound)")
            }
            remainingInRange = byteRange.count
        }

        var capacity = chunkSize * 2
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + padding)
        defer { buffer.deallocate() }
        var filled = 0  // bytes of [buffer] holding data not yet handed out
        var lineNumber = 0  // lines handed out so far
        var atEnd = false

        while !atEnd {
            if capacity - filled < chunkSize {
                // A line longer than the buffer: grow it.
                let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2 + padding)
                grown.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = grown
                capacity *= 2
            }
            let request = min(chunkSize, remainingInRange)
            let read = request == 0 ? 0 : gzread(file, buffer + filled, UInt32(request))
            if read < 0 { throw compressedError(file) }
            remainingInRange -= Int(read)
            if read == 0 {
                try checkStreamEnd(file)
                atEnd = true
            }
            filled += Int(read)
            // Zero the padding after the data so a parser never reads stale bytes as content.
            (buffer + filled).initialize(repeating: 0, count: padding)

            // The chunk ends after the last newline (or at the end of the data once the file is done).
            var end = filled
            if !atEnd {
                while end > 0 && buffer[end - 1] != UInt8(ascii: "\n") { end -= 1 }
            }
            guard end > 0 else { continue }
            let chunk = UnsafeBufferPointer(start: buffer, count: end)
            lineNumber += try body(lineNumber + 1, chunk)
            let rest = filled - end
            if rest > 0 { buffer.update(from: buffer + end, count: rest) }
            filled = rest
        }
        return lineNumber
    }

    /// `forEachChunk` for an uncompressed file: the file is mapped `mappedWindow` bytes at a time and
    /// unmapped after each window, so lines are parsed where the page cache holds them, without the
    /// copy `read` makes, and memory stays bounded by the window. Lines too close to the end of the
    /// file for `padding` are copied into a padded buffer.
    private func forEachMappedChunk(_ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Int) throws -> Int {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw RecDataError.io(path: path, detail: "cannot open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw RecDataError.io(path: path, detail: "cannot stat") }
        let fileSize = Int(status.st_size)
        let range = byteRange ?? 0..<fileSize
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var position = range.lowerBound
        var lineNumber = 0
        var window = mappedWindow
        while position < range.upperBound {
            let mapStart = position / page * page
            let dataEnd = min(range.upperBound, position + window)
            let mapEnd = min(fileSize, dataEnd + padding)
            guard let mapped = mmap(nil, mapEnd - mapStart, PROT_READ, MAP_PRIVATE | MAP_POPULATE, descriptor, off_t(mapStart)),
                mapped != MAP_FAILED
            else { throw RecDataError.io(path: path, detail: "cannot map") }
            defer { munmap(mapped, mapEnd - mapStart) }
            let base = UnsafePointer(mapped.assumingMemoryBound(to: UInt8.self)) - mapStart
            var chunkEnd = dataEnd
            if dataEnd < range.upperBound {
                while chunkEnd > position && base[chunkEnd - 1] != UInt8(ascii: "\n") { chunkEnd -= 1 }
                if chunkEnd == position {
                    window *= 2
                    continue
                }
            }
            var tailStart = chunkEnd
            if mapEnd - chunkEnd < padding {
                tailStart = max(position, mapEnd - padding)
                while tailStart > position && base[tailStart - 1] != UInt8(ascii: "\n") { tailStart -= 1 }
            }
            if tailStart > position {
                lineNumber += try body(lineNumber + 1, UnsafeBufferPointer(start: base + position, count: tailStart - position))
            }
            if chunkEnd > tailStart {
                let tail = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkEnd - tailStart + padding)
                defer { tail.deallocate() }
                tail.initialize(from: base + tailStart, count: chunkEnd - tailStart)
                (tail + (chunkEnd - tailStart)).initialize(repeating: 0, count: padding)
                lineNumber += try body(lineNumber + 1, UnsafeBufferPointer(start: tail, count: chunkEnd - tailStart))
            }
            position = chunkEnd
        }
        return lineNumber
    }

    /// Splits a chunk into lines (see `forEachLine`), numbering from `firstLine`; returns the number
    /// of lines, blank ones included.
    static func forEachLine(
        in chunk: UnsafeBufferPointer<UInt8>, firstLine: Int, _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void
    ) throws -> Int {
        guard let base = chunk.baseAddress else { return 0 }
        var start = 0
        var lineNumber = firstLine
        while start < chunk.count {
            let remaining = chunk.count - start
            let end: Int
            if let newline = memchr(base + start, Int32(UInt8(ascii: "\n")), remaining) {
                end = UnsafeRawPointer(newline) - UnsafeRawPointer(base)
            } else {
                end = chunk.count
            }
            var length = end - start
            if length > 0 && base[start + length - 1] == UInt8(ascii: "\r") { length -= 1 }
            var blank = true
            for i in start..<(start + length) where base[i] != 0x20 && base[i] != 0x09 {
                blank = false
                break
            }
            if !blank { try body(lineNumber, UnsafeBufferPointer(start: base + start, count: length)) }
            lineNumber += 1
            start = end + 1
        }
        return lineNumber - firstLine
    }

    /// At end of input, zlib reports a stream that stopped before its end marker as Z_BUF_ERROR.
    private func checkStreamEnd(_ file: gzFile) throws {
        var code: Int32 = 0
        let message = gzerror(file, &code)
        if code != Z_OK && code != Z_STREAM_END {
            throw RecDataError.corruptCompressedFile(
                file: path, detail: message.map { String(cString: $0) } ?? "zlib error \(code)")
        }
    }

    private func compressedError(_ file: gzFile) -> RecDataError {
        var code: Int32 = 0
        let message = gzerror(file, &code).map { String(cString: $0) } ?? "zlib error \(code)"
        if code == Z_ERRNO {
            return .io(path: path, detail: "read failed: \(String(cString: strerror(errno)))")
        }
        return .corruptCompressedFile(file: path, detail: message)
    }
}
