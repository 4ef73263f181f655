import RecData
import XCTest
@testable import Evaluation

final class RankAndMetricTests: XCTestCase {
    func testHandWorkedRanks() {
        // Target strictly best.
        XCTAssertEqual(TieAwareRank(scores: [9, 1, 2, 3], target: 0), TieAwareRank(optimistic: 1, pessimistic: 1))
        // Target strictly worst.
        XCTAssertEqual(TieAwareRank(scores: [0, 1, 2, 3], target: 0), TieAwareRank(optimistic: 4, pessimistic: 4))
        // Tied with everything.
        XCTAssertEqual(TieAwareRank(scores: [5, 5, 5, 5, 5], target: 2), TieAwareRank(optimistic: 1, pessimistic: 5))
        // Three items above (7, 9, 8), tied with two others.
        XCTAssertEqual(TieAwareRank(scores: [7, 3, 9, 3, 3, 1, 8], target: 1), TieAwareRank(optimistic: 4, pessimistic: 6))
        // Excluding history items: one above (9) and one tied item drop out; the target is never excluded.
        XCTAssertEqual(
            TieAwareRank(scores: [7, 3, 9, 3, 3, 1, 8], target: 1, excluded: [2, 3, 1]), TieAwareRank(optimistic: 3, pessimistic: 4))
        // NaN counts as −∞.
        XCTAssertEqual(TieAwareRank(scores: [.nan, 1, .nan], target: 0), TieAwareRank(optimistic: 2, pessimistic: 3))
    }

    func testMetricFormulasAgainstHandValues() {
        XCTAssertEqual(RankingMetric.ndcg(10).value(rank: 1), 1)
        XCTAssertEqual(RankingMetric.ndcg(10).value(rank: 3), 0.5, accuracy: 1e-12)  // 1/log2(4)
        XCTAssertEqual(RankingMetric.ndcg(10).value(rank: 10), 1 / log2(11.0), accuracy: 1e-12)
        XCTAssertEqual(RankingMetric.ndcg(10).value(rank: 11), 0)
        XCTAssertEqual(RankingMetric.recall(1).value(rank: 1), 1)
        XCTAssertEqual(RankingMetric.recall(1).value(rank: 2), 0)
        XCTAssertEqual(RankingMetric.recall(10).value(rank: 10), 1)
        XCTAssertEqual(RankingMetric.mrr.value(rank: 4), 0.25)
        XCTAssertEqual(RankingMetric("NDCG@5"), .ndcg(5))
        XCTAssertEqual(RankingMetric("hit@20"), .recall(20))
        XCTAssertNil(RankingMetric("ndcg@0"))
    }

    func testSummaryAveragesOptimisticAndPessimistic() throws {
        let ranks = [
            UserRank(user: "a", target: "x", rank: .init(optimistic: 1, pessimistic: 3)),
            UserRank(user: "b", target: "y", rank: .init(optimistic: 2, pessimistic: 2)),
        ]
        let s = EvaluationSummary(ranks: ranks, bootstrapSamples: 200, seed: 1)
        // MRR opt = (1 + 1/2)/2 = 0.75; pes = (1/3 + 1/2)/2 = 0.41667. Recall@1 opt = 0.5, pes = 0.
        XCTAssertEqual(s.means[.mrr]!.optimistic, 0.75, accuracy: 1e-12)
        XCTAssertEqual(s.means[.mrr]!.pessimistic, 5.0 / 12.0, accuracy: 1e-12)
        XCTAssertEqual(s.means[.recall(1)]!.optimistic, 0.5)
        XCTAssertEqual(s.means[.recall(1)]!.pessimistic, 0)
        // NDCG@10 opt = (1 + 1/log2 3)/2; pes = (1/log2 4 + 1/log2 3)/2.
        XCTAssertEqual(s.means[.ndcg(10)]!.optimistic, (1 + 1 / log2(3.0)) / 2, accuracy: 1e-12)
        XCTAssertEqual(s.means[.ndcg(10)]!.pessimistic, (0.5 + 1 / log2(3.0)) / 2, accuracy: 1e-12)
        let file = MetricsFile<IgnoredSettings>(
            summary: s, method: "m", dataset: "d", split: .test, excludeHistory: false, cost: nil, settings: nil)
        let json = try JSONSerialization.jsonObject(with: try file.encoded()) as! [String: Any]
        XCTAssertEqual(json["version"] as? Int, 2)
        XCTAssertEqual(json["users"] as? Int, 2)
        let metrics = json["metrics"] as! [String: [String: Double]]
        XCTAssertEqual(metrics["mrr"]!["opt"]!, 0.75, accuracy: 1e-12)
        XCTAssertEqual(metrics["mrr"]!["pes"]!, 5.0 / 12.0, accuracy: 1e-12)
        XCTAssertEqual(Set(metrics.keys), ["ndcg@10", "recall@1", "recall@10", "mrr"])
    }

