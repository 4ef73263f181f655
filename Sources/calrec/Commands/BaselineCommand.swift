import ArgumentParser
import Baselines
import Foundation
import RecData
import Retrieval
import Support
import SequentialRecommenders
import Workbench

/// `calrec baseline pop|bm25|sasrec|bert4rec`: the baselines, through the tie-aware evaluator.
/// SASRec and BERT4Rec are trained first (early stopping on validation NDCG@10) on the same split.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Rank every user's target with Popularity, BM25-over-history, SASRec or BERT4Rec and evaluate.")

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case pop, bm25, sasrec, bert4rec
    }

    @Argument(
        help: "pop (training-set popularity), bm25 (BM25 over the last history items' text), sasrec or bert4rec (ID-only transformers trained here).")
    var method: Method

    @OptionGroup var source: DataSourceOptions
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var sequential: SequentialModelOptions

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
        if let architecture = SequentialArchitecture(rawValue: method.rawValue) {
            return try runSequential(architecture)
        }
        let baseline: BaselineMethod =
            method == .pop
            ? .popularity
            : .bm25History(
                lastItems: lastItems, analyzer: BM25Analyzer(removeEnglishStopWords: stopWords),
                parameters: BM25Parameters(k1: k1, b: b))
        var datasets: [SequenceDataset] = []
        try source.forEachDataset { datasets.append($0) }
        for dataset in datasets {
            let started = Platform.processCPUSeconds()
            let ranks = baseline.rank(
                dataset: dataset, split: evaluation.split, excludeHistory: evaluation.excludeHistory,
                format: source.itemTextFormat, maxUsers: evaluation.userLimit)
            let settings = BaselineSettings(
                bm25: method == .bm25 ? .init(lastItems: lastItems, stopWords: stopWords, k1: k1, b: b) : nil)
            // Counting purchases / indexing the catalogue happens inside the ranking call: all of it is inference here.
            let cost = ComputeCost(trainingStages: [], inferenceSeconds: Platform.processCPUSeconds() - started)
            try evaluation.write(
                ranks: ranks, dataset: dataset.name, method: baseline.name, multiple: datasets.count > 1, settings: settings, cost: cost)
        }
    }

    /// Trains (or loads) SASRec / BERT4Rec per dataset, then ranks the evaluated users' targets.
    func runSequential(_ architecture: SequentialArchitecture) throws {
        var datasets: [SequenceDataset] = []
        try source.forEachDataset { datasets.append($0) }
        for dataset in datasets {
            let folder = datasets.count > 1 ? (evaluation.out as NSString).appendingPathComponent(dataset.name) : evaluation.out
            if evaluation.split == .valid && sequential.load == nil {
                log("warning: \(architecture.rawValue) stops early on the validation targets, so --split valid metrics are biased upwards")
            }
            let (model, settings, trainingSeconds) = try sequential.model(
                architecture, dataset: dataset, folder: folder, budget: evaluation.budget)
            let started = Platform.processCPUSeconds()
            let cases = Array(dataset.evaluationCases(evaluation.split).prefix(evaluation.userLimit ?? Int.max))
            let ranks = model.rank(cases: cases, dataset: dataset, excludeHistory: evaluation.excludeHistory)
            let cost = ComputeCost(trainingStages: trainingSeconds.map { [("training", $0)] }, inferenceSeconds: Platform.processCPUSeconds() - started)
            try evaluation.write(
                ranks: ranks, dataset: dataset.name, method: architecture.rawValue, multiple: datasets.count > 1, settings: settings,
                cost: cost)
        }
    }
}

extension BaselineCommand: DeclaresFiles {
    /// The data, a saved model with `--load`, and the evaluation's outputs (SASRec and BERT4Rec
    /// save their model inside `--out`).
    var files: CommandFiles { source.files + sequential.files + evaluation.files }
}
