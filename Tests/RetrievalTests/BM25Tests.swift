import XCTest
@testable import Retrieval

/// Corpus for hand computation (N = 4, avgdl = 8/4 = 2):
/// d0 "red pen" (2 terms), d1 "blue pen pen" (3), d2 "red ink" (2), d3 "paper" (1).
/// idf(pen) = idf(red) = ln(1 + 2.5/2.5) = ln 2; idf(paper) = ln(1 + 3.5/1.5).
/// "pen":  d0 = ln2 · 1/(1 + 1.2·(0.25 + 0.75·2/2)) = 0.3150669;  d1 = ln2 · 2/(2 + 1.2·(0.25 + 0.75·3/2)) = 0.3798067.
/// "red paper": d0 = d2 = 0.3150669; d3 = ln(10/3) · 1/(1 + 1.2·(0.25 + 0.75·1/2)) = 0.6879845.
final class BM25Tests: XCTestCase {
    static let corpus = ["red pen", "Blue pen, PEN", "red ink", "paper"]
    let index = BM25Index(documents: BM25Tests.corpus)

    func testScoresOfAFourDocumentCorpusComputedByHand() {
        let pen = index.scores("pen")
        XCTAssertEqual(Double(pen[0]), 0.3150669, accuracy: 1e-6)
        XCTAssertEqual(Double(pen[1]), 0.3798067, accuracy: 1e-6)
        XCTAssertEqual(pen[2], 0)
        XCTAssertEqual(pen[3], 0)
        let redPaper = index.scores("Red paper unknownword")
        XCTAssertEqual(Double(redPaper[0]), 0.3150669, accuracy: 1e-6)
        XCTAssertEqual(redPaper[1], 0)
        XCTAssertEqual(Double(redPaper[2]), 0.3150669, accuracy: 1e-6)
        XCTAssertEqual(Double(redPaper[3]), 0.6879845, accuracy: 1e-6)
    }

    func testRepeatedQueryTermsCountEachTime() {
        let once = index.scores("pen")
        let twice = index.scores("pen pen")
        XCTAssertEqual(Double(twice[1]), 2 * Double(once[1]), accuracy: 1e-6)
    }

    func testStopWordsAreOptional() {
        let plain = BM25Index(documents: ["the pen", "the ink"])
        let stopped = BM25Index(documents: ["the pen", "the ink"], analyzer: BM25Analyzer(removeEnglishStopWords: true))
        XCTAssertGreaterThan(plain.scores("the")[0], 0)
        XCTAssertEqual(stopped.scores("the"), [0, 0])
        XCTAssertEqual(stopped.documentLengths, [1, 1])
    }

    func testParametersChangeTheScore() {
        let noLengthNorm = BM25Index(documents: Self.corpus, parameters: BM25Parameters(k1: 1.2, b: 0))
        // b = 0: d1 = ln2 · 2/(2 + 1.2).
        XCTAssertEqual(Double(noLengthNorm.scores("pen")[1]), log(2) * 2 / 3.2, accuracy: 1e-6)
    }

    func testOptimisedScoresMatchTheReferenceOnRandomText() {
        var random = SystemRandomNumberGenerator()
        let words = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota", "kappa"]
        let documents = (0..<60).map { _ in (0..<Int.random(in: 1...12, using: &random)).map { _ in words.randomElement(using: &random)! }.joined(separator: " ") }
        let index = BM25Index(documents: documents)
        for _ in 0..<20 {
            let query = (0..<Int.random(in: 1...6, using: &random)).map { _ in words.randomElement(using: &random)! }.joined(separator: " ")
            let fast = index.scores(query)
            let reference = index.referenceScores(query, documents: documents)
            for (f, r) in zip(fast, reference) { XCTAssertEqual(Double(f), r, accuracy: 1e-5) }
        }
    }

