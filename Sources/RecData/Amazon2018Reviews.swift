import CJSONLines
import Foundation

/// One review as the reader keeps it: interned user and item, time, rating and a hash of the text.
public struct ReviewRecord: Sendable, Equatable {
    /// Index into `ReviewLog.userIDs`.
    public var user: Int32
    /// Index into `ReviewLog.itemIDs`.
    public var item: Int32
    /// `unixReviewTime` (seconds; the 2018 dump has day resolution).
    public var time: Int64
    /// `overall` (1…5).
    public var rating: Float
    /// Hash of the unescaped `reviewText` and `summary`; equal texts give equal hashes.
    public var textHash: UInt64

    public init(user: Int32, item: Int32, time: Int64, rating: Float, textHash: UInt64) {
        self.user = user
        self.item = item
        self.time = time
        self.rating = rating
        self.textHash = textHash
    }
}

/// The reviews of one file, in file order, with user and item identifiers interned.
public struct ReviewLog: Sendable {
    /// The file the reviews came from.
    public var source: String
    public var userIDs: [String] = []
    public var itemIDs: [String] = []
    public var records: [ReviewRecord] = []
    /// For each item, the line of the first review that names it (for error messages).
    public var itemFirstLine: [Int] = []
    /// Lines skipped under `skipBadLines`.
    public var skipped = SkippedLines()

    public init(source: String) { self.source = source }
}

/// Streams `<Category>_5.json[.gz]` (Amazon Reviews 2018) through simdjson, keeping only
/// `reviewerID`, `asin`, `unixReviewTime`, `overall` and a hash of `reviewText` + `summary`.
/// Memory grows with the number of reviews kept, not with the size of the file.
///
/// An uncompressed file of at least `parallelThreshold` bytes is read in one part per core, each
/// part streamed and parsed on its own thread with its own identifier tables; the parts are then
/// merged in file order, so the result (ids in first-seen order, line numbers in errors) is the same
/// as a sequential read. Gzip input is read sequentially (decompression is the bound there).
public enum Amazon2018ReviewReader {
    /// Files smaller than this are read on one thread.
    public static let parallelThreshold = 16 << 20

    /// Reads every review of `path`. With `skipBadLines`, malformed lines are counted in
    /// `ReviewLog.skipped` instead of stopping the read. `threads` nil uses every core.
    public static func read(path: String, skipBadLines: Bool = false, threads: Int? = nil) throws -> ReviewLog {
        try read(path: path, skipBadLines: skipBadLines, threads: threads, minimumParallelBytes: parallelThreshold)
    }

    static func read(path: String, skipBadLines: Bool, threads: Int?, minimumParallelBytes: Int) throws -> ReviewLog {
        guard FileManager.default.fileExists(atPath: path) else { throw RecDataError.missingPath(path) }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        let threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let ranges: [Range<Int>?] =
            threads > 1 && size >= minimumParallelBytes && !LineReader.isGzip(path)
            ? try lineAlignedParts(path: path, size: size, count: threads) : [nil]
        let parts = PartResults(count: ranges.count)
        DispatchQueue.concurrentPerform(iterations: ranges.count) { index in
            parts.store(index, Result { try readPart(path: path, range: ranges[index], skipBadLines: skipBadLines) })
        }
        // The first part's records and identifier tables are the base; later parts are remapped into them.
        var log = ReviewLog(source: path)
        var base: Part?
        defer { base?.release() }
        var lineOffset = 0
        for index in 0..<ranges.count {
            let part: Part
            do {
                part = try parts.take(index).get()
            } catch let error as RecDataError {
                throw error.shiftingLine(by: lineOffset)
            }
            if let base {
                defer { part.release() }
                let userMap = remap(part.users, into: base.users)
                let itemMap = remap(part.items, into: base.items)
                for (local, global) in itemMap.enumerated() where Int(global) == log.itemFirstLine.count {
                    log.itemFirstLine.append(part.itemFirstLine[local] + lineOffset)
                }
                log.records.reserveCapacity(log.records.count + part.records.count)
                for var record in part.records {
                    record.user = userMap[Int(record.user)]
                    record.item = itemMap[Int(record.item)]
                    log.records.append(record)
                }
            } else {
                base = part
                swap(&log.records, &part.records)
                swap(&log.itemFirstLine, &part.itemFirstLine)
            }
            log.skipped.merge(part.skipped.shiftingLines(by: lineOffset))
            lineOffset += part.lines
        }
        let users = base!.users
        let items = base!.items
        log.userIDs = strings(of: users)
        log.itemIDs = strings(of: items)
        if log.records.isEmpty && log.skipped.count == 0 { throw RecDataError.emptyFile(path) }
        return log
    }

    /// What one part of a file gives: records with part-local ids and the part's identifier tables.
    final class Part {
        var records: [ReviewRecord] = []
        var itemFirstLine: [Int] = []
        var skipped = SkippedLines()
        var lines = 0
        let users: OpaquePointer
        let items: OpaquePointer

