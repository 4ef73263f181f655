/// One purchase in a user's sequence.
public struct Purchase: Sendable, Equatable, Codable {
    /// Index into `SequenceDataset.itemIDs`.
    public var item: Int32
    /// Unix time in seconds (or the position in the sequence for sources without times).
    public var time: Int64

    public init(item: Int32, time: Int64) {
        self.item = item
        self.time = time
    }
}

/// A category ready for recommendation: every user's purchases in chronological order (ties kept in
/// file order), after de-duplication, with the catalogue's attributes.
public struct SequenceDataset: Sendable {
    /// The category (file stem or dataset name).
    public var name: String
    /// User identifiers; `sequences[u]` belongs to `userIDs[u]`.
    public var userIDs: [String]
    /// Item identifiers; `items[i]` describes `itemIDs[i]`. Only items that occur in some sequence.
    public var itemIDs: [String]
    /// Attributes of each item.
    public var items: [ItemAttributes]
    /// Purchases of each user, oldest first.
    public var sequences: [[Purchase]]
    /// Records before de-duplication; nil when the source does not carry what the rule needs
    /// (rating and text), as with RecBole and UniSRec files.
    public var recordsBeforeDeduplication: Int?
    /// Records the de-duplication rule dropped (0 when it could not be applied).
    public var duplicatesDropped: Int
    /// Lines skipped under `--skip-bad-lines`, and reviews dropped because their item had no metadata.
    public var skipped: SkippedLines

    public init(
        name: String, userIDs: [String], itemIDs: [String], items: [ItemAttributes], sequences: [[Purchase]],
        recordsBeforeDeduplication: Int?, duplicatesDropped: Int, skipped: SkippedLines = SkippedLines()
    ) {
        self.name = name
        self.userIDs = userIDs
        self.itemIDs = itemIDs
        self.items = items
        self.sequences = sequences
        self.recordsBeforeDeduplication = recordsBeforeDeduplication
        self.duplicatesDropped = duplicatesDropped
        self.skipped = skipped
    }

    /// Number of purchases kept.
    public var purchaseCount: Int { sequences.reduce(0) { $0 + $1.count } }
}

extension SequenceDataset {
    /// Builds a dataset from raw per-user records in file order: optional user sampling, stable
    /// chronological sort per user, de-duplication, then dense re-indexing of users (first
    /// appearance in the file) and items (first appearance in the user-ordered sequences).
    ///
    /// - Parameters:
    ///   - keepUser: which users to keep (nil keeps all).
    static func build(
        name: String, log: ReviewLog, attributes: (Int32) -> ItemAttributes, keepRecord: (ReviewRecord) -> Bool,
        keepUser: Set<String>?, applyDeduplication: Bool, skipped: SkippedLines
    ) -> SequenceDataset {
        var perUser: [[ReviewRecord]] = Array(repeating: [], count: log.userIDs.count)
        var userOrder: [Int32] = []
        let keepUserIndex: [Bool]? = keepUser.map { set in log.userIDs.map { set.contains($0) } }
        for record in log.records where keepRecord(record) {
            if let keepUserIndex, !keepUserIndex[Int(record.user)] { continue }
            if perUser[Int(record.user)].isEmpty { userOrder.append(record.user) }
            perUser[Int(record.user)].append(record)
        }
        var before = 0
        var dropped = 0
        var userIDs: [String] = []
        var sequences: [[Purchase]] = []
        var itemIndex: [Int32: Int32] = [:]
        var itemIDs: [String] = []
        var items: [ItemAttributes] = []
        for user in userOrder {
            var records = perUser[Int(user)]
            records = stableSortedByTime(records)
            before += records.count
            if applyDeduplication {
                let result = Deduplication.apply(records)
                records = result.kept
                dropped += result.dropped
            }
            userIDs.append(log.userIDs[Int(user)])
            sequences.append(
                records.map { record in
                    let dense: Int32
                    if let known = itemIndex[record.item] {
                        dense = known
                    } else {
                        dense = Int32(itemIDs.count)
                        itemIndex[record.item] = dense
                        itemIDs.append(log.itemIDs[Int(record.item)])
                        items.append(attributes(record.item))
                    }
                    return Purchase(item: dense, time: record.time)
                })
        }
        return SequenceDataset(
            name: name, userIDs: userIDs, itemIDs: itemIDs, items: items, sequences: sequences,
            recordsBeforeDeduplication: applyDeduplication ? before : nil, duplicatesDropped: dropped,
            skipped: skipped)
    }

    /// Sorts by time; records with equal times keep their file order.
    static func stableSortedByTime(_ records: [ReviewRecord]) -> [ReviewRecord] {
        records.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }.map(\.element)
    }
}
