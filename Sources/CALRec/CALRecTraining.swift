import Evaluation
import Foundation
import LanguageModel
import RecData
import Retrieval
import Support
import Tensors
import Training

/// Fine-tuning with CALRec's objective (spec §4) over one dataset (stage 2) or a mixture of datasets
/// (stage 1, categories drawn ∝ n_c^0.3), from any causal language model: stage 0's GPT-2 or stage
/// 1's output, or a pretrained Llama-family model — fully, its top blocks only, or through LoRA
/// adapters on the frozen base (`fineTuning`). AdamW, warmup + cosine, clipping, gradient accumulation to the effective
/// batch. Every `validateEvery` steps (and at the end) L_NIG on a fixed set of validation examples
/// (each user's training part → its validation target) picks the checkpoint to keep: the returned
/// model is the best one seen. Checkpoints (training state, best model, curve, time spent) are
/// written atomically; `resume` continues a killed run to the uninterrupted result.
public struct CALRecTraining {
    public struct Options: Sendable, Codable, Equatable {
        public var steps = 300
        /// Users per micro-batch.
        public var batch = 8
        /// Micro-batches per optimiser step (effective batch = batch · accumulationSteps).
        public var accumulationSteps = 1
        public var learningRate: Float = 1e-4
        public var warmupSteps = 30
        public var clipNorm: Float = 1
        public var seed: UInt64 = 0
        public var objective = CALRecObjective()
        /// Stage 1's exponent in P(category) ∝ n_c^exponent.
        public var mixtureExponent = 0.3
        /// Steps between validations (0: only at the end).
        public var validateEvery = 50
        /// Validation examples per dataset (the first users, in dataset order).
        public var validationUsers = 256
        /// What picks the checkpoint: validation L_NIG (lower is better; the default) or validation
        /// NDCG@10 of the full inference (higher is better; generation makes it slower).
        public var selection = Selection.loss
        /// What trains: every weight (the default), the top blocks, or LoRA adapters.
        public var fineTuning = FineTuningOptions.full

        public init() {}
    }

    /// The checkpoint criterion.
    public enum Selection: Sendable, Codable, Equatable {
        case loss
        /// NDCG@10 (optimistic) of quasi-round-robin BM25 over `samples` continuations at `temperature`.
        case ndcg(samples: Int, temperature: Float)
    }

    /// One step of the curve (`train.jsonl`); validation steps also carry `valid_nig`.
    public struct Point: Sendable, Codable, Equatable {
        public var step: Int
        public var loss: Float
        public var nextItem: Float
        public var targetTarget: Float
        public var userTarget: Float
        public var learningRate: Float
        public var gradientNorm: Float
        public var tokensPerSecond: Double
        public var validationNextItem: Float?
        /// Validation NDCG@10 when it picks the checkpoint.
        public var validationNDCG: Float?

        enum CodingKeys: String, CodingKey {
            case step, loss
            case nextItem = "nig"
            case targetTarget = "tt"
            case userTarget = "ut"
            case learningRate = "lr"
            case gradientNorm = "grad_norm"
            case tokensPerSecond = "tokens_per_second"
            case validationNextItem = "valid_nig"
            case validationNDCG = "valid_ndcg10"
        }
    }

    /// Where and how often the training state is saved, and whether to continue from it.
    public typealias Checkpointing = Training.Checkpointing

    /// The checkpoint record of this run's kind.
    public typealias Checkpoint = TrainingCheckpoint<Point>

    public let options: Options

    public init(options: Options) { self.options = options }

    /// The result: the best model by the selection criterion (the last one if validation never ran),
    /// the step it comes from, and the curve.
    public struct Result {
        public var model: any CausalLanguageModel
        public var bestStep: Int
        /// The criterion at the kept step: validation L_NIG, or −NDCG@10 with `.ndcg` selection.
        public var bestValidation: Float?
        public var curve: [Point]
        /// What the processes before this one spent up to the checkpoint it resumed from (zero for a
        /// fresh run): add this process's time for the whole run's.
        public var priorCost: TrainingCost
    }

