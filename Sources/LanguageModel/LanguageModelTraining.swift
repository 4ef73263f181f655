import Foundation
import Tensors
import Tokenization

/// Plain language-model training on a list of documents (an item catalogue, a text file's lines):
/// documents are tokenized, joined with end-of-text tokens into one stream, and random windows of
/// `context + 1` tokens (seeded) form each batch; AdamW with warmup + cosine decay and global-norm
/// clipping. Deterministic for a seed.
public struct LanguageModelTraining {
    public struct Options: Sendable {
        public var steps = 200
        public var batch = 8
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

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Trains `model` (in place of its weights: the trained model is returned) on `documents`.
    public func train(
        model: GPT2Model, tokenizer: BPETokenizer, documents: [String], progress: (Point) -> Void = { _ in }
    ) throws -> (model: GPT2Model, curve: [Point]) {
        precondition(options.context + 1 <= model.config.maxPositions + 1 && options.context <= model.config.maxPositions)
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
        let trainer = GPT2Trainer(model: model)
        let schedule = WarmupCosineSchedule(
            peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps, minimumFraction: 0.1)
        var random = SeededGenerator(seed: options.seed ^ 0x5DEECE66D)
        let tape = Tape()
        var curve: [Point] = []
        let mask = [[Float]](repeating: [Float](repeating: 1, count: options.context), count: options.batch)
        for step in 1...options.steps {
            let start = DispatchTime.now().uptimeNanoseconds
            var inputs: [[Int32]] = []
            var targets: [[Int32]] = []
            for _ in 0..<options.batch {
                let offset = Int(random.next() % UInt64(stream.count - window + 1))
                inputs.append(Array(stream[offset..<(offset + options.context)]))
                targets.append(Array(stream[(offset + 1)..<(offset + window)]))
            }
            trainer.zeroGradients()
            let loss = trainer.languageModelLoss(tape, tokens: inputs, targets: targets, lossMask: mask)
            guard loss.isFinite else {
                throw ModelError.malformed(path: "training", detail: "loss became \(loss) at step \(step); lower the learning rate")
            }
            tape.backward()
            let norm = trainer.clipGradients(maxNorm: options.clipNorm)
            let lr = schedule.rate(step: step)
            trainer.update(lr: lr)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let point = Point(
                step: step, loss: loss, learningRate: lr, gradientNorm: norm,
                tokensPerSecond: Double(options.batch * options.context) / seconds)
            curve.append(point)
            progress(point)
        }
        return (try trainer.model(), curve)
    }
}
