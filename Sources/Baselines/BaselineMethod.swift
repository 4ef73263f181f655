import Evaluation
import RecData
import Retrieval

/// The baselines that need no training, as a choice with its options.
public enum BaselineMethod: Sendable {
    case popularity
    /// BM25 over the text of the last `lastItems` history items.
    case bm25History(lastItems: Int, analyzer: BM25Analyzer, parameters: BM25Parameters)

    /// The short name used for output folders and `metrics/<method>.json` (`pop`, `bm25`).
    public var name: String {
        switch self {
        case .popularity: return "pop"
        case .bm25History: return "bm25"
        }
    }

    /// Ranks every user's target of `split` against the whole catalogue; with `maxUsers`, only the
    /// first users of the dataset are evaluated.
    public func rank(
        dataset: SequenceDataset, split: EvaluationSplit, excludeHistory: Bool = false, format: ItemTextFormat = .init(), maxUsers: Int? = nil
    ) -> [UserRank] {
        let cases = Array(dataset.evaluationCases(split).prefix(maxUsers ?? Int.max))
        switch self {
        case .popularity:
            let popularity = PopularityBaseline(dataset: dataset)
            return FullRankingEvaluator.rank(cases: cases, dataset: dataset, excludeHistory: excludeHistory) { _, row in
                popularity.score(into: row)
            }
        case .bm25History(let lastItems, let analyzer, let parameters):
            let bm25 = BM25HistoryBaseline(
                dataset: dataset, lastItems: lastItems, format: format, analyzer: analyzer, parameters: parameters)
            return FullRankingEvaluator.rank(cases: cases, dataset: dataset, excludeHistory: excludeHistory) { c, row in
                bm25.score(history: c.history, into: row)
            }
        }
    }
}
