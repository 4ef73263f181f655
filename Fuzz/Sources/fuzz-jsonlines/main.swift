// Fuzz target: the Amazon 2018 JSON-lines readers (LineReader + the simdjson shim) on arbitrary file
// bytes, through the entry points the data pipeline calls:
// - `Amazon2018ReviewReader.read`, sequentially and in two parallel parts (the path of files over
//   16 MiB), each with and without `skipBadLines`;
// - `Amazon2018MetaReader.read` (every ASIN wanted), with and without `skipBadLines`.
// Each read must agree with the others and with the shim called line by line on a copy that ends
// right before an inaccessible page (the padding simdjson is promised and not one byte more).
// Inputs that start with the gzip magic are read as given (corrupt streams), without the comparisons.
// Gzip copies of plain inputs are left to fuzz-line-reader, which checks that they give the same
// lines: each reader allocates its 8 MiB decompression buffer per read, which would halve the rate.
import CJSONLines
import Foundation
import FuzzSupport
@testable import RecData

/// A review read with ids resolved to strings, so reads that number users and items differently
/// (parallel parts shard them) compare equal when they hold the same reviews.
struct Reviews: Equatable {
    struct Row: Equatable {
        var user: String
        var item: String
        var time: Int64
        var ratingBits: UInt32
        var textHash: UInt64
    }
    var rows: [Row] = []
    var firstLines: [String: Int] = [:]
    var skipped = SkippedLines()

    init() {}

    init(_ log: ReviewLog) {
        rows = log.records.map {
            Row(user: log.userIDs[Int($0.user)], item: log.itemIDs[Int($0.item)], time: $0.time, ratingBits: $0.rating.bitPattern, textHash: $0.textHash)
        }
        firstLines = Dictionary(uniqueKeysWithValues: zip(log.itemIDs, log.itemFirstLine))
        skipped = log.skipped
    }
}

struct Meta: Equatable {
    var items: [String: ItemAttributes] = [:]
    var skipped = SkippedLines()
}

/// A read's result or its error (as text: the errors name the file and line).
enum Outcome<Value: Equatable>: Equatable {
    case value(Value)
    case failure(String)

    init(_ body: () throws -> Value) {
        do { self = .value(try body()) } catch { self = .failure("\(error)") }
    }

    var success: Value? { if case .value(let v) = self { v } else { nil } }
}

/// With `skipBadLines` off, a read must stop at the first line the lenient read skipped, and
/// otherwise give what the lenient read gave.
func expectStrict<V>(_ strict: Outcome<V>, agreesWith lenient: Outcome<V>, skipped: (V) -> SkippedLines, _ what: String) {
    if let value = lenient.success, let first = skipped(value).examples.first {
        expect(strict == .failure("\(first)"), "\(what): strict read gave \(strict), lenient skipped \(skipped(value))")
    } else {
        expect(strict == lenient, "\(what): strict read gave \(strict), lenient \(lenient)")
    }
}

