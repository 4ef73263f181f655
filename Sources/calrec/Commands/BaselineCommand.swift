import ArgumentParser
import Baselines
import Foundation
import RecData
import Retrieval
import Support
import SequentialRecommenders
import TextEncoders
import Workbench

/// `calrec baseline pop|bm25|sasrec|bert4rec|unisrec-t|unisrec-idt|fdsa|s3rec|recformer`: the
/// baselines, through the tie-aware evaluator. The trained ones are trained first (early stopping on
/// validation NDCG@10) on the same split.
struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Rank every user's target with a baseline of the paper's Table 2 (or Popularity, BM25-over-history) and evaluate.")

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case pop, bm25, sasrec, bert4rec
        case uniSRecText = "unisrec-t", uniSRecIDText = "unisrec-idt", fdsa, s3rec, recformer

        /// Whether it reads item-text vectors.
        var isTextAware: Bool { self == .uniSRecText || self == .uniSRecIDText || self == .fdsa }
    }

    @Argument(
        help: """
            pop (training-set popularity), bm25 (BM25 over the last history items' text), sasrec or bert4rec (ID-only transformers trained \
            here), unisrec-t or unisrec-idt (UniSRec over frozen item-text vectors, inductive T or transductive ID+T), fdsa (item-ID and \
            item-text streams), s3rec (self-supervised pre-training over item attributes, then SASRec fine-tuning), recformer (the history \
            as "key value" item text, newest first, through a pretrained BERT fine-tuned contrastively; CPU scale).
            """)
    var method: Method

    @OptionGroup var source: DataSourceOptions
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var sequential: SequentialModelOptions
    @OptionGroup var text: TextFeatureOptions

    @Option(name: .customLong("last-items"), help: "bm25: history items whose text forms the query.")
    var lastItems = 1

    @Flag(name: .customLong("stop-words"), help: "bm25: drop English stop words (Lucene's list).")
    var stopWords = false

    @Option(help: "bm25: term-frequency saturation k1.")
    var k1: Float = 1.2

    @Option(help: "bm25: length normalisation b.")
    var b: Float = 0.75

    @Option(name: .customLong("sequence-tokens"), help: "recformer: tokens of a history's text at most ([CLS] included).")
    var sequenceTokens = 1024

    @Option(name: .customLong("attribute-tokens"), help: "recformer: tokens of each item attribute (key and value) at most.")
    var attributeTokens = 32

    func validate() throws {
        guard lastItems >= 1 else { throw ValidationError("--last-items must be at least 1") }
        guard sequenceTokens >= 2, attributeTokens >= 1 else { throw ValidationError("--sequence-tokens must be at least 2, --attribute-tokens at least 1") }
    }

    func run() throws {
        if let architecture = SequentialArchitecture(rawValue: method.rawValue) {
            return try runSequential(architecture)
        }
        switch method {
        case .uniSRecText: return try runUniSRec(.text)
        case .uniSRecIDText: return try runUniSRec(.idText)
        case .fdsa: return try runFDSA()
        case .s3rec: return try runS3Rec()
        case .recformer: return try runRecformer()
        default: break
        }
        let baseline: BaselineMethod =
            method == .pop
            ? .popularity
            : .bm25History(
                lastItems: lastItems, analyzer: BM25Analyzer(removeEnglishStopWords: stopWords),
                parameters: BM25Parameters(k1: k1, b: b))
        var datasets: [SequenceDataset] = []
        try source.forEachDataset { datasets.append($0) }
        for dataset in datasets {
            let started = Platform.processCPUSeconds()
            let ranks = baseline.rank(
                dataset: dataset, split: evaluation.split, excludeHistory: evaluation.excludeHistory,
                format: source.itemTextFormat, maxUsers: evaluation.userLimit)
            let settings = BaselineSettings(
                bm25: method == .bm25 ? .init(lastItems: lastItems, stopWords: stopWords, k1: k1, b: b) : nil)
            // Counting purchases / indexing the catalogue happens inside the ranking call: all of it is inference here.
            let cost = ComputeCost(trainingStages: [], inferenceSeconds: Platform.processCPUSeconds() - started)
            try evaluation.write(
                ranks: ranks, dataset: dataset.name, method: baseline.name, multiple: datasets.count > 1, settings: settings, cost: cost)
        }
    }

    /// Trains (or loads) SASRec / BERT4Rec per dataset, then ranks the evaluated users' targets.
    func runSequential(_ architecture: SequentialArchitecture) throws {
        var datasets: [SequenceDataset] = []
        try source.forEachDataset { datasets.append($0) }
        for dataset in datasets {
            let folder = datasets.count > 1 ? (evaluation.out as NSString).appendingPathComponent(dataset.name) : evaluation.out
            if evaluation.split == .valid && sequential.load == nil {
                log("warning: \(architecture.rawValue) stops early on the validation targets, so --split valid metrics are biased upwards")
            }
            let (model, settings, trainingSeconds) = try sequential.model(
                architecture, dataset: dataset, folder: folder, budget: evaluation.budget)
            try evaluate(model, dataset: dataset, method: architecture.rawValue, multiple: datasets.count > 1, settings: settings, trainingStages: trainingSeconds.map { [("training", $0)] })
        }
    }
}

