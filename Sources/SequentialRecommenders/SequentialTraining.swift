import Evaluation
import Foundation
import RecData
import Tensors

/// How to train: Adam (no weight decay) at a fixed rate, shuffled mini-batches of users, validation
/// NDCG@10 (pessimistic tie-aware rank of each user's second-to-last purchase) after every epoch,
/// and early stopping when it has not improved for `patience` epochs; the best epoch's weights win.
public struct SequentialTrainingOptions: Sendable, Equatable {
    public var maxEpochs = 200
    public var patience = 10
    public var batchSize = 128
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 0
    /// Users whose validation target is ranked after each epoch (nil: all).
    public var validationUsers: Int?

    public init(maxEpochs: Int = 200, patience: Int = 10, batchSize: Int = 128, learningRate: Float = 1e-3, seed: UInt64 = 0, validationUsers: Int? = nil) {
        self.maxEpochs = maxEpochs
        self.patience = patience
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.validationUsers = validationUsers
    }
}

/// One epoch of the training curve.
public struct SequentialEpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    /// Mean training loss over the epoch's batches.
    public var loss: Double
    /// Validation NDCG@10 (pessimistic ranks).
    public var validNDCG10: Double
    public var seconds: Double
    /// Whether this epoch is the best so far (its weights are kept).
    public var best: Bool

    enum CodingKeys: String, CodingKey {
        case epoch, loss, validNDCG10 = "valid_ndcg@10", seconds, best
    }
}

/// Trains a `SequentialModel` on the training part of a leave-one-out split: each user's purchases
/// except the last two (the validation and test targets).
public final class SequentialTrainer {
    public let model: SequentialModel
    public let options: SequentialTrainingOptions
    let trainingSequences: [[Int32]]
    let validationCases: [EvaluationCase]
    let dataset: SequenceDataset
    var m: [String: [Float]] = [:]
    var v: [String: [Float]] = [:]
    var step = 0
    let optimizer = AdamW(weightDecay: 0)
    var batchRandom: SeededGenerator
    var dropoutRandom: SeededGenerator?

    public init(model: SequentialModel, dataset: SequenceDataset, options: SequentialTrainingOptions) throws {
        guard model.config.itemCount == dataset.itemIDs.count else {
            throw SequentialModelError.invalidConfig(
                field: "item_count", detail: "is \(model.config.itemCount) but the dataset '\(dataset.name)' has \(dataset.itemIDs.count) items")
        }
        self.model = model
        self.options = options
        self.dataset = dataset
        let minimum = model.config.architecture == .sasrec ? 2 : 1
        trainingSequences = dataset.sequences.filter { $0.count >= 3 }.map { $0.dropLast(2).map(\.item) }.filter { $0.count >= minimum }
        validationCases = Array(dataset.evaluationCases(.valid).prefix(options.validationUsers ?? Int.max))
        guard !trainingSequences.isEmpty, !validationCases.isEmpty else {
            throw SequentialModelError.notEnoughData(detail: "dataset '\(dataset.name)' has no user to train or validate on")
        }
        for name in model.names {
            m[name] = [Float](repeating: 0, count: model.parameters[name]!.count)
            v[name] = m[name]
        }
        // Streams of their own, apart from the initialisation drawn with the same seed.
        batchRandom = SeededGenerator(seed: options.seed ^ 0xBA7C_4BA7_C4BA_7C4B)
        dropoutRandom = SeededGenerator(seed: options.seed ^ 0xD80F_0D80_F0D8_0F0D)
    }

    /// Users whose training sequences each epoch passes over.
    public var trainingUsers: Int { trainingSequences.count }

