import ArgumentParser
import Evaluation
import Foundation
import RecData
import SequentialRecommenders
import Support
import TextEncoders
import Training
import Workbench

/// The options of `calrec baseline sasrec|bert4rec`: the model's hyper-parameters (the papers'
/// defaults), the training loop's, and an optional saved model to evaluate instead of training.
struct SequentialModelOptions: ParsableArguments {
    @Option(name: .customLong("max-epochs"), help: "Trained models: most epochs to train (default by --budget: tiny 2, default 50, full 200).")
    var maxEpochs: Int?

    @Option(name: .customLong("epoch-cap"), help: "Trained models: never more than this many epochs, whatever --max-epochs or the budget says (a workbook parameter can bound its costliest block with it; a decaying rate then reaches 0 at the cap).")
    var epochCap: Int?

    @Option(help: "Trained models: stop after this many epochs without a better validation NDCG@10.")
    var patience = 10

    @Option(help: "Trained models: users per mini-batch.")
    var batch = 128

    @Option(name: .customLong("train-budget"), help: "Trained models: the budget that sets --max-epochs (default: --budget).")
    var trainBudget: Budget?

    @Option(help: "Trained models: Adam learning rate, the peak one with a warmup or decay (default: 1e-3; recformer 5e-5, as its authors fine-tune).")
    var lr: Float?

    @Option(name: .customLong("warmup-steps"), help: "Trained models: optimiser steps of linear warmup from 0 (default: 0; recformer 100, as its authors').")
    var warmupSteps: Int?

    @Option(name: .customLong("lr-decay"), help: "Trained models: none (the rate stays) or linear (down to 0 at the last of --max-epochs; recformer's default, as its authors').")
    var lrDecay: LearningRateDecay?

    @Option(help: "Hidden size (default: SASRec/BERT4Rec 64, UniSRec 300, as in their papers).")
    var hidden: Int?

    @Option(help: "Trained models: transformer blocks.")
    var layers = 2

    @Option(help: "Trained models: attention heads.")
    var heads = 2

    @Option(name: .customLong("max-length"), help: "Trained models: most recent items the model reads.")
    var maxLength = 50

    @Option(help: "Trained models: hidden dropout (default: SASRec 0.5, BERT4Rec 0.1, the others 0.5, as in their papers).")
    var dropout: Float?

    @Option(name: .customLong("attention-dropout"), help: "Trained models: dropout on attention weights (default: as --dropout).")
    var attentionDropout: Float?

    @Option(help: "sasrec: softmax (cross-entropy over all items, RecBole's default) or bce (one sampled negative, the original).")
    var loss: SequentialLoss = .softmax

    @Option(name: .customLong("mask-probability"), help: "bert4rec: probability of masking each training item.")
    var maskProbability: Float = 0.2

    @Option(help: "Trained models: seed of initialisation, batching, dropout and negatives.")
    var seed: UInt64 = 0

    @Option(name: .customLong("validation-users"), help: "Trained models: users ranked for early stopping each epoch (default: all).")
    var validationUsers: Int?

    @Option(help: "unisrec: whitening experts of the MoE adaptor.")
    var experts = 8

    @Option(help: "unisrec, recformer: temperature of the cosine scores (default: unisrec 0.07, recformer 0.05).")
    var temperature: Float?

    @Option(name: .customLong("adaptor-dropout"), help: "unisrec: dropout on the text vectors inside each expert.")
    var adaptorDropout: Float = 0.2

    @Option(name: .customLong("fdsa-features"), help: "fdsa: text (the item's text vector) or attributes (category levels and brand, RecBole's form).")
    var fdsaFeatures: FDSAFeatureSource = .text

    @Option(name: .customLong("pretrain-epochs"), help: "s3rec, unisrec with pre-training folders: epochs of pre-training (default by --budget: tiny 1, default 20, full 100).")
    var pretrainEpochs: Int?

    @Option(name: .customLong("pretrain-recbole"), help: "unisrec: a RecBole folder to pre-train on (repeatable; with --pretrain-amazon2018, the domains together).")
    var pretrainRecBole: [String] = []

    @Option(name: .customLong("pretrain-amazon2018"), help: "unisrec: a folder of Amazon 2018 categories to pre-train on (repeatable; every category in it).")
    var pretrainAmazon2018: [String] = []

    @Option(name: .customLong("pretrain-batch"), help: "unisrec: examples per pre-training batch (in-batch negatives; the authors' 8,192).")
    var pretrainBatch = 8192

    @Option(name: .customLong("word-drop-ratio"), help: "unisrec pre-training: probability of dropping each word of an item's text for the word-drop view.")
    var wordDropRatio = 0.15

    @Flag(name: .customLong("train-encoder"), help: "unisrec after pre-training: fine-tune the position embeddings and transformer blocks too (the authors keep them fixed).")
    var trainEncoder = false

    @Option(help: "Trained models: evaluate this saved model folder (config.json + model.safetensors) instead of training (model and training options are then ignored).")
    var load: String?

