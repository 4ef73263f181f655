import CALRec
import Evaluation
import Foundation
import Retrieval
import XCTest

/// What the samples name, on a four-item catalogue whose shares are counted by hand.
final class SampleGroundingTests: XCTestCase {
    let bodies = ["red stapler", "blue pen", "green notebook", "yellow paper clips"]

    func sample(_ text: String) -> GeneratedSample { GeneratedSample(text: text, logprob: -1) }

    func testSharesCountCopiedHistoryTargetsBestMatchesAndUnmatchedSamples() throws {
        let cases = [
            EvaluationCase(user: 0, history: [0, 1], target: 2),
            EvaluationCase(user: 1, history: [3], target: 0),
        ]
        let samples = [
            // a history item word for word; the target word for word; close to a history item; nothing known
            [sample("red stapler"), sample("green notebook"), sample("blue pen refill"), sample("zzz qqq")],
            // the target twice, once with whitespace around it
            [sample("red stapler"), sample(" red stapler\n")],
        ]
        let grounding = SampleGrounding(cases: cases, samples: samples, itemTexts: bodies, index: BM25Index(documents: bodies))
        XCTAssertEqual(grounding.users, 2)
        XCTAssertEqual(grounding.samples, 6)
        XCTAssertEqual(grounding.catalogueText, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(grounding.historyText, 1.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(grounding.targetText, 3.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(grounding.bestMatchInHistory, 2.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(grounding.bestMatchIsTarget, 3.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(grounding.unmatched, 1.0 / 6, accuracy: 1e-12)
        // user 0: four different texts; user 1: two (the raw texts differ by whitespace)
        XCTAssertEqual(grounding.distinctTextsPerUser, 3, accuracy: 1e-12)
    }

    func testEqualBestScoresGoToTheLowestItemIndex() {
        // "green pen" scores "blue pen" (1) and "green notebook" (2) alike: item 1, in the history.
        let cases = [EvaluationCase(user: 0, history: [1], target: 2)]
        let grounding = SampleGrounding(
            cases: cases, samples: [[sample("green pen")]], itemTexts: bodies, index: BM25Index(documents: bodies))
        XCTAssertEqual(grounding.bestMatchInHistory, 1)
        XCTAssertEqual(grounding.bestMatchIsTarget, 0)
        XCTAssertEqual(grounding.catalogueText, 0)
    }

    func testFileUsesSnakeCaseKeysAndAVersion() throws {
        let grounding = SampleGrounding(cases: [], samples: [], itemTexts: bodies, index: BM25Index(documents: bodies))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: grounding.encoded()) as? [String: Any])
        XCTAssertEqual(
            Set(object.keys),
            ["version", "users", "samples", "catalogue_text", "history_text", "target_text", "best_match_in_history", "best_match_is_target",
             "unmatched", "distinct_texts_per_user"])
        XCTAssertEqual(object["version"] as? Int, 1)
        XCTAssertEqual(object["samples"] as? Int, 0)
    }
}
