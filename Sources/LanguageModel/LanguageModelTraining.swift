import Foundation
import Support
import Tensors
import Tokenization
import Training

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

    /// Where and how often the training state is saved, and whether to continue from it.
    public typealias Checkpointing = Training.Checkpointing

    /// The checkpoint record of this run's kind.
    public typealias Checkpoint = TrainingCheckpoint<Point>

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
        precondition(options.context <= model.config.maxPositions && options.accumulationSteps >= 1)
        let endOfText = tokenizer.endOfText
        var stream: [Int32] = []
        for document in documents {
            stream += tokenizer.encode(document, allowSpecial: false)
            if let endOfText { stream.append(endOfText) }
        }
        let window = options.context + 1
        guard stream.count > window else {
            throw ModelError.malformed(path: "training data", detail: "\(stream.count) tokens is shorter than one window of \(window)")
        }
        let trainer = GPT2Trainer(model: model)
        var random = SeededRandom(seed: options.seed ^ 0x5DEECE66D)
        let tape = Tape()
        let mask = [[Float]](repeating: [Float](repeating: 1, count: options.context), count: options.batch)
        let (batch, context, k) = (options.batch, options.context, options.accumulationSteps)
        var setup = Checkpoint.setup(of: options)
        setup["stream_tokens"] = String(stream.count)
        setup["config"] = Checkpoint.setup(of: ["config": model.config])["config"]
        let task = TrainingLoop<Point>.Task(
            model: "gpt2-language-model", setup: setup,
            microBatch: { _, _, tally in
                var inputs: [[Int32]] = []
                var targets: [[Int32]] = []
                for _ in 0..<batch {
                    let offset = Int(random.next() % UInt64(stream.count - window + 1))
                    inputs.append(Array(stream[offset..<(offset + context)]))
                    targets.append(Array(stream[(offset + 1)..<(offset + window)]))
                }
                let part = trainer.languageModelLoss(tape, tokens: inputs, targets: targets, lossMask: mask, lossWeight: 1 / Float(k))
                tape.backward()
                tally.loss += part / Float(k)
            },
            point: { step in
                Point(
                    step: step.step, loss: step.tally.loss, learningRate: step.learningRate, gradientNorm: step.gradientNorm ?? 0,
                    tokensPerSecond: Double(batch * k * context) / step.seconds)
            },
            randomStates: { [random.state] },
            restoreRandomStates: { random = SeededRandom(seed: $0[0]) },
            files: { folder in
                try model.config.save(to: folder)
                try tokenizer.save(to: folder)
            })
        let loop = TrainingLoop<Point>(options: .init(
            steps: options.steps, accumulationSteps: k,
            schedule: .warmupCosine(WarmupCosineSchedule(
                peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps, minimumFraction: 0.1)),
            clipNorm: options.clipNorm, optimizer: trainer.optimizer))
        let outcome = try loop.run(trainer.parameterSet, task: task, checkpointing: checkpointing, progress: progress)
        return (try trainer.model(), outcome.curve, outcome.priorCost)
    }

    /// The record of a checkpoint folder, nil when there is none yet.
    public static func readCheckpoint(_ folder: String) throws -> Checkpoint? {
        try Checkpointing.readRecord(Point.self, in: folder)
    }
}