    @Option(
        name: .customLong("checkpoint-every"),
        help: "Trained models: save the training state to <out>/model.checkpoint every this many epochs (0: never, unless --resume).")
    var checkpointEvery = 0

    @Flag(help: "Trained models: continue from <out>/model.checkpoint (same data and options) to the result of an uninterrupted run.")
    var resume = false

    func validate() throws {
        if let hidden, hidden < 1 { throw ValidationError("--hidden must be at least 1") }
        guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be 0 or more") }
        guard (warmupSteps ?? 0) >= 0 else { throw ValidationError("--warmup-steps must be 0 or more") }
        guard (maxEpochs ?? 1) >= 1, patience >= 1, batch >= 1, (lr ?? 1) > 0, (temperature ?? 1) > 0 else {
            throw ValidationError("--max-epochs, --patience, --batch, --lr and --temperature must be positive")
        }
        if let epochCap, epochCap < 1 { throw ValidationError("--epoch-cap must be at least 1") }
        if let validationUsers, validationUsers < 1 { throw ValidationError("--validation-users must be at least 1") }
        guard pretrainBatch >= 2, (0..<1).contains(wordDropRatio) else { throw ValidationError("--pretrain-batch must be at least 2, --word-drop-ratio in [0, 1)") }
    }

    /// The model configuration for `architecture` over `itemCount` items.
    func config(_ architecture: SequentialArchitecture, itemCount: Int) -> SequentialModelConfig {
        let paper = SequentialModelConfig.defaults(for: architecture, itemCount: itemCount)
        return SequentialModelConfig(
            architecture: architecture, itemCount: itemCount, hidden: hidden ?? 64, layers: layers, heads: heads, maxLength: maxLength,
            hiddenDropout: dropout ?? paper.hiddenDropout, attentionDropout: attentionDropout ?? dropout ?? paper.attentionDropout, loss: loss,
            maskProbability: maskProbability)
    }

    /// What a method trains with unless told otherwise: Adam's rate and its schedule, and the most
    /// epochs by budget.
    struct TrainingDefaults: Sendable {
        var lr: Float = 1e-3
        var warmupSteps = 0
        var decay = LearningRateDecay.none
        var epochs: @Sendable (Budget) -> Int = { $0.sequentialEpochs }
        /// The authors' `finetune.py`: 5e-5, 100 warmup steps, then a linear decay.
        static let recformer = TrainingDefaults(lr: 5e-5, warmupSteps: 100, decay: .linear, epochs: { $0.recformerEpochs })
    }

    /// Epochs to train at most: `--max-epochs`, or by budget, never more than `--epoch-cap`.
    func epochs(_ budget: Budget, defaults: TrainingDefaults = .init()) -> Int {
        min(maxEpochs ?? defaults.epochs(trainBudget ?? budget), epochCap ?? .max)
    }

    /// The learning rate: `--lr`, or the method's.
    func learningRate(_ defaults: TrainingDefaults = .init()) -> Float { lr ?? defaults.lr }

    func training(_ budget: Budget, defaults: TrainingDefaults = .init()) -> SequentialTrainingOptions {
        SequentialTrainingOptions(
            maxEpochs: epochs(budget, defaults: defaults), patience: patience, batchSize: batch, learningRate: learningRate(defaults), seed: seed,
            validationUsers: validationUsers, warmupSteps: warmupSteps ?? defaults.warmupSteps, decay: lrDecay ?? defaults.decay)
    }

    /// Trains (or loads) the model for `dataset`, saving it with its curve under `folder/model`;
    /// returns the model, what to record beside the metrics and the training's CPU seconds (nil for
    /// a loaded model).
    func model(
        _ architecture: SequentialArchitecture, dataset: SequenceDataset, folder: String, budget: Budget
    ) throws -> (model: SequentialModel, settings: SequentialRunSettings, trainingCPUSeconds: Double?) {
        if let load {
            let model = try SequentialModel(folder: load)
            guard model.config.architecture == architecture, model.config.itemCount == dataset.itemIDs.count else {
                throw ValidationError(
                    "\(load) holds a \(model.config.architecture.rawValue) model over \(model.config.itemCount) items; "
                        + "'\(dataset.name)' needs \(architecture.rawValue) over \(dataset.itemIDs.count)")
            }
            return (model, SequentialRunSettings(config: model.config, training: nil, loadedFrom: load), nil)
        }
        let config = self.config(architecture, itemCount: dataset.itemIDs.count)
        let model = try SequentialModel.initialized(config: config, seed: seed)
        let (training, seconds) = try train(model, dataset: dataset, folder: folder, budget: budget)
        return (model, SequentialRunSettings(config: config, training: training, loadedFrom: nil), seconds)
    }