extension BaselineCommand {
    /// Ranks the evaluated users' targets with a trained (or loaded) model and writes the metrics
    /// with `settings` and the CPU seconds of training (nil: loaded) and of this inference.
    func evaluate(
        _ model: any SequentialRecommender, dataset: SequenceDataset, method: String, multiple: Bool, settings: some Codable & Sendable,
        trainingStages: [(String, Double)]?
    ) throws {
        let started = Platform.processCPUSeconds()
        let cases = Array(dataset.evaluationCases(evaluation.split).prefix(evaluation.userLimit ?? Int.max))
        let ranks = model.rank(cases: cases, dataset: dataset, excludeHistory: evaluation.excludeHistory)
        let cost = ComputeCost(trainingStages: trainingStages, inferenceSeconds: Platform.processCPUSeconds() - started)
        try evaluation.write(ranks: ranks, dataset: dataset.name, method: method, multiple: multiple, settings: settings, cost: cost)
    }

    /// The datasets of the source, each with its output folder.
    func datasetsWithFolders() throws -> [(dataset: SequenceDataset, folder: String, multiple: Bool)] {
        var datasets: [SequenceDataset] = []
        try source.forEachDataset { datasets.append($0) }
        return datasets.map { ($0, datasets.count > 1 ? (evaluation.out as NSString).appendingPathComponent($0.name) : evaluation.out, datasets.count > 1) }
    }

    /// Trains (or loads) UniSRec per dataset over its item-text vectors, then ranks the evaluated
    /// users' targets. No cross-domain pre-training: every tensor is trained on the dataset itself.
    func runUniSRec(_ variant: UniSRecVariant) throws {
        if sequential.load == nil && !(sequential.pretrainRecBole.isEmpty && sequential.pretrainAmazon2018.isEmpty) {
            return try runPretrainedUniSRec(variant)
        }
        try runTextAware(
            load: { folder, features in
                let model = try UniSRecModel(folder: folder, features: features)
                guard model.config.variant == variant else { throw ValidationError("\(folder) holds \(model.methodName), not \(variant.methodName)") }
                return (model, model.config)
            },
            make: { dataset, features in
                let config = sequential.uniSRecConfig(variant, itemCount: dataset.itemIDs.count, features: features)
                return (try UniSRecModel.initialized(config: config, features: features, seed: sequential.seed), config)
            })
    }

