import Foundation

/// The UniSRec variant of RecBole files (Hou et al., KDD 2022; the processed Amazon datasets used by
/// UniSRec, RecFormer and others): `<name>.train.inter`, `<name>.valid.inter`, `<name>.test.inter`
/// with `user_id:token  item_id_list:token_seq  item_id:token` (ids are remapped indices),
/// `<name>.text` (`item<TAB>text`, optional header), and `<name>.item2index` / `<name>.user2index`
/// (`raw id<TAB>index`).
///
/// Full sequences are rebuilt per user: the training lines hold the training prefix's targets from
/// last to first, the shortest line's history starts it; then the validation and test targets follow.
/// The rebuilt training part is checked against `valid.inter`'s history (its last 50 items).
/// The files carry no times: a purchase's time is its position.
public enum UniSRecFiles {
    /// Whether `folder` holds `<name>.train.inter`.
    public static func isPresent(folder: String, name: String) -> Bool {
        FileManager.default.fileExists(atPath: path(folder, name, "train.inter"))
    }

    /// The dataset name of the single `<name>.train.inter` in `folder`, if exactly one.
    public static func datasetName(in folder: String) -> String? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".train.inter") }
            .map { String($0.dropLast(".train.inter".count)) }
        return names.count == 1 ? names[0] : nil
    }

    public static func read(folder: String, name: String) throws -> SequenceDataset {
        let itemNames = try readIndex(path(folder, name, "item2index"))
        let userNames = try readIndex(path(folder, name, "user2index"))
        let train = try AtomicTable(path: path(folder, name, "train.inter"))
        let valid = try AtomicTable(path: path(folder, name, "valid.inter"))
        let test = try AtomicTable(path: path(folder, name, "test.inter"))

        func columns(_ table: AtomicTable) throws -> (Int, Int, Int) {
            (
                try table.column("user_id", required: true)!, try table.column("item_id_list", required: true)!,
                try table.column("item_id", required: true)!
            )
        }
        // Training lines per user, in file order.
        var trainLines: [String: [(history: [String], target: String)]] = [:]
        let (tu, th, tt) = try columns(train)
        for row in train.rows {
            trainLines[row.fields[tu], default: []].append((split(row.fields[th]), row.fields[tt]))
        }
        var userOrder: [String] = []
        var sequences: [String: [String]] = [:]
        let (vu, vh, vt) = try columns(valid)
        for row in valid.rows {
            let user = row.fields[vu]
            let validHistory = split(row.fields[vh])
            var prefix: [String]
            if let lines = trainLines[user], let shortest = lines.last {
                prefix = shortest.history + lines.reversed().map(\.target)
            } else {
                prefix = validHistory
            }
            guard Array(prefix.suffix(validHistory.count)) == validHistory else {
                throw valid.fieldError(
                    row, "item_id_list", "does not match the training sequence rebuilt from the .train.inter lines")
            }
            if sequences[user] == nil { userOrder.append(user) }
            sequences[user] = prefix + [row.fields[vt]]
        }
        let (su, _, st) = try columns(test)
        for row in test.rows {
            let user = row.fields[su]
            guard sequences[user] != nil else {
                throw test.fieldError(row, "user_id", "user \(user) has no line in the .valid.inter file")
            }
            sequences[user]!.append(row.fields[st])
        }

        let texts = try readText(path(folder, name, "text"), itemNames: itemNames)
        var itemIndex: [String: Int32] = [:]
        var itemIDs: [String] = []
        var items: [ItemAttributes] = []
        var result: [[Purchase]] = []
        for user in userOrder {
            result.append(
                sequences[user]!.enumerated().map { position, token in
                    let raw = itemNames[token] ?? token
                    if let known = itemIndex[raw] { return Purchase(item: known, time: Int64(position)) }
                    let id = Int32(itemIDs.count)
                    itemIndex[raw] = id
                    itemIDs.append(raw)
                    items.append(ItemAttributes(text: texts[raw]))
                    return Purchase(item: id, time: Int64(position))
                })
        }
        return SequenceDataset(
            name: name, userIDs: userOrder.map { userNames[$0] ?? $0 }, itemIDs: itemIDs, items: items,
            sequences: result, recordsBeforeDeduplication: nil, duplicatesDropped: 0)
    }

    private static func path(_ folder: String, _ name: String, _ suffix: String) -> String {
        (folder as NSString).appendingPathComponent("\(name).\(suffix)")
    }

    private static func split(_ field: String) -> [String] {
        field.split(separator: " ").map(String.init)
    }

    /// `raw<TAB>index` lines → index → raw id. A missing file gives an empty map (indices are kept).
    private static func readIndex(_ path: String) throws -> [String: String] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        var map: [String: String] = [:]
        for (number, line) in try lines(path) {
            let parts = line.split(separator: "\t")
            guard parts.count == 2 else {
                throw RecDataError.invalidField(file: path, line: number, field: "index", detail: "needs 'raw id<TAB>index'")
            }
            map[String(parts[1])] = String(parts[0])
        }
        return map
    }

    /// `item<TAB>text` lines (optional RecBole header) → raw item id → text.
    private static func readText(_ path: String, itemNames: [String: String]) throws -> [String: String] {
        guard FileManager.default.fileExists(atPath: path) else { throw RecDataError.missingPath(path) }
        var texts: [String: String] = [:]
        for (number, line) in try lines(path) {
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            if number == 1 && parts.first?.contains(":token") == true { continue }
            guard parts.count == 2 else {
                throw RecDataError.invalidField(file: path, line: number, field: "text", detail: "needs 'item<TAB>text'")
            }
            let key = String(parts[0])
            let raw = itemNames.values.contains(key) ? key : (itemNames[key] ?? key)
            texts[raw] = TextCleaning.collapseWhitespace(String(parts[1]))
        }
        return texts
    }

    private static func lines(_ path: String) throws -> [(Int, Substring)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw RecDataError.missingPath(path) }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { ($0.offset + 1, $0.element.hasSuffix("\r") ? $0.element.dropLast() : $0.element) }
            .filter { !$0.1.isEmpty }
    }
}
