import ArgumentParser
import CALRec
import Evaluation
import Foundation
import LanguageModel
import RecData
import Reporting
import Retrieval
import Workbench

/// `calrec evaluate`: generated samples (quasi-round-robin BM25) or sparse scores → ranks and metrics.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate samples.jsonl (user, text, logprob; ranked by quasi-round-robin BM25) or scores.tsv (user, item, score).")

    @Argument(help: "samples.jsonl or scores.tsv (items a user's scores do not list rank last, tied).")
    var input: String

    @OptionGroup var source: DataSourceOptions
    @OptionGroup var evaluation: EvaluationOptions

    @OptionGroup var ranking: RankingOptions

    @Option(help: "samples.jsonl: the model that wrote them (GGUF file or folder); grounding.json then compares samples with item texts cut at its output limit, not whole bodies.")
    var model: String?
    @Option(help: "Method name recorded in metrics.json.")
    var method = "calrec"

    /// What samples are matched against: each item's text cut as `--model`'s targets are, or whole bodies.
    private func itemTexts(_ dataset: SequenceDataset) throws -> [String] {
        guard let model else { return dataset.items.map(source.itemTextFormat.body) }
        let settings = try RecommendCommand.settings(model)
        let builder = try PromptBuilder(
            template: settings.template, tokenizer: try ModelFolder.tokenizer(path: model), items: dataset.items, format: source.itemTextFormat,
            maxInputTokens: .max, maxOutputTokens: settings.maxOutput)  // only the targets are used: no prompt limit
        return builder.generatableItemTexts
    }

    func run() throws {
        var datasets: [SequenceDataset] = []
        try source.forEachDataset { datasets.append($0) }
        guard datasets.count == 1 else {
            throw ValidationError("evaluate needs exactly one dataset; choose one with --category or --name")
        }
        let dataset = datasets[0]
        let cases = Array(dataset.evaluationCases(evaluation.split).prefix(evaluation.userLimit ?? Int.max))
        let ranks: [UserRank]
        var settings = ScoredInputSettings(input: input, qrr: nil)
        var grounded: (samples: [[GeneratedSample]], index: BM25Index)?
        if input.hasSuffix(".tsv") {
            let scores = try SparseScoresFile.read(input, itemIDs: dataset.itemIDs)
            let byUser = scores
            ranks = FullRankingEvaluator.rank(cases: cases, dataset: dataset, excludeHistory: evaluation.excludeHistory) { c, row in
                row.fill(-.infinity)
                for (item, score) in byUser[dataset.userIDs[c.user]] ?? [] { row[item] = score }
            }
        } else {
            let samples = try SamplesFile.read(input)
            let index = BM25Index(documents: dataset.items.map(source.itemTextFormat.plainText))
            let qrr = ranking.quasiRoundRobin
            ranks = FullRankingEvaluator.rank(cases: cases, dataset: dataset, excludeHistory: evaluation.excludeHistory) { c, row in
                row.assign(qrr.scores(samples: samples[dataset.userIDs[c.user]] ?? [], index: index))
            }
            settings.qrr = qrr
            // Samples from the PyTorch engine come with sampling.json: its versions and devices go into the run record.
            let sampling = ((input as NSString).deletingLastPathComponent as NSString).appendingPathComponent("sampling.json")
            var environment = TorchEngine.environment(recordedIn: sampling)
            if !environment.isEmpty {
                environment["engine"] = "torch"
                ResultCollector.current?.record(environment: environment.reduce(into: [:]) { $0["sample " + $1.key] = $1.value })
            }
            let missing = cases.filter { samples[dataset.userIDs[$0.user]] == nil }.count
            if missing > 0 { log("\(missing) evaluated users have no samples; all their items tie at 0") }
            grounded = (cases.map { samples[dataset.userIDs[$0.user]] ?? [] }, index)
        }
        try evaluation.write(ranks: ranks, dataset: dataset.name, method: method, multiple: false, settings: settings)
        if let (perCase, index) = grounded {
            try evaluation.writeGrounding(cases: cases, samples: perCase, dataset: dataset, itemTexts: try itemTexts(dataset), index: index, method: method)
        }
    }
}

extension EvaluateCommand: DeclaresFiles {
    /// The samples or scores file, the data, and the evaluation's outputs.
    var files: CommandFiles { CommandFiles(reading: [input] + (model.map { [$0] } ?? [])) + source.files + evaluation.files }
}
