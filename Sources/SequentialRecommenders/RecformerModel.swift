import Foundation
import RecData
import Support
import Tensors
import TextEncoders
import Tokenization

/// Recformer (Li et al., KDD 2023) as the authors' `finetune.py` fine-tunes it, at CPU scale: a
/// user's history is one text — [CLS], then each item's "key value" tokens newest first — read by a
/// bidirectional encoder whose embeddings add, to the token and token-position embeddings, a
/// token type ([CLS], key, value) and the item position (0 for [CLS], k for the k-th newest item).
/// The [CLS] state is the user; every item encoded alone is the item table; scores are cosine /
/// 0.05 against that table, and training is cross-entropy over the whole catalogue for one target
/// per user and epoch, drawn uniformly among its training positions (the history before it, maybe
/// empty, is the input). The table is frozen within an epoch and re-encoded with the current
/// weights at the start of each (`refreshItemRepresentations`), as the authors do; it is a frozen
/// tensor of the parameter set (`item_table.weight`), so the best epoch's weights come back with
/// the table they were validated against, and a saved model scores with it.
///
/// Differences from the paper's model, all for want of what it was built from: the encoder is a
/// pretrained BERT (all-MiniLM-L6-v2 by default, full attention) instead of Longformer-base (local
/// windows of 64 + global [CLS]), there is no Recformer pre-training on other categories, and the
/// authors' second fine-tuning stage (the best table frozen, the encoder trained on) is not run.
/// The token positions beyond the BERT's own are its pretrained ones repeated (how Longformer
/// extended RoBERTa's); the three token-type rows start from the BERT's type-0 embedding (Longformer
/// has one type, so the authors' conversion starts them at random); item positions start N(0, 0.02).
public final class RecformerModel: SequentialRecommender {
    public let config: RecformerConfig
    public let encoder: BertEncoder
    let itemPosition: Variable
    /// Every catalogue item's tokens, dataset order.
    let items: [RecformerItemTokens]
    /// Where the tokenizer files are that `saveConfig(to:)` copies beside the weights.
    let tokenizerFolder: String
    /// Unit-length [CLS] state of every item encoded alone (itemCount, C): frozen, kept in
    /// checkpoints, re-encoded by `refreshItemRepresentations()`.
    let itemTable: Variable

    /// Tensor name of the item-position embeddings (max items + 1, C) in the parameter set.
    static let itemPositionName = "item_position.weight"
    /// Tensor name of the item table (itemCount, C).
    static let itemTableName = "item_table.weight"
    /// Tokenizer files a model folder carries.
    static let tokenizerFiles = ["tokenizer.json", "vocab.txt", "tokenizer_config.json"]

    /// A model over `items` from `parameters` (the encoder's tensors in `BertEncoder`'s names plus
    /// `item_position.weight`, and `item_table.weight` unless the table is to be encoded now);
    /// `tokenizer` must be the one of `config.tokenizerFingerprint`.
    public init(config: RecformerConfig, parameters: [String: [Float]], tokenizer: WordPieceTokenizer, tokenizerFolder: String, items: [ItemAttributes]) throws {
        try config.validate()
        guard items.count == config.itemCount else {
            throw SequentialModelError.invalidConfig(field: "item_count", detail: "is \(config.itemCount) but the catalogue has \(items.count) items")
        }
        guard tokenizer.fingerprint == config.tokenizerFingerprint else {
            throw SequentialModelError.malformed(path: tokenizerFolder, detail: "its tokenizer is not the one the model was made with (fingerprint differs)")
        }
        let tokens = items.map { RecformerItemTokens(item: $0, tokenizer: tokenizer, attributeTokens: config.settings.attributeTokens) }
        guard RecformerItemTokens.fingerprint(tokens) == config.itemsFingerprint else {
            throw SequentialModelError.malformed(
                path: tokenizerFolder, detail: "the catalogue's item texts are not the ones the model was trained on (items fingerprint differs)")
        }
        let c = config.encoder.hidden
        var parameters = parameters
        let encodeTable = parameters[Self.itemTableName] == nil
        if encodeTable { parameters[Self.itemTableName] = [Float](repeating: 0, count: config.itemCount * c) }
        do {
            encoder = try BertEncoder(
                config: config.encoder, tokenizer: tokenizer, parameters: parameters, trainable: true, weightsSHA256: config.encoderWeightsSHA256,
                extra: [Self.itemPositionName: [config.settings.maxItems + 1, c], Self.itemTableName: [config.itemCount, c]], keptFrozen: [Self.itemTableName])
        } catch let error as TextEncoderError {
            throw SequentialModelError.malformed(path: "model.safetensors", detail: error.localizedDescription)
        }
        self.config = config
        self.items = tokens
        self.tokenizerFolder = tokenizerFolder
        itemPosition = encoder.parameterSet.required(Self.itemPositionName)
        itemTable = encoder.parameterSet.required(Self.itemTableName)
        if encodeTable { refreshItemRepresentations() }
    }

