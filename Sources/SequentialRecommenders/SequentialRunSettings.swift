import TextEncoders
/// What `metrics.json` records about a SASRec / BERT4Rec result: the model's configuration, and
/// either how it was trained (with early stopping on validation) or where it was loaded from.
public struct SequentialRunSettings: Codable, Sendable, Equatable {
    /// How the training went: its options and what early stopping found.
    public struct Training: Codable, Sendable, Equatable {
        public var maxEpochs: Int
        public var patience: Int
        public var batch: Int
        /// The rate (the peak one with a warmup or a decay).
        public var lr: Float
        /// Optimiser steps of linear warmup (0: none).
        public var warmupSteps: Int?
        /// What follows the warmup (`none`: the rate stays; `linear`: down to zero at the last step).
        public var lrDecay: LearningRateDecay?
        public var seed: UInt64
        public var validationUsers: Int?
        public var epochsRun: Int
        public var bestEpoch: Int
        public var bestValidNDCG10: Double
        public var cpuSeconds: Double
        public var wallSeconds: Double
        public var trainingUsers: Int
        /// True for a run continued from a checkpoint (its times include the earlier processes').
        public var resumed: Bool?

        public init(
            maxEpochs: Int, patience: Int, batch: Int, lr: Float, seed: UInt64, validationUsers: Int?, epochsRun: Int, bestEpoch: Int,
            bestValidNDCG10: Double, cpuSeconds: Double, wallSeconds: Double, trainingUsers: Int, resumed: Bool? = nil,
            warmupSteps: Int? = nil, lrDecay: LearningRateDecay? = nil
        ) {
            self.maxEpochs = maxEpochs
            self.patience = patience
            self.batch = batch
            self.lr = lr
            self.warmupSteps = warmupSteps
            self.lrDecay = lrDecay
            self.seed = seed
            self.validationUsers = validationUsers
            self.epochsRun = epochsRun
            self.bestEpoch = bestEpoch
            self.bestValidNDCG10 = bestValidNDCG10
            self.cpuSeconds = cpuSeconds
            self.wallSeconds = wallSeconds
            self.trainingUsers = trainingUsers
            self.resumed = resumed
        }

        enum CodingKeys: String, CodingKey {
            case patience, batch, lr, seed, resumed
            case maxEpochs = "max_epochs"
            case warmupSteps = "warmup_steps"
            case lrDecay = "lr_decay"
            case validationUsers = "validation_users"
            case epochsRun = "epochs_run"
            case bestEpoch = "best_epoch"
            case bestValidNDCG10 = "best_valid_ndcg@10"
            case cpuSeconds = "cpu_seconds"
            case wallSeconds = "wall_seconds"
            case trainingUsers = "training_users"
        }
    }

    public var config: SequentialModelConfig
    /// Set for a model trained by this run.
    public var training: Training?
    /// Set for a saved model that was evaluated instead of trained.
    public var loadedFrom: String?
    public var modelSelection: String

    public init(config: SequentialModelConfig, training: Training?, loadedFrom: String?) {
        self.config = config
        self.training = training
        self.loadedFrom = loadedFrom
        modelSelection = "validation NDCG@10 (each user's second-to-last purchase)"
    }

    enum CodingKeys: String, CodingKey {
        case config, training
        case loadedFrom = "loaded_from"
        case modelSelection = "model_selection"
    }
}

/// What `metrics.json` records about a text-aware recommender (UniSRec, FDSA with text): its
/// configuration, the text vectors it read, whether it was pre-trained on other domains, and how
/// it was trained or where it was loaded from.
public struct TextAwareRunSettings<Config: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    /// The item-feature file's identity.
    public struct Features: Codable, Sendable, Equatable {
        public var encoder: String
        public var weightsSHA256: String
        public var pooling: String
        public var normalized: Bool
        public var maxTokens: Int
        public var dimension: Int
        public var cacheKey: String

        public init(_ header: ItemFeatures.Header) {
            encoder = header.encoder.name
            weightsSHA256 = header.encoder.weightsSHA256
            pooling = header.pooling.rawValue
            normalized = header.normalized
            maxTokens = header.maxTokens
            dimension = header.dimension
            cacheKey = header.cacheKey
        }

        enum CodingKeys: String, CodingKey {
            case encoder, pooling, normalized, dimension
            case weightsSHA256 = "weights_sha256", maxTokens = "max_tokens", cacheKey = "cache_key"
        }
    }

    public var config: Config
    public var features: Features
    /// "none (no cross-domain pre-training)" or what it was pre-trained on.
    public var pretraining: String
    public var training: SequentialRunSettings.Training?
    public var loadedFrom: String?
    public var modelSelection = "validation NDCG@10 (each user's second-to-last purchase)"

    public init(config: Config, features: ItemFeatures.Header, pretraining: String, training: SequentialRunSettings.Training?, loadedFrom: String?) {
        self.config = config
        self.features = Features(features)
        self.pretraining = pretraining
        self.training = training
        self.loadedFrom = loadedFrom
    }

    enum CodingKeys: String, CodingKey {
        case config, features, pretraining, training
        case loadedFrom = "loaded_from", modelSelection = "model_selection"
    }
}