    /// Trains `model` on `dataset` with early stopping, saving it with its curve under
    /// `folder/model`; returns how the training went and its CPU seconds.
    func train(
        _ model: any SequentialRecommender, dataset: SequenceDataset, folder: String, budget: Budget, defaults: TrainingDefaults = .init()
    ) throws -> (training: SequentialRunSettings.Training, cpuSeconds: Double) {
        let name = model.methodName
        let maxEpochs = epochs(budget, defaults: defaults)
        let options = training(budget, defaults: defaults)
        let trainer = try SequentialTrainer(model: model, dataset: dataset, options: options)
        let started = TrainingCost.Mark.now()
        let progress = ProgressDisplay(total: maxEpochs, label: "\(name) \(dataset.name)")
        let modelFolder = (folder as NSString).appendingPathComponent("model")
        let checkpointFolder = modelFolder + ".checkpoint"
        // Before --resume looks for the checkpoint: one a killed writer had moved aside comes back.
        AtomicWrite.removeDebris(of: checkpointFolder)
        let checkpointing = checkpointEvery > 0 || resume
            ? Checkpointing(
                folder: checkpointFolder, every: checkpointEvery > 0 ? checkpointEvery : maxEpochs, resume: resume, started: started,
                notice: { log($0) })
            : nil
        let records = try trainer.train(checkpointing: checkpointing) { record in
            progress.update(
                record.epoch, detail: String(format: "loss %.4f  valid NDCG@10 %.4f%@", record.loss, record.validNDCG10, record.best ? " (best)" : ""))
        }
        guard let best = records.filter(\.best).last else {
            throw ValidationError(
                "\(name) on '\(dataset.name)': the training loss was not finite from the first epoch (\(records.first?.loss ?? .nan)); try a lower --lr")
        }
        log("\(name): stopped after \(records.count) epochs; best epoch \(best.epoch), valid NDCG@10 \(String(format: "%.4f", best.validNDCG10))")
        try model.save(to: modelFolder)
        try AtomicWrite.write(Data(try JSONLinesText.render(records).utf8), to: (modelFolder as NSString).appendingPathComponent("train.jsonl"))
        // Every process of a resumed run counts, up to the checkpoint it resumed from.
        let cost = trainer.priorCost + started.elapsed()
        let training = SequentialRunSettings.Training(
            maxEpochs: maxEpochs, patience: patience, batch: batch, lr: learningRate(defaults), seed: seed, validationUsers: validationUsers,
            epochsRun: records.count, bestEpoch: best.epoch, bestValidNDCG10: best.validNDCG10, cpuSeconds: cost.cpuSeconds,
            wallSeconds: cost.wallSeconds, trainingUsers: trainer.trainingUsers, resumed: resume ? true : nil, warmupSteps: options.warmupSteps,
            lrDecay: options.decay)
        return (training, cost.cpuSeconds)
    }
}

extension SequentialModelOptions {
    /// UniSRec's configuration: the authors' defaults, with the options given.
    func uniSRecConfig(_ variant: UniSRecVariant, itemCount: Int, features: ItemFeatures) -> UniSRecConfig {
        var config = UniSRecConfig(variant: variant, itemCount: itemCount, featureDimension: features.header.dimension, featuresKey: features.header.cacheKey)
        applyShared(to: &config)
        config.experts = experts
        config.temperature = temperature ?? config.temperature
        config.adaptorDropout = adaptorDropout
        return config
    }
}

extension SequentialModelOptions {
    /// FDSA's configuration: RecBole's defaults, with the options given.
    func fdsaConfig(itemCount: Int, features: ItemFeatures) -> FDSAConfig {
        var config = FDSAConfig(itemCount: itemCount, featureDimension: features.header.dimension, featuresKey: features.header.cacheKey)
        applyShared(to: &config)
        return config
    }
}

extension SequentialModelOptions {
    /// S³-Rec's configuration over `items`' attribute vocabulary: RecBole's defaults, with the options given.
    func s3RecConfig(itemCount: Int, attributes: [String]) -> S3RecConfig {
        var config = S3RecConfig(itemCount: itemCount, attributes: attributes)
        applyShared(to: &config)
        return config
    }

    /// Pre-training epochs: `--pretrain-epochs`, or by budget.
    func pretrainingEpochs(_ budget: Budget) -> Int {
        if let pretrainEpochs { return pretrainEpochs }
        switch trainBudget ?? budget {
        case .tiny: return 1
        case .default: return 20
        case .full: return 100
        }
    }
}

extension SequentialModelOptions {
    /// The shared encoder options given (`--hidden`, `--layers`, `--heads`, `--max-length`,
    /// `--dropout`, `--attention-dropout`) over a method's own defaults.
    func applyShared<Config: TransformerSettings>(to config: inout Config) {
        config.hidden = hidden ?? config.hidden
        config.layers = layers
        config.heads = heads
        config.maxLength = maxLength
        config.hiddenDropout = dropout ?? config.hiddenDropout
        config.attentionDropout = attentionDropout ?? dropout ?? config.attentionDropout
    }
}

extension SequentialLoss: ExpressibleByArgument {}
extension FDSAFeatureSource: ExpressibleByArgument {}
extension LearningRateDecay: ExpressibleByArgument {}

extension SequentialModelOptions: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [load] + pretrainRecBole + pretrainAmazon2018) }
}
