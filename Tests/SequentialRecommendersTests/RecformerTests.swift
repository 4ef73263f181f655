import Foundation
import RecData
import Support
import Tensors
import TextEncoders
import Tokenization
import XCTest
import TestEnvironment
@testable import SequentialRecommenders

/// Recformer: the item and sequence layout against hand-written token ids, the encoder it starts
/// from, the item table's refresh at each epoch, and the model on the tiny cycle dataset with a tiny
/// random BERT written as a Hugging Face folder.
final class RecformerTests: XCTestCase {
    let cycle = SequentialRecommenderTests.cycle(items: 10)

    /// 20 users, each alternating two of 10 items (9–12 purchases): the next item is the one before
    /// the newest — a target a text model can find among the history's items, as real next items
    /// often are (the cycle's next item, a different text each time, is adversarial for a model
    /// that scores by text similarity: its first steps flatten every score, a fixed point).
    static let alternating: SequenceDataset = {
        let sequences = (0..<20).map { u in
            (0..<(9 + u % 4)).map { Purchase(item: Int32($0 % 2 == 0 ? u % 10 : (u * 3 + 1 + u / 10) % 10), time: Int64($0)) }
        }
        return SequenceDataset(
            name: "alternating", userIDs: (0..<20).map { "u\($0)" }, itemIDs: (0..<10).map { "i\($0)" },
            items: (0..<10).map { ItemAttributes(title: "item \($0)") }, sequences: sequences, recordsBeforeDeduplication: nil, duplicatesDropped: 0)
    }()
    static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "title", "brand", "category", "text", "item", "acme", "office", "paper"]
        + (0..<10).map(String.init)

    func scratch() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-recformer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func tokenizer() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: Dictionary(uniqueKeysWithValues: Self.vocabulary.enumerated().map { ($1, Int32($0)) }))
    }

    func id(_ token: String) -> Int32 { Int32(Self.vocabulary.firstIndex(of: token)!) }

    /// A random BERT of width 16 (1 layer, 2 heads, 12 positions, 2 token types, no dropout) as a
    /// Hugging Face folder: config.json, model.safetensors in Hugging Face's names, vocab.txt.
    func tinyBertFolder(seed: UInt64 = 7) throws -> String {
        let folder = try scratch()
        let c = 16, inner = 32, v = Self.vocabulary.count
        let config = """
            {"model_type": "bert", "vocab_size": \(v), "hidden_size": \(c), "num_hidden_layers": 1, "num_attention_heads": 2,
             "intermediate_size": \(inner), "max_position_embeddings": 12, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
             "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
            """
        try config.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        try Self.vocabulary.joined(separator: "\n").write(toFile: folder + "/vocab.txt", atomically: true, encoding: .utf8)
        var random = SeededRandom(seed: seed)
        func tensor(_ shape: [Int], _ fill: Float? = nil, spread: Double = 0.2) -> SafeTensors.Tensor {
            let count = shape.reduce(1, *)
            return SafeTensors.Tensor(shape: shape, values: (0..<count).map { _ in fill ?? Float((random.unit() * 2 - 1) * spread) })
        }
        // Word embeddings wider than the rest, so that the [CLS] states of items differing in one
        // word differ measurably.
        var tensors: [String: SafeTensors.Tensor] = [
            "embeddings.word_embeddings.weight": tensor([v, c], spread: 1), "embeddings.position_embeddings.weight": tensor([12, c]),
            "embeddings.token_type_embeddings.weight": tensor([2, c]), "embeddings.LayerNorm.weight": tensor([c], 1),
            "embeddings.LayerNorm.bias": tensor([c], 0),
        ]
        let l = "encoder.layer.0."
        for name in ["query", "key", "value"] {
            tensors[l + "attention.self.\(name).weight"] = tensor([c, c])
            tensors[l + "attention.self.\(name).bias"] = tensor([c], 0)
        }
        tensors[l + "attention.output.dense.weight"] = tensor([c, c])
        tensors[l + "attention.output.dense.bias"] = tensor([c], 0)
        tensors[l + "attention.output.LayerNorm.weight"] = tensor([c], 1)
        tensors[l + "attention.output.LayerNorm.bias"] = tensor([c], 0)
        tensors[l + "intermediate.dense.weight"] = tensor([inner, c])
        tensors[l + "intermediate.dense.bias"] = tensor([inner], 0)
        tensors[l + "output.dense.weight"] = tensor([c, inner])
        tensors[l + "output.dense.bias"] = tensor([c], 0)
        tensors[l + "output.LayerNorm.weight"] = tensor([c], 1)
        tensors[l + "output.LayerNorm.bias"] = tensor([c], 0)
        try SafeTensors.write(tensors, to: folder + "/model.safetensors")
        return folder
    }

    func train(encoder folder: String, epochs: Int, seed: UInt64 = 1) throws -> RecformerModel {
        let model = try RecformerModel.initialized(
            encoderFolder: folder, items: cycle.items, settings: RecformerSettings(maxItems: 4, maxTokens: 20), seed: seed)
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: epochs, patience: epochs, batchSize: 4, learningRate: 5e-3, seed: seed))
        for _ in 0..<epochs { _ = trainer.trainEpoch() }
        return model
    }

    // MARK: Inputs

    func testAnItemIsItsPresentAttributesAsKeyThenValueTokensEachCutToTheAttributeLimit() throws {
        let t = try tokenizer()
        let item = ItemAttributes(title: "Acme paper 1 2 3", brand: "Acme", categories: ["Office", "Paper"])
        let tokens = RecformerItemTokens(item: item, tokenizer: t, attributeTokens: 4)
        // title acme paper 1 | brand acme | category office paper — "2 3" cut by the limit of 4.
        XCTAssertEqual(tokens.ids, ["title", "acme", "paper", "1", "brand", "acme", "category", "office", "paper"].map(id))
        XCTAssertEqual(tokens.types, [1, 2, 2, 2, 1, 2, 1, 2, 2])
        // No brand: left out; a text-only item is the one attribute `text`.
        XCTAssertEqual(RecformerItemTokens(item: ItemAttributes(title: "paper"), tokenizer: t, attributeTokens: 32).ids, ["title", "paper"].map(id))
        XCTAssertEqual(
            RecformerItemTokens(item: ItemAttributes(text: "acme paper"), tokenizer: t, attributeTokens: 32).ids, ["text", "acme", "paper"].map(id))
    }

    func testAHistoryIsCLSThenItsItemsNewestFirstWithItemPositionsCutToBothLimits() {
        let items = [
            RecformerItemTokens(ids: [10, 11], types: [1, 2]), RecformerItemTokens(ids: [20], types: [1]),
            RecformerItemTokens(ids: [30, 31, 32], types: [1, 2, 2]),
        ]
        let full = RecformerSequence(history: [0, 1, 2], items: items, classifierID: 2, maxItems: 50, maxTokens: 100)
        XCTAssertEqual(full.ids, [2, 30, 31, 32, 20, 10, 11])
        XCTAssertEqual(full.types, [0, 1, 2, 2, 1, 1, 2])
        XCTAssertEqual(full.itemPositions, [0, 1, 1, 1, 2, 3, 3])
        // Two items at most: the oldest goes; five tokens at most: the text is cut mid-item.
        XCTAssertEqual(RecformerSequence(history: [0, 1, 2], items: items, classifierID: 2, maxItems: 2, maxTokens: 100).ids, [2, 30, 31, 32, 20])
        let cut = RecformerSequence(history: [0, 1, 2], items: items, classifierID: 2, maxItems: 50, maxTokens: 6)
        XCTAssertEqual(cut.ids, [2, 30, 31, 32, 20, 10])
        XCTAssertEqual(cut.itemPositions, [0, 1, 1, 1, 2, 3])
        // An empty history (a first purchase as the target) is [CLS] alone.
        XCTAssertEqual(RecformerSequence(history: [], items: items, classifierID: 2, maxItems: 50, maxTokens: 100).ids, [2])
    }

    // MARK: Initialisation

    func testPositionsBeyondThePretrainedOnesRepeatThemAndEveryTokenTypeStartsAsTypeZero() throws {
        let folder = try tinyBertFolder()
        let base = try BertEncoder(folder: folder).parameterSet.weightTensors()
        let model = try RecformerModel.initialized(encoderFolder: folder, items: cycle.items, settings: RecformerSettings(maxItems: 4, maxTokens: 30), seed: 1)
        let weights = model.parameterSet.weightTensors()
        XCTAssertEqual(model.config.encoder.maxPositions, 30)
        XCTAssertEqual(model.config.encoder.typeVocabularySize, 3)
        let c = 16, positions = weights["embeddings.position.weight"]!.values, pretrained = base["embeddings.position.weight"]!.values
        for row in [0, 11, 12, 25, 29] { XCTAssertEqual(Array(positions[(row * c)..<((row + 1) * c)]), Array(pretrained[((row % 12) * c)..<((row % 12 + 1) * c)])) }
        let types = weights["embeddings.type.weight"]!.values, typeZero = Array(base["embeddings.type.weight"]!.values[0..<c])
        for row in 0..<3 { XCTAssertEqual(Array(types[(row * c)..<((row + 1) * c)]), typeZero) }
        XCTAssertEqual(weights["layers.0.ffn.up.weight"], base["layers.0.ffn.up.weight"])
        let itemPositions = weights[RecformerModel.itemPositionName]!
        XCTAssertEqual(itemPositions.shape, [5, c])
        let spread = (itemPositions.values.map { Double($0 * $0) }.reduce(0, +) / Double(itemPositions.values.count)).squareRoot()
        XCTAssertEqual(spread, 0.02, accuracy: 0.006)
    }

    func testTheItemTableIsEncodedAtEachEpochsStartAndStaysFixedWithinIt() throws {
        let model = try RecformerModel.initialized(
            encoderFolder: try tinyBertFolder(), items: cycle.items, settings: RecformerSettings(maxItems: 4, maxTokens: 20), seed: 1)
        let trainer = try SequentialTrainer(
            model: model, dataset: cycle, options: SequentialTrainingOptions(maxEpochs: 2, patience: 2, batchSize: 4, learningRate: 5e-3, seed: 1))
        let before = model.encodeItems()
        XCTAssertEqual(model.itemTable.value.array, before, "a new model encodes its table")
        _ = trainer.trainEpoch()
        XCTAssertEqual(model.itemTable.value.array, before, "the table trained against is the one of the epoch's start")
        let after = model.encodeItems()
        XCTAssertNotEqual(after, before, "training moved the encoder")
        _ = trainer.trainEpoch()
        XCTAssertEqual(model.itemTable.value.array, after, "the next epoch's table is encoded with the weights it starts from")
        XCTAssertFalse(model.itemTable.requiresGradient, "the table has no gradient")
        XCTAssertEqual(model.parameterSet.tensors.first { $0.name == RecformerModel.itemTableName }?.kept, true, "checkpoints keep the table")
        // Each row is unit length.
        let row = Array(after[0..<16])
        XCTAssertEqual(row.map { Double($0 * $0) }.reduce(0, +), 1, accuracy: 1e-5)
    }

    // MARK: Training

    func testABatchIsAccumulatedOverPassesOfSixteenUsersToItsMeanLossAndGradient() throws {
        let model = try RecformerModel.initialized(
            encoderFolder: try tinyBertFolder(), items: cycle.items, settings: RecformerSettings(maxItems: 4, maxTokens: 20, temperature: 0.5), seed: 1)
        let users = (0..<40).map { cycle.sequences[$0 % 20].dropLast(2).map(\.item) }
        let set = model.parameterSet, name = "layers.0.ffn.up.weight"
        var dropout: SeededRandom? = nil
        set.zeroGradients()
        var random = SeededRandom(seed: 9)
        let tape = Tape()
        let loss = model.trainingLoss(tape, sequences: users, random: &random, dropout: &dropout)
        tape.backward()
        let accumulated = set.required(name).gradient.array
        // The same draws, pass by pass: 16, 16 and 8 users, weighted by their share.
        random = SeededRandom(seed: 9)
        var expectedLoss: Float = 0, expected = [Float](repeating: 0, count: accumulated.count)
        for range in [0..<16, 16..<32, 32..<40] {
            set.zeroGradients()
            let passTape = Tape()
            let passLoss = model.trainingLoss(passTape, sequences: Array(users[range]), random: &random, dropout: &dropout)
            passTape.backward()
            let share = Float(range.count) / 40
            expectedLoss += share * passLoss
            for (i, g) in set.required(name).gradient.array.enumerated() { expected[i] += share * g }
        }
        XCTAssertEqual(loss, expectedLoss, accuracy: 1e-5)
        for (a, e) in zip(accumulated, expected) { XCTAssertEqual(a, e, accuracy: 1e-5 + 1e-4 * abs(e)) }
    }

    func testTrainingLossGradientsMatchFiniteDifferencesAgainstTheFixedTable() throws {
        let model = try RecformerModel.initialized(
            encoderFolder: try tinyBertFolder(), items: cycle.items, settings: RecformerSettings(maxItems: 4, maxTokens: 20, temperature: 0.5), seed: 1)
        model.refreshItemRepresentations()
        let users = cycle.sequences.prefix(4).map { $0.dropLast(2).map(\.item) }
        func loss() -> (Float, Tape) {
            let tape = Tape()
            var random = SeededRandom(seed: 9)
            var dropout: SeededRandom? = nil
            return (model.trainingLoss(tape, sequences: users, random: &random, dropout: &dropout), tape)
        }
        let set = model.parameterSet
        set.zeroGradients()
        let (_, tape) = loss()
        tape.backward()
        for name in [RecformerModel.itemPositionName, "embeddings.type.weight", "embeddings.word.weight", "embeddings.position.weight", "layers.0.attention.qkv.weight", "embeddings.ln.weight"] {
            let variable = set.required(name)
            for index in stride(from: 0, to: variable.count, by: max(1, variable.count / 12)) {
                let saved = variable.value[index], h: Float = 1e-2
                variable.value[index] = saved + h
                let up = Double(loss().0)
                variable.value[index] = saved - h
                let down = Double(loss().0)
                variable.value[index] = saved
                let numeric = (up - down) / Double(2 * h)
                XCTAssertEqual(Double(variable.gradient[index]), numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(name)[\(index)]")
            }
        }
    }

    /// From the pretrained encoder (whose item table starts apart, as the method assumes: from a
    /// random tiny BERT every item's [CLS] starts alike and the frozen-table objective has nothing
    /// that moves them apart), fine-tuning at the authors' rate memorises the training targets; the
    /// table scored with is the one of the last epoch's start.
    func testRecformerFromMiniLMMemorisesTheTinyDataset() throws {
        let data = Self.alternating
        let model = try RecformerModel.initialized(
            encoderFolder: try TestEnvironment.miniLM(), items: data.items, settings: RecformerSettings(maxItems: 4, maxTokens: 32), seed: 1)
        XCTAssertLessThan(UniSRecTests.memorised(model, cycle: data), 0.7, "the pretrained encoder alone has not learnt the order")
        let trainer = try SequentialTrainer(
            model: model, dataset: data, options: SequentialTrainingOptions(maxEpochs: 10, patience: 10, batchSize: 4, learningRate: 5e-5, seed: 1))
        // Memorised from the fifth epoch to the sixteenth at least (seed 1); ten is well inside.
        for _ in 0..<10 { _ = trainer.trainEpoch() }
        XCTAssertEqual(UniSRecTests.memorised(model, cycle: data), 1)
    }

    func testTrainingIsDeterministicForASeedAndTheSavedModelReloadsOnlyOverItsCatalogue() throws {
        let folder = try tinyBertFolder()
        let a = try train(encoder: folder, epochs: 3), b = try train(encoder: folder, epochs: 3)
        let histories = cycle.sequences.map { $0.dropLast(1).map(\.item) }
        XCTAssertEqual(a.scores(histories: histories), b.scores(histories: histories))
        XCTAssertNotEqual(try train(encoder: folder, epochs: 3, seed: 2).scores(histories: histories), a.scores(histories: histories))

        let saved = try scratch() + "/model"
        try a.save(to: saved)
        let loaded = try RecformerModel(folder: saved, items: cycle.items)
        XCTAssertEqual(loaded.scores(histories: histories), a.scores(histories: histories))
        var changed = cycle.items
        changed[3] = ItemAttributes(title: "item 9")
        XCTAssertThrowsError(try RecformerModel(folder: saved, items: changed)) { error in
            XCTAssertTrue(error.localizedDescription.contains("items fingerprint"), error.localizedDescription)
        }
    }

    func testInvalidSettingsNameTheirField() throws {
        let folder = try tinyBertFolder()
        XCTAssertThrowsError(
            try RecformerModel.initialized(encoderFolder: folder, items: cycle.items, settings: RecformerSettings(temperature: 0), seed: 1)
        ) { error in XCTAssertTrue(error.localizedDescription.contains("'temperature'"), error.localizedDescription) }
        XCTAssertThrowsError(
            try RecformerModel.initialized(encoderFolder: folder + "/missing", items: cycle.items, settings: RecformerSettings(), seed: 1)
        ) { error in XCTAssertTrue(error.localizedDescription.contains("config.json"), error.localizedDescription) }
    }
}
