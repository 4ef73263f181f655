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
public enum Amazon2018ReviewReader {
    /// Reads every review of `path`. With `skipBadLines`, malformed lines are counted in
    /// `ReviewLog.skipped` instead of stopping the read.
    public static func read(path: String, skipBadLines: Bool = false) throws -> ReviewLog {
        guard let parser = cjl_parser_create() else { throw RecDataError.io(path: path, detail: "out of memory") }
        defer { cjl_parser_destroy(parser) }
        var log = ReviewLog(source: path)
        guard let users = cjl_interner_create(), let items = cjl_interner_create() else {
            throw RecDataError.io(path: path, detail: "out of memory")
        }
        defer {
            cjl_interner_destroy(users)
            cjl_interner_destroy(items)
        }
        var review = cjl_review()
        var failure = cjl_error()
        let reader = LineReader(path: path, padding: cjl_required_padding())
        try reader.forEachLine { lineNumber, bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            let status = cjl_parse_review(
                parser, base, bytes.count, bytes.count + reader.padding, users, items, &review, &failure)
            if status != CJL_OK {
                let error = lineError(status, failure, file: path, line: lineNumber)
                if skipBadLines {
                    log.skipped.record(error)
                    return
                }
                throw error
            }
            let rating = Float(review.overall)
            if Int(review.item) == log.itemFirstLine.count { log.itemFirstLine.append(lineNumber) }
            log.records.append(
                ReviewRecord(
                    user: review.user, item: review.item, time: review.unix_review_time, rating: rating,
                    textHash: review.text_hash))
        }
        log.userIDs = strings(of: users)
        log.itemIDs = strings(of: items)
        if log.records.isEmpty && log.skipped.count == 0 { throw RecDataError.emptyFile(path) }
        return log
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

/// The interned strings in id order.
private func strings(of interner: OpaquePointer) -> [String] {
    (0..<cjl_interner_count(interner)).map { String(cjl_interner_string(interner, Int32($0))) }
}