    /// A model starting from the pretrained BERT in `encoderFolder` (Hugging Face layout) over
    /// `items`: `settings` gives the limits and temperature (the encoder, fingerprints and item count
    /// come from the folder and the catalogue). Deterministic for a seed (which draws the item-position embeddings).
    public static func initialized(encoderFolder: String, items: [ItemAttributes], settings: RecformerSettings, seed: UInt64) throws -> RecformerModel {
        let base: BertEncoder
        do {
            base = try BertEncoder(folder: encoderFolder, trainable: false)
        } catch let error as TextEncoderError {
            throw SequentialModelError.malformed(path: encoderFolder, detail: error.localizedDescription)
        }
        let c = base.config.hidden
        var encoderConfig = base.config
        encoderConfig.maxPositions = max(settings.maxTokens, base.config.maxPositions)
        encoderConfig.typeVocabularySize = 3
        var parameters = base.parameterSet.weightTensors().mapValues(\.values)
        let pretrainedPositions = parameters["embeddings.position.weight"]!
        parameters["embeddings.position.weight"] = (0..<encoderConfig.maxPositions).flatMap { row in
            let source = row % base.config.maxPositions
            return pretrainedPositions[(source * c)..<((source + 1) * c)]
        }
        let typeZero = Array(parameters["embeddings.type.weight"]![0..<c])
        parameters["embeddings.type.weight"] = Array([[Float]](repeating: typeZero, count: 3).joined())
        parameters[itemPositionName] = SequentialParameters.recBoleInitial([itemPositionName: [settings.maxItems + 1, c]], seed: seed)[itemPositionName]
        let tokens = items.map { RecformerItemTokens(item: $0, tokenizer: base.tokenizer, attributeTokens: settings.attributeTokens) }
        let config = RecformerConfig(
            itemCount: items.count, encoder: encoderConfig, encoderName: URL(fileURLWithPath: encoderFolder).standardizedFileURL.lastPathComponent,
            encoderWeightsSHA256: base.weightsSHA256, tokenizerFingerprint: base.tokenizer.fingerprint, itemsFingerprint: RecformerItemTokens.fingerprint(tokens),
            settings: settings)
        return try RecformerModel(config: config, parameters: parameters, tokenizer: base.tokenizer, tokenizerFolder: encoderFolder, items: items)
    }

    /// Loads a folder `save(to:)` wrote (config.json, model.safetensors, the tokenizer files) over
    /// `items`, which must be the catalogue it was trained on.
    public convenience init(folder: String, items: [ItemAttributes]) throws {
        let (config, parameters) = try SequentialParameters.read(folder: folder, kind: "Recformer", as: RecformerConfig.self)
        let tokenizer: WordPieceTokenizer
        do {
            tokenizer = try WordPieceTokenizer.load(folder: folder)
        } catch {
            throw SequentialModelError.malformed(path: folder, detail: "no readable tokenizer (\(error.localizedDescription))")
        }
        try self.init(config: config, parameters: parameters, tokenizer: tokenizer, tokenizerFolder: folder, items: items)
    }

    // MARK: SequentialRecommender

    public var parameterSet: ParameterSet { encoder.parameterSet }
    public var itemCount: Int { config.itemCount }
    public var methodName: String { "recformer" }
    public var checkpointConfig: String { Self.checkpointText(config) }
    public var minimumTrainingLength: Int { 1 }

    /// Writes `config.json` and copies the tokenizer files beside it.
    public func saveConfig(to folder: String) throws {
        try Self.writeConfig(config, to: folder)
        let here = URL(fileURLWithPath: tokenizerFolder).standardizedFileURL.path, there = URL(fileURLWithPath: folder).standardizedFileURL.path
        guard here != there else { return }
        for name in Self.tokenizerFiles {
            let source = (tokenizerFolder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: source) else { continue }
            try AtomicWrite.write(data, to: (folder as NSString).appendingPathComponent(name))
        }
    }

