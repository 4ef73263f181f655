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
        let model = try FDSAModel.initialized(config: config, inputs: .text(features), seed: seed)
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: epochs, patience: epochs, batchSize: 4, learningRate: 1e-2, seed: seed))
        for _ in 0..<epochs { _ = trainer.trainEpoch() }
        return model
    }

    func testFDSAMemorisesTheTinyDataset() throws {
        let untrained = try FDSAModel.initialized(config: tinyConfig(), inputs: .text(UniSRecTests.features()), seed: 1)
        XCTAssertLessThan(UniSRecTests.memorised(untrained, cycle: cycle), 0.5)
        XCTAssertEqual(UniSRecTests.memorised(try train(tinyConfig(), epochs: 40), cycle: cycle), 1)
    }

    func testTheTextStreamChangesTheScores() throws {
        // Same seed and IDs, other text vectors: the feature stream reaches the output.
        let histories = cycle.evaluationCases(.test).map(\.history)
        let a = try FDSAModel.initialized(config: tinyConfig(), inputs: .text(UniSRecTests.features(seed: 3)), seed: 1).scores(histories: histories)
        var other = tinyConfig()
        other.featuresKey = "random-4"
        let b = try FDSAModel.initialized(config: other, inputs: .text(UniSRecTests.features(seed: 4)), seed: 1).scores(histories: histories)
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
        XCTAssertEqual(try FDSAModel(folder: folder, inputs: .text(UniSRecTests.features())).scores(histories: histories), first)
    }

    // MARK: Attributes

    func attributeConfig() -> FDSAConfig {
        var config = FDSAConfig(itemCount: 10, attributesOf: S3RecTests.cycle().items)
        config.hidden = 16
        config.layers = 1
        config.innerSize = 32
        config.maxLength = 6
        config.hiddenDropout = 0
        config.attentionDropout = 0
        return config
    }

    func testAttributeFDSAMemorisesTheTinyDatasetAndItsVocabulariesAreTheCatalogues() throws {
        let dataset = S3RecTests.cycle()
        XCTAssertEqual(attributeConfig().categories, ["even", "odd"])
        XCTAssertEqual(attributeConfig().brands, ["b0", "b1", "b2"])
        let model = try FDSAModel.initialized(config: attributeConfig(), inputs: .attributes(dataset.items), seed: 1)
        XCTAssertLessThan(UniSRecTests.memorised(model, cycle: dataset), 0.5)
        let trainer = try SequentialTrainer(
            model: model, dataset: dataset, options: SequentialTrainingOptions(maxEpochs: 40, patience: 40, batchSize: 4, learningRate: 1e-2, seed: 1))
        for _ in 0..<40 { _ = trainer.trainEpoch() }
        XCTAssertEqual(UniSRecTests.memorised(model, cycle: dataset), 1)
        XCTAssertThrowsError(try FDSAModel.initialized(config: attributeConfig(), inputs: .text(UniSRecTests.features()), seed: 1))
    }

    func testFieldAttentionGradientsMatchFiniteDifferences() {
        let (n, c, a) = (3, 4, 5)
        var start = SeededRandom(seed: 21)
        let shapes = FieldAttention.shapes(prefix: "f.", width: c, attention: a)
        let set = ParameterSet(shapes.keys.sorted().map { name in
            ParameterSet.Initial(name: name, shape: shapes[name]!, values: (0..<shapes[name]!.reduce(1, *)).map { _ in Float(start.unit() - 0.5) }, decays: false)
        })
        let attention = FieldAttention(set, prefix: "f.")
        let x = [Variable(shape: [n, c], value: (0..<(n * c)).map { Float(sin(Double($0))) }), Variable(shape: [n, c], value: (0..<(n * c)).map { Float(cos(Double($0) * 1.3)) })]
        let probe = (0..<(n * c)).map { Float(sin(Double($0) * 0.37 + 1)) }
        func loss() -> Double { zip(attention.forward(Tape(), x).value.array, probe).reduce(0.0) { $0 + Double($1.0 * $1.1) } }
        let tape = Tape()
        let y = attention.forward(tape, x)
        for i in 0..<(n * c) { y.gradient[i] = probe[i] }
        tape.backward()
        // Softmax weights sum to one per row.
        var checked = 0
        for variable in [set.required("f.hidden.weight"), set.required("f.score.weight"), set.required("f.hidden.bias"), x[0], x[1]] {
            for index in 0..<variable.count {
                let saved = variable.value[index], h: Float = 1e-2
                variable.value[index] = saved + h
                let up = loss()
                variable.value[index] = saved - h
                let down = loss()
                variable.value[index] = saved
                let numeric = (up - down) / Double(2 * h)
                XCTAssertEqual(Double(variable.gradient[index]), numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(index)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, c * a + a + a + 2 * n * c)
    }
}