    func testBatchScoringFillsEveryRow() {
        let queries = ["pen", "red paper", "nothing", "ink ink"].map(index.termIDs)
        var matrix = [Float](repeating: -1, count: queries.count * 4)
        matrix.withUnsafeMutableBufferPointer { index.score(batch: queries, into: $0) }
        XCTAssertEqual(Array(matrix[0..<4]), index.scores("pen"))
        XCTAssertEqual(Array(matrix[4..<8]), index.scores("red paper"))
        XCTAssertEqual(Array(matrix[8..<12]), [0, 0, 0, 0])
        XCTAssertEqual(Array(matrix[12..<16]), index.scores("ink ink"))
    }
}

final class QuasiRoundRobinTests: XCTestCase {
    let index = BM25Index(documents: BM25Tests.corpus)
    /// Columns, scaled by hand from the BM25 test's numbers:
    /// "pen" (logprob −1): [0.8295455, 1, 0, 0]; "red paper" (−2): [0.4579564, 0, 0.4579564, 1].
    let samples = [
        GeneratedSample(text: "red paper", logprob: -2), GeneratedSample(text: "pen", logprob: -1),
        GeneratedSample(text: "pen", logprob: -3), GeneratedSample(text: "ink", logprob: -9),
    ]

    private func scores(_ pooling: QuasiRoundRobin.Pooling, modulation: Bool = false, epsilon: Double = 0.1) -> [Float] {
        QuasiRoundRobin(predictions: 2, pooling: pooling, modulation: modulation, epsilon: epsilon).scores(samples: samples, index: index)
    }

    func testSelectionSortsDedupsAndKeepsNPreds() {
        let kept = QuasiRoundRobin(predictions: 2).selectedSamples(samples)
        XCTAssertEqual(kept, [GeneratedSample(text: "pen", logprob: -1), GeneratedSample(text: "red paper", logprob: -2)])
    }

    func testPoolingsGiveDifferentHandCheckedOrders() {
        let max = scores(.max)  // [0.8295, 1, 0.4580, 1]: d1 = d3 > d0 > d2
        XCTAssertEqual(Double(max[0]), 0.8295455, accuracy: 1e-5)
        XCTAssertEqual(max[1], 1)
        XCTAssertEqual(max[3], 1)
        XCTAssertEqual(Double(max[2]), 0.4579564, accuracy: 1e-5)
        let mean = scores(.mean)  // [0.6438, 0.5, 0.2290, 0.5]: d0 > d1 = d3 > d2
        XCTAssertEqual(Double(mean[0]), 0.6437509, accuracy: 1e-5)
        XCTAssertEqual(Double(mean[1]), 0.5, accuracy: 1e-6)
        XCTAssertEqual(Double(mean[2]), 0.2289782, accuracy: 1e-5)
        XCTAssertEqual(Double(mean[3]), 0.5, accuracy: 1e-6)
        let min = scores(.min)  // [0.4580, 0, 0, 0]: d0 > d1 = d2 = d3
        XCTAssertEqual(Double(min[0]), 0.4579564, accuracy: 1e-5)
        XCTAssertEqual(Array(min[1...]), [0, 0, 0])
    }

    func testModulationBreaksTheMaxPoolingTie() {
        // × e^(−0.1) and × e^(−0.2): [0.7506, 0.9048, 0.3749, 0.8187] → d1 > d3 > d0 > d2.
        let s = scores(.max, modulation: true)
        XCTAssertEqual(Double(s[0]), 0.7506038, accuracy: 1e-5)
        XCTAssertEqual(Double(s[1]), 0.9048374, accuracy: 1e-5)
        XCTAssertEqual(Double(s[2]), 0.3749430, accuracy: 1e-5)
        XCTAssertEqual(Double(s[3]), 0.8187308, accuracy: 1e-5)
    }

    func testConstantColumnBecomesZeroAndNoSamplesScoreZero() {
        let none = QuasiRoundRobin().scores(samples: [GeneratedSample(text: "unknown words", logprob: -1)], index: index)
        XCTAssertEqual(none, [0, 0, 0, 0])
        XCTAssertEqual(QuasiRoundRobin().scores(samples: [], index: index), [0, 0, 0, 0])
    }
}