    /// The domains of `--pretrain-recbole` / `--pretrain-amazon2018`, each with its item vectors
    /// (cached under `<out>/pretraining/<name>`).
    func pretrainingDomains(out: String) throws -> [UniSRecPretrainingDomain] {
        var datasets: [SequenceDataset] = []
        for folder in sequential.pretrainRecBole { datasets.append(try SequenceDataset.loadRecBole(folder: folder, name: nil)) }
        for folder in sequential.pretrainAmazon2018 {
            for file in try Amazon2018Files.discover(in: folder) {
                log("reading \(file.reviews)")
                datasets.append(try SequenceDataset.loadAmazon2018(file, options: Amazon2018LoadOptions()))
            }
        }
        let encoder = try text.loadEncoder()
        return try datasets.enumerated().map { index, dataset in
            let folder = (out as NSString).appendingPathComponent("pretraining/\(index)-\(dataset.name)")
            return try text.pretrainingDomain(dataset, encoder: encoder, folder: folder, wordDropRatio: sequential.wordDropRatio, seed: sequential.seed)
        }
    }

    /// UniSRec pre-trained on the given domains (the authors' two contrastive tasks), then
    /// fine-tuned per dataset with the encoder fixed (unless `--train-encoder`).
    func runPretrainedUniSRec(_ variant: UniSRecVariant) throws {
        for (dataset, folder, multiple) in try datasetsWithFolders() {
            let features = try text.features(for: dataset, out: folder)
            let domains = try pretrainingDomains(out: folder)
            guard domains.allSatisfy({ $0.features.header.dimension == features.header.dimension }) else {
                throw ValidationError("the pre-training domains' item vectors are not \(features.header.dimension) wide like the target's; encode them with the same --encoder")
            }
            let joint = ItemFeatures.joined(domains.map(\.features))
            var pretrainConfig = sequential.uniSRecConfig(.text, itemCount: joint.header.itemCount, features: joint)
            pretrainConfig.fixedEncoder = nil
            let pretrained = try UniSRecModel.initialized(config: pretrainConfig, features: joint, seed: sequential.seed)
            let options = UniSRecPretrainingOptions(
                epochs: sequential.pretrainingEpochs(evaluation.budget), batchSize: sequential.pretrainBatch, learningRate: sequential.learningRate(),
                seed: sequential.seed)
            let started = Platform.processCPUSeconds()
            let progress = ProgressDisplay(total: options.epochs, label: "unisrec pre-training")
            let curve = pretrained.pretrain(domains: domains, options: options) { progress.update($0, detail: String(format: "loss %.4f", $1)) }
            let pretrainingSeconds = Platform.processCPUSeconds() - started
            var config = sequential.uniSRecConfig(variant, itemCount: dataset.itemIDs.count, features: features)
            config.fixedEncoder = sequential.trainEncoder ? nil : true
            let model = try UniSRecModel.fineTuning(from: pretrained, config: config, features: features, seed: sequential.seed)
            let (training, seconds) = try sequential.train(model, dataset: dataset, folder: folder, budget: evaluation.budget)
            let examples = domains.reduce(0) { $0 + $1.exampleCount }
            let description = String(
                format: "cross-domain pre-training on %@ (%d examples, %d epochs, batch %d, lr %g; loss %.4f → %.4f; %.0f CPU s); encoder %@ in fine-tuning",
                domains.map(\.name).joined(separator: ", "), examples, options.epochs, options.batchSize, Double(options.learningRate), curve.first ?? .nan,
                curve.last ?? .nan, pretrainingSeconds, config.fixedEncoder == true ? "fixed" : "trained")
            let settings = TextAwareRunSettings(config: config, features: features.header, pretraining: description, training: training, loadedFrom: nil)
            try evaluate(
                model, dataset: dataset, method: model.methodName, multiple: multiple, settings: settings,
                trainingStages: [("pre-training", pretrainingSeconds), ("fine-tuning", seconds)])
        }
    }

