import Foundation

/// A paper-layout results table: metrics as rows, methods as columns, `opt/pes` cells, the best
/// optimistic value of each row in bold; with reference numbers, the paper's methods as extra
/// columns and, for a method both have, our difference to the paper.
public enum ResultsReport {
    public struct Method: Sendable {
        public var name: String
        /// metric → (opt, pes)
        public var values: [String: (Double, Double)]
        /// CPU seconds the result cost (metrics.json's `cpu_seconds`), when recorded.
        public var cost: Cost?

        public init(name: String, values: [String: (Double, Double)], cost: Cost? = nil) {
            self.name = name
            self.values = values
            self.cost = cost
        }
    }

    /// CPU seconds spent training (nil: unknown, e.g. a loaded model) and on inference.
    public struct Cost: Sendable {
        public var training: Double?
        public var inference: Double

        public init(training: Double?, inference: Double) {
            self.training = training
            self.inference = inference
        }

        /// `training + inference` in CPU seconds (`3012 + 144`, `0 + 0.3`).
        var text: String {
            "\(training.map(PaperNumberFormat.seconds) ?? PaperNumberFormat.missing) + \(PaperNumberFormat.seconds(inference))"
        }
    }

    static let costLabel = "CPU s (training + inference)"

    static let labels = ["ndcg@10": "NDCG@10", "recall@1": "Recall@1", "recall@10": "Recall@10", "mrr": "MRR"]

    public static func table(_ methods: [Method], metrics: [String], paper: [String: [String: (Double, Double)]] = [:], caption: String) -> Table {
        let paperMethods = paper.keys.sorted()
        let shared = paperMethods.filter { name in methods.contains { $0.name == name } }
        var columns: [Table.Column] = [.init("Metric", alignment: .left)] + methods.map { .init($0.name) }
        columns += paperMethods.map { .init("\($0) (paper)") }
        columns += shared.map { .init("Δ \($0) (opt)") }
        var table = Table(caption: caption, columns: columns)
        for metric in metrics {
            let best = methods.compactMap { $0.values[metric]?.0 }.max()
            var row: [Table.Cell] = [.init(labels[metric] ?? metric)]
            for method in methods {
                guard let (opt, pes) = method.values[metric] else {
                    row.append(.init(PaperNumberFormat.missing))
                    continue
                }
                row.append(.init(PaperNumberFormat.optimisticPessimistic(opt, pes), bold: methods.count > 1 && opt == best))
            }
            for name in paperMethods {
                row.append(.init(paper[name]?[metric].map { PaperNumberFormat.optimisticPessimistic($0.0, $0.1) } ?? PaperNumberFormat.missing))
            }
            for name in shared {
                let ours = methods.first { $0.name == name }?.values[metric]?.0
                let theirs = paper[name]?[metric]?.0
                row.append(.init(ours.flatMap { o in theirs.map { String(format: "%+.4f", o - $0) } } ?? PaperNumberFormat.missing))
            }
            table.append(row)
        }
        if methods.contains(where: { $0.cost != nil }) {
            let cells = methods.map { Table.Cell($0.cost?.text ?? PaperNumberFormat.missing) }
            table.append([.init(costLabel)] + cells + Array(repeating: Table.Cell(PaperNumberFormat.missing), count: paperMethods.count + shared.count))
        }
        return table
    }

    /// The same numbers with one row per method and one column per metric (ablation tables, where
    /// the methods are many); the best optimistic value of each column in bold.
    public static func rowsTable(_ methods: [Method], metrics: [String], caption: String) -> Table {
        let showCost = methods.contains { $0.cost != nil }
        var columns: [Table.Column] = [.init("Variant", alignment: .left)] + metrics.map { .init(labels[$0] ?? $0) }
        if showCost { columns.append(.init(costLabel)) }
        var table = Table(caption: caption, columns: columns)
        let best = metrics.map { metric in methods.compactMap { $0.values[metric]?.0 }.max() }
        for method in methods {
            var row: [Table.Cell] = [.init(method.name)]
            for (column, metric) in metrics.enumerated() {
                guard let (opt, pes) = method.values[metric] else {
                    row.append(.init(PaperNumberFormat.missing))
                    continue
                }
                row.append(.init(PaperNumberFormat.optimisticPessimistic(opt, pes), bold: methods.count > 1 && opt == best[column]))
            }
            if showCost { row.append(.init(method.cost?.text ?? PaperNumberFormat.missing)) }
            table.append(row)
        }
        return table
    }

    /// Bars of one metric, optimistic and pessimistic, per method.
    public static func chart(_ methods: [Method], metric: String) -> BarChart {
        BarChart(
            title: "\(labels[metric] ?? metric) (opt/pes)", groups: methods.map(\.name), series: ["optimistic", "pessimistic"],
            values: methods.map { [$0.values[metric]?.0 ?? 0, $0.values[metric]?.1 ?? 0] })
    }
}
