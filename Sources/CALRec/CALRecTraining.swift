import Evaluation
import Foundation
import LanguageModel
import RecData
import Retrieval
import Tensors

/// Fine-tuning with CALRec's objective (spec §4) over one dataset (stage 2) or a mixture of datasets
/// (stage 1, categories drawn ∝ n_c^0.3), from a model folder (stage 0's or stage 1's output, or any
/// GPT-2-format model). AdamW, warmup + cosine, clipping, gradient accumulation to the effective
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

        public init() {}
    }

    /// The checkpoint criterion.
    public enum Selection: Sendable, Codable, Equatable {
        case loss
        /// NDCG@10 (optimistic) of quasi-round-robin BM25 over `samples` continuations at `temperature`.
        case ndcg(samples: Int, temperature: Float)
    }

    struct OptionsEnd {

        public init() {}
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
    public typealias Checkpointing = LanguageModelTraining.Checkpointing

    struct Record: Codable {
        var options: Options
        var datasets: [String]
        var step: Int
        var randomState: UInt64
        var curve: [Point]
        var bestStep: Int?
        var bestValidation: Float?
        /// What the processes that trained up to this checkpoint spent (absent in older checkpoints).
        var cost: TrainingCost?
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// The result: the best model by the selection criterion (the last one if validation never ran),
    /// the step it comes from, and the curve.
    public struct Result {
        public var model: GPT2Model
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
        model: GPT2Model, datasets: [(sequences: TrainingSequences, builder: PromptBuilder)], checkpointing: Checkpointing? = nil,
        progress: (Point) throws -> Void = { _ in }
    ) throws -> Result {
        let started = checkpointing?.started ?? .now()
        guard !datasets.isEmpty, datasets.contains(where: { !$0.sequences.sequences.isEmpty }) else {
            throw CALRecError.noTrainingData("no user has two or more training purchases")
        }
        for (_, builder) in datasets where builder.maxInputTokens + builder.maxOutputTokens > model.config.maxPositions {
            throw CALRecError.invalidOption(
                "max input (\(builder.maxInputTokens)) + max output (\(builder.maxOutputTokens)) tokens exceed the model's \(model.config.maxPositions) positions")
        }
        let names = datasets.map(\.sequences.name)
        let mixture = CategoryMixture(sizes: datasets.map(\.sequences.sequences.count), exponent: options.mixtureExponent)
        var trainer = GPT2Trainer(model: model)
        var random = SeededGenerator(seed: options.seed ^ 0xCA1_2EC)
        var curve: [Point] = []
        var best: (step: Int, value: Float, model: GPT2Model)?
        var priorCost = TrainingCost.zero
        if let checkpointing, let record = try checkpointing.recordToResume(Record.self) {
            guard record.options == options, record.datasets == names else {
                throw CALRecError.invalidOption(
                    "\(checkpointing.folder) was made with other options or datasets; start afresh without --resume or use the same settings")
            }
            trainer = try GPT2Trainer(stateFolder: (checkpointing.folder as NSString).appendingPathComponent("last"))
            random = SeededGenerator(seed: record.randomState)
            curve = record.curve
            priorCost = record.cost ?? .zero
            if let step = record.bestStep, let value = record.bestValidation {
                best = (step, value, try GPT2Model(folder: (checkpointing.folder as NSString).appendingPathComponent("best")))
            }
        }
        let validation = datasets.map { dataset in
            Array(dataset.sequences.validation.prefix(options.validationUsers)).chunked(options.batch).map {
                CALRecBatch(examples: $0, builder: dataset.builder)
            }
        }
        let schedule = WarmupCosineSchedule(
            peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps, minimumFraction: 0.1)
        let tape = Tape()
        let first = trainer.step + 1
        if first <= options.steps {
            for step in first...options.steps {
                let start = DispatchTime.now().uptimeNanoseconds
                trainer.zeroGradients()
                var sums = CALRecObjective.Losses(total: 0, nextItem: 0, targetTarget: 0, userTarget: 0)
                var tokens = 0
                let k = Float(options.accumulationSteps)
                for _ in 0..<options.accumulationSteps {
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
                            tape.reset()
                            throw CALRecError.diverged(
                                "loss became \(losses.total) at step \(step)\(checkpointing.map { "; the last good checkpoint is in \($0.folder)" } ?? ""); lower the learning rate")
                        }
                        tape.backward()
                        sums.total += losses.total * share / k
                        sums.nextItem += losses.nextItem * share / k
                        sums.targetTarget += losses.targetTarget * share / k
                        sums.userTarget += losses.userTarget * share / k
                        tokens += batch.count * (batch.length + (options.objective.isContrastive ? batch.targetLength : 0))
                    }
                }
                let norm = trainer.clipGradients(maxNorm: options.clipNorm)
                let lr = schedule.rate(step: step)
                trainer.update(lr: lr)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                var point = Point(
                    step: step, loss: sums.total, nextItem: sums.nextItem, targetTarget: sums.targetTarget, userTarget: sums.userTarget,
                    learningRate: lr, gradientNorm: norm, tokensPerSecond: Double(tokens) / seconds, validationNextItem: nil)
                if (options.validateEvery > 0 && step % options.validateEvery == 0) || step == options.steps {
                    let value = Self.validationLoss(trainer: trainer, batches: validation)
                    point.validationNextItem = value
                    // The kept value is "lower is better": L_NIG, or −NDCG@10.
                    var criterion = value
                    if case .ndcg(let samples, let temperature) = options.selection {
                        let ndcg = try Self.validationNDCG(model: trainer.model(), datasets: datasets, users: options.validationUsers,
                                                           samples: samples, temperature: temperature, seed: options.seed)
                        point.validationNDCG = ndcg
                        criterion = -ndcg
                    }
                    if criterion.isFinite, best == nil || criterion < best!.value { best = (step, criterion, try trainer.model()) }
                }
                curve.append(point)
                if let checkpointing, checkpointing.isDue(step, of: options.steps) {
                    let record = Record(
                        options: options, datasets: names, step: step, randomState: random.state, curve: curve, bestStep: best?.step,
                        bestValidation: best?.value, cost: priorCost + started.elapsed())
                    try checkpointing.save(record) { staging in
                        try trainer.saveState(to: (staging as NSString).appendingPathComponent("last"))
                        if let best { try best.model.save(to: (staging as NSString).appendingPathComponent("best")) }
                        try datasets[0].builder.tokenizer.save(to: staging)
                    }
                }
                try progress(point)
            }
        }
        if let best { return Result(model: best.model, bestStep: best.step, bestValidation: best.value, curve: curve, priorCost: priorCost) }
        return Result(model: try trainer.model(), bestStep: trainer.step, bestValidation: nil, curve: curve, priorCost: priorCost)
    }

    /// Mean NDCG@10 (optimistic ranks) of the full inference on the first `users` validation examples
    /// of every dataset: samples, quasi-round-robin BM25 over the dataset's items, tie-aware ranks.
    static func validationNDCG(
        model: GPT2Model, datasets: [(sequences: TrainingSequences, builder: PromptBuilder)], users: Int, samples: Int, temperature: Float,
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
    static func validationLoss(trainer: GPT2Trainer, batches: [[CALRecBatch]]) -> Float {
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
