/// What `metrics.json` records about a SASRec / BERT4Rec result: the model's configuration, and
/// either how it was trained (with early stopping on validation) or where it was loaded from.
public struct SequentialRunSettings: Codable, Sendable, Equatable {
    /// How the training went: its options and what early stopping found.
    public struct Training: Codable, Sendable, Equatable {
        public var maxEpochs: Int
        public var patience: Int
        public var batch: Int
        public var lr: Float
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
            bestValidNDCG10: Double, cpuSeconds: Double, wallSeconds: Double, trainingUsers: Int, resumed: Bool? = nil
        ) {
            self.maxEpochs = maxEpochs
            self.patience = patience
            self.batch = batch
            self.lr = lr
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
