import Foundation
import RecData
import Support
import Tensors
import XCTest
@testable import SequentialRecommenders

/// S³-Rec: the four pre-training losses against a Double reference, the batch construction, and
/// pre-training + fine-tuning on a tiny dataset with attributes.
final class S3RecTests: XCTestCase {
    /// The cycle dataset with attributes: item i has category "even"/"odd" and brand "b<i mod 3>".
    static func cycle() -> SequenceDataset {
        var dataset = SequentialRecommenderTests.cycle(items: 10)
        dataset.items = (0..<10).map { ItemAttributes(title: "item \($0)", brand: "b\($0 % 3)", categories: [$0 % 2 == 0 ? "even" : "odd"]) }
        return dataset
    }

    func tinyConfig(_ dataset: SequenceDataset) -> S3RecConfig {
        var config = S3RecConfig(itemCount: 10, attributes: S3RecConfig.attributeVocabulary(dataset.items))
        config.hidden = 8
        config.layers = 1
        config.innerSize = 16
        config.maxLength = 6
        config.hiddenDropout = 0
        config.attentionDropout = 0
        return config
    }

    func testTheVocabularyHoldsEveryCategoryLevelAndBrand() {
        XCTAssertEqual(S3RecConfig.attributeVocabulary(Self.cycle().items), ["brand:b0", "brand:b1", "brand:b2", "category:even", "category:odd"])
        XCTAssertEqual(S3RecConfig.attributeVocabulary([ItemAttributes(text: "a pen")]), [])
    }

    func testFourPretrainingLossesMatchADoubleReferenceOnAThreeSequenceBatch() throws {
        let dataset = Self.cycle()
        let model = try S3RecModel.initialized(config: tinyConfig(dataset), items: dataset.items, seed: 4)
        let m: Int32 = 11  // the mask token
        let batch = S3RecPretrainingBatch(
            masked: [[1, m, 3, m], [5, m], [m, 8, m]], original: [[1, 2, 3, 4], [5, 6], [7, 8, 9]], negatives: [[1, 9, 3, 10], [5, 1], [2, 8, 4]],
            maskedSegment: [[1, m, m, 4], [5, 6], [m, 8, 9]], positiveSegment: [[m, 2, 3, m], [5, 6], [7, m, m]],
            negativeSegment: [[m, 6, 7, m], [5, 6], [3, m, m]])
        var noDropout: SeededRandom? = nil
        let losses = model.pretrainingLosses(Tape(), batch: batch, dropout: &noDropout)

        // The reference: the same encoder states, every head and loss in Double.
        func states(_ sequences: [[Int32]]) -> [[Double]] {
            var none: SeededRandom? = nil
            let h = model.encode(Tape(), sequences: sequences, causal: false, dropout: &none, rightAligned: true)
            let c = model.config.hidden
            return (0..<(h.count / c)).map { r in (0..<c).map { Double(h.value[r * c + $0]) } }
        }
        func values(_ name: String) -> [Double] { model.parameterSet.required(name).value.array.map(Double.init) }
        let c = model.config.hidden, a = model.config.attributes.count
        func project(_ x: [Double], _ head: String) -> [Double] {
            let w = values(head + ".weight"), b = values(head + ".bias")
            return (0..<c).map { j in b[j] + (0..<c).reduce(0.0) { $0 + x[$1] * w[$1 * c + j] } }
        }
        func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        let features = values("feature_embedding.weight"), items = values("item_embedding.weight")
        func row(_ table: [Double], _ i: Int) -> [Double] { Array(table[(i * c)..<((i + 1) * c)]) }
        func attributeBCE(_ h: [Double], _ head: String, item: Int32) -> Double {
            let q = project(h, head)
            let labels = Set(S3RecConfig.attributeTokens(dataset.items[Int(item) - 1]).map { model.config.attributes.firstIndex(of: $0)! })
            return (0..<a).reduce(0.0) { sum, k in
                let p = sigmoid(dot(q, row(features, k)))
                return sum - (labels.contains(k) ? log(p) : log(1 - p))
            }
        }
        let hidden = states(batch.masked)
        var aap = 0.0, map = 0.0, mip = 0.0, r = 0
        for (b, sequence) in batch.masked.enumerated() {
            for (t, id) in sequence.enumerated() {
                if id == m {
                    map += attributeBCE(hidden[r], "map_norm", item: batch.original[b][t])
                    let q = project(hidden[r], "mip_norm")
                    let positive = sigmoid(dot(q, row(items, Int(batch.original[b][t])))), negative = sigmoid(dot(q, row(items, Int(batch.negatives[b][t]))))
                    mip -= log(sigmoid(positive - negative))
                } else {
                    aap += attributeBCE(hidden[r], "aap_norm", item: id)
                }
                r += 1
            }
        }
        func last(_ sequences: [[Int32]]) -> [[Double]] {
            let h = states(sequences)
            var ends: [Int] = [], offset = 0
            for s in sequences {
                offset += s.count
                ends.append(offset - 1)
            }
            return ends.map { h[$0] }
        }
        let context = last(batch.maskedSegment), positive = last(batch.positiveSegment), negative = last(batch.negativeSegment)
        var sp = 0.0
        for i in 0..<3 {
            let q = project(context[i], "sp_norm")
            sp -= log(sigmoid(sigmoid(dot(q, positive[i])) - sigmoid(dot(q, negative[i]))))
        }
        XCTAssertEqual(losses.associatedAttribute, aap, accuracy: 1e-4 * aap)
        XCTAssertEqual(losses.maskedAttribute, map, accuracy: 1e-4 * map)
        XCTAssertEqual(losses.maskedItem, mip, accuracy: 1e-4 * mip)
        XCTAssertEqual(losses.segment, sp, accuracy: 1e-4 * sp)
        XCTAssertEqual(losses.total, 0.2 * aap + mip + map + 0.5 * sp, accuracy: 1e-4 * losses.total)
    }

