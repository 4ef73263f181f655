import ArgumentParser
import Evaluation
import Foundation
import Reporting
import Workbench

/// `calrec compare`: a paired randomisation test between two methods' per-user ranks.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Paired randomisation test between two ranks.tsv files (same users).")

    @Argument(help: "ranks.tsv of method A.") var ranksA: String
    @Argument(help: "ranks.tsv of method B.") var ranksB: String

    @Option(help: "Metric compared per user (ndcg@K, recall@K, mrr).")
    var metric = "ndcg@10"

    @Flag(help: "Use pessimistic ranks (default: optimistic).")
    var pessimistic = false

    @Option(help: "Sign-flip permutations.")
    var permutations = 10_000

    @Option(help: "Seed of the permutations.")
    var seed: UInt64 = 0

    @Option(name: .customLong("name-a"), help: "Name of method A in reports (default: its folder).")
    var name: String?

    @Option(name: .customLong("name-b"), help: "Name of method B in reports (default: its folder).")
    var otherName: String?

    func run() throws {
        guard let metric = RankingMetric(metric) else { throw ValidationError("unknown metric '\(metric)'") }
        let a = try RanksFile.read(ranksA)
        let b = try RanksFile.read(ranksB)
        let test = try PairedRandomizationTest(a, b, metric: metric, pessimistic: pessimistic, permutations: permutations, seed: seed)
        let record = PairedTestRecord(metric: metric, pessimistic: pessimistic, users: a.count, test: test, seed: seed, a: ranksA, b: ranksB)
        if let collector = ResultCollector.current {
            func means(_ ranks: [UserRank], _ pessimistic: Bool) -> Double {
                ranks.map { metric.value(rank: pessimistic ? $0.rank.pessimistic : $0.rank.optimistic) }.reduce(0, +) / Double(max(ranks.count, 1))
            }
            let nameA = name ?? (ranksA as NSString).deletingLastPathComponent.components(separatedBy: "/").last ?? "A"
            let nameB = otherName ?? (ranksB as NSString).deletingLastPathComponent.components(separatedBy: "/").last ?? "B"
            var table = Table(
                caption: "Paired randomisation test, \(metric) (\(pessimistic ? "pessimistic" : "optimistic") ranks, \(a.count) users)",
                columns: [.init("A", alignment: .left), .init("B", alignment: .left), .init("mean A − B"), .init("p-value")])
            table.append([.init(nameA), .init(nameB), .init(String(format: "%+.4f", test.meanDifference)), .init(String(format: "%.4g", test.pValue))])
            collector.add(table)
            collector.add(
                BarChart(
                    title: "\(metric): \(nameA) vs \(nameB)", groups: [nameA, nameB], series: ["optimistic", "pessimistic"],
                    values: [[means(a, false), means(a, true)], [means(b, false), means(b, true)]]))
        }
        try printJSONLine(record)
    }
}

extension CompareCommand: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [ranksA, ranksB]) }
}
