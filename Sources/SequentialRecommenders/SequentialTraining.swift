import Evaluation
import Foundation
import RecData
import Support
import Tensors
import Training

/// How the learning rate moves after its warmup.
public enum LearningRateDecay: String, Sendable, Equatable, Codable, CaseIterable {
    /// The peak rate to the end (SASRec's, BERT4Rec's and RecBole's Adam).
    case none
    /// Down to zero at the last step, Recformer's form (`WarmupLinearDecaySchedule`).
    case linear
}

/// How to train: Adam (no weight decay) at a fixed rate, or with a linear warmup and decay, shuffled
/// mini-batches of users, validation NDCG@10 (pessimistic tie-aware rank of each user's
/// second-to-last purchase) after every epoch, and early stopping when it has not improved for
/// `patience` epochs; the best epoch's weights win.
public struct SequentialTrainingOptions: Sendable, Equatable, Codable {
    public var maxEpochs = 200
    public var patience = 10
    public var batchSize = 128
    /// The rate (the peak one with a warmup or a decay).
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 0
    /// Users whose validation target is ranked after each epoch (nil: all).
    public var validationUsers: Int?
    /// Optimiser steps of linear warmup from 0 (0: none).
    public var warmupSteps = 0
    /// What follows the warmup; a linear decay reaches zero after `maxEpochs` epochs.
    public var decay = LearningRateDecay.none

    public init(
        maxEpochs: Int = 200, patience: Int = 10, batchSize: Int = 128, learningRate: Float = 1e-3, seed: UInt64 = 0, validationUsers: Int? = nil,
        warmupSteps: Int = 0, decay: LearningRateDecay = .none
    ) {
        self.maxEpochs = maxEpochs
        self.patience = patience
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.validationUsers = validationUsers
        self.warmupSteps = warmupSteps
        self.decay = decay
    }

