import CJSONLines
import Foundation

/// Streams `meta_<Category>.json[.gz]` (Amazon Reviews 2018) and keeps the cleaned attributes of the
/// items a caller asks for; everything else in the file is skipped without being kept.
public enum Amazon2018MetaReader {
    /// Reads the metadata of the items in `wanted` (ASINs). The first record of an ASIN wins when the
    /// file repeats it. Items absent from the file are absent from the result.
    public static func read(
        path: String, wanted: Set<String>, skipBadLines: Bool = false
    ) throws -> (items: [String: ItemAttributes], skipped: SkippedLines) {
        guard let parser = cjl_parser_create() else { throw RecDataError.io(path: path, detail: "out of memory") }
        defer { cjl_parser_destroy(parser) }
        var items: [String: ItemAttributes] = [:]
        items.reserveCapacity(wanted.count)
        var skipped = SkippedLines()
        var meta = cjl_meta()
        var failure = cjl_error()
        var records = 0
        let reader = LineReader(path: path, padding: cjl_required_padding())
        try reader.forEachLine { lineNumber, bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            let status = cjl_parse_meta(parser, base, bytes.count, bytes.count + reader.padding, &meta, &failure)
            if status != CJL_OK {
                let error = Amazon2018ReviewReader.lineError(status, failure, file: path, line: lineNumber)
                if skipBadLines {
                    skipped.record(error)
                    return
                }
                throw error
            }
            records += 1
            let asin = String(meta.asin)
            guard wanted.contains(asin), items[asin] == nil else { return }
            items[asin] = attributes(of: meta)
        }
        if records == 0 && skipped.count == 0 { throw RecDataError.emptyFile(path) }
        return (items, skipped)
    }

    static func attributes(of meta: cjl_meta) -> ItemAttributes {
        func cleaned(_ present: Int32, _ view: cjl_string) -> String? {
            guard present != 0 else { return nil }
            let text = TextCleaning.clean(String(view))
            return text.isEmpty ? nil : text
        }
        var categories: [String] = []
        withUnsafeBytes(of: meta.categories) { raw in
            let views = raw.bindMemory(to: cjl_string.self)
            for i in 0..<meta.category_count {
                let entry = TextCleaning.clean(String(views[i]))
                if !entry.isEmpty && categories.last != entry { categories.append(entry) }
            }
        }
        return ItemAttributes(
            title: cleaned(meta.has_title, meta.title),
            brand: cleaned(meta.has_brand, meta.brand),
            categories: categories,
            price: cleaned(meta.has_price, meta.price).flatMap(PriceFormat.normalised))
    }
}

/// Which metadata prices are kept: a dollar amount or a dollar range, as the dump writes them
/// (`$12.99`, `$1,299.00`, `$5.00 - $9.00`). The dump's price field also holds scraped CSS and page
/// fragments; those are treated as missing.
public enum PriceFormat {
    /// The price if it has the accepted form, else nil.
    public static func normalised(_ text: String) -> String? {
        let parts = text.components(separatedBy: " - ")
        guard parts.count <= 2, parts.allSatisfy(isAmount) else { return nil }
        return text
    }

    private static func isAmount(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 2, u[0] == UInt8(ascii: "$"), (48...57).contains(u[1]) else { return false }
        var seenDot = false
        var decimals = 0
        for c in u.dropFirst() {
            switch c {
            case 48...57: if seenDot { decimals += 1 }
            case UInt8(ascii: ","): if seenDot { return false }
            case UInt8(ascii: "."): if seenDot { return false } else { seenDot = true }
            default: return false
            }
        }
        return !seenDot || decimals > 0
    }
}
