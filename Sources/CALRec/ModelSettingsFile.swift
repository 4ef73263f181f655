import Foundation
import LanguageModel
import RecData
import Support

/// `calrec.json` in a model folder written by `calrec train`: how prompts are built for the model
/// (read back by `calrec recommend`), the stage's settings as given, what the stage cost, and the
/// training chain — the CPU seconds of this stage and of every stage it started from, recorded at
/// training time so the cost does not depend on where the folders are later.
///
/// Version 1 files (no `version`, written by earlier builds) are read too; all they lack is filled
/// with the defaults the earlier builds used.
public struct ModelSettingsFile: Codable, Sendable, Equatable {
    /// The version this build writes.
    public static let currentVersion = 2

    /// The prompt wording, as written in the file.
    public struct Template: Codable, Sendable, Equatable {
        public var historyPrefix: String
        public var firstItemPrefix: String
        public var nextItemPrefix: String

        public init(_ template: PromptTemplate) {
            historyPrefix = template.historyPrefix
            firstItemPrefix = template.firstItemPrefix
            nextItemPrefix = template.nextItemPrefix
        }

        public var promptTemplate: PromptTemplate {
            PromptTemplate(historyPrefix: historyPrefix, firstItemPrefix: firstItemPrefix, nextItemPrefix: nextItemPrefix)
        }

        enum CodingKeys: String, CodingKey {
            case historyPrefix = "history_prefix"
            case firstItemPrefix = "first_item_prefix"
            case nextItemPrefix = "next_item_prefix"
        }
    }

    /// One stage of the chain that made the model, oldest first.
    public struct ChainStage: Codable, Sendable, Equatable {
        /// `stage 0`, `stage 1`, `stage 2`.
        public var stage: String
        public var cpuSeconds: Double

        public init(stage: String, cpuSeconds: Double) {
            self.stage = stage
            self.cpuSeconds = cpuSeconds
        }

        enum CodingKeys: String, CodingKey {
            case stage
            case cpuSeconds = "cpu_seconds"
        }
    }

    /// The fine-tuning settings of stages 1 and 2 (absent for stage 0).
    public struct FineTuning: Codable, Sendable, Equatable {
        /// The model folder the stage started from.
        public var initFolder: String
        public var alpha: Float
        public var beta: Float
        public var tau: Float
        public var steps: Int
        public var bestStep: Int
        /// `loss` (validation L_NIG) or `ndcg` (validation NDCG@10).
        public var selection: String
        public var bestValidNIG: Double?
        public var bestValidNDCG10: Double?
        /// The backbone's family (`gpt2`, `llama`); absent in files written before there were two.
        public var backbone: String?
        /// What trained: absent for every weight, else LoRA and/or the top blocks.
        public var adaptation: FineTuningOptions?

        public init(
            initFolder: String, alpha: Float, beta: Float, tau: Float, steps: Int, bestStep: Int, selection: String,
            bestValidNIG: Double?, bestValidNDCG10: Double?, backbone: String? = nil, adaptation: FineTuningOptions? = nil
        ) {
            self.backbone = backbone
            self.adaptation = adaptation == .full ? nil : adaptation
            self.initFolder = initFolder
            self.alpha = alpha
            self.beta = beta
            self.tau = tau
            self.steps = steps
            self.bestStep = bestStep
            self.selection = selection
            self.bestValidNIG = bestValidNIG
            self.bestValidNDCG10 = bestValidNDCG10
        }
    }

    public var version: Int
    public var stage: Int
    public var datasets: [String]
    public var fineTuning: FineTuning?
    public var template: Template
    /// Nil: the model's context decides.
    public var maxInputTokens: Int?
    public var maxOutputTokens: Int
    /// How item categories were written (`path`, `leaf`, `prefix:N`).
    public var categoryFormat: String
    /// What this stage cost, over every process of a resumed run.
    public var cpuSeconds: Double
    public var wallSeconds: Double
    public var resumed: Bool?
    /// Nil when a stage it started from has no recorded chain (trained elsewhere or by an early build).
    public var trainingChain: [ChainStage]?