    /// The schedule of a run of `totalSteps` optimiser steps.
    public func schedule(totalSteps: Int) -> LearningRateSchedule {
        switch (warmupSteps, decay) {
        case (0, .none): return .constant(learningRate)
        case (_, .none): return .warmupLinearDecay(.init(peak: learningRate, warmupSteps: warmupSteps, totalSteps: .max))
        case (_, .linear): return .warmupLinearDecay(.init(peak: learningRate, warmupSteps: warmupSteps, totalSteps: totalSteps))
        }
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

/// Trains a `SequentialRecommender` on the training part of a leave-one-out split: each user's purchases
/// except the last two (the validation and test targets), through the shared `TrainingLoop`: one
/// optimiser step a mini-batch, a validation after each epoch's last batch.
public final class SequentialTrainer {
    public let model: any SequentialRecommender
    public let options: SequentialTrainingOptions
    let trainingSequences: [[Int32]]
    let validationCases: [EvaluationCase]
    let dataset: SequenceDataset
    let optimizer = AdamW(weightDecay: 0)
    /// Optimiser steps made by `trainEpoch()`.
    var step = 0
    var batchRandom: SeededRandom
    var dropoutRandom: SeededRandom?
    /// This epoch's order of the training users.
    var order: [Int]
    let tape = Tape()
    /// What the processes before this one spent up to the checkpoint `train` resumed from (zero for
    /// a fresh run): add this process's time for the whole run's.
    public private(set) var priorCost = TrainingCost.zero

    /// The checkpoint record of this run's kind.
    public typealias Checkpoint = TrainingCheckpoint<SequentialEpochRecord>

    public init(model: any SequentialRecommender, dataset: SequenceDataset, options: SequentialTrainingOptions) throws {
        guard model.itemCount == dataset.itemIDs.count else {
            throw SequentialModelError.invalidConfig(
                field: "item_count", detail: "is \(model.itemCount) but the dataset '\(dataset.name)' has \(dataset.itemIDs.count) items")
        }
        self.model = model
        self.options = options
        self.dataset = dataset
        let minimum = model.minimumTrainingLength
        trainingSequences = dataset.sequences.filter { $0.count >= 3 }.map { $0.dropLast(2).map(\.item) }.filter { $0.count >= minimum }
        validationCases = Array(dataset.evaluationCases(.valid).prefix(options.validationUsers ?? Int.max))
        guard !trainingSequences.isEmpty, !validationCases.isEmpty else {
            throw SequentialModelError.notEnoughData(detail: "dataset '\(dataset.name)' has no user to train or validate on")
        }
        order = Array(trainingSequences.indices)
        // Streams of their own, apart from the initialisation drawn with the same seed.
        batchRandom = SeededRandom(seed: options.seed ^ 0xBA7C_4BA7_C4BA_7C4B)
        dropoutRandom = SeededRandom(seed: options.seed ^ 0xD80F_0D80_F0D8_0F0D)
    }

    /// Users whose training sequences each epoch passes over.
    public var trainingUsers: Int { trainingSequences.count }

    /// Mini-batches (optimiser steps) in an epoch.
    public var batchesPerEpoch: Int { (trainingSequences.count + options.batchSize - 1) / options.batchSize }

    /// A fresh random order of the training users (at the start of each epoch).
    func shuffle() {
        order = Array(trainingSequences.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(batchRandom.next() % UInt64(i + 1))) }
    }

    /// The users of batch `index` of this epoch's order.
    func batch(_ index: Int) -> [[Int32]] {
        let start = index * options.batchSize
        return order[start..<min(start + options.batchSize, order.count)].map { trainingSequences[$0] }
    }

    /// One pass over the training users in a fresh random order outside the training loop (no
    /// validation, no checkpoints: for benchmarks and tests), at the rates of the run's schedule;
    /// returns the mean batch loss.
    public func trainEpoch() -> Double {
        model.refreshItemRepresentations()
        shuffle()
        let schedule = options.schedule(totalSteps: max(1, options.maxEpochs) * batchesPerEpoch)
        var total = 0.0
        for index in 0..<batchesPerEpoch {
            model.parameterSet.zeroGradients()
            total += Double(forwardBackward(sequences: batch(index)))
            step += 1
            optimizer.update(model.parameterSet, step: step, lr: schedule.rate(step: step))
        }
        return total / Double(max(batchesPerEpoch, 1))
    }

    /// Records the loss of `sequences` and runs its backward pass into the gradients; returns the loss.
    func forwardBackward(sequences: [[Int32]]) -> Float {
        let loss = model.trainingLoss(tape, sequences: sequences, random: &batchRandom, dropout: &dropoutRandom)
        tape.backward()
        return loss
    }

    /// Validation NDCG@10 over `validationCases` with pessimistic ranks (ties count against).
    public func validationNDCG() -> Double {
        let ranks = model.rank(cases: validationCases, dataset: dataset)
        return EvaluationSummary(ranks: ranks, metrics: [.ndcg(10)], bootstrapSamples: 0).means[.ndcg(10)]!.pessimistic
    }

    /// Trains until `maxEpochs` or until validation NDCG@10 has not improved for `patience` epochs,
    /// then restores the best epoch's weights (the initial ones if no epoch had a finite loss; an
    /// epoch whose loss is not finite ends training). `progress` sees every epoch's record as it ends.
    /// With `checkpointing` (its `every` counted in epochs), the state after every that many epochs
    /// and after the last one is saved; resuming from it gives exactly the uninterrupted run's
    /// weights and records.
    @discardableResult
    public func train(checkpointing: Checkpointing? = nil, progress: (SequentialEpochRecord) throws -> Void = { _ in }) throws -> [SequentialEpochRecord] {
        let perEpoch = batchesPerEpoch
        let set = model.parameterSet
        let initial = FloatStorage(capacity: set.capacity)
        set.copyWeights(into: initial)
        var setup = Checkpoint.setup(of: options)
        setup["config"] = model.checkpointConfig
        setup["dataset"] = dataset.name
        setup["training_users"] = String(trainingSequences.count)
        var epochLoss = 0.0, epochBatches = 0
        var epochStarted = Date()
        let task = TrainingLoop<SequentialEpochRecord>.Task(
            model: model.methodName, setup: setup,
            microBatch: { [self] step, _, tally in
                let index = (step - 1) % perEpoch
                if index == 0 {
                    epochStarted = Date()
                    model.refreshItemRepresentations()
                    shuffle()
                }
                tally.loss += forwardBackward(sequences: batch(index))
                tally.count += min(options.batchSize, order.count - index * options.batchSize)
            },
            validate: { [self] _ in
                let ndcg = validationNDCG()
                return .init(criterion: -ndcg, values: [ndcg])
            },
            point: { step in
                epochLoss += Double(step.tally.loss)
                epochBatches += 1
                guard let validation = step.validation else { return nil }
                let record = SequentialEpochRecord(
                    epoch: step.step / perEpoch, loss: epochLoss / Double(max(epochBatches, 1)), validNDCG10: validation.values[0],
                    seconds: Date().timeIntervalSince(epochStarted), best: step.improved)
                epochLoss = 0
                epochBatches = 0
                return record
            },
            randomStates: { [self] in [batchRandom.state, dropoutRandom?.state ?? 0] },
            restoreRandomStates: { [self] states in
                batchRandom = SeededRandom(seed: states[0])
                if dropoutRandom != nil { dropoutRandom = SeededRandom(seed: states[1]) }
            },
            files: { [self] folder in try model.saveConfig(to: folder) })
        let loop = TrainingLoop<SequentialEpochRecord>(options: .init(
            steps: max(1, options.maxEpochs) * perEpoch, schedule: options.schedule(totalSteps: max(1, options.maxEpochs) * perEpoch),
            optimizer: optimizer,
            validateEvery: perEpoch, patience: options.patience, nonFiniteLoss: .stopAtValidation))
        var epochs = checkpointing
        epochs?.every = max(1, checkpointing?.every ?? 1) * perEpoch
        let outcome = try loop.run(set, task: task, checkpointing: epochs, progress: progress)
        priorCost = outcome.priorCost
        set.restoreWeights(from: outcome.bestWeights ?? initial)
        return outcome.curve
    }
}
