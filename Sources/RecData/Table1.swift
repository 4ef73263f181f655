/// The statistics of the paper's Table 1 for one category (docs/method.md §2), after de-duplication.
///
/// Definitions: Users, Items and Purchases count what the dataset keeps; % duplicates = records the
/// de-duplication rule drops / records before dropping (nil when the source lacks ratings and
/// texts); Items/User = Purchases/Users; Purchases/Item = Purchases/Items; Density =
/// Purchases/(Users × Items); Words/Item = total words over all items' plain text / Items; Vocab =
/// distinct words; Avg word freq = total words / Vocab (= Items × Words/Item / Vocab).
/// Words are those of `WordAnalyzer` (lowercased; split on anything that is not a Unicode letter or
/// number) over `ItemTextFormat.plainText` — the attribute values present, without labels or
/// `unknown`.
public struct Table1Row: Sendable, Equatable, Codable {
    public var category: String
    public var users: Int
    /// Percentage (0–100) of records dropped as duplicates, or nil when not measurable.
    public var duplicatePercent: Double?
    public var items: Int
    public var purchases: Int
    public var itemsPerUser: Double
    public var purchasesPerItem: Double
    public var density: Double
    public var wordsPerItem: Double
    public var vocabularySize: Int
    public var averageWordFrequency: Double

    enum CodingKeys: String, CodingKey {
        case category, users, items, purchases, density
        case duplicatePercent = "duplicate_pct"
        case itemsPerUser = "items_per_user"
        case purchasesPerItem = "purchases_per_item"
        case wordsPerItem = "words_per_item"
        case vocabularySize = "vocab_size"
        case averageWordFrequency = "avg_word_freq"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(category, forKey: .category)
        try container.encode(users, forKey: .users)
        try container.encode(duplicatePercent, forKey: .duplicatePercent)  // null when not measurable
        try container.encode(items, forKey: .items)
        try container.encode(purchases, forKey: .purchases)
        try container.encode(itemsPerUser, forKey: .itemsPerUser)
        try container.encode(purchasesPerItem, forKey: .purchasesPerItem)
        try container.encode(density, forKey: .density)
        try container.encode(wordsPerItem, forKey: .wordsPerItem)
        try container.encode(vocabularySize, forKey: .vocabularySize)
        try container.encode(averageWordFrequency, forKey: .averageWordFrequency)
    }

    /// Computes the row for `dataset`, counting words of `format.plainText` of every item.
    public init(dataset: SequenceDataset, format: ItemTextFormat = .init()) {
        category = dataset.name
        users = dataset.sequences.filter { !$0.isEmpty }.count
        items = dataset.itemIDs.count
        purchases = dataset.purchaseCount
        if let before = dataset.recordsBeforeDeduplication, before > 0 {
            duplicatePercent = 100 * Double(dataset.duplicatesDropped) / Double(before)
        } else {
            duplicatePercent = nil
        }
        itemsPerUser = users > 0 ? Double(purchases) / Double(users) : 0
        purchasesPerItem = items > 0 ? Double(purchases) / Double(items) : 0
        density = users > 0 && items > 0 ? Double(purchases) / (Double(users) * Double(items)) : 0
        var totalWords = 0
        var vocabulary = Set<String>()
        for item in dataset.items {
            let words = WordAnalyzer.words(format.plainText(of: item))
            totalWords += words.count
            vocabulary.formUnion(words)
        }
        wordsPerItem = items > 0 ? Double(totalWords) / Double(items) : 0
        vocabularySize = vocabulary.count
        averageWordFrequency = vocabulary.isEmpty ? 0 : Double(totalWords) / Double(vocabulary.count)
    }
}
