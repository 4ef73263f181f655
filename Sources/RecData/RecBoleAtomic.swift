import Foundation
import Support

/// RecBole atomic files: tab-separated, a header of `name:type` fields (`token`, `token_seq`,
/// `float`, `float_seq`), one record a line.
///
/// - `<name>.inter`: `user_id:token`, `item_id:token`, optional `timestamp:float` (other columns are
///   ignored). Sequences are each user's records in file order, stably sorted by timestamp.
/// - `<name>.item`: `item_id:token` plus either `text:token_seq` (one free text) or any of
///   `title:token_seq`, `brand:token`, `categories:token_seq` (levels joined by `" > "`),
///   `price:token`. This is what `write` produces.
public enum RecBoleAtomic {
    /// The separator between category levels inside the `categories:token_seq` field.
    public static let categorySeparator = " > "

    /// Reads `<folder>/<name>.inter` and `<folder>/<name>.item`. With `name` nil, the folder must
    /// hold exactly one `.inter` file (UniSRec's `.train/.valid/.test.inter` are not counted).
    public static func read(folder: String, name: String? = nil) throws -> SequenceDataset {
        let name = try name ?? datasetName(in: folder)
        let interPath = (folder as NSString).appendingPathComponent("\(name).inter")
        let itemPath = (folder as NSString).appendingPathComponent("\(name).item")
        let inter = try AtomicTable(path: interPath)
        let userColumn = try inter.column("user_id", required: true)!
        let itemColumn = try inter.column("item_id", required: true)!
        let timeColumn = try inter.column("timestamp", required: false)

        var userIndex: [String: Int] = [:]
        var userIDs: [String] = []
        var rows: [[(item: String, time: Double, order: Int)]] = []
        for (order, row) in inter.rows.enumerated() {
            let user = row.fields[userColumn]
            let item = row.fields[itemColumn]
            guard !user.isEmpty else { throw inter.fieldError(row, "user_id", "is empty") }
            guard !item.isEmpty else { throw inter.fieldError(row, "item_id", "is empty") }
            var time = Double(order)
            if let timeColumn {
                guard let t = Double(row.fields[timeColumn]), t.isFinite else {
                    throw inter.fieldError(row, "timestamp", "is not a number: '\(row.fields[timeColumn])'")
                }
                time = t
            }
            let u: Int
            if let known = userIndex[user] {
                u = known
            } else {
                u = userIDs.count
                userIndex[user] = u
                userIDs.append(user)
                rows.append([])
            }
            rows[u].append((item, time, order))
        }
        if rows.isEmpty { throw RecDataError.emptyFile(interPath) }

        let attributes = try readItems(path: itemPath)
        var itemIndex: [String: Int32] = [:]
        var itemIDs: [String] = []
        var items: [ItemAttributes] = []
        var sequences: [[Purchase]] = []
        for userRows in rows {
            let ordered = userRows.sorted { $0.time != $1.time ? $0.time < $1.time : $0.order < $1.order }
            sequences.append(
                try ordered.map { row in
                    if let known = itemIndex[row.item] { return Purchase(item: known, time: Int64(row.time)) }
                    guard let description = attributes[row.item] else {
                        let line = inter.rows[row.order].line
                        throw RecDataError.invalidField(
                            file: interPath, line: line, field: "item_id",
                            detail: "names item \(row.item), which \(itemPath) does not describe")
                    }
                    let id = Int32(itemIDs.count)
                    itemIndex[row.item] = id
                    itemIDs.append(row.item)
                    items.append(description)
                    return Purchase(item: id, time: Int64(row.time))
                })
        }
        return SequenceDataset(
            name: name, userIDs: userIDs, itemIDs: itemIDs, items: items, sequences: sequences,
            recordsBeforeDeduplication: nil, duplicatesDropped: 0)
    }

    /// Reads an `.item` file into attributes keyed by item id.
    static func readItems(path: String) throws -> [String: ItemAttributes] {
        let table = try AtomicTable(path: path)
        let idColumn = try table.column("item_id", required: true)!
        let text = try table.column("text", required: false)
        let title = try table.column("title", required: false)
        let brand = try table.column("brand", required: false)
        let categories = try table.column("categories", required: false)
        let price = try table.column("price", required: false)
        guard text != nil || title != nil || brand != nil || categories != nil else {
            throw RecDataError.invalidField(
                file: path, line: 1, field: "header",
                detail: "needs a text:token_seq column or title/brand/categories columns")
        }
        func value(_ row: AtomicTable.Row, _ column: Int?) -> String? {
            guard let column else { return nil }
            let v = row.fields[column].trimmingCharacters(in: .whitespaces)
            return v.isEmpty ? nil : v
        }
        var result: [String: ItemAttributes] = [:]
        for row in table.rows {
            let id = row.fields[idColumn]
            guard !id.isEmpty else { throw table.fieldError(row, "item_id", "is empty") }
            if result[id] != nil { continue }
            result[id] = ItemAttributes(
                title: value(row, title), brand: value(row, brand),
                categories: value(row, categories)?.components(separatedBy: categorySeparator) ?? [],
                price: value(row, price), text: value(row, text))
        }
        return result
    }

