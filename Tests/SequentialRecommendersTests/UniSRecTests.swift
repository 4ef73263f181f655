import Foundation
import RecData
import Support
import Tensors
import TextEncoders
import XCTest
@testable import SequentialRecommenders

/// UniSRec: the MoE adaptor against a hand computation and finite differences, and the model on the
/// tiny cycle dataset with random "text" vectors.
final class UniSRecTests: XCTestCase {
    let cycle = SequentialRecommenderTests.cycle(items: 10)

    /// Random unit-scale vectors standing in for text features, one per item of the cycle.
    static func features(items: Int = 10, dimension: Int = 8, seed: UInt64 = 3) -> ItemFeatures {
        var random = SeededRandom(seed: seed)
        let values = (0..<(items * dimension)).map { _ in Float(random.unit() * 2 - 1) }
        let identity = FeatureEncoderIdentity(name: "random", modelType: "none", layers: 0, hidden: dimension, weightsSHA256: "", tokenizerFingerprint: "")
        let header = ItemFeatures.Header(
            encoder: identity, pooling: .mean, normalized: false, maxTokens: 0, dataset: "cycle", itemCount: items, dimension: dimension,
            itemIDs: (0..<items).map { "i\($0)" }, textsSHA256: "", matrixSHA256: "", cacheKey: "random-\(seed)", tokens: 0, truncatedItems: 0)
        return ItemFeatures(header: header, values: values)
    }

    func tinyConfig(_ variant: UniSRecVariant) -> UniSRecConfig {
        var config = UniSRecConfig(variant: variant, itemCount: 10, featureDimension: 8, featuresKey: "random-3")
        config.hidden = 16
        config.layers = 1
        config.innerSize = 32
        config.maxLength = 6
        config.hiddenDropout = 0
        config.attentionDropout = 0
        config.adaptorDropout = 0
        config.experts = 3
        return config
    }

