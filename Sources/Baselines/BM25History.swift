@_spi(Kernels) import Evaluation
import RecData
import Retrieval

/// The BM25-over-history baseline: the query is the text of the user's last `lastItems` history
/// items (joined by spaces), scored against every item's text with BM25.
public struct BM25HistoryBaseline: Sendable {
    public let index: BM25Index
    public let lastItems: Int
    let itemTerms: [[Int32]]

    /// Indexes the plain text of every item (`ItemTextFormat.plainText`: attribute values, no labels).
    public init(
        dataset: SequenceDataset, lastItems: Int = 1, format: ItemTextFormat = .init(), analyzer: BM25Analyzer = .init(),
        parameters: BM25Parameters = .init()
    ) {
        precondition(lastItems >= 1, "the query needs at least one history item")
        let texts = dataset.items.map(format.plainText)
        index = BM25Index(documents: texts, analyzer: analyzer, parameters: parameters)
        itemTerms = texts.map(index.termIDs)
        self.lastItems = lastItems
    }

    /// The query terms of a history (its last `lastItems` items).
    public func queryTerms(history: [Int32]) -> [Int32] {
        history.suffix(lastItems).flatMap { itemTerms[Int($0)] }
    }

    /// Every item's BM25 score for the history's query.
    public func score(history: [Int32], into row: ScoreRow) {
        let terms = queryTerms(history: history)
        row.withUnsafeMutableStorage { index.score(terms: terms, into: $0) }
    }
}
