import Foundation
import Support
import Tokenization

/// Everything that decides the tokens a CALRec model sees, as another engine consumes it
/// (`export.json`, written by `calrec export`): the prompt template's pieces as token ids, each
/// item's body as token ids, each dataset's training sequences and validation examples, and the
/// users to sample for. The PyTorch engine (`python/calrec_torch`) assembles prompts, targets and
/// batches from these exactly as `PromptBuilder` and `CALRecBatch` do, so no second tokenizer or
/// template decides what the model sees. Item indices are positions in the dataset's `item_ids`.
public struct TrainingExport: Codable, Sendable, Equatable {
    public static let formatName = "calrec-training-export"
    public static let currentVersion = 1

    public var format = Self.formatName
    public var version = Self.currentVersion
    /// `paper` or `compact` (`custom` for any other wording) and its pieces' token ids.
    public var template: Template
    public var tokenizer: TokenizerIdentity
    /// Most prompt tokens and most target tokens (end-of-text included), as `PromptBuilder` has them.
    public var maxInputTokens: Int
    public var maxOutputTokens: Int
    /// The augmentation's most items dropped from a history's end (`TrainingSequences.maximumDropped`).
    public var maximumDropped: Int
    /// Stage 1's P(dataset) ∝ n^exponent.
    public var mixtureExponent: Double
    public var datasets: [Dataset]

    /// The template's pieces: the history prefix as encoded, and the first- and next-item prefixes
    /// with their leading space.
    public struct Template: Codable, Sendable, Equatable {
        public var name: String
        public var historyPrefix: [Int32]
        public var firstPrefix: [Int32]
        public var nextPrefix: [Int32]
    }

    /// Which tokenizer encoded the ids: a SHA-256 of its vocabulary, merges and pre-tokenization
    /// (`BPETokenizer.fingerprint`), its size and its end-of-text id.
    public struct TokenizerIdentity: Codable, Sendable, Equatable {
        public var sha256: String
        public var vocabularySize: Int
        public var endOfText: Int32
        /// Every token by id, in byte-level form, and the special tokens: what decoding generated
        /// ids to text needs (byte-level BPE), so the other engine decodes as `BPETokenizer.decode`.
        public var tokens: [String]
        public var specialTokens: [String]
    }

    /// One dataset: its catalogue as token ids, the training parts of its users (at least two items)
    /// and the validation examples (a user's training part → the validation target).
    public struct Dataset: Codable, Sendable, Equatable {
        public var name: String
        public var itemIDs: [String]
        /// Each item's body with its leading space, encoded.
        public var itemTokens: [[Int32]]
        public var sequences: [[Int32]]
        public var validation: [Example]
        /// The users to sample for (`sample`): the split's evaluation cases, in order.
        public var evaluation: [EvaluationUser]
        /// Which split `evaluation` is (`valid` or `test`).
        public var evaluationSplit: String
    }

    public struct Example: Codable, Sendable, Equatable {
        public var history: [Int32]
        public var target: Int32
    }

    public struct EvaluationUser: Codable, Sendable, Equatable {
        public var user: String
        public var history: [Int32]

        public init(user: String, history: [Int32]) {
            self.user = user
            self.history = history
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, version, template, tokenizer, datasets
        case maxInputTokens = "max_input_tokens"
        case maxOutputTokens = "max_output_tokens"
        case maximumDropped = "maximum_dropped"
        case mixtureExponent = "mixture_exponent"
    }
}

extension TrainingExport.Template {
    enum CodingKeys: String, CodingKey {
        case name
        case historyPrefix = "history_prefix"
        case firstPrefix = "first_prefix"
        case nextPrefix = "next_prefix"
    }
}

extension TrainingExport.TokenizerIdentity {
    enum CodingKeys: String, CodingKey {
        case sha256
        case vocabularySize = "vocabulary_size"
        case endOfText = "end_of_text"
        case tokens
        case specialTokens = "special_tokens"
    }
}

extension TrainingExport.Dataset {
    enum CodingKeys: String, CodingKey {
        case name, sequences, validation, evaluation
        case itemIDs = "item_ids"
        case itemTokens = "item_tokens"
        case evaluationSplit = "evaluation_split"
    }
}

extension TrainingExport {
    /// The export of `datasets`, each with the builder that encodes its items (all sharing one
    /// tokenizer and template) and the users to sample for.
    public init(
        datasets: [(sequences: TrainingSequences, builder: PromptBuilder, itemIDs: [String], evaluation: [EvaluationUser])],
        evaluationSplit: String, mixtureExponent: Double
    ) throws {
        guard let first = datasets.first?.builder else { throw CALRecError.noTrainingData("nothing to export: no dataset") }
        let name = first.template == .paper ? "paper" : first.template == .compact ? "compact" : "custom"
        template = Template(name: name, historyPrefix: first.historyPrefix, firstPrefix: first.firstPrefix, nextPrefix: first.nextPrefix)
        tokenizer = TokenizerIdentity(
            sha256: first.tokenizer.fingerprint, vocabularySize: first.tokenizer.tokens.count, endOfText: first.endOfText,
            tokens: first.tokenizer.tokens, specialTokens: first.tokenizer.specialTokens)
        maxInputTokens = first.maxInputTokens
        maxOutputTokens = first.maxOutputTokens
        maximumDropped = datasets[0].sequences.maximumDropped
        self.mixtureExponent = mixtureExponent
        self.datasets = datasets.map { entry in
            Dataset(
                name: entry.sequences.name, itemIDs: entry.itemIDs, itemTokens: entry.builder.itemTokens, sequences: entry.sequences.sequences,
                validation: entry.sequences.validation.map { Example(history: $0.history, target: $0.target) }, evaluation: entry.evaluation,
                evaluationSplit: evaluationSplit)
        }
    }

    /// Reads an export, refusing another format or a later version by name.
    public static func read(_ path: String) throws -> TrainingExport {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let export: TrainingExport
        do {
            export = try JSONDecoder().decode(TrainingExport.self, from: data)
        } catch {
            throw CALRecError.invalidExport("\(path): not a CALRec training export (\(error.localizedDescription))")
        }
        guard export.format == formatName, export.version <= currentVersion else {
            throw CALRecError.invalidExport(
                "\(path): format '\(export.format)' version \(export.version); this calrec reads '\(formatName)' up to version \(currentVersion)")
        }
        return export
    }

    /// Writes the export atomically.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicWrite.write(try encoder.encode(self), to: path)
    }
}
