import ArgumentParser
import Evaluation
import Foundation
import RecData
import Reporting
import Support
import Workbench

/// Options shared by the commands that rank and evaluate.
struct EvaluationOptions: ParsableArguments {
    @Option(help: "Which target to evaluate: valid (second to last) or test (last).")
    var split: EvaluationSplit = .test

    @Option(help: "Output folder for metrics.json and ranks.tsv (one subfolder per dataset when there are several).")
    var out: String

    @Option(name: .customLong("metrics-file"), help: "Also write the metrics to this file (e.g. artifacts/<workbook>/metrics/<method>.json).")
    var metricsFile: String?

    @Option(name: .customLong("max-users"), help: "Evaluate only the first N users; metrics then cover those users (default: by --budget).")
    var maxUsers: Int?

    @Option(help: "Users evaluated: tiny (first 50), default (first 500), full (all).")
    var budget: Budget = .full

    /// How many users to evaluate (nil: all).
    var userLimit: Int? { maxUsers ?? budget.evaluatedUsers }

    @Flag(name: .customLong("exclude-history"), help: "Leave the user's history items out of the ranking (the paper keeps them).")
    var excludeHistory = false

    @Option(parsing: .upToNextOption, help: "Metrics to report (ndcg@K, recall@K, mrr).")
    var metrics: [String] = RankingMetric.paper.map(\.description)

    @Option(help: "Bootstrap resamples for the 95% confidence intervals.")
    var bootstrap = 1000

    @Option(name: .customLong("bootstrap-seed"), help: "Seed of the bootstrap.")
    var bootstrapSeed: UInt64 = 0

    func validate() throws {
        for metric in metrics where RankingMetric(metric) == nil {
            throw ValidationError("unknown metric '\(metric)'; use ndcg@K, recall@K or mrr")
        }
    }

    var rankingMetrics: [RankingMetric] { metrics.compactMap(RankingMetric.init) }

    /// Writes `metrics.json` (the method's `settings`, and `cost` as `cpu_seconds` when known) and
    /// `ranks.tsv` atomically and prints the summary; returns the folder.
    @discardableResult
    func write<Settings: Codable & Sendable>(
        ranks: [UserRank], dataset: String, method: String, multiple: Bool, settings: Settings?, cost: ComputeCost? = nil
    ) throws -> String {
        let folder = multiple ? (out as NSString).appendingPathComponent(dataset) : out
        let summary = EvaluationSummary(ranks: ranks, metrics: rankingMetrics, bootstrapSamples: bootstrap, seed: bootstrapSeed)
        let file = MetricsFile(
            summary: summary, method: method, dataset: dataset, split: split, excludeHistory: excludeHistory, cost: cost?.seconds,
            settings: settings)
        let metricsJSON = try file.encoded()
        try AtomicWrite.write(metricsJSON, to: (folder as NSString).appendingPathComponent("metrics.json"))
        if let metricsFile { try AtomicWrite.write(metricsJSON, to: metricsFile) }
        try AtomicWrite.write(RanksFile.render(ranks), to: (folder as NSString).appendingPathComponent("ranks.tsv"))
        var table = Table(
            caption: "\(method) on \(dataset) (\(split.rawValue), \(summary.users) users; opt/pes)",
            columns: [.init("Metric", alignment: .left), .init("Value"), .init("95% CI (opt)")])
        for metric in summary.metrics {
            let value = summary.means[metric]!
            table.append([
                .init(metric.description),
                .init(PaperNumberFormat.optimisticPessimistic(value.optimistic, value.pessimistic)),
                .init("\(PaperNumberFormat.metric(summary.lower[metric]!.optimistic))–\(PaperNumberFormat.metric(summary.upper[metric]!.optimistic))"),
            ])
        }
        if let collector = ResultCollector.current {
            collector.add(table)
            for metric in summary.metrics {
                collector.record(metric: "\(method) \(metric) opt", summary.means[metric]!.optimistic)
                collector.record(metric: "\(method) \(metric) pes", summary.means[metric]!.pessimistic)
            }
        }
        print(table.renderedText())
        log("wrote \(folder)/metrics.json and ranks.tsv")
        return folder
    }
}

extension EvaluationSplit: ExpressibleByArgument {}

extension EvaluationOptions: DeclaresFiles {
    /// `--out` (metrics.json, ranks.tsv and whatever the method saves there) and `--metrics-file`.
    var files: CommandFiles { CommandFiles(reading: [], writing: [out, metricsFile]) }
}
