import Foundation
import Tensors

/// The one training loop every model here uses (GPT-2 language modelling, CALRec's fine-tuning,
/// SASRec, BERT4Rec). A step zeroes the gradients, runs the model's forward and backward pass on
/// each of `accumulationSteps` micro-batches (the task's closure, which seeds its gradients with its
/// own weights and adds its losses to the step's tally), clips the global gradient norm, and makes
/// one AdamW update of the trainable tensors at the schedule's rate. Every `validateEvery` steps and
/// after the last one, the task's validation gives a criterion (lower is better): the best weights
/// so far are kept, and with `patience` the run stops after that many validations without a better
/// one. Every `Checkpointing.every` steps the whole state is written (`TrainingCheckpoint`);
/// resuming from it reproduces the uninterrupted run exactly, because the weights, moments, step,
/// random states, curve and best weights all come back. A loss that is not finite stops the run
/// with `TrainingError.diverged` (the last checkpoint stays the last good one), or, with
/// `.stopAtValidation`, lets the period finish and stops at its validation, which it cannot win.
public struct TrainingLoop<Point: Codable & Sendable> {
    public struct Options: Sendable, Equatable {
        public var steps: Int
        /// Micro-batches per optimiser step.
        public var accumulationSteps: Int
        public var schedule: LearningRateSchedule
        /// Global gradient-norm limit (nil: no clipping).
        public var clipNorm: Float?
        public var optimizer: AdamW
        /// Steps between validations (0: after the last step only); used when the task validates.
        public var validateEvery: Int
        /// Validations without a better criterion after which training stops (nil: never early).
        public var patience: Int?
        public var nonFiniteLoss: NonFiniteLoss

        public init(
            steps: Int, accumulationSteps: Int = 1, schedule: LearningRateSchedule, clipNorm: Float? = nil, optimizer: AdamW = AdamW(),
            validateEvery: Int = 0, patience: Int? = nil, nonFiniteLoss: NonFiniteLoss = .fail
        ) {
            self.steps = steps
            self.accumulationSteps = accumulationSteps
            self.schedule = schedule
            self.clipNorm = clipNorm
            self.optimizer = optimizer
            self.validateEvery = validateEvery
            self.patience = patience
            self.nonFiniteLoss = nonFiniteLoss
        }
    }

    /// What a loss that is not finite does.
    public enum NonFiniteLoss: Sendable, Equatable {
        /// Stop at once with `TrainingError.diverged`.
        case fail
        /// Finish the steps up to the next validation, which then cannot be the best, and stop there.
        case stopAtValidation
    }

    /// What one step's micro-batches add up: the loss (as the task weighs it), up to four parts of
    /// it, and a count of what they processed (tokens, examples).
    public struct Tally: Sendable {
        public var loss: Float = 0
        public var parts = SIMD4<Float>()
        public var count = 0

        public init() {}
    }

    /// A validation's result: the criterion (lower is better; e.g. a loss, or −NDCG) and the values
    /// the task wants in its curve.
    public struct Validation: Sendable {
        public var criterion: Double
        public var values: [Double]

        public init(criterion: Double, values: [Double]) {
            self.criterion = criterion
            self.values = values
        }
    }

    /// One finished step, for the task to turn into a point of its curve.
    public struct Step: Sendable {
        public var step: Int
        public var tally: Tally
        public var learningRate: Float
        /// The norm before clipping (nil without clipping).
        public var gradientNorm: Float?
        /// Seconds of the forward, backward and update passes.
        public var seconds: Double
        public var validation: Validation?
        /// Whether this step's validation is the best so far.
        public var improved: Bool
    }

    /// The model-specific parts of a run.
    public struct Task {
        /// The kind of model and run, recorded in checkpoints ("gpt2-language-model", "calrec", …).
        public var model: String
        /// What a resumed run must share with the checkpoint (see `TrainingCheckpoint.setup(of:)`).
        public var setup: [String: String]
        /// The forward and backward pass of micro-batch `index` of `step`, adding to the tally.
        public var microBatch: (_ step: Int, _ index: Int, _ tally: inout Tally) throws -> Void
        /// The validation after `step` (nil: none; nothing is then kept as best).
        public var validate: ((_ step: Int) throws -> Validation)?
        /// The point of the curve for a step (nil: none for this step).
        public var point: (Step) -> Point?
        /// The run's random generators' states, and how to set them back.
        public var randomStates: () -> [UInt64]
        public var restoreRandomStates: ([UInt64]) -> Void
        /// Writes the model's own files (configuration, tokenizer) into a checkpoint folder.
        public var files: (String) throws -> Void

        public init(
            model: String, setup: [String: String], microBatch: @escaping (Int, Int, inout Tally) throws -> Void,
            validate: ((Int) throws -> Validation)? = nil, point: @escaping (Step) -> Point?, randomStates: @escaping () -> [UInt64],
            restoreRandomStates: @escaping ([UInt64]) -> Void, files: @escaping (String) throws -> Void = { _ in }
        ) {
            self.model = model
            self.setup = setup
            self.microBatch = microBatch
            self.validate = validate
            self.point = point
            self.randomStates = randomStates
            self.restoreRandomStates = restoreRandomStates
            self.files = files
        }
    }