/// What `metrics.json` records about an S³-Rec result: its configuration (with the attribute
/// vocabulary), the self-supervised pre-training, and the fine-tuning (or where it was loaded from).
public struct S3RecRunSettings: Codable, Sendable, Equatable {
    public struct Pretraining: Codable, Sendable, Equatable {
        public var epochs: Int
        public var batch: Int
        public var lr: Float
        /// Mean weighted loss of the first and the last epoch.
        public var firstLoss: Double
        public var lastLoss: Double
        public var cpuSeconds: Double

        public init(epochs: Int, batch: Int, lr: Float, firstLoss: Double, lastLoss: Double, cpuSeconds: Double) {
            self.epochs = epochs
            self.batch = batch
            self.lr = lr
            self.firstLoss = firstLoss
            self.lastLoss = lastLoss
            self.cpuSeconds = cpuSeconds
        }

        enum CodingKeys: String, CodingKey {
            case epochs, batch, lr, firstLoss = "first_loss", lastLoss = "last_loss", cpuSeconds = "cpu_seconds"
        }
    }

    public var config: S3RecConfig
    public var pretraining: Pretraining?
    public var training: SequentialRunSettings.Training?
    public var loadedFrom: String?
    public var modelSelection = "validation NDCG@10 (each user's second-to-last purchase)"

    public init(config: S3RecConfig, pretraining: Pretraining?, training: SequentialRunSettings.Training?, loadedFrom: String?) {
        self.config = config
        self.pretraining = pretraining
        self.training = training
        self.loadedFrom = loadedFrom
    }

    enum CodingKeys: String, CodingKey {
        case config, pretraining, training, loadedFrom = "loaded_from", modelSelection = "model_selection"
    }
}

/// What `metrics.json` records about a recommender over item attributes without pre-training (FDSA
/// with categorical features): its configuration (with the vocabularies) and how it was trained.
public struct SequentialAttributeRunSettings<Config: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var config: Config
    public var training: SequentialRunSettings.Training?
    public var loadedFrom: String?
    public var modelSelection = "validation NDCG@10 (each user's second-to-last purchase)"

    public init(config: Config, training: SequentialRunSettings.Training?, loadedFrom: String?) {
        self.config = config
        self.training = training
        self.loadedFrom = loadedFrom
    }

    enum CodingKeys: String, CodingKey {
        case config, training, loadedFrom = "loaded_from", modelSelection = "model_selection"
    }
}

/// What `metrics.json` records about a Recformer result: its configuration (with the encoder it
/// started from), what it was not given (the authors' pre-training, Longformer), and how it was
/// fine-tuned (or where it was loaded from).
public struct RecformerRunSettings: Codable, Sendable, Equatable {
    public var config: RecformerConfig
    public var pretraining = "none (no Recformer pre-training on other categories)"
    public var scale: String
    public var training: SequentialRunSettings.Training?
    public var loadedFrom: String?
    public var modelSelection = "validation NDCG@10 (each user's second-to-last purchase), item table of the epoch's start"

    public init(config: RecformerConfig, training: SequentialRunSettings.Training?, loadedFrom: String?) {
        self.config = config
        scale = "CPU scale: \(config.encoderName) (\(config.encoder.layers) layers, \(config.encoder.hidden) wide, full attention) instead of Longformer-base; "
            + "one fine-tuning stage (the authors' second, the best table frozen, continues their schedule, whose rate is 0 after a "
            + "16-epoch first stage)"
        self.training = training
        self.loadedFrom = loadedFrom
    }

    enum CodingKeys: String, CodingKey {
        case config, pretraining, scale, training, loadedFrom = "loaded_from", modelSelection = "model_selection"
    }
}