    /// One pass over the training users in a fresh random order; returns the mean batch loss.
    public func trainEpoch() -> Double {
        var order = Array(trainingSequences.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(batchRandom.next() % UInt64(i + 1))) }
        var total = 0.0, batches = 0
        for start in stride(from: 0, to: order.count, by: options.batchSize) {
            let sequences = order[start..<min(start + options.batchSize, order.count)].map { trainingSequences[$0] }
            total += Double(trainStep(sequences: sequences))
            batches += 1
        }
        return total / Double(max(batches, 1))
    }

    /// One Adam update on `sequences`; returns the loss.
    func trainStep(sequences: [[Int32]]) -> Float {
        let config = model.config
        let batch: SequentialBatches.TrainingBatch
        switch config.architecture {
        case .sasrec: batch = SequentialBatches.nextItem(sequences: sequences, config: config, sampleNegatives: config.loss == .bce, random: &batchRandom)
        case .bert4rec: batch = SequentialBatches.cloze(sequences: sequences, config: config, random: &batchRandom)
        }
        let tape = Tape()
        let hidden = model.encode(tape, sequences: batch.sequences, dropout: &dropoutRandom)
        let rows = Ops.gatherRows(tape, hidden, rows: batch.rows)
        let loss: Float
        if config.loss == .bce && config.architecture == .sasrec {
            let table = model.parameters["item_embedding.weight"]!
            let positive = Ops.pairDot(tape, rows, table: table, ids: batch.targets)
            let negative = Ops.pairDot(tape, rows, table: table, ids: batch.negatives)
            let n = batch.targets.count
            let mask = [Float](repeating: 1, count: n)
            // The original's loss: the mean over positions of −log σ(s⁺) − log(1 − σ(s⁻)), i.e. the sum
            // of the two means, each seeding its own scores' gradient.
            loss = Ops.binaryCrossEntropy(tape, logits: positive, labels: [Float](repeating: 1, count: n), mask: mask)
                + Ops.binaryCrossEntropy(tape, logits: negative, labels: [Float](repeating: 0, count: n), mask: mask)
        } else {
            let logits = model.logits(tape, hidden: rows)
            loss = Ops.crossEntropy(tape, logits: logits, targets: batch.targets, mask: [Float](repeating: 1, count: batch.targets.count))
        }
        tape.backward()
        step += 1
        for name in model.names {
            let p = model.parameters[name]!
            optimizer.update(
                parameters: &p.value, gradients: p.gradient, m: &m[name]!, v: &v[name]!, count: p.count, step: step, lr: options.learningRate,
                decay: false)
            p.gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        return loss
    }

    /// Validation NDCG@10 over `validationCases` with pessimistic ranks (ties count against).
    public func validationNDCG() -> Double {
        let ranks = model.rank(cases: validationCases, dataset: dataset)
        return EvaluationSummary(ranks: ranks, metrics: [.ndcg(10)], bootstrapSamples: 0).means[.ndcg(10)]!.pessimistic
    }

    /// Trains until `maxEpochs` or until validation NDCG@10 has not improved for `patience` epochs,
    /// then restores the best epoch's weights (the initial ones if no epoch had a finite loss).
    /// `progress` sees every epoch's record as it ends.
    @discardableResult
    public func train(progress: (SequentialEpochRecord) -> Void = { _ in }) -> [SequentialEpochRecord] {
        var records: [SequentialEpochRecord] = []
        var best = -1.0, bestWeights = model.snapshot(), sinceBest = 0
        for epoch in 1...max(1, options.maxEpochs) {
            let started = Date()
            let loss = trainEpoch()
            let ndcg = validationNDCG()
            // A non-finite loss never makes an epoch best: its weights are not kept.
            let improved = loss.isFinite && ndcg > best
            if improved {
                best = ndcg
                bestWeights = model.snapshot()
                sinceBest = 0
            } else {
                sinceBest += 1
            }
            let record = SequentialEpochRecord(epoch: epoch, loss: loss, validNDCG10: ndcg, seconds: Date().timeIntervalSince(started), best: improved)
            records.append(record)
            progress(record)
            if !loss.isFinite || sinceBest >= options.patience { break }
        }
        model.restore(bestWeights)
        return records
    }
}