    /// Re-encodes the item table with the current weights.
    public func refreshItemRepresentations() {
        itemTable.value.assign(encodeItems())
    }

    // MARK: Forward pass

    /// `history` (dataset indices, oldest first) as one encoder input.
    func sequence(history: some Collection<Int32>) -> RecformerSequence {
        RecformerSequence(
            history: history, items: items, classifierID: encoder.tokenizer.classifierID, maxItems: config.settings.maxItems, maxTokens: config.settings.maxTokens)
    }

    /// The [CLS] state of each input (inputs.count, C).
    func classifierStates(_ tape: Tape, _ inputs: [RecformerSequence], dropout: inout SeededRandom?) -> Variable {
        let added = Ops.gatherRows(tape, itemPosition, rows: inputs.flatMap(\.itemPositions))
        let hidden = encoder.encode(tape, sequences: inputs.map(\.ids), tokenTypes: inputs.map(\.types), added: added, dropout: &dropout)
        var starts: [Int32] = [], offset = 0
        for input in inputs {
            starts.append(Int32(offset))
            offset += input.ids.count
        }
        return Ops.gatherRows(tape, hidden, rows: starts)
    }

    /// Every item encoded alone ([CLS] + its tokens, item position 1), unit length (itemCount × C).
    func encodeItems() -> [Float] {
        let c = config.encoder.hidden, batch = 256
        var values = [Float](repeating: 0, count: items.count * c)
        var inference: SeededRandom? = nil
        for start in stride(from: 0, to: items.count, by: batch) {
            let tape = Tape()
            defer { tape.reset() }
            let inputs = (start..<min(start + batch, items.count)).map { sequence(history: [Int32($0)]) }
            let states = Ops.l2Normalize(tape, classifierStates(tape, inputs, dropout: &inference)).value
            for r in inputs.indices { for j in 0..<c { values[(start + r) * c + j] = states[r * c + j] } }
        }
        return values
    }

    /// Users a forward pass reads at most: a batch is accumulated over passes of this many (the
    /// authors' 16 × 8), so that memory does not grow with the batch — a CPU batch of 128 histories
    /// of up to 1,024 tokens would hold tens of GB of activations.
    static let usersPerPass = 16

    /// Cross-entropy of cosine / τ between each user's [CLS] state and every item, for one target a
    /// user drawn uniformly among its training positions: the batch's mean, accumulated pass by pass
    /// (each pass's backward runs here but the last's, which is left on `tape` for the caller).
    public func trainingLoss(_ tape: Tape, sequences: [[Int32]], random: inout SeededRandom, dropout: inout SeededRandom?) -> Float {
        var inputs: [RecformerSequence] = [], targets: [Int32] = []
        for sequence in sequences {
            let target = Int(random.next() % UInt64(sequence.count))
            inputs.append(self.sequence(history: sequence[..<target]))
            targets.append(sequence[target])
        }
        var total: Float = 0
        let starts = Array(stride(from: 0, to: inputs.count, by: Self.usersPerPass))
        for (index, start) in starts.enumerated() {
            let range = start..<min(start + Self.usersPerPass, inputs.count)
            let share = Float(range.count) / Float(inputs.count)
            let users = Ops.l2Normalize(tape, classifierStates(tape, Array(inputs[range]), dropout: &dropout))
            let logits = Ops.tiedLogits(tape, Ops.scale(tape, users, by: 1 / config.settings.temperature), wte: itemTable)
            total += share * Ops.crossEntropy(tape, logits: logits, targets: Array(targets[range]), mask: [Float](repeating: 1, count: range.count), weight: share)
            if index < starts.count - 1 {
                tape.backward()
                tape.reset()
            }
        }
        return total
    }

    public func scores(histories: [[Int32]]) -> [Float] {
        let n = config.itemCount, batch = Self.usersPerPass
        var out = [Float](repeating: 0, count: histories.count * n)
        var inference: SeededRandom? = nil
        for start in stride(from: 0, to: histories.count, by: batch) {
            let tape = Tape()
            defer { tape.reset() }
            let inputs = histories[start..<min(start + batch, histories.count)].map { sequence(history: $0) }
            let users = Ops.l2Normalize(tape, classifierStates(tape, inputs, dropout: &inference))
            let values = Ops.tiedLogits(tape, users, wte: itemTable).value
            for r in inputs.indices { for i in 0..<n { out[(start + r) * n + i] = values[r * n + i] } }
        }
        return out
    }
}
