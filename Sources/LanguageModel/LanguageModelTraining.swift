import Foundation
import Tensors
import Tokenization

/// Plain language-model training on a list of documents (an item catalogue, a text file's lines):
/// documents are tokenized, joined with end-of-text tokens into one stream, and random windows of
/// `context + 1` tokens (seeded) form each batch; AdamW with warmup + cosine decay and global-norm
/// clipping; optional gradient accumulation. Deterministic for a seed (and thread count).
///
/// With a checkpoint folder, the complete training state (weights, AdamW moments, step, the random
/// generator's state, the curve so far, the tokenizer, the time spent) is written there every
/// `checkpointEvery` steps, atomically; `resume` continues from it to exactly the result of an
/// uninterrupted run. A non-finite loss stops training with a diagnostic and leaves the last good
/// checkpoint in place.
public struct LanguageModelTraining {
    public struct Options: Sendable, Codable, Equatable {
        public var steps = 200
        /// Sequences per micro-batch.
        public var batch = 8
        /// Micro-batches whose gradients are summed (each weighted 1/k) before one optimiser step:
        /// the effective batch is `batch · accumulationSteps` sequences.
        public var accumulationSteps = 1
        public var context = 64
        public var learningRate: Float = 1e-3
        public var warmupSteps = 20
        public var clipNorm: Float = 1
        public var seed: UInt64 = 0

        public init() {}
    }

    /// What a checkpoint folder's `training.json` holds beside the trainer state.
    struct CheckpointRecord: Codable {
        var options: Options
        var streamTokens: Int
        var step: Int
        var randomState: UInt64
        var curve: [Point]
        /// What the processes that trained up to this checkpoint spent (absent in older checkpoints).
        var cost: TrainingCost?
    }

    /// One point of the training curve.
    public struct Point: Sendable, Codable, Equatable {
        public var step: Int
        public var loss: Float
        public var learningRate: Float
        public var gradientNorm: Float
        public var tokensPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case step, loss
            case learningRate = "lr"
            case gradientNorm = "grad_norm"
            case tokensPerSecond = "tokens_per_second"
        }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Trains `model` (in place of its weights: the trained model is returned) on `documents`.
    /// `progress` sees every step; an error it throws stops training (the last checkpoint stays).
    /// `priorCost` is what the processes before this one spent up to the checkpoint it resumed from
    /// (zero for a fresh run): add this process's time for the whole run's.
    public func train(
        model: GPT2Model, tokenizer: BPETokenizer, documents: [String], checkpointing: Checkpointing? = nil,
        progress: (Point) throws -> Void = { _ in }
    ) throws -> (model: GPT2Model, curve: [Point], priorCost: TrainingCost) {
        let started = checkpointing?.started ?? .now()
        precondition(options.context <= model.config.maxPositions && options.accumulationSteps >= 1)
        let endOfText = tokenizer.id(ofSpecial: "<|endoftext|>")
        var stream: [Int32] = []
        for document in documents {
            stream += tokenizer.encode(document, allowSpecial: false)
            if let endOfText { stream.append(endOfText) }
        }
        let window = options.context + 1
        guard stream.count > window else {
            throw ModelError.malformed(path: "training data", detail: "\(stream.count) tokens is shorter than one window of \(window)")
        }
        var trainer = GPT2Trainer(model: model)
        var random = SeededGenerator(seed: options.seed ^ 0x5DEECE66D)
        var curve: [Point] = []
        var priorCost = TrainingCost.zero
        if let checkpointing, let record = try checkpointing.recordToResume(CheckpointRecord.self) {
            guard record.options == options, record.streamTokens == stream.count else {
                throw ModelError.malformed(
                    path: checkpointing.folder,
                    detail: "the checkpoint was made with other training options or data; start afresh without --resume or use the same settings")
            }
            trainer = try GPT2Trainer(stateFolder: checkpointing.folder)
            guard trainer.config == model.config, trainer.step == record.step else {
                throw ModelError.malformed(path: checkpointing.folder, detail: "the checkpoint's model does not match this run's")
            }
            random = SeededGenerator(seed: record.randomState)
            curve = record.curve
            priorCost = record.cost ?? .zero
        }
        let schedule = WarmupCosineSchedule(
            peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps, minimumFraction: 0.1)
        let tape = Tape()
        let mask = [[Float]](repeating: [Float](repeating: 1, count: options.context), count: options.batch)
        let first = trainer.step + 1
        guard first <= options.steps else { return (try trainer.model(), curve, priorCost) }
        for step in first...options.steps {
            let start = DispatchTime.now().uptimeNanoseconds
            trainer.zeroGradients()
            var loss: Float = 0
            for _ in 0..<options.accumulationSteps {
                var inputs: [[Int32]] = []
                var targets: [[Int32]] = []
                for _ in 0..<options.batch {
                    let offset = Int(random.next() % UInt64(stream.count - window + 1))
                    inputs.append(Array(stream[offset..<(offset + options.context)]))
                    targets.append(Array(stream[(offset + 1)..<(offset + window)]))
                }
                let part = trainer.languageModelLoss(
                    tape, tokens: inputs, targets: targets, lossMask: mask, lossWeight: 1 / Float(options.accumulationSteps))
                guard part.isFinite else {
                    tape.reset()
                    throw ModelError.malformed(
                        path: "training",
                        detail: "loss became \(part) at step \(step)\(checkpointing.map { "; the last good checkpoint is in \($0.folder)" } ?? ""); lower the learning rate or raise clipping")
                }
                tape.backward()
                loss += part / Float(options.accumulationSteps)
            }
            let norm = trainer.clipGradients(maxNorm: options.clipNorm)
            let lr = schedule.rate(step: step)
            trainer.update(lr: lr)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let point = Point(
                step: step, loss: loss, learningRate: lr, gradientNorm: norm,
                tokensPerSecond: Double(options.batch * options.accumulationSteps * options.context) / seconds)
            curve.append(point)
            if let checkpointing, checkpointing.isDue(step, of: options.steps) {
                let record = CheckpointRecord(
                    options: options, streamTokens: stream.count, step: step, randomState: random.state, curve: curve,
                    cost: priorCost + started.elapsed())
                try checkpointing.save(record) { staging in
                    try trainer.saveState(to: staging)
                    try tokenizer.save(to: staging)
                }
            }
            try progress(point)
        }
        return (try trainer.model(), curve, priorCost)
    }

    /// The record of a checkpoint folder, nil when there is none yet.
    static func readCheckpoint(_ folder: String) throws -> CheckpointRecord? {
        try Checkpointing.readRecord(CheckpointRecord.self, in: folder)
    }
}
