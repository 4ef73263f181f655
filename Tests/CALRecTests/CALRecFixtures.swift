import Foundation
import LanguageModel
import RecData
import Tensors
import Tokenization
@testable import CALRec

/// A small catalogue and users written by hand: 12 items with distinct titles, 20 users whose
/// purchases follow fixed patterns, so a small model can learn them.
enum CALRecFixtures {
    static let titles = [
        "red stapler", "blue pen", "green ink", "yellow paper", "black marker", "white board",
        "desk lamp", "office chair", "paper clips", "tape roll", "sticky notes", "file folder",
    ]

    static let items: [ItemAttributes] = titles.enumerated().map { index, title in
        ItemAttributes(title: title, brand: index % 2 == 0 ? "Acme" : nil, categories: ["Office", "Supplies"], price: "$\(index + 1).00")
    }

    /// User u buys items u % 12, (u + 1) % 12, …, six purchases one day apart.
    static func dataset(users: Int = 20, length: Int = 6, name: String = "Fixture") -> SequenceDataset {
        let sequences: [[Purchase]] = (0..<users).map { u in
            (0..<length).map { k in Purchase(item: Int32((u + k) % titles.count), time: Int64(86_400 * (k + 1))) }
        }
        return SequenceDataset(
            name: name, userIDs: (0..<users).map { "U\($0)" }, itemIDs: (0..<titles.count).map { "I\($0)" }, items: items,
            sequences: sequences, recordsBeforeDeduplication: nil, duplicatesDropped: 0)
    }

    static func tokenizer() -> BPETokenizer {
        let format = ItemTextFormat()
        let texts = items.map(format.body) + [PromptTemplate.compact.render(history: [])]
        return BPETrainer.train(texts: texts, vocabularySize: 330)
    }

    static func builder(_ tokenizer: BPETokenizer, maxInput: Int = 96, maxOutput: Int = 32) throws -> PromptBuilder {
        try PromptBuilder(template: .compact, tokenizer: tokenizer, items: items, maxInputTokens: maxInput, maxOutputTokens: maxOutput)
    }

    static func model(_ tokenizer: BPETokenizer, positions: Int = 128, channels: Int = 32, layers: Int = 2, seed: UInt64 = 5) throws -> GPT2Model {
        try GPT2Model.initialized(
            config: GPT2Config(vocabularySize: tokenizer.vocabulary.count, maxPositions: positions, channels: channels, layers: layers, heads: 2),
            seed: seed)
    }
}