    /// A version-1 file (metrics at the top level, settings mixed in, written by earlier builds) reads
    /// with the same numbers; a newer version is refused with a message that says what to do.
    func testMetricsFileReadsVersionOneAndRefusesNewerVersions() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-metrics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let v1 = """
            {"bm25": {"k1": 1.2}, "ci95": {"mrr": {"opt": [0.1, 0.3], "pes": [0.1, 0.2]}}, "cpu_seconds": {"inference": 0.5, "training": null},
             "dataset": "Office", "exclude_history": false, "method": "bm25", "mrr": {"opt": 0.2, "pes": 0.15},
             "ndcg@10": {"opt": 0.0336, "pes": 0.0319}, "split": "test", "users": 4905}
            """
        try v1.write(toFile: folder + "/v1.json", atomically: true, encoding: .utf8)
        let read = try MetricsFile<IgnoredSettings>.read(folder + "/v1.json")
        XCTAssertEqual(read.version, 1)
        XCTAssertEqual(read.users, 4905)
        XCTAssertEqual(read.metrics, ["mrr": MetricValue(opt: 0.2, pes: 0.15), "ndcg@10": MetricValue(opt: 0.0336, pes: 0.0319)])
        XCTAssertEqual(read.cpuSeconds, ComputeSeconds(training: nil, inference: 0.5))
        try #"{"version": 3, "users": 1, "metrics": {}}"#.write(toFile: folder + "/v3.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try MetricsFile<IgnoredSettings>.read(folder + "/v3.json")) { error in
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            XCTAssert(message.contains("v3.json") && message.contains("update calrec"), message)
        }
    }

    func testPropertiesOverRandomInputs() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let n = Int.random(in: 1...40, using: &random)
            // Few distinct values, so ties are common.
            let scores = (0..<n).map { _ in Float(Int.random(in: 0...4, using: &random)) }
            let target = Int.random(in: 0..<n, using: &random)
            let rank = TieAwareRank(scores: scores, target: target)
            XCTAssertLessThanOrEqual(rank.optimistic, rank.pessimistic)
            XCTAssertGreaterThanOrEqual(rank.optimistic, 1)
            XCTAssertLessThanOrEqual(rank.pessimistic, n)
            // Invariance to item order: permuting the items (the target moves with its score).
            let permutation = Array(0..<n).shuffled(using: &random)
            let permuted = permutation.map { scores[$0] }
            XCTAssertEqual(TieAwareRank(scores: permuted, target: permutation.firstIndex(of: target)!), rank)
            for metric in RankingMetric.paper {
                for r in [rank.optimistic, rank.pessimistic] {
                    XCTAssertTrue((0...1).contains(metric.value(rank: r)))
                }
                XCTAssertGreaterThanOrEqual(metric.value(rank: rank.optimistic), metric.value(rank: rank.pessimistic))
            }
        }
    }

    func testBootstrapIntervalsBracketTheMeanAndAreSeeded() {
        let ranks = (0..<300).map { UserRank(user: "u\($0)", target: "t", rank: .init(optimistic: 1 + $0 % 17, pessimistic: 1 + $0 % 17 + $0 % 3)) }
        let a = EvaluationSummary(ranks: ranks, bootstrapSamples: 500, seed: 7)
        let b = EvaluationSummary(ranks: ranks, bootstrapSamples: 500, seed: 7)
        for metric in RankingMetric.paper {
            XCTAssertLessThanOrEqual(a.lower[metric]!.optimistic, a.means[metric]!.optimistic)
            XCTAssertGreaterThanOrEqual(a.upper[metric]!.optimistic, a.means[metric]!.optimistic)
            XCTAssertLessThan(a.lower[metric]!.pessimistic, a.upper[metric]!.pessimistic)
            XCTAssertEqual(a.lower[metric], b.lower[metric])
        }
    }

    func testPairedTestSeparatesRealDifferencesFromNoise() {
        let a = (0..<200).map { Double($0 % 10) / 10 }
        let better = a.map { $0 + 0.05 }
        let same = PairedRandomizationTest(a, a, permutations: 2000, seed: 1)
        XCTAssertEqual(same.meanDifference, 0)
        XCTAssertEqual(same.pValue, 1)
        let different = PairedRandomizationTest(better, a, permutations: 2000, seed: 1)
        XCTAssertEqual(different.meanDifference, 0.05, accuracy: 1e-12)
        XCTAssertEqual(different.pValue, 1.0 / 2001.0, accuracy: 1e-12)
        // Differences of ±1 in equal numbers: mean 0, p = 1.
        let balanced = PairedRandomizationTest([1, 0, 1, 0], [0, 1, 0, 1], permutations: 500, seed: 3)
        XCTAssertEqual(balanced.pValue, 1)
    }

    func testRanksFileRoundTripsAndRejectsBadLines() throws {
        let ranks = [UserRank(user: "u1", target: "i9", rank: .init(optimistic: 2, pessimistic: 7))]
        let text = RanksFile.render(ranks)
        XCTAssertEqual(text, "user\ttarget\trank_opt\trank_pes\nu1\ti9\t2\t7\n")
        XCTAssertEqual(try RanksFile.parse(text, file: "r.tsv"), ranks)
        XCTAssertThrowsError(try RanksFile.parse("user\ttarget\trank_opt\trank_pes\nu1\ti9\t3\t2\n", file: "r.tsv")) { error in
            XCTAssertEqual(error as? EvaluationError, .malformedRanks(file: "r.tsv", line: 2, detail: "field 'rank_pes' is not an integer ≥ rank_opt: '2'"))
        }
        XCTAssertThrowsError(try RanksFile.parse("user\ttarget\trank_opt\trank_pes\nu1\ti9\tx\t2\n", file: "r.tsv"))
        XCTAssertThrowsError(try RanksFile.parse("user\ttarget\trank_opt\trank_pes\nu1\ti9\t3\n", file: "r.tsv"))
        XCTAssertThrowsError(try RanksFile.parse("u\tt\n", file: "r.tsv"))
    }
}

