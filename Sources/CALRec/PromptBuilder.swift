import RecData
import Tokenization

/// Prompts and targets assembled at token level from per-item token caches: every item body and
/// every prefix is encoded once (each piece with its leading space), and a prompt is the
/// concatenation of the pieces' tokens — the same tokens `PromptTemplate.render` would give piece by
/// piece, without re-tokenizing histories. Over-long histories drop their oldest items first.
public final class PromptBuilder {
    public let template: PromptTemplate
    public let tokenizer: BPETokenizer
    /// Most prompt tokens (history with its prefixes, and the closing next-item prefix).
    public let maxInputTokens: Int
    /// Most target tokens, end-of-text included (longer bodies are cut).
    public let maxOutputTokens: Int
    public let endOfText: Int32

    let historyPrefix: [Int32]
    let firstPrefix: [Int32]
    let nextPrefix: [Int32]
    /// Token ids of each item's body, with a leading space.
    public let itemTokens: [[Int32]]
    /// Each item's body text.
    public let itemBodies: [String]
    /// Each item's words without labels (the documents BM25 maps generated text to).
    public let itemPlainTexts: [String]

    public init(
        template: PromptTemplate, tokenizer: BPETokenizer, items: [ItemAttributes], format: ItemTextFormat = .init(),
        maxInputTokens: Int, maxOutputTokens: Int
    ) throws {
        guard let endOfText = tokenizer.endOfText else {
            throw CALRecError.invalidModel("the tokenizer has no end-of-text token (<|endoftext|> or <|end_of_text|>)")
        }
        self.template = template
        self.tokenizer = tokenizer
        self.maxInputTokens = maxInputTokens
        self.maxOutputTokens = maxOutputTokens
        self.endOfText = endOfText
        historyPrefix = tokenizer.encode(template.historyPrefix)
        firstPrefix = tokenizer.encode(" " + template.firstItemPrefix)
        nextPrefix = tokenizer.encode(" " + template.nextItemPrefix)
        itemBodies = items.map(format.body)
        itemPlainTexts = items.map(format.plainText)
        itemTokens = itemBodies.map { tokenizer.encode(" " + $0) }
        let smallest = historyPrefix.count + firstPrefix.count + nextPrefix.count + 1
        guard maxInputTokens >= smallest, maxOutputTokens >= 2 else {
            throw CALRecError.invalidOption("max input tokens must be at least \(smallest) and max output tokens at least 2 for this template")
        }
    }

    /// The prompt for `history` (item indices, oldest first): as many of the most recent items as fit
    /// `maxInputTokens` (at least the last one, cut from its start if it alone is too long).
    public func prompt(history: [Int32]) -> [Int32] {
        let fixed = historyPrefix.count + nextPrefix.count
        var kept: [Int32] = []
        var used = fixed
        for item in history.reversed() {
            // Every kept item costs its body and one prefix (the first-item prefix is as long or not:
            // count the larger of the two to stay within the limit either way).
            let cost = itemTokens[Int(item)].count + max(firstPrefix.count, nextPrefix.count)
            if used + cost > maxInputTokens && !kept.isEmpty { break }
            kept.append(item)
            used += cost
        }
        kept.reverse()
        var tokens = historyPrefix
        for (index, item) in kept.enumerated() {
            tokens += index == 0 ? firstPrefix : nextPrefix
            tokens += itemTokens[Int(item)]
        }
        tokens += nextPrefix
        if tokens.count > maxInputTokens {
            // A single item longer than the budget: keep the prompt's end (the item's last tokens).
            tokens = Array(historyPrefix + tokens.suffix(maxInputTokens - historyPrefix.count))
        }
        return tokens
    }

    /// Each item's text as a model trained on these targets can generate it: the target without
    /// end-of-text, decoded, spaces at both ends trimmed (as `Recommender` trims samples).
    public var generatableItemTexts: [String] {
        itemTokens.indices.map { tokenizer.decode(Array(target(Int32($0)).dropLast())).trimmingCharacters(in: .whitespaces) }
    }

    /// The target tokens of `item`: its body (cut to fit) and end-of-text.
    public func target(_ item: Int32) -> [Int32] {
        Array(itemTokens[Int(item)].prefix(maxOutputTokens - 1)) + [endOfText]
    }
}