    /// Trains from `model` on `datasets` (one builder per dataset, all sharing the model's tokenizer).
    public func train(
        model: any CausalLanguageModel, datasets: [(sequences: TrainingSequences, builder: PromptBuilder)], checkpointing: Checkpointing? = nil,
        progress: (Point) throws -> Void = { _ in }
    ) throws -> Result {
        guard !datasets.isEmpty, datasets.contains(where: { !$0.sequences.sequences.isEmpty }) else {
            throw CALRecError.noTrainingData("no user has two or more training purchases")
        }
        for (_, builder) in datasets where builder.maxInputTokens + builder.maxOutputTokens > model.maxPositions {
            throw CALRecError.invalidOption(
                "max input (\(builder.maxInputTokens)) + max output (\(builder.maxOutputTokens)) tokens exceed the model's \(model.maxPositions) positions")
        }
        let options = self.options
        let names = datasets.map(\.sequences.name)
        let mixture = CategoryMixture(sizes: datasets.map(\.sequences.sequences.count), exponent: options.mixtureExponent)
        let trainer = try model.trainer(fineTuning: options.fineTuning)
        var random = SeededRandom(seed: options.seed ^ 0xCA1_2EC)
        let validation = datasets.map { dataset in
            Array(dataset.sequences.validation.prefix(options.validationUsers)).chunked(options.batch).map {
                CALRecBatch(examples: $0, builder: dataset.builder)
            }
        }
        let tape = Tape()
        let k = Float(options.accumulationSteps)
        var setup = Checkpoint.setup(of: options)
        setup["datasets"] = Checkpoint.setup(of: ["datasets": names])["datasets"]
        setup["family"] = model.family
        for (key, value) in model.configurationSetup { setup["config." + key] = value }
        let task = TrainingLoop<Point>.Task(
            model: "calrec", setup: setup,
            microBatch: { _, _, tally in
                if trainer.usesDropout { trainer.reseedDropout(random.next()) }
                // Stage 1 draws each user's category from the mixture; stage 2 has one category.
                var examplesByDataset = [[SequenceExample]](repeating: [], count: datasets.count)
                for _ in 0..<options.batch {
                    let d = datasets.count == 1 ? 0 : mixture.draw(random: &random)
                    let sequences = datasets[d].sequences
                    let user = Int(random.next() % UInt64(sequences.sequences.count))
                    examplesByDataset[d].append(sequences.draw(user, random: &random))
                }
                // In-batch negatives come from one forward pass per dataset present in the micro-batch.
                let present = examplesByDataset.indices.filter { !examplesByDataset[$0].isEmpty }
                for d in present {
                    let batch = CALRecBatch(examples: examplesByDataset[d], builder: datasets[d].builder)
                    let share = Float(batch.count) / Float(options.batch)
                    let losses = options.objective.record(tape, trainer: trainer, batch: batch, weight: share / k)
                    guard losses.total.isFinite else {
                        // The loop stops with the diagnostic; nothing of this pass reaches the weights.
                        tape.reset()
                        tally.loss = losses.total
                        return
                    }
                    tape.backward()
                    tally.loss += losses.total * share / k
                    tally.parts[0] += losses.nextItem * share / k
                    tally.parts[1] += losses.targetTarget * share / k
                    tally.parts[2] += losses.userTarget * share / k
                    tally.count += batch.count * (batch.length + (options.objective.isContrastive ? batch.targetLength : 0))
                }
            },
            validate: { _ in
                trainer.reseedDropout(nil)
                let value = Self.validationLoss(trainer: trainer, batches: validation)
                // The criterion is "lower is better": L_NIG, or −NDCG@10.
                guard case .ndcg(let samples, let temperature) = options.selection else {
                    return .init(criterion: Double(value), values: [Double(value)])
                }
                let ndcg = try Self.validationNDCG(
                    model: trainer.model(weights: nil), datasets: datasets, users: options.validationUsers, samples: samples, temperature: temperature,
                    seed: options.seed)
                return .init(criterion: Double(-ndcg), values: [Double(value), Double(ndcg)])
            },
            point: { step in
                let t = step.tally
                var point = Point(
                    step: step.step, loss: t.loss, nextItem: t.parts[0], targetTarget: t.parts[1], userTarget: t.parts[2],
                    learningRate: step.learningRate, gradientNorm: step.gradientNorm ?? 0, tokensPerSecond: Double(t.count) / step.seconds,
                    validationNextItem: nil)
                if let values = step.validation?.values {
                    point.validationNextItem = Float(values[0])
                    if values.count > 1 { point.validationNDCG = Float(values[1]) }
                }
                return point
            },
            randomStates: { [random.state] },
            restoreRandomStates: { random = SeededRandom(seed: $0[0]) },
            files: { folder in
                try model.saveConfiguration(to: folder)
                try datasets[0].builder.tokenizer.save(to: folder)
            })
        let loop = TrainingLoop<Point>(options: .init(
            steps: options.steps, accumulationSteps: options.accumulationSteps,
            schedule: .warmupCosine(WarmupCosineSchedule(
                peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps, minimumFraction: 0.1)),
            clipNorm: options.clipNorm, optimizer: trainer.optimizer, validateEvery: options.validateEvery))
        let outcome = try loop.run(trainer.parameterSet, task: task, checkpointing: checkpointing, progress: progress)
        if let step = outcome.bestStep, let criterion = outcome.bestCriterion, let weights = outcome.bestWeights {
            let best = try trainer.model(weights: weights)
            return Result(model: best, bestStep: step, bestValidation: Float(criterion), curve: outcome.curve, priorCost: outcome.priorCost)
        }
        return Result(
            model: try trainer.model(weights: nil), bestStep: outcome.lastStep, bestValidation: nil, curve: outcome.curve, priorCost: outcome.priorCost)
    }

