import XCTest
@testable import Evaluation
import RecData
@testable import Baselines

final class BaselineTests: XCTestCase {
    /// Four items, three users:
    ///   u0: a b c d   (train a b; valid c; test d)
    ///   u1: b a c     (train b;   valid a; test c)
    ///   u2: c d b a   (train c d; valid b; test a)
    /// Training counts: a 1, b 2, c 1, d 1.
    let dataset = SequenceDataset(
        name: "T", userIDs: ["u0", "u1", "u2"], itemIDs: ["a", "b", "c", "d"],
        items: [
            ItemAttributes(title: "red pen"), ItemAttributes(title: "blue pen"), ItemAttributes(title: "red ink"),
            ItemAttributes(title: "paper pad"),
        ],
        sequences: [[0, 1, 2, 3], [1, 0, 2], [2, 3, 1, 0]].map { $0.enumerated().map { Purchase(item: Int32($1), time: Int64($0)) } },
        recordsBeforeDeduplication: nil, duplicatesDropped: 0)

    func testPopularityCountsTrainingPartsAndShowsTies() {
        let popularity = PopularityBaseline(dataset: dataset)
        XCTAssertEqual(popularity.counts, [1, 2, 1, 1])
        let ranks = FullRankingEvaluator.rank(cases: dataset.evaluationCases(.test), dataset: dataset) { _, row in
            popularity.score(into: row)
        }
        // u0 target d (1, tied with a and c, below b): opt 2, pes 4. u1 target c: same. u2 target a: same.
        XCTAssertEqual(ranks.map(\.rank), Array(repeating: TieAwareRank(optimistic: 2, pessimistic: 4), count: 3))
        XCTAssertEqual(ranks.map(\.target), ["d", "c", "a"])
    }

    func testSplitsTakeTheRightTargetsAndHistories() {
        let valid = dataset.evaluationCases(.valid)
        XCTAssertEqual(valid.map(\.target), [2, 0, 1])
        XCTAssertEqual(valid.map(\.history), [[0, 1], [1], [2, 3]])
        let test = dataset.evaluationCases(.test)
        XCTAssertEqual(test.map(\.history), [[0, 1, 2], [1, 0], [2, 3, 1]])
    }

    func testBM25HistoryQueriesTheLastItems() {
        let bm25 = BM25HistoryBaseline(dataset: dataset, lastItems: 1)
        // u1's test history ends with a ("red pen"): c ("red ink") shares "red" and b ("blue pen") shares "pen".
        var scores = [Float](repeating: 0, count: 4)
        scores.withUnsafeMutableBufferPointer { bm25.score(history: [1, 0], into: ScoreRow($0)) }
        XCTAssertEqual(scores, bm25.index.scores("red pen"))
        XCTAssertGreaterThan(scores[0], scores[2])
        XCTAssertEqual(scores[3], 0)
        let two = BM25HistoryBaseline(dataset: dataset, lastItems: 2)
        XCTAssertEqual(two.queryTerms(history: [1, 0]), two.index.termIDs("blue pen red pen"))
        // Excluding history removes a and b from u1's ranking, so its target c comes first.
        let ranks = FullRankingEvaluator.rank(cases: dataset.evaluationCases(.test), dataset: dataset, excludeHistory: true) { c, row in
            bm25.score(history: c.history, into: row)
        }
        XCTAssertEqual(ranks[1].rank, TieAwareRank(optimistic: 1, pessimistic: 1))
    }
}
