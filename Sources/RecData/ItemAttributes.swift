/// What the catalogue says about one item, after cleaning.
public struct ItemAttributes: Sendable, Equatable, Codable {
    /// Cleaned title (see `TextCleaning`), or nil when the source has none.
    public var title: String?
    /// Cleaned brand, or nil.
    public var brand: String?
    /// Cleaned category path, root first; empty entries and repeated neighbours removed.
    public var categories: [String]
    /// A price as the source writes it (`$12.99`, `$5.00 - $9.00`), or nil when absent or not a price.
    public var price: String?
    /// Free text, for sources that describe an item by one string only (RecBole `text:token_seq`,
    /// UniSRec `.text`); nil otherwise.
    public var text: String?

    public init(
        title: String? = nil, brand: String? = nil, categories: [String] = [], price: String? = nil, text: String? = nil
    ) {
        self.title = title
        self.brand = brand
        self.categories = categories
        self.price = price
        self.text = text
    }
}
