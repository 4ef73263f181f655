import Foundation
import RecData
import Retrieval
import Support
import Tensors
import Tokenization
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

final class ModelSettingsFileTests: XCTestCase {
    private func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-settings-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// A calrec.json of an earlier build (no version, fine-tuning settings at the top level) still
    /// gives recommend its prompt settings and the cost its chain.
    func testAVersionOneFileReadsWithItsTemplateLimitsAndChain() throws {
        let folder = try scratch()
        try """
            {"alpha": 0.125, "beta": -0.02500000037252903, "best_step": 40, "category_format": "path", "cpu_seconds": 12.5,
             "datasets": ["Office"], "init": "m0", "max_input_tokens": 160, "max_output_tokens": 48, "selection": "loss",
             "stage": 2, "steps": 60, "tau": 0.5, "template": {"first_item_prefix": "First:", "history_prefix": "Purchases:",
             "next_item_prefix": "Next:"}, "training_chain": [{"cpu_seconds": 3, "stage": "stage 0"}, {"cpu_seconds": 12.5,
             "stage": "stage 2"}], "wall_seconds": 20}
            """.write(toFile: folder + "/calrec.json", atomically: true, encoding: .utf8)
        let file = try XCTUnwrap(try ModelSettingsFile.read(folder: folder))
        XCTAssertEqual(file.version, 1)
        XCTAssertEqual(file.template.promptTemplate, .compact)
        XCTAssertEqual(file.maxInputTokens, 160)
        XCTAssertEqual(file.maxOutputTokens, 48)
        XCTAssertEqual(file.fineTuning?.initFolder, "m0")
        XCTAssertEqual(file.fineTuning?.bestStep, 40)
        XCTAssertEqual(file.trainingChain, [.init(stage: "stage 0", cpuSeconds: 3), .init(stage: "stage 2", cpuSeconds: 12.5)])
        XCTAssertNil(try ModelSettingsFile.read(folder: folder + "/none"), "a folder without calrec.json has no settings")
    }

    /// What this build writes: version 2, the weights as the user set them (β = −0.025, not its
    /// Float widened to −0.02500000037252903), and it reads back equal.
    func testWrittenFileRecordsSettingsAsSetAndReadsBack() throws {
        let folder = try scratch()
        let file = ModelSettingsFile(
            stage: 2, datasets: ["Office"],
            fineTuning: .init(
                initFolder: "m1", alpha: 0.125, beta: -0.025, tau: 0.5, steps: 300, bestStep: 250, selection: "loss", bestValidNIG: 1.5,
                bestValidNDCG10: nil),
            template: .paper, maxInputTokens: nil, maxOutputTokens: 64, categoryFormat: "path", cpuSeconds: 1, wallSeconds: 2,
            resumed: false, trainingChain: [.init(stage: "stage 2", cpuSeconds: 1)])
        try file.write(folder: folder)
        let text = try String(contentsOfFile: folder + "/calrec.json", encoding: .utf8)
        XCTAssertTrue(text.contains(#""beta" : -0.025,"#), text)
        XCTAssertTrue(text.contains(#""version" : 2"#), text)
        XCTAssertEqual(try ModelSettingsFile.read(folder: folder), file)
        try #"{"version": 9}"#.write(toFile: folder + "/calrec.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelSettingsFile.read(folder: folder)) { error in
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            XCTAssert(message.contains("calrec.json") && message.contains("update calrec"), message)
        }
    }
}

final class TrainingExportTests: XCTestCase {
    func testAnExportOfALaterVersionIsRefusedByName() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        let dataset = CALRecFixtures.dataset()
        var export = try TrainingExport(
            datasets: [(TrainingSequences(dataset: dataset), builder, dataset.itemIDs, [])], evaluationSplit: "test", mixtureExponent: 0.3)
        XCTAssertEqual(export.template.name, "compact")
        XCTAssertEqual(export.datasets[0].itemTokens, builder.itemTokens)
        XCTAssertEqual(export.tokenizer.endOfText, builder.endOfText)
        XCTAssertEqual(export.tokenizer.sha256.count, 64)
        XCTAssertNotEqual(export.tokenizer.sha256, BPETrainer.train(texts: ["other texts"], vocabularySize: 300).fingerprint)
        export.version = 2
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try export.write(to: path)
        XCTAssertThrowsError(try TrainingExport.read(path)) { error in
            XCTAssertTrue(error.localizedDescription.contains("version 2") && error.localizedDescription.contains("calrec export"), error.localizedDescription)
        }
    }
}