    /// How a run ended.
    public struct Outcome {
        public var curve: [Point]
        /// The last step trained (the checkpoint's, for a finished run resumed).
        public var lastStep: Int
        /// The best validation's step and criterion, and its weights (in the parameter set's layout).
        public var bestStep: Int?
        public var bestCriterion: Double?
        public var bestWeights: FloatStorage?
        /// Whether patience or a non-finite loss ended the run before its last step.
        public var stoppedEarly: Bool
        /// What the processes before this one spent up to the checkpoint it resumed from (zero for a
        /// fresh run): add this process's time for the whole run's.
        public var priorCost: TrainingCost
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Trains `parameters` (in place: they hold the last step's weights afterwards) with `task`.
    /// `progress` sees every point of the curve after its checkpoint; an error it throws stops
    /// training (the last checkpoint stays).
    public func run(
        _ parameters: ParameterSet, task: Task, checkpointing: Checkpointing? = nil, progress: (Point) throws -> Void = { _ in }
    ) throws -> Outcome {
        precondition(options.accumulationSteps >= 1, "at least one micro-batch a step")
        let started = checkpointing?.started ?? .now()
        var curve: [Point] = []
        var best: (step: Int, criterion: Double)?
        let bestWeights = FloatStorage(capacity: parameters.capacity)
        var sinceBest = 0
        var stopped = false
        var priorCost = TrainingCost.zero
        var first = 1
        if let checkpointing, let record = try checkpointing.recordToResume(Point.self) {
            guard record.model == task.model else {
                throw TrainingError.checkpointMismatch(
                    path: checkpointing.folder, detail: "it holds a \(record.model) run, not a \(task.model) one")
            }
            let differences = record.differences(from: task.setup)
            guard differences.isEmpty else {
                throw TrainingError.checkpointMismatch(
                    path: checkpointing.folder,
                    detail: "the checkpoint was made with other training options or data (\(differences.joined(separator: "; ")))")
            }
            try checkpointing.load(record, into: parameters, best: bestWeights)
            task.restoreRandomStates(record.randomStates)
            curve = record.curve
            if let step = record.bestStep, let criterion = record.bestCriterion { best = (step, criterion) }
            sinceBest = record.validationsSinceBest
            stopped = record.stopped
            priorCost = record.cost
            first = record.step + 1
        }
        var lastStep = first - 1
        var periodFinite = true
        if !stopped && first <= options.steps {
            for step in first...options.steps {
                let start = DispatchTime.now().uptimeNanoseconds
                parameters.zeroGradients()
                var tally = Tally()
                for index in 0..<options.accumulationSteps {
                    try task.microBatch(step, index, &tally)
                    if !tally.loss.isFinite {
                        if options.nonFiniteLoss == .fail {
                            throw TrainingError.diverged(loss: tally.loss, step: step, checkpoint: checkpointing?.folder)
                        }
                        periodFinite = false
                    }
                }
                let norm = options.clipNorm.map { GradientClipping.clip(parameters, maxNorm: $0) }
                let lr = options.schedule.rate(step: step)
                options.optimizer.update(parameters, step: step, lr: lr)
                BufferPool.shared.trim()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                var validation: Validation?
                var improved = false
                if let validate = task.validate,
                    (options.validateEvery > 0 && step % options.validateEvery == 0) || step == options.steps
                {
                    let result = try validate(step)
                    validation = result
                    if periodFinite && result.criterion.isFinite && (best == nil || result.criterion < best!.criterion) {
                        best = (step, result.criterion)
                        parameters.copyWeights(into: bestWeights)
                        sinceBest = 0
                        improved = true
                    } else {
                        sinceBest += 1
                    }
                    stopped = !periodFinite || options.patience.map { sinceBest >= $0 } ?? false
                    periodFinite = true
                }
                let point = task.point(
                    Step(step: step, tally: tally, learningRate: lr, gradientNorm: norm, seconds: seconds, validation: validation, improved: improved))
                if let point { curve.append(point) }
                lastStep = step
                if let checkpointing, checkpointing.isDue(step, of: options.steps) || stopped {
                    let record = TrainingCheckpoint(
                        version: TrainingCheckpoint<Point>.currentVersion, model: task.model, setup: task.setup, step: step,
                        randomStates: task.randomStates(), curve: curve, bestStep: best?.step, bestCriterion: best?.criterion,
                        validationsSinceBest: sinceBest, stopped: stopped && step < options.steps, cost: priorCost + started.elapsed())
                    try checkpointing.save(record, parameters: parameters, best: best == nil ? nil : bestWeights, files: task.files)
                }
                if let point { try progress(point) }
                if stopped { break }
            }
        }
        return Outcome(
            curve: curve, lastStep: lastStep, bestStep: best?.step, bestCriterion: best?.criterion, bestWeights: best == nil ? nil : bestWeights,
            stoppedEarly: stopped && lastStep < options.steps, priorCost: priorCost)
    }
}