    /// Trains (or loads) FDSA per dataset with the item-text vector as its feature, or with the
    /// catalogue's categorical attributes (`--fdsa-features attributes`).
    func runFDSA() throws {
        if sequential.fdsaFeatures == .attributes {
            return try runAttributeFDSA()
        }
        try runTextAware(
            load: { folder, features in
                let model = try FDSAModel(folder: folder, inputs: .text(features))
                return (model, model.config)
            },
            make: { dataset, features in
                let config = sequential.fdsaConfig(itemCount: dataset.itemIDs.count, features: features)
                return (try FDSAModel.initialized(config: config, inputs: .text(features), seed: sequential.seed), config)
            })
    }

    /// FDSA over category and brand attributes: no text vectors.
    func runAttributeFDSA() throws {
        for (dataset, folder, multiple) in try datasetsWithFolders() {
            let model: FDSAModel
            let settings: SequentialAttributeRunSettings<FDSAConfig>
            var trainingSeconds: Double?
            if let path = sequential.load {
                model = try FDSAModel(folder: path, inputs: .attributes(dataset.items))
                settings = SequentialAttributeRunSettings(config: model.config, training: nil, loadedFrom: path)
            } else {
                var config = FDSAConfig(itemCount: dataset.itemIDs.count, attributesOf: dataset.items)
                sequential.applyShared(to: &config)
                model = try FDSAModel.initialized(config: config, inputs: .attributes(dataset.items), seed: sequential.seed)
                let (training, seconds) = try sequential.train(model, dataset: dataset, folder: folder, budget: evaluation.budget)
                settings = SequentialAttributeRunSettings(config: config, training: training, loadedFrom: nil)
                trainingSeconds = seconds
            }
            try evaluate(model, dataset: dataset, method: "fdsa", multiple: multiple, settings: settings, trainingStages: trainingSeconds.map { [("training", $0)] })
        }
    }

    /// Pre-trains S³-Rec on each dataset's training sequences and item attributes (category levels,
    /// brand), fine-tunes it with early stopping, then ranks the evaluated users' targets.
    func runS3Rec() throws {
        for (dataset, folder, multiple) in try datasetsWithFolders() {
            let model: S3RecModel
            let settings: S3RecRunSettings
            var stages: [(String, Double)] = []
            if let path = sequential.load {
                model = try S3RecModel(folder: path, items: dataset.items)
                settings = S3RecRunSettings(config: model.config, pretraining: nil, training: nil, loadedFrom: path)
            } else {
                let attributes = S3RecConfig.attributeVocabulary(dataset.items)
                guard !attributes.isEmpty else {
                    throw SequentialModelError.invalidConfig(
                        field: "attributes",
                        detail: "are empty: s3rec learns from item attributes (category levels, brand) and '\(dataset.name)' has none (a text-only catalogue such as a RecBole text field); use a source with categories or brands")
                }
                let config = sequential.s3RecConfig(itemCount: dataset.itemIDs.count, attributes: attributes)
                model = try S3RecModel.initialized(config: config, items: dataset.items, seed: sequential.seed)
                let epochs = sequential.pretrainingEpochs(evaluation.budget)
                let started = Platform.processCPUSeconds()
                let progress = ProgressDisplay(total: epochs, label: "s3rec pre-training \(dataset.name)")
                let curve = model.pretrain(
                    dataset: SequenceDatasetSequences(dataset), epochs: epochs, batchSize: sequential.batch, learningRate: sequential.learningRate(),
                    seed: sequential.seed, progress: { progress.update($0, detail: String(format: "loss %.4f", $1)) })
                let pretrainingSeconds = Platform.processCPUSeconds() - started
                let (training, seconds) = try sequential.train(model, dataset: dataset, folder: folder, budget: evaluation.budget)
                stages = [("pre-training", pretrainingSeconds), ("fine-tuning", seconds)]
                settings = S3RecRunSettings(
                    config: config,
                    pretraining: .init(
                        epochs: epochs, batch: sequential.batch, lr: sequential.learningRate(), firstLoss: curve.first ?? .nan, lastLoss: curve.last ?? .nan,
                        cpuSeconds: pretrainingSeconds),
                    training: training, loadedFrom: nil)
            }
            try evaluate(model, dataset: dataset, method: model.methodName, multiple: multiple, settings: settings, trainingStages: stages.isEmpty ? nil : stages)
        }
    }