/// What the readers must return, from the shim called on each line by itself (each copied to the end
/// of `fence`).
func expected(lines: [ReferenceLine], path: String, fence: FencedBuffer) -> (reviews: Outcome<Reviews>, meta: Outcome<Meta>) {
    let padding = cjl_required_padding()
    guard let parser = cjl_parser_create(), let users = cjl_interner_create(), let items = cjl_interner_create() else {
        fatalError("out of memory")
    }
    defer {
        cjl_parser_destroy(parser)
        cjl_interner_destroy(users)
        cjl_interner_destroy(items)
    }
    var reviews = Reviews()
    var meta = Meta()
    var metaRecords = 0
    var review = cjl_review()
    var attributes = cjl_meta()
    var failure = cjl_error()
    var userTable: OpaquePointer? = users
    var itemTable: OpaquePointer? = items
    for line in lines {
        line.bytes.withUnsafeBytes { raw in
            fence.withCopy(of: raw, padding: padding) { start, length in
                start.withMemoryRebound(to: CChar.self, capacity: length + padding) { text in
                    let status = cjl_parse_review(parser, text, length, length + padding, &userTable, &itemTable, 1, &review, &failure)
                    if status == CJL_OK {
                        let item = String(cjl_interner_string(items, review.item))
                        if review.item_is_new != 0 { reviews.firstLines[item] = line.number }
                        reviews.rows.append(
                            Reviews.Row(
                                user: String(cjl_interner_string(users, review.user)), item: item, time: review.unix_review_time,
                                ratingBits: Float(review.overall).bitPattern, textHash: review.text_hash))
                    } else {
                        reviews.skipped.record(Amazon2018ReviewReader.lineError(status, failure, file: path, line: line.number))
                    }
                    let metaStatus = cjl_parse_meta(parser, text, length, length + padding, &attributes, &failure)
                    if metaStatus == CJL_OK {
                        expect(attributes.category_count <= Int(CJL_MAX_CATEGORIES), "category_count \(attributes.category_count)")
                        metaRecords += 1
                        let asin = String(attributes.asin)
                        if meta.items[asin] == nil { meta.items[asin] = Amazon2018MetaReader.attributes(of: attributes) }
                    } else {
                        meta.skipped.record(Amazon2018ReviewReader.lineError(metaStatus, failure, file: path, line: line.number))
                    }
                }
            }
        }
    }
    return (
        reviews.rows.isEmpty && reviews.skipped.count == 0 ? .failure("\(RecDataError.emptyFile(path))") : .value(reviews),
        metaRecords == 0 && meta.skipped.count == 0 ? .failure("\(RecDataError.emptyFile(path))") : .value(meta)
    )
}

func readReviews(_ path: String, skipBadLines: Bool = true, threads: Int = 1) -> Outcome<Reviews> {
    Outcome { Reviews(try Amazon2018ReviewReader.read(path: path, skipBadLines: skipBadLines, threads: threads, minimumParallelBytes: 0)) }
}

func readMeta(_ path: String, wanted: Set<String>, skipBadLines: Bool = true) -> Outcome<Meta> {
    Outcome {
        let (items, skipped) = try Amazon2018MetaReader.read(path: path, wanted: wanted, skipBadLines: skipBadLines)
        return Meta(items: items, skipped: skipped)
    }
}

let fence = FencedBuffer()
let path = ScratchFiles.path("records.json")

runFuzzer { input in
    ScratchFiles.write(input, to: path)
    if hasGzipMagic(input) {
        _ = readReviews(path)
        _ = readMeta(path, wanted: [])
        return
    }
    let want = expected(lines: referenceLines(input), path: path, fence: fence)
    let reviews = readReviews(path)
    expect(reviews == want.reviews, "review read \(reviews) differs from the line-by-line parse \(want.reviews)")
    expect(readReviews(path, threads: 2) == reviews, "review read in 2 parts differs from the sequential read")
    let strict = readReviews(path, skipBadLines: false)
    expectStrict(strict, agreesWith: reviews, skipped: \.skipped, "reviews")
    // A strict read in parts that stops at a bad line releases every part's tables
    // (Fuzz/regressions/jsonlines/leak-strict-read-in-parts.json); it reports the first bad line too.
    let strictInParts = readReviews(path, skipBadLines: false, threads: 2)
    if reviews.success?.skipped.count == 0 {
        expect(strictInParts == strict, "strict review read in 2 parts differs from the sequential one")
    }

    let wanted = want.meta.success.map { Set($0.items.keys) } ?? []
    let meta = readMeta(path, wanted: wanted)
    expect(meta == want.meta, "meta read \(meta) differs from the line-by-line parse \(want.meta)")
    expectStrict(readMeta(path, wanted: wanted, skipBadLines: false), agreesWith: meta, skipped: \.skipped, "meta")
}
