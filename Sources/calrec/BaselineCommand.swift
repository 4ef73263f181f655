import ArgumentParser
import Baselines
import Foundation
import RecData
import Retrieval

/// `calrec baseline pop|bm25`: the baselines that need no training, through the tie-aware evaluator.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline", abstract: "Rank every user's target with Popularity or BM25-over-history and evaluate.")

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case pop, bm25
    }

    @Argument(help: "pop (training-set popularity) or bm25 (BM25 over the last history items' text).")
    var method: Method

    @OptionGroup var source: DataSourceOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .customLong("last-items"), help: "bm25: history items whose text forms the query.")
    var lastItems = 1

    @Flag(name: .customLong("stop-words"), help: "bm25: drop English stop words (Lucene's list).")
    var stopWords = false

    @Option(help: "bm25: term-frequency saturation k1.")
    var k1: Float = 1.2

    @Option(help: "bm25: length normalisation b.")
    var b: Float = 0.75

    func validate() throws {
        guard lastItems >= 1 else { throw ValidationError("--last-items must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let baseline: BaselineMethod =
                method == .pop
                ? .popularity
                : .bm25History(
                    lastItems: lastItems, analyzer: BM25Analyzer(removeEnglishStopWords: stopWords),
                    parameters: BM25Parameters(k1: k1, b: b))
            var datasets: [SequenceDataset] = []
            try source.forEachDataset { datasets.append($0) }
            for dataset in datasets {
                let ranks = baseline.rank(
                    dataset: dataset, split: evaluation.split, excludeHistory: evaluation.excludeHistory,
                    format: source.itemTextFormat, maxUsers: evaluation.userLimit)
                var extra: [String: Any] = [:]
                if method == .bm25 {
                    extra["bm25"] = ["last_items": lastItems, "stop_words": stopWords, "k1": k1, "b": b]
                }
                try evaluation.write(
                    ranks: ranks, dataset: dataset.name, method: baseline.name, multiple: datasets.count > 1, extra: extra)
            }
        }
    }
}
