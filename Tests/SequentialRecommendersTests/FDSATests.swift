import Foundation
import RecData
import Support
import Tensors
import TextEncoders
import XCTest
@testable import SequentialRecommenders

/// FDSA on the tiny cycle dataset with random "text" vectors.
final class FDSATests: XCTestCase {
    let cycle = SequentialRecommenderTests.cycle(items: 10)

    func tinyConfig() -> FDSAConfig {
        var config = FDSAConfig(itemCount: 10, featureDimension: 8, featuresKey: "random-3")
        config.hidden = 16
        config.layers = 1
        config.innerSize = 32
        config.maxLength = 6
        config.hiddenDropout = 0
        config.attentionDropout = 0
        return config
    }

    func train(_ config: FDSAConfig, epochs: Int, seed: UInt64 = 1, features: ItemFeatures = UniSRecTests.features()) throws -> FDSAModel {
        let model = try FDSAModel.initialized(config: config, features: features, seed: seed)
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: epochs, patience: epochs, batchSize: 4, learningRate: 1e-2, seed: seed))
        for _ in 0..<epochs { _ = trainer.trainEpoch() }
        return model
    }

    func testFDSAMemorisesTheTinyDataset() throws {
        let untrained = try FDSAModel.initialized(config: tinyConfig(), features: UniSRecTests.features(), seed: 1)
        XCTAssertLessThan(UniSRecTests.memorised(untrained, cycle: cycle), 0.5)
        XCTAssertEqual(UniSRecTests.memorised(try train(tinyConfig(), epochs: 40), cycle: cycle), 1)
    }

    func testTheTextStreamChangesTheScores() throws {
        // Same seed and IDs, other text vectors: the feature stream reaches the output.
        let histories = cycle.evaluationCases(.test).map(\.history)
        let a = try FDSAModel.initialized(config: tinyConfig(), features: UniSRecTests.features(seed: 3), seed: 1).scores(histories: histories)
        var other = tinyConfig()
        other.featuresKey = "random-4"
        let b = try FDSAModel.initialized(config: other, features: UniSRecTests.features(seed: 4), seed: 1).scores(histories: histories)
        XCTAssertNotEqual(a, b)
    }

    func testTrainingIsDeterministicForASeedAndTheSavedModelReloads() throws {
        var config = tinyConfig()
        config.hiddenDropout = 0.5
        config.attentionDropout = 0.5
        let histories = cycle.evaluationCases(.test).map(\.history)
        let model = try train(config, epochs: 2, seed: 7)
        let first = model.scores(histories: histories)
        XCTAssertEqual(first, try train(config, epochs: 2, seed: 7).scores(histories: histories))
        XCTAssertNotEqual(first, try train(config, epochs: 2, seed: 8).scores(histories: histories))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-fdsa-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        try model.save(to: folder)
        XCTAssertEqual(try FDSAModel(folder: folder, features: UniSRecTests.features()).scores(histories: histories), first)
    }
}