    func train(_ config: UniSRecConfig, epochs: Int, seed: UInt64 = 1) throws -> UniSRecModel {
        let model = try UniSRecModel.initialized(config: config, features: Self.features(), seed: seed)
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: epochs, patience: epochs, batchSize: 4, learningRate: 1e-2, seed: seed))
        for _ in 0..<epochs { _ = trainer.trainEpoch() }
        return model
    }

    func memorised(_ model: any SequentialRecommender) -> Double { Self.memorised(model, cycle: cycle) }

    /// Recall@1 of each user's last training item given the training items before it.
    static func memorised(_ model: any SequentialRecommender, cycle: SequenceDataset) -> Double {
        let prefixes = cycle.sequences.map { $0.dropLast(2).map(\.item) }
        let scores = model.scores(histories: prefixes.map { Array($0.dropLast()) })
        let hits = prefixes.enumerated().filter { u, prefix in
            let row = scores[(u * 10)..<(u * 10 + 10)]
            return row.indices.max { row[$0] < row[$1] }! - u * 10 == Int(prefix.last!)
        }
        return Double(hits.count) / Double(prefixes.count)
    }

    // MARK: Adaptor

    private func adaptorSet(input d: Int, output c: Int, experts e: Int, values: (String, Int) -> Float) -> ParameterSet {
        let shapes = MoEAdaptor.shapes(prefix: "a.", input: d, output: c, experts: e)
        return ParameterSet(shapes.keys.sorted().map { name in
            let count = shapes[name]!.reduce(1, *)
            return ParameterSet.Initial(name: name, shape: shapes[name]!, values: (0..<count).map { values(name, $0) }, decays: false)
        })
    }

    func testAdaptorWhitensEachExpertAndMixesThemByTheSoftmaxGate() {
        // Two inputs of width 2, two experts of width 2, weights written out by hand.
        let w: [String: [Float]] = [
            "a.experts.0.weight": [1, 2, 0, -1], "a.experts.0.bias": [0.5, -0.5],
            "a.experts.1.weight": [0, 1, 3, 0], "a.experts.1.bias": [0, 1],
            "a.gate.weight": [1, -1, 0.5, 2], "a.noise.weight": [0, 0, 0, 0],
        ]
        let set = adaptorSet(input: 2, output: 2, experts: 2) { w[$0]![$1] }
        let adaptor = MoEAdaptor(set, prefix: "a.", experts: 2, dropout: 0, noisyGating: true)
        let x: [[Double]] = [[1, 2], [-1, 0.5]]
        let input = Variable(shape: [2, 2], value: x.flatMap { $0.map(Float.init) })
        input.requiresGradient = false
        var inference: SeededRandom? = nil
        let y = adaptor.forward(Tape(), input, training: &inference)
        for (r, row) in x.enumerated() {
            // h0 = (x − b0)·W0, h1 = (x − b1)·W1, gates = softmax(x·Wg).
            let u0 = [row[0] - 0.5, row[1] + 0.5], u1 = [row[0], row[1] - 1]
            let h0 = [u0[0] * 1 + u0[1] * 0, u0[0] * 2 + u0[1] * -1]
            let h1 = [u1[0] * 0 + u1[1] * 3, u1[0] * 1 + u1[1] * 0]
            let l = [row[0] * 1 + row[1] * 0.5, row[0] * -1 + row[1] * 2]
            let g0 = exp(l[0]) / (exp(l[0]) + exp(l[1]))
            for j in 0..<2 { XCTAssertEqual(Double(y.value[r * 2 + j]), g0 * h0[j] + (1 - g0) * h1[j], accuracy: 1e-5) }
        }
    }

    func testAdaptorGradientsMatchFiniteDifferencesWithNoiseAndDropout() {
        let (d, c, e, n) = (3, 2, 3, 4)
        var start = SeededRandom(seed: 11)
        let initial = adaptorSet(input: d, output: c, experts: e) { _, _ in Float(start.unit() - 0.5) }
        let x = Variable(shape: [n, d], value: (0..<(n * d)).map { Float(sin(Double($0))) })
        x.requiresGradient = false
        let probe = (0..<(n * c)).map { Float(cos(Double($0) * 0.7)) }
        func loss(_ set: ParameterSet) -> (Double, Tape, Variable) {
            let adaptor = MoEAdaptor(set, prefix: "a.", experts: e, dropout: 0.3, noisyGating: true)
            var training: SeededRandom? = SeededRandom(seed: 5)
            let tape = Tape()
            let y = adaptor.forward(tape, x, training: &training)
            return (zip(y.value.array, probe).reduce(0.0) { $0 + Double($1.0 * $1.1) }, tape, y)
        }
        initial.zeroGradients()
        let (_, tape, y) = loss(initial)
        for i in 0..<(n * c) { y.gradient[i] = probe[i] }
        tape.backward()
        for name in ["a.experts.1.weight", "a.experts.2.bias", "a.gate.weight", "a.noise.weight"] {
            let variable = initial.required(name)
            for index in 0..<variable.count {
                let saved = variable.value[index], h: Float = 1e-2
                variable.value[index] = saved + h
                let up = loss(initial).0
                variable.value[index] = saved - h
                let down = loss(initial).0
                variable.value[index] = saved
                let numeric = (up - down) / Double(2 * h)
                XCTAssertEqual(Double(variable.gradient[index]), numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(name)[\(index)]")
            }
        }
    }

    // MARK: Model

    func testBothVariantsMemoriseTheTinyDataset() throws {
        for variant in UniSRecVariant.allCases {
            let untrained = try UniSRecModel.initialized(config: tinyConfig(variant), features: Self.features(), seed: 1)
            XCTAssertLessThan(memorised(untrained), 0.5, variant.rawValue)
            XCTAssertEqual(memorised(try train(tinyConfig(variant), epochs: 60)), 1, variant.rawValue)
        }
    }

    func testTrainingIsDeterministicForASeedWithDropoutAndNoisyGating() throws {
        var config = tinyConfig(.idText)
        config.hiddenDropout = 0.5
        config.attentionDropout = 0.5
        config.adaptorDropout = 0.2
        let histories = cycle.evaluationCases(.test).map(\.history)
        let first = try train(config, epochs: 2, seed: 7).scores(histories: histories)
        XCTAssertEqual(first, try train(config, epochs: 2, seed: 7).scores(histories: histories))
        XCTAssertNotEqual(first, try train(config, epochs: 2, seed: 8).scores(histories: histories))
    }

    func testSavedModelReloadsToIdenticalScoresOnlyWithItsFeatures() throws {
        let model = try train(tinyConfig(.text), epochs: 2)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-unisrec-\(UUID().uuidString)").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        try model.save(to: folder)
        let histories = cycle.evaluationCases(.test).map(\.history)
        XCTAssertEqual(try UniSRecModel(folder: folder, features: Self.features()).scores(histories: histories), model.scores(histories: histories))
        XCTAssertThrowsError(try UniSRecModel(folder: folder, features: Self.features(seed: 4)))
    }

    // MARK: Cross-domain pre-training

    func testPretrainingExamplesAreEveryPrefixAndItemDropKeepsTheFirstItem() {
        let examples = UniSRecPretrainingExamples(sequences: [[4, 5, 6, 7], [1]], maxLength: 2)
        XCTAssertEqual(examples.prefixes, [[4], [4, 5], [5, 6]])
        XCTAssertEqual(examples.targets, [5, 6, 7])
        var random = SeededRandom(seed: 1)
        XCTAssertEqual(UniSRecPretrainingExamples.itemDrop([4, 5, 6, 7], ratio: 0, random: &random), [4, 5, 6, 7])
        XCTAssertEqual(UniSRecPretrainingExamples.itemDrop([4, 5, 6, 7], ratio: 0.9999, random: &random), [4])
        let kept = (0..<2000).map { _ in UniSRecPretrainingExamples.itemDrop([1, 2, 3, 4, 5], ratio: 0.2, random: &random).count - 1 }
        XCTAssertEqual(Double(kept.reduce(0, +)) / 8000, 0.8, accuracy: 0.02, "each item after the first kept with probability 0.8")
    }

    /// The sequence-item loss of a 4-example batch (two sharing a next item) against a Double
    /// computation from the model's own unit states: each row's softmax over the batch's next items,
    /// the other row with the same next item left out.
    func testSequenceItemLossLeavesOutSequencesWithTheSameNextItem() throws {
        var config = tinyConfig(.text)
        config.temperature = 0.5
        let model = try UniSRecModel.initialized(config: config, features: Self.features(), seed: 2)
        let prefixes: [[Int32]] = [[0, 1], [3], [5, 6, 7], [2, 8]], targets: [Int32] = [2, 4, 8, 2]
        var options = UniSRecPretrainingOptions(epochs: 1, batchSize: 4)
        options.lambda = 0
        let table = Variable(shape: [20, 8], value: Self.features().values + Self.features().values)
        table.requiresGradient = false
        var random = SeededRandom(seed: 3)
        var dropout: SeededRandom? = nil
        let loss = model.pretrainingLoss(
            Tape(), prefixes: prefixes, targets: targets, withWordDropped: table, options: options, random: &random, dropout: &dropout)
        // The same quantities, read off the model, then the loss by hand in Double.
        let tape = Tape()
        let states = model.encode(tape, sequences: prefixes.map { $0.map { $0 + 1 } }, dropout: &dropout)
        var ends: [Int32] = [], offset: Int32 = 0
        for prefix in prefixes {
            offset += Int32(prefix.count)
            ends.append(offset - 1)
        }
        let users = Ops.l2Normalize(tape, Ops.gatherRows(tape, states, rows: ends)).value.array.map(Double.init)
        let items = Ops.l2Normalize(tape, model.adaptor.forward(tape, Ops.gatherRows(tape, model.features, rows: targets), training: &dropout))
            .value.array.map(Double.init)
        let c = config.hidden
        var expected = 0.0
        for i in 0..<4 {
            func logit(_ j: Int) -> Double { (0..<c).reduce(0.0) { $0 + users[i * c + $1] * items[j * c + $1] } / 0.5 }
            let others = (0..<4).filter { $0 == i || targets[$0] != targets[i] }
            expected -= logit(i) - log(others.map { exp(logit($0)) }.reduce(0, +))
        }
        XCTAssertEqual(Double(loss), expected / 4, accuracy: 1e-5)
    }

    func testPretrainingLowersItsLossAndFineTuningStartsFromItWithTheEncoderFixed() throws {
        // Two domains: the cycle, and the cycle's items in another order of vectors.
        let first = UniSRecPretrainingDomain(
            name: "a", sequences: cycle.sequences.map { $0.dropLast(2).map(\.item) }, features: Self.features(), wordDropped: Self.features(seed: 5))
        let second = UniSRecPretrainingDomain(
            name: "b", sequences: cycle.sequences.map { $0.dropLast(2).map { 9 - $0.item } }, features: Self.features(seed: 6),
            wordDropped: Self.features(seed: 7))
        let joint = ItemFeatures.joined([first.features, second.features])
        XCTAssertEqual(joint.header.itemCount, 20)
        var pretrainConfig = tinyConfig(.text)
        pretrainConfig.itemCount = 20
        pretrainConfig.featuresKey = joint.header.cacheKey
        let pretrained = try UniSRecModel.initialized(config: pretrainConfig, features: joint, seed: 1)
        let curve = pretrained.pretrain(domains: [first, second], options: UniSRecPretrainingOptions(epochs: 40, batchSize: 64, learningRate: 1e-2, seed: 1))
        XCTAssertLessThan(curve.last!, curve.first! * 0.7, "\(curve)")

        var config = tinyConfig(.idText)
        config.fixedEncoder = true
        let model = try UniSRecModel.fineTuning(from: pretrained, config: config, features: Self.features(), seed: 1)
        let before = model.parameterSet.weightTensors(), source = pretrained.parameterSet.weightTensors()
        for name in ["layers.0.attention.qkv.weight", "position_embedding.weight", "adaptor.experts.0.weight", "input_ln.weight"] {
            XCTAssertEqual(before[name], source[name], name)
        }
        XCTAssertFalse(model.parameterSet.tensors.first { $0.name == "layers.0.ffn.up.weight" }!.trainable)
        XCTAssertTrue(model.parameterSet.tensors.first { $0.name == "adaptor.gate.weight" }!.trainable)
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: 60, patience: 60, batchSize: 4, learningRate: 1e-2, seed: 1))
        for _ in 0..<60 { _ = trainer.trainEpoch() }
        let after = model.parameterSet.weightTensors()
        XCTAssertEqual(after["layers.0.attention.qkv.weight"], before["layers.0.attention.qkv.weight"], "the encoder stays fixed")
        XCTAssertNotEqual(after["adaptor.experts.0.weight"], before["adaptor.experts.0.weight"])
        XCTAssertEqual(memorised(model), 1)
    }
}
