/// How a category path becomes one string in an item's text.
public enum CategoryFormat: Sendable, Equatable {
    /// All levels, root first, joined by `separator` (default `" > "`).
    case path(separator: String)
    /// The first `levels` levels, joined by `separator`.
    case prefix(levels: Int, separator: String)
    /// Only the most specific (last) level.
    case leaf

    /// The default: the whole path joined by `" > "`.
    public static let `default` = CategoryFormat.path(separator: " > ")

    /// Parses `path`, `leaf` or `prefix:N` (command-line form).
    public init?(argument: String) {
        switch argument {
        case "path": self = .default
        case "leaf": self = .leaf
        default:
            guard argument.hasPrefix("prefix:"), let n = Int(argument.dropFirst(7)), n > 0 else { return nil }
            self = .prefix(levels: n, separator: " > ")
        }
    }

    /// The category string, or nil for an empty path.
    public func render(_ categories: [String]) -> String? {
        guard !categories.isEmpty else { return nil }
        switch self {
        case .path(let separator): return categories.joined(separator: separator)
        case .prefix(let levels, let separator): return categories.prefix(levels).joined(separator: separator)
        case .leaf: return categories.last
        }
    }
}

/// An item's text in the attribute order of docs/method.md §2 — Title, Category, Brand, Price — with
/// `unknown` for a missing value.
public struct ItemTextFormat: Sendable, Equatable {
    public var categoryFormat: CategoryFormat
    /// What a missing value is written as.
    public var unknown: String

    public init(categoryFormat: CategoryFormat = .default, unknown: String = "unknown") {
        self.categoryFormat = categoryFormat
        self.unknown = unknown
    }

    /// `(attribute name, value or nil)` in template order. A free-text-only item (RecBole `text`)
    /// puts its whole text in Title.
    public func attributes(of item: ItemAttributes) -> [(name: String, value: String?)] {
        [
            ("Title", item.title ?? item.text),
            ("Category", categoryFormat.render(item.categories)),
            ("Brand", item.brand),
            ("Price", item.price),
        ]
    }

    /// `Title: …, Category: …, Brand: …, Price: …` — the item body of the prompt template (docs/method.md §3).
    public func body(of item: ItemAttributes) -> String {
        attributes(of: item).map { "\($0.name): \($0.value ?? unknown)" }.joined(separator: ", ")
    }

    /// What a text encoder reads for the item (UniSRec's sentence: title, categories and brand
    /// joined by spaces, no labels, no price); a free-text-only item (RecBole `text`) is its text.
    public static func encoderText(of item: ItemAttributes) -> String {
        if item.title == nil, item.brand == nil, item.categories.isEmpty, let text = item.text { return text }
        return ([item.title ?? item.text] + item.categories.map(Optional.some) + [item.brand]).compactMap { $0 }.joined(separator: " ")
    }

    /// The item's words without labels or `unknown` placeholders: the values present, joined by
    /// spaces. This is the text Table 1 counts and the text written to RecBole `.item` files.
    public func plainText(of item: ItemAttributes) -> String {
        if item.title == nil, item.brand == nil, item.categories.isEmpty, item.price == nil, let text = item.text {
            return text
        }
        return attributes(of: item).compactMap(\.value).joined(separator: " ")
    }
}