    public init(
        stage: Int, datasets: [String], fineTuning: FineTuning?, template: PromptTemplate, maxInputTokens: Int?, maxOutputTokens: Int,
        categoryFormat: String, cpuSeconds: Double, wallSeconds: Double, resumed: Bool, trainingChain: [ChainStage]?
    ) {
        version = Self.currentVersion
        self.stage = stage
        self.datasets = datasets
        self.fineTuning = fineTuning
        self.template = Template(template)
        self.maxInputTokens = maxInputTokens
        self.maxOutputTokens = maxOutputTokens
        self.categoryFormat = categoryFormat
        self.cpuSeconds = cpuSeconds
        self.wallSeconds = wallSeconds
        self.resumed = resumed ? true : nil
        self.trainingChain = trainingChain
    }

    enum CodingKeys: String, CodingKey {
        case version, stage, datasets, template, resumed
        case fineTuning = "fine_tuning"
        case maxInputTokens = "max_input_tokens"
        case maxOutputTokens = "max_output_tokens"
        case categoryFormat = "category_format"
        case cpuSeconds = "cpu_seconds"
        case wallSeconds = "wall_seconds"
        case trainingChain = "training_chain"
    }

    /// Version 1 kept the fine-tuning settings at the top level; only what inference and the cost
    /// need is read from it.
    enum VersionOneKeys: String, CodingKey {
        case initFolder = "init"
        case alpha, beta, tau, steps, selection
        case bestStep = "best_step"
        case bestValidNIG = "best_valid_nig"
        case bestValidNDCG10 = "best_valid_ndcg10"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
        guard version <= Self.currentVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .version, in: container,
                debugDescription: "version \(version) is newer than this calrec reads (\(Self.currentVersion)); update calrec")
        }
        stage = try container.decodeIfPresent(Int.self, forKey: .stage) ?? 2
        datasets = try container.decodeIfPresent([String].self, forKey: .datasets) ?? []
        template = try container.decodeIfPresent(Template.self, forKey: .template) ?? Template(.paper)
        maxInputTokens = try container.decodeIfPresent(Int.self, forKey: .maxInputTokens)
        maxOutputTokens = try container.decodeIfPresent(Int.self, forKey: .maxOutputTokens) ?? 64
        categoryFormat = try container.decodeIfPresent(String.self, forKey: .categoryFormat) ?? "path"
        cpuSeconds = try container.decodeIfPresent(Double.self, forKey: .cpuSeconds) ?? 0
        wallSeconds = try container.decodeIfPresent(Double.self, forKey: .wallSeconds) ?? 0
        resumed = try container.decodeIfPresent(Bool.self, forKey: .resumed)
        trainingChain = try container.decodeIfPresent([ChainStage].self, forKey: .trainingChain)
        if version >= 2 {
            fineTuning = try container.decodeIfPresent(FineTuning.self, forKey: .fineTuning)
        } else {
            let old = try decoder.container(keyedBy: VersionOneKeys.self)
            if let initFolder = try old.decodeIfPresent(String.self, forKey: .initFolder) {
                fineTuning = FineTuning(
                    initFolder: initFolder, alpha: try old.decodeIfPresent(Float.self, forKey: .alpha) ?? 0,
                    beta: try old.decodeIfPresent(Float.self, forKey: .beta) ?? 0, tau: try old.decodeIfPresent(Float.self, forKey: .tau) ?? 0,
                    steps: try old.decodeIfPresent(Int.self, forKey: .steps) ?? 0,
                    bestStep: try old.decodeIfPresent(Int.self, forKey: .bestStep) ?? 0,
                    selection: try old.decodeIfPresent(String.self, forKey: .selection) ?? "loss",
                    bestValidNIG: try old.decodeIfPresent(Double.self, forKey: .bestValidNIG),
                    bestValidNDCG10: try old.decodeIfPresent(Double.self, forKey: .bestValidNDCG10))
            } else {
                fineTuning = nil
            }
        }
    }

    /// The file name inside a model folder.
    public static let fileName = "calrec.json"

    /// The settings of the model in `folder`; nil when the folder has no `calrec.json` (a model
    /// trained elsewhere). A file that is not one is an error naming it and the field.
    public static func read(folder: String) throws -> ModelSettingsFile? {
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(ModelSettingsFile.self, from: data)
        } catch let error as DecodingError {
            throw RecDataError.malformedLine(file: path, line: 1, detail: "not a calrec.json file: \(DecodingErrorText.describe(error))")
        } catch {
            throw RecDataError.malformedLine(file: path, line: 1, detail: "not a calrec.json file")
        }
    }

    /// Writes the file into `folder` atomically (keys sorted, pretty-printed).
    public func write(folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicWrite.write(try encoder.encode(self) + Data("\n".utf8), to: (folder as NSString).appendingPathComponent(Self.fileName))
    }
}