final class ScoreRowTests: XCTestCase {
    /// A sparse method writes −∞ everywhere, then its few items; the evaluator ranks what it wrote,
    /// and a slice of a score matrix ranks as the same scores in an array do.
    func testMethodsWriteThroughTheRowAndSlicesRankLikeArrays() {
        let cases = [EvaluationCase(user: 0, history: [0], target: 2)]
        let dataset = SequenceDataset(
            name: "d", userIDs: ["u"], itemIDs: ["a", "b", "c", "d"], items: [], sequences: [[]], recordsBeforeDeduplication: nil,
            duplicatesDropped: 0)
        let ranks = FullRankingEvaluator.rank(cases: cases, dataset: dataset) { _, row in
            XCTAssertEqual(row.count, 4)
            row.fill(-.infinity)
            row[1] = 3
            row[2] = 1
        }
        XCTAssertEqual(ranks.map(\.rank), [TieAwareRank(optimistic: 2, pessimistic: 2)])
        let matrix: [Float] = [0, 1, 1, 5, 2, 2, 2, 0]
        XCTAssertEqual(TieAwareRank(scores: matrix[4..<8], target: 1), TieAwareRank(scores: [2, 2, 2, 0], target: 1))
        XCTAssertEqual(TieAwareRank(scores: matrix[4..<8], target: 1), TieAwareRank(optimistic: 1, pessimistic: 3))
    }
}
