import ArgumentParser
import Evaluation
import Foundation

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

    func run() throws {
        try reportingErrors {
            guard let metric = RankingMetric(metric) else { throw ValidationError("unknown metric '\(metric)'") }
            let a = try RanksFile.read(ranksA)
            let b = try RanksFile.read(ranksB)
            let test = try PairedRandomizationTest(a, b, metric: metric, pessimistic: pessimistic, permutations: permutations, seed: seed)
            let object: [String: Any] = [
                "metric": metric.description, "ranks": pessimistic ? "pessimistic" : "optimistic", "users": a.count,
                "mean_difference": test.meanDifference, "p_value": test.pValue, "permutations": permutations, "seed": seed,
                "a": ranksA, "b": ranksB,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