    /// Fine-tunes (or loads) Recformer per dataset from the pretrained BERT of `--encoder`, then
    /// ranks the evaluated users' targets. `--max-length` is the items a history keeps.
    func runRecformer() throws {
        for (dataset, folder, multiple) in try datasetsWithFolders() {
            let model: RecformerModel
            let settings: RecformerRunSettings
            var trainingSeconds: Double?
            if let path = sequential.load {
                model = try RecformerModel(folder: path, items: dataset.items)
                settings = RecformerRunSettings(config: model.config, training: nil, loadedFrom: path)
            } else {
                var recformer = RecformerSettings(maxItems: sequential.maxLength, maxTokens: sequenceTokens, attributeTokens: attributeTokens)
                recformer.temperature = sequential.temperature ?? recformer.temperature
                model = try RecformerModel.initialized(
                    encoderFolder: try text.checkedEncoderFolder(), items: dataset.items, settings: recformer, seed: sequential.seed)
                let (training, seconds) = try sequential.train(model, dataset: dataset, folder: folder, budget: evaluation.budget, defaults: .recformer)
                settings = RecformerRunSettings(config: model.config, training: training, loadedFrom: nil)
                trainingSeconds = seconds
            }
            try evaluate(model, dataset: dataset, method: model.methodName, multiple: multiple, settings: settings, trainingStages: trainingSeconds.map { [("training", $0)] })
        }
    }

    /// Per dataset: the item-text vectors, the model (`--load`ed, or made and trained with early
    /// stopping), the ranks of the evaluated users' targets and `metrics.json` with the settings.
    func runTextAware<Config: Codable & Sendable & Equatable>(
        load: (String, ItemFeatures) throws -> (any SequentialRecommender, Config),
        make: (SequenceDataset, ItemFeatures) throws -> (any SequentialRecommender, Config)
    ) throws {
        for (dataset, folder, multiple) in try datasetsWithFolders() {
            let features = try text.features(for: dataset, out: folder)
            let pretraining = "none (no cross-domain pre-training)"
            let model: any SequentialRecommender
            let settings: TextAwareRunSettings<Config>
            let trainingSeconds: Double?
            if let path = sequential.load {
                let (loaded, config) = try load(path, features)
                model = loaded
                settings = TextAwareRunSettings(config: config, features: features.header, pretraining: pretraining, training: nil, loadedFrom: path)
                trainingSeconds = nil
            } else {
                let (made, config) = try make(dataset, features)
                model = made
                let (training, seconds) = try sequential.train(model, dataset: dataset, folder: folder, budget: evaluation.budget)
                settings = TextAwareRunSettings(config: config, features: features.header, pretraining: pretraining, training: training, loadedFrom: nil)
                trainingSeconds = seconds
            }
            try evaluate(model, dataset: dataset, method: model.methodName, multiple: multiple, settings: settings, trainingStages: trainingSeconds.map { [("training", $0)] })
        }
    }
}

extension BaselineCommand: DeclaresFiles {
    /// The data, a saved model with `--load`, and the evaluation's outputs (SASRec and BERT4Rec
    /// save their model inside `--out`).
    var files: CommandFiles {
        let readsText = method.isTextAware && !(method == .fdsa && sequential.fdsaFeatures == .attributes)
        let readsEncoder = method == .recformer && sequential.load == nil
        return source.files + sequential.files + (readsText ? text.files : CommandFiles()) + (readsEncoder ? CommandFiles(reading: [text.encoder]) : CommandFiles())
            + evaluation.files
    }
}
