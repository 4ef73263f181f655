/// The wording of CALRec's prompt (docs/method.md §3): one prefix for the whole history, a prefix before the
/// first item and before every later item, the item body `Title: …, Category: …, Brand: …, Price: …`
/// (RecData's `ItemTextFormat`), and the history ending with the next-item prefix, after which the
/// model writes the target's body.
///
///     This is the summary of a user's purchase history. The first purchased item is as follows:
///     Title: …, Category: …, Brand: …, Price: … The next purchased item is as follows: Title: … …
///     The next purchased item is as follows:  ⟶  Title: …, Category: …, Brand: …, Price: …<|endoftext|>
public struct PromptTemplate: Sendable, Equatable, Codable {
    public var historyPrefix: String
    public var firstItemPrefix: String
    public var nextItemPrefix: String

    public init(historyPrefix: String, firstItemPrefix: String, nextItemPrefix: String) {
        self.historyPrefix = historyPrefix
        self.firstItemPrefix = firstItemPrefix
        self.nextItemPrefix = nextItemPrefix
    }

    /// The paper's wording (the default).
    public static let paper = PromptTemplate(
        historyPrefix: "This is the summary of a user's purchase history.",
        firstItemPrefix: "The first purchased item is as follows:",
        nextItemPrefix: "The next purchased item is as follows:")

    /// A short wording for small CPU budgets: the same structure in a few tokens per item, so more
    /// of a history fits a small context.
    public static let compact = PromptTemplate(historyPrefix: "Purchases:", firstItemPrefix: "First:", nextItemPrefix: "Next:")

    /// `paper` or `compact`.
    public init?(name: String) {
        switch name {
        case "paper": self = .paper
        case "compact": self = .compact
        default: return nil
        }
    }

    /// The prompt as text (for display and tests; training and inference assemble the same pieces
    /// from token caches): the history prefix, each item's prefix and body, then the next-item prefix.
    public func render(history bodies: [String]) -> String {
        var pieces = [historyPrefix]
        for (index, body) in bodies.enumerated() {
            pieces.append(index == 0 ? firstItemPrefix : nextItemPrefix)
            pieces.append(body)
        }
        pieces.append(bodies.isEmpty ? firstItemPrefix : nextItemPrefix)
        return pieces.joined(separator: " ")
    }
}
