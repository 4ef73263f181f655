import ArgumentParser
import Evaluation
import Foundation
import RecData
import Reporting
import Workbench

/// `calrec results`: the paper-layout results table of several methods' metrics.json files.
struct ResultsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Paper-layout table (opt/pes cells, best in bold, paper columns with deltas) from metrics.json files.")

    @Argument(help: "NAME=path/to/metrics.json, one per method, in column order.")
    var methods: [String]

    @Option(help: "Reference numbers (JSON; a workbook's {{reference}}).")
    var reference: String?

    @Option(help: "Dataset whose paper numbers to show (a key under 'results' in the reference).")
    var dataset: String?

    @Option(parsing: .upToNextOption, help: "Metrics as rows.")
    var metrics: [String] = ["ndcg@10", "recall@1", "recall@10", "mrr"]

    @Flag(name: .customLong("methods-as-rows"), help: "One row per method, metrics as columns (ablation tables).")
    var methodsAsRows = false

    func run() throws {
        var loaded: [ResultsReport.Method] = []
        for item in methods {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("methods are given as NAME=path/to/metrics.json; got '\(item)'")
            }
            let path = String(item[item.index(after: equals)...])
            let file = try MetricsFile<IgnoredSettings>.read(path)
            var values: [String: (Double, Double)] = [:]
            for metric in metrics {
                if let cell = file.metrics[metric] { values[metric] = (cell.opt, cell.pes) }
            }
            let cost = file.cpuSeconds.map { ResultsReport.Cost(training: $0.training, inference: $0.inference) }
            loaded.append(ResultsReport.Method(name: String(item[..<equals]), values: values, cost: cost))
        }
        var paper: [String: [String: (Double, Double)]] = [:]
        if let reference {
            let numbers = try ReferenceNumbers(path: reference)
            if let dataset {
                guard let entry = numbers.results[dataset] else {
                    throw ValidationError("the reference has no results for '\(dataset)'; it has: \(numbers.results.keys.sorted().joined(separator: ", "))")
                }
                paper = entry
            }
        }
        let caption = "Results\(dataset.map { " on \($0)" } ?? "") (opt/pes; best in bold)"
        let table = methodsAsRows
            ? ResultsReport.rowsTable(loaded, metrics: metrics, caption: caption)
            : ResultsReport.table(loaded, metrics: metrics, paper: paper, caption: caption)
        if let collector = ResultCollector.current {
            collector.add(table)
            if let first = metrics.first { collector.add(ResultsReport.chart(loaded, metric: first)) }
        }
        print(table.renderedText())
    }
}

extension ResultsCommand: DeclaresFiles {
    /// Each method's metrics file (the path after `NAME=`; an item without one is refused when the
    /// command runs) and the reference numbers.
    var files: CommandFiles {
        let metrics = methods.compactMap { item in item.firstIndex(of: "=").map { String(item[item.index(after: $0)...]) } }
        return CommandFiles(reading: metrics + [reference])
    }
}
