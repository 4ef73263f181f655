import Foundation
import RecData
import Retrieval
import Support
import Tensors
import XCTest
@testable import CALRec

final class PromptTests: XCTestCase {
    func testPaperTemplateRendersTheSpecWording() {
        let text = PromptTemplate.paper.render(history: [
            "Title: red stapler, Category: Office > Supplies, Brand: Acme, Price: $1.00",
            "Title: blue pen, Category: Office > Supplies, Brand: unknown, Price: $2.00",
        ])
        XCTAssertEqual(
            text,
            "This is the summary of a user's purchase history. The first purchased item is as follows: "
                + "Title: red stapler, Category: Office > Supplies, Brand: Acme, Price: $1.00 "
                + "The next purchased item is as follows: Title: blue pen, Category: Office > Supplies, Brand: unknown, Price: $2.00 "
                + "The next purchased item is as follows:")
    }

    func testPromptTokensAreThePiecesTokensInOrder() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer, maxInput: 1000)
        let format = ItemTextFormat()
        let expected = tokenizer.encode("Purchases:") + tokenizer.encode(" First:") + tokenizer.encode(" " + format.body(of: CALRecFixtures.items[3]))
            + tokenizer.encode(" Next:") + tokenizer.encode(" " + format.body(of: CALRecFixtures.items[7])) + tokenizer.encode(" Next:")
        XCTAssertEqual(builder.prompt(history: [3, 7]), expected)
        XCTAssertEqual(tokenizer.decode(builder.prompt(history: [3, 7])), PromptTemplate.compact.render(history: [format.body(of: CALRecFixtures.items[3]), format.body(of: CALRecFixtures.items[7])]))
        XCTAssertEqual(builder.target(5), tokenizer.encode(" " + format.body(of: CALRecFixtures.items[5])) + [builder.endOfText])
    }

    func testOverlongHistoriesDropTheOldestItemsFirst() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let full = try CALRecFixtures.builder(tokenizer, maxInput: 1000)
        let lastTwo = full.prompt(history: [1, 2])
        // A budget that fits two items but not three keeps the two most recent, the older one as "First:".
        let tight = try CALRecFixtures.builder(tokenizer, maxInput: lastTwo.count + 3)
        XCTAssertEqual(tight.prompt(history: [0, 1, 2]), lastTwo)
        XCTAssertLessThanOrEqual(tight.prompt(history: [0, 1, 2, 3, 4, 5]).count, lastTwo.count + 3)
    }

    func testTrainingDrawsDropUpToFourItemsAndKeepTwo() {
        let sequences = TrainingSequences(dataset: CALRecFixtures.dataset(users: 1, length: 9))
        // Training part: the first 7 purchases (items 0…6); validation target 7.
        XCTAssertEqual(sequences.sequences, [[0, 1, 2, 3, 4, 5, 6]])
        XCTAssertEqual(sequences.validation, [SequenceExample(history: [0, 1, 2, 3, 4, 5, 6], target: 7)])
        var random = SeededRandom(seed: 1)
        var targets: [Int32: Int] = [:]
        for _ in 0..<5_000 {
            let example = sequences.draw(0, random: &random)
            XCTAssertEqual(example.history, Array(0..<example.target))
            XCTAssertGreaterThanOrEqual(example.history.count, 1)
            targets[example.target, default: 0] += 1
        }
        XCTAssertEqual(Set(targets.keys), [2, 3, 4, 5, 6], "k ∈ 0…4 from a 7-item part")
        for (_, n) in targets { XCTAssertEqual(Double(n) / 5_000, 0.2, accuracy: 0.03) }
        // A 3-item part can drop at most one item (two are kept).
        let short = TrainingSequences(dataset: CALRecFixtures.dataset(users: 1, length: 5))
        let shortTargets = Set((0..<200).map { _ in short.draw(0, random: &random).target })
        XCTAssertEqual(shortTargets, [1, 2])
    }

    func testMixtureDrawsCategoriesInProportionToSizeToThePowerPointThree() {
        let sizes = [10_000, 1_000, 100]
        let mixture = CategoryMixture(sizes: sizes, exponent: 0.3)
        let raw = sizes.map { pow(Double($0), 0.3) }
        let expected = raw.map { $0 / raw.reduce(0, +) }  // 0.5707, 0.2860, 0.1433 (computed independently in Python)
        var random = SeededRandom(seed: 9)
        var counts = [0, 0, 0]
        let draws = 100_000
        for _ in 0..<draws { counts[mixture.draw(random: &random)] += 1 }
        for i in 0..<3 { XCTAssertEqual(Double(counts[i]) / Double(draws), expected[i], accuracy: 0.01, "category \(i)") }
        XCTAssertEqual(expected[0], 0.5707, accuracy: 1e-3)
    }
}

final class InferenceSettingsTests: XCTestCase {
    /// A temperature a user sets is recorded as they wrote it, not widened to 0.699999988079071.
    func testTemperatureIsRecordedAsSet() throws {
        let settings = InferenceSettings(
            model: "m", samples: 10, temperature: 0.7, seed: 1, usersEvaluated: 3, generationSeconds: 1, generationCPUSeconds: 2,
            qrr: QuasiRoundRobin(predictions: 5, pooling: .max, modulation: true, epsilon: 0.01))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(settings), as: UTF8.self)
        XCTAssertTrue(text.contains(#""temperature":0.7,"#), text)
        XCTAssertTrue(text.contains(#""qrr":{"epsilon":0.01,"modulation":true,"n_preds":5,"pooling":"max"}"#), text)
    }
}