    func testSigmoidDifferenceLossGradientsMatchFiniteDifferences() {
        let (rows, c) = (3, 4)
        var random = SeededRandom(seed: 9)
        let values = (0..<(3 * rows * c)).map { _ in Double(random.unit() * 2 - 1) }
        func loss(_ x: [Double]) -> Double {
            (0..<rows).reduce(0.0) { sum, r in
                func dot(_ o: Int) -> Double { (0..<c).reduce(0.0) { $0 + x[r * c + $1] * x[o + r * c + $1] } }
                let d = 1 / (1 + exp(-(1 / (1 + exp(-dot(rows * c))) - 1 / (1 + exp(-dot(2 * rows * c))))))
                return sum - log(d)
            }
        }
        let u = Variable(shape: [rows, c], value: values[0..<(rows * c)].map(Float.init))
        let p = Variable(shape: [rows, c], value: values[(rows * c)..<(2 * rows * c)].map(Float.init))
        let n = Variable(shape: [rows, c], value: values[(2 * rows * c)...].map(Float.init))
        let value = S3RecModel.sigmoidDifferenceLoss(Tape(), u, p, n, weight: 1)
        XCTAssertEqual(value, loss(values), accuracy: 1e-5)
        let analytic = u.gradient.array + p.gradient.array + n.gradient.array
        for i in values.indices {
            var up = values, down = values
            up[i] += 1e-5
            down[i] -= 1e-5
            XCTAssertEqual(Double(analytic[i]), (loss(up) - loss(down)) / 2e-5, accuracy: 1e-4, "input \(i)")
        }
    }