    /// Writes `<folder>/<name>.inter` (`user_id:token`, `item_id:token`, `timestamp:float`; users in
    /// dataset order, each user's purchases in sequence order) and `<folder>/<name>.item`. Items
    /// described by attributes get `title`, `brand`, `categories`, `price` columns; a dataset whose
    /// items only have free text gets a `text` column. Tabs and newlines inside values become spaces.
    public static func write(_ dataset: SequenceDataset, folder: String, name: String? = nil) throws {
        let name = name ?? dataset.name
        var inter = "user_id:token\titem_id:token\ttimestamp:float\n"
        for (user, sequence) in zip(dataset.userIDs, dataset.sequences) {
            for purchase in sequence {
                inter += "\(clean(user))\t\(clean(dataset.itemIDs[Int(purchase.item)]))\t\(purchase.time)\n"
            }
        }
        let textOnly = dataset.items.allSatisfy {
            $0.title == nil && $0.brand == nil && $0.categories.isEmpty && $0.price == nil
        }
        var item: String
        if textOnly {
            item = "item_id:token\ttext:token_seq\n"
            for (id, attributes) in zip(dataset.itemIDs, dataset.items) {
                item += "\(clean(id))\t\(clean(attributes.text ?? ""))\n"
            }
        } else {
            item = "item_id:token\ttitle:token_seq\tbrand:token\tcategories:token_seq\tprice:token\n"
            for (id, a) in zip(dataset.itemIDs, dataset.items) {
                let fields = [
                    id, a.title ?? a.text ?? "", a.brand ?? "", a.categories.joined(separator: categorySeparator),
                    a.price ?? "",
                ]
                item += fields.map(clean).joined(separator: "\t") + "\n"
            }
        }
        try AtomicWrite.write(inter, to: (folder as NSString).appendingPathComponent("\(name).inter"))
        try AtomicWrite.write(item, to: (folder as NSString).appendingPathComponent("\(name).item"))
    }

    private static func clean(_ value: String) -> String {
        guard value.contains(where: { $0 == "\t" || $0.isNewline }) else { return value }
        return String(value.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }

    /// The dataset name of the single `<name>.inter` in `folder`.
    static func datasetName(in folder: String) throws -> String {
        let names = try folderContents(folder, holding: "<name>.inter and <name>.item")
            .filter { $0.hasSuffix(".inter") }
            .map { String($0.dropLast(".inter".count)) }
            .filter { !$0.hasSuffix(".train") && !$0.hasSuffix(".valid") && !$0.hasSuffix(".test") }
            .sorted()
        guard names.count == 1 else {
            throw RecDataError.noDataset(
                folder: folder,
                expected: names.isEmpty
                    ? "one <name>.inter with its <name>.item"
                    : "exactly one <name>.inter, found \(names.joined(separator: ", ")); choose one with --name")
        }
        return names[0]
    }
}

extension SequenceDataset {
    /// Reads a RecBole folder: plain atomic files (`<name>.inter` + `<name>.item`) when present,
    /// else the UniSRec variant (`<name>.train.inter`, …). With `name` nil the folder must hold one dataset.
    public static func loadRecBole(folder: String, name: String? = nil) throws -> SequenceDataset {
        if let name {
            let plain = (folder as NSString).appendingPathComponent("\(name).inter")
            if !FileManager.default.fileExists(atPath: plain) && UniSRecFiles.isPresent(folder: folder, name: name) {
                return try UniSRecFiles.read(folder: folder, name: name)
            }
            return try RecBoleAtomic.read(folder: folder, name: name)
        }
        do {
            return try RecBoleAtomic.read(folder: folder)
        } catch RecDataError.noDataset(let f, let expected) {
            guard let unisrec = UniSRecFiles.datasetName(in: folder) else {
                throw RecDataError.noDataset(folder: f, expected: expected)
            }
            return try UniSRecFiles.read(folder: folder, name: unisrec)
        }
    }
}

/// A tab-separated file with a `name:type` header, read whole (atomic files are small next to raw dumps).
struct AtomicTable {
    struct Row {
        var line: Int
        var fields: [String]
    }

    let path: String
    let header: [(name: String, type: String)]
    let rows: [Row]

    init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw RecDataError.missingPath(path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecDataError.io(path: path, detail: "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { throw RecDataError.emptyFile(path) }
        var header: [(String, String)] = []
        for field in first.split(separator: "\t", omittingEmptySubsequences: false) {
            let parts = field.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw RecDataError.invalidField(
                    file: path, line: 1, field: String(field), detail: "is not a RecBole 'name:type' header field")
            }
            header.append((String(parts[0]), String(parts[1])))
        }
        self.header = header
        var rows: [Row] = []
        rows.reserveCapacity(lines.count - 1)
        for (offset, line) in lines.dropFirst().enumerated() {
            let number = offset + 2
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == header.count else {
                throw RecDataError.invalidField(
                    file: path, line: number, field: header.map(\.0).joined(separator: ","),
                    detail: "has \(fields.count) tab-separated values, the header names \(header.count)")
            }
            rows.append(Row(line: number, fields: fields))
        }
        if rows.isEmpty { throw RecDataError.emptyFile(path) }
        self.rows = rows
    }

    /// The index of the column `name`, or nil when optional and absent.
    func column(_ name: String, required: Bool) throws -> Int? {
        if let index = header.firstIndex(where: { $0.name == name }) { return index }
        if required {
            throw RecDataError.missingField(file: path, line: 1, field: name)
        }
        return nil
    }

    func fieldError(_ row: Row, _ field: String, _ detail: String) -> RecDataError {
        .invalidField(file: path, line: row.line, field: field, detail: detail)
    }
}