    /// Mean NDCG@10 (optimistic ranks) of the full inference on the first `users` validation examples
    /// of every dataset: samples, quasi-round-robin BM25 over the dataset's items, tie-aware ranks.
    static func validationNDCG(
        model: any CausalLanguageModel, datasets: [(sequences: TrainingSequences, builder: PromptBuilder)], users: Int, samples: Int, temperature: Float,
        seed: UInt64
    ) throws -> Float {
        var total = 0.0, count = 0
        for (sequences, builder) in datasets {
            let examples = Array(sequences.validation.prefix(users))
            guard !examples.isEmpty else { continue }
            var options = Recommender.Options()
            options.samples = samples
            options.temperature = temperature
            options.seed = seed
            let recommender = Recommender(model: model, builder: builder, options: options)
            let cases = examples.enumerated().map { EvaluationCase(user: $0.offset, history: $0.element.history, target: $0.element.target) }
            let generated = recommender.generate(cases: cases)
            let index = BM25Index(documents: builder.itemPlainTexts)
            for (c, list) in zip(cases, generated) {
                let scores = options.ranking.scores(samples: list, index: index)
                let rank = TieAwareRank(scores: scores, target: Int(c.target))
                total += RankingMetric.ndcg(10).value(rank: rank.optimistic)
                count += 1
            }
        }
        return count > 0 ? Float(total / Double(count)) : .nan
    }

    /// Mean L_NIG over the validation batches of every dataset (each batch weighted by its users).
    static func validationLoss(trainer: any LanguageModelTrainer, batches: [[CALRecBatch]]) -> Float {
        var total = 0.0, users = 0
        for batch in batches.joined() {
            total += Double(CALRecObjective.nextItemLoss(trainer: trainer, batch: batch)) * Double(batch.count)
            users += batch.count
        }
        return users > 0 ? Float(total / Double(users)) : .nan
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: Swift.max(1, size)).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
