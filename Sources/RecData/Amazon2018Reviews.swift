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
/// part streamed and parsed on its own thread with its own identifier tables, hash-sharded one
/// shard per part; the parts are then merged in file order, shard by shard in parallel. The records,
/// identifiers and line numbers are those of a sequential read; ids are dense and deterministic for
/// a file and thread count (first-seen order within each shard; a sequential read has one shard).
/// Gzip input is read sequentially (decompression is the bound there).
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
        // One hash shard per part, so the parts' tables are merged shard by shard in parallel.
        let shards = ranges.count
        let parts = ConcurrentSlots<Result<Part, Error>>(count: ranges.count)
        DispatchQueue.concurrentPerform(iterations: ranges.count) { index in
            parts[index] = Result { try readPart(path: path, range: ranges[index], shards: shards, skipBadLines: skipBadLines) }
        }
        // The first part's tables are the base; later parts are merged into them, shard by shard.
        var log = ReviewLog(source: path)
        var base: Part?
        defer { base?.release() }
        var newItems: [(id: Int32, line: Int)] = []  // items in first-seen order, with sharded ids
        var lineOffset = 0
        // Parts not reached when a bad line stops the read are released too.
        var reached = 0
        defer {
            for index in reached..<ranges.count { if case .success(let part)? = parts[index] { part.release() } }
        }
        for index in 0..<ranges.count {
            reached = index + 1
            let part: Part
            do {
                part = try parts[index]!.get()
            } catch let error as RecDataError {
                throw error.shiftingLine(by: lineOffset)
            }
            if let base {
                defer { part.release() }
                let itemCounts = base.items.map { cjl_interner_count($0) }
                let userMaps = merge(part.users, into: base.users)
                let itemMaps = merge(part.items, into: base.items)
                for (id, line) in part.newItems {
                    let shard = Int(id) % shards
                    let merged = itemMaps[shard][Int(id) / shards]
                    if Int(merged) >= itemCounts[shard] { newItems.append((merged * Int32(shards) + Int32(shard), line + lineOffset)) }
                }
                log.records.reserveCapacity(log.records.count + part.records.count)
                for var record in part.records {
                    record.user = userMaps[Int(record.user) % shards][Int(record.user) / shards] * Int32(shards) + record.user % Int32(shards)
                    record.item = itemMaps[Int(record.item) % shards][Int(record.item) / shards] * Int32(shards) + record.item % Int32(shards)
                    log.records.append(record)
                }
            } else {
                base = part
                swap(&log.records, &part.records)
                newItems = part.newItems
            }
            log.skipped.merge(part.skipped.shiftingLines(by: lineOffset))
            lineOffset += part.lines
        }
        // Sharded ids (local · shards + shard) become dense: shard by shard, each in first-seen order.
        let userOffsets = offsets(base!.users)
        let itemOffsets = offsets(base!.items)
        let n = Int32(shards)
        for i in log.records.indices {
            let r = log.records[i]
            log.records[i].user = userOffsets[Int(r.user % n)] + r.user / n
            log.records[i].item = itemOffsets[Int(r.item % n)] + r.item / n
        }
        log.itemFirstLine = [Int](repeating: 0, count: Int(itemOffsets.last! + Int32(cjl_interner_count(base!.items.last!))))
        for (id, line) in newItems { log.itemFirstLine[Int(itemOffsets[Int(id % n)] + id / n)] = line }
        log.userIDs = base!.users.flatMap(strings(of:))
        log.itemIDs = base!.items.flatMap(strings(of:))
        if log.records.isEmpty && log.skipped.count == 0 { throw RecDataError.emptyFile(path) }
        return log
    }

    /// The first dense id of each shard.
    private static func offsets(_ tables: [OpaquePointer]) -> [Int32] {
        var result: [Int32] = []
        var total: Int32 = 0
        for table in tables {
            result.append(total)
            total += Int32(cjl_interner_count(table))
        }
        return result
    }

    /// What one part of a file gives: records with sharded part-local ids and the part's tables.
    final class Part {
        var records: [ReviewRecord] = []
        /// Items this part saw first, in order: sharded id and line (relative to the part).
        var newItems: [(id: Int32, line: Int)] = []
        var skipped = SkippedLines()
        var lines = 0
        let users: [OpaquePointer]
        let items: [OpaquePointer]

        init(users: [OpaquePointer], items: [OpaquePointer]) {
            self.users = users
            self.items = items
        }

        func release() {
            users.forEach { cjl_interner_destroy($0) }
            items.forEach { cjl_interner_destroy($0) }
        }
    }

    /// Reads the lines of `range` (the whole file when nil); line numbers are relative to its start.
    static func readPart(path: String, range: Range<Int>?, shards: Int, skipBadLines: Bool) throws -> Part {
        guard let parser = cjl_parser_create() else { throw RecDataError.io(path: path, detail: "out of memory") }
        defer { cjl_parser_destroy(parser) }
        let users = (0..<shards).compactMap { _ in cjl_interner_create() }
        let items = (0..<shards).compactMap { _ in cjl_interner_create() }
        let part = Part(users: users, items: items)
        guard users.count == shards, items.count == shards else {
            part.release()
            throw RecDataError.io(path: path, detail: "out of memory")
        }
        var review = cjl_review()
        var failure = cjl_error()
        let reader = LineReader(path: path, padding: cjl_required_padding(), byteRange: range)
        // Locals, not the part's properties, inside the loop: no exclusivity checks per record.
        var records: [ReviewRecord] = []
        var newItems: [(id: Int32, line: Int)] = []
        if let range {
            // Amazon 2018 review lines average a few hundred bytes; reserving for that avoids regrowing
            // the arrays and tables (and touching their memory twice). Pages never used stay unmapped.
            let expected = range.count / 400
            records.reserveCapacity(expected)
            users.forEach { cjl_interner_reserve($0, expected / shards) }
            items.forEach { cjl_interner_reserve($0, expected / shards / 8) }
        }
        var skipped = SkippedLines()
        // The C interface takes arrays of nullable table pointers.
        let userArray: [OpaquePointer?] = users
        let itemArray: [OpaquePointer?] = items
        do {
            try userArray.withUnsafeBufferPointer { userTables in
                try itemArray.withUnsafeBufferPointer { itemTables in
                    part.lines = try reader.forEachLine { lineNumber, bytes in
                        let line = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
                        let status = cjl_parse_review(
                            parser, line, bytes.count, bytes.count + reader.padding, userTables.baseAddress,
                            itemTables.baseAddress, shards, &review, &failure)
                        if status != CJL_OK {
                            let error = lineError(status, failure, file: path, line: lineNumber)
                            if skipBadLines {
                                skipped.record(error)
                                return
                            }
                            throw error
                        }
                        if review.item_is_new != 0 { newItems.append((review.item, lineNumber)) }
                        records.append(
                            ReviewRecord(
                                user: review.user, item: review.item, time: review.unix_review_time,
                                rating: Float(review.overall), textHash: review.text_hash))
                    }
                }
            }
        } catch {
            part.release()
            throw error
        }
        part.records = records
        part.newItems = newItems
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

    /// Interns every string of each shard of `local` (in id order) into the same shard of `global`,
    /// the shards in parallel; returns, per shard, local id → id in the global shard.
    private static func merge(_ local: [OpaquePointer], into global: [OpaquePointer]) -> [[Int32]] {
        let maps = ConcurrentSlots<[Int32]>(count: local.count)
        let pairs = zip(local, global).map { UnsafeSendableTables(local: $0, global: $1) }
        DispatchQueue.concurrentPerform(iterations: pairs.count) { shard in
            let pair = pairs[shard]
            maps[shard] = [Int32](unsafeUninitializedCapacity: cjl_interner_count(pair.local)) { buffer, count in
                if let base = buffer.baseAddress { cjl_interner_merge(pair.global, pair.local, base) }
                count = buffer.count
            }
        }
        return (0..<local.count).map { maps[$0]! }
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

/// A shard pair handed to a merge worker; each worker touches only its own pair.
private struct UnsafeSendableTables: @unchecked Sendable {
    let local: OpaquePointer
    let global: OpaquePointer
}

/// The interned strings in id order.
private func strings(of interner: OpaquePointer) -> [String] {
    (0..<cjl_interner_count(interner)).map { String(cjl_interner_string(interner, Int32($0))) }
}