        init(users: OpaquePointer, items: OpaquePointer) {
            self.users = users
            self.items = items
        }

        func release() {
            cjl_interner_destroy(users)
            cjl_interner_destroy(items)
        }
    }

    /// Reads the lines of `range` (the whole file when nil); line numbers are relative to its start.
    static func readPart(path: String, range: Range<Int>?, skipBadLines: Bool) throws -> Part {
        guard let parser = cjl_parser_create(), let users = cjl_interner_create(), let items = cjl_interner_create()
        else { throw RecDataError.io(path: path, detail: "out of memory") }
        defer { cjl_parser_destroy(parser) }
        let part = Part(users: users, items: items)
        var review = cjl_review()
        var failure = cjl_error()
        let reader = LineReader(path: path, padding: cjl_required_padding(), byteRange: range)
        // Locals, not the part's properties, inside the loop: no exclusivity checks per record.
        var records: [ReviewRecord] = []
        if let range {
            // Amazon 2018 review lines average a few hundred bytes; reserving for that avoids regrowing
            // the arrays and tables (and touching their memory twice). Pages never used stay unmapped.
            let expected = range.count / 400
            records.reserveCapacity(expected)
            cjl_interner_reserve(users, expected)
            cjl_interner_reserve(items, expected / 8)
        }
        var itemFirstLine: [Int] = []
        var skipped = SkippedLines()
        do {
            part.lines = try reader.forEachLine { lineNumber, bytes in
                let line = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
                let status = cjl_parse_review(
                    parser, line, bytes.count, bytes.count + reader.padding, users, items, &review, &failure)
                if status != CJL_OK {
                    let error = lineError(status, failure, file: path, line: lineNumber)
                    if skipBadLines {
                        skipped.record(error)
                        return
                    }
                    throw error
                }
                if Int(review.item) == itemFirstLine.count { itemFirstLine.append(lineNumber) }
                records.append(
                    ReviewRecord(
                        user: review.user, item: review.item, time: review.unix_review_time,
                        rating: Float(review.overall), textHash: review.text_hash))
            }
        } catch {
            part.release()
            throw error
        }
        part.records = records
        part.itemFirstLine = itemFirstLine
        part.skipped = skipped
        return part
    }

    /// Splits `[0, size)` into `count` ranges that each end just after a newline (or at the end).
    static func lineAlignedParts(path: String, size: Int, count: Int) throws -> [Range<Int>?] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RecDataError.io(path: path, detail: "cannot open")
        }
        defer { try? handle.close() }
        var bounds = [0]
        for k in 1..<count {
            var position = max(size * k / count, bounds.last!)
            try handle.seek(toOffset: UInt64(position))
            var found = false
            while !found, let block = try handle.read(upToCount: 1 << 16), !block.isEmpty {
                if let newline = block.firstIndex(of: UInt8(ascii: "\n")) {
                    position += newline - block.startIndex + 1
                    found = true
                } else {
                    position += block.count
                }
            }
            bounds.append(min(position, size))
        }
        bounds.append(size)
        return zip(bounds, bounds.dropFirst()).map { $0..<$1 }
    }

    /// Interns every string of `local` (in id order) into `global`; returns local id → global id.
    private static func remap(_ local: OpaquePointer, into global: OpaquePointer) -> [Int32] {
        [Int32](unsafeUninitializedCapacity: cjl_interner_count(local)) { buffer, count in
            cjl_interner_merge(global, local, buffer.baseAddress!)
            count = buffer.count
        }
    }

    static func lineError(_ status: cjl_status, _ failure: cjl_error, file: String, line: Int) -> RecDataError {
        let detail = failure.detail.map { String(cString: $0) } ?? "unknown error"
        let field = failure.field.map { String(cString: $0) } ?? ""
        switch status {
        case CJL_MISSING_FIELD: return .missingField(file: file, line: line, field: field)
        case CJL_WRONG_TYPE: return .invalidField(file: file, line: line, field: field, detail: "has the wrong type (\(detail))")
        default: return .malformedLine(file: file, line: line, detail: detail)
        }
    }
}

extension String {
    /// Decodes a borrowed UTF-8 view from the JSON scanner (invalid sequences become U+FFFD).
    init(_ view: cjl_string) {
        if view.length == 0 {
            self = ""
            return
        }
        self = view.data.withMemoryRebound(to: UInt8.self, capacity: view.length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: view.length), as: UTF8.self)
        }
    }
}

/// Results of parallel part reads, each slot written by exactly one worker.
private final class PartResults: @unchecked Sendable {
    private var slots: [Result<Amazon2018ReviewReader.Part, Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ index: Int, _ result: Result<Amazon2018ReviewReader.Part, Error>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func take(_ index: Int) -> Result<Amazon2018ReviewReader.Part, Error> {
        lock.lock()
        defer { lock.unlock() }
        return slots[index]!
    }
}

/// The interned strings in id order.
private func strings(of interner: OpaquePointer) -> [String] {
    (0..<cjl_interner_count(interner)).map { String(cjl_interner_string(interner, Int32($0))) }
}