    func testBatchesMaskItemsIndependentlyAndDrawSegmentsOfTheSequence() {
        var config = tinyConfig(Self.cycle())
        config.maxLength = 50
        var random = SeededRandom(seed: 2)
        let sequences: [[Int32]] = [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 0], [3]]
        let batch = S3RecPretrainingBatch(sequences: sequences, config: config, random: &random)
        for (b, sequence) in sequences.enumerated() {
            let ids = sequence.map { $0 + 1 }
            XCTAssertEqual(batch.original[b], ids)
            for (t, id) in batch.masked[b].enumerated() where id == config.maskToken { XCTAssertFalse(ids.contains(batch.negatives[b][t])) }
            guard ids.count >= 2 else { continue }
            let masked = batch.maskedSegment[b].indices.filter { batch.maskedSegment[b][$0] == config.maskToken }
            XCTAssertFalse(masked.isEmpty)
            XCTAssertLessThanOrEqual(masked.count, ids.count / 2)
            XCTAssertEqual(masked, Array(masked.first!...masked.last!), "one contiguous segment")
            for t in ids.indices {
                XCTAssertEqual(batch.positiveSegment[b][t], masked.contains(t) ? ids[t] : config.maskToken)
                XCTAssertEqual(batch.negativeSegment[b][t] == config.maskToken, !masked.contains(t))
            }
        }
    }

    func testEachPositionIsMaskedWithTheMaskRatioTheLastIncluded() {
        var config = tinyConfig(Self.cycle())
        config.maxLength = 50
        var random = SeededRandom(seed: 4)
        let batch = S3RecPretrainingBatch(sequences: [[Int32]](repeating: [0, 1, 2, 3, 4], count: 2000), config: config, random: &random)
        let lastMasked = batch.masked.filter { $0.last == config.maskToken }.count
        let allMasked = batch.masked.reduce(0) { $0 + $1.filter { $0 == config.maskToken }.count }
        XCTAssertEqual(Double(lastMasked) / 2000, Double(config.maskRatio), accuracy: 0.03)
        XCTAssertEqual(Double(allMasked) / 10000, Double(config.maskRatio), accuracy: 0.015)
    }

    func testPretrainingLowersItsLossAndFineTuningMemorisesTheTinyDataset() throws {
        let dataset = Self.cycle()
        let model = try S3RecModel.initialized(config: tinyConfig(dataset), items: dataset.items, seed: 1)
        let curve = model.pretrain(dataset: SequenceDatasetSequences(dataset), epochs: 20, batchSize: 4, learningRate: 1e-2, seed: 1)
        XCTAssertLessThan(curve.last!, curve.first! * 0.8)
        // Fine-tuning starts with fresh optimiser moments, as a new optimiser would.
        let set = model.parameterSet
        XCTAssertTrue(UnsafeBufferPointer(start: set.secondMoments.base, count: set.trainableCapacity).allSatisfy { $0 == 0 })
        XCTAssertTrue(UnsafeBufferPointer(start: set.firstMoments.base, count: set.trainableCapacity).allSatisfy { $0 == 0 })
        let trainer = try SequentialTrainer(
            model: model, dataset: dataset, options: SequentialTrainingOptions(maxEpochs: 40, patience: 40, batchSize: 4, learningRate: 1e-2, seed: 1))
        for _ in 0..<40 { _ = trainer.trainEpoch() }
        XCTAssertEqual(UniSRecTests.memorised(model, cycle: dataset), 1)
    }

    func testPretrainingIsDeterministicForASeed() throws {
        var config = tinyConfig(Self.cycle())
        config.hiddenDropout = 0.5
        func run(_ seed: UInt64) throws -> [Double] {
            let model = try S3RecModel.initialized(config: config, items: Self.cycle().items, seed: 3)
            return model.pretrain(dataset: SequenceDatasetSequences(Self.cycle()), epochs: 2, batchSize: 4, learningRate: 1e-2, seed: seed)
        }
        XCTAssertEqual(try run(5), try run(5))
        XCTAssertNotEqual(try run(5), try run(6))
    }
}
