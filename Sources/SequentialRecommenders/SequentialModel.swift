import Foundation
import Support
import Tensors

/// The transformer encoder shared by SASRec and BERT4Rec, laid out as RecBole implements both:
/// item + learned position embeddings → layer norm → dropout → `layers` post-LN blocks
/// (multi-head attention with attention dropout → projection → dropout → residual → layer norm;
/// feed-forward with GELU → dropout → residual → layer norm). SASRec's attention is causal and its
/// scores are dot products with the (tied) item embeddings; BERT4Rec's is bidirectional with a head
/// (dense → GELU → layer norm) and an output bias before the tied embeddings.
///
/// Weights live in one `ParameterSet` (names sorted: the optimiser's and the file's order) and in
/// one safetensors file under the names of `shapes(_:)`, next to `config.json`.
public final class SequentialModel: SequentialRecommender {
    public let config: SequentialModelConfig
    /// Weights, gradients and Adam moments of every tensor.
    public let parameterSet: ParameterSet
    /// Typed views of `parameterSet` for the forward pass.
    let weights: SequentialWeights
    /// Parameters by name (views of `parameterSet`, for tests and cold code).
    public let parameters: [String: Variable]
    /// Names in sorted order (the optimiser's and the file's order).
    public let names: [String]

    public init(config: SequentialModelConfig, parameters: [String: [Float]]) throws {
        try config.validate()
        let set = try SequentialParameters.set(Self.shapes(config), values: parameters)
        self.config = config
        parameterSet = set
        weights = SequentialWeights(parameterSet, config: config)
        names = parameterSet.tensors.map(\.name)
        self.parameters = Dictionary(uniqueKeysWithValues: zip(names, parameterSet.variables))
    }

    /// RecBole's initialisation: weights and embeddings ~ N(0, 0.02), biases 0, layer-norm gains 1.
    /// Deterministic for a seed.
    public static func initialized(config: SequentialModelConfig, seed: UInt64) throws -> SequentialModel {
        try config.validate()
        let parameters = SequentialParameters.recBoleInitial(shapes(config), seed: seed)
        return try SequentialModel(config: config, parameters: parameters)
    }

    /// Every parameter of a model with `config`, with its shape. Linear weights are (in, out).
    public static func shapes(_ config: SequentialModelConfig) -> [String: [Int]] {
        let c = config.hidden, inner = config.innerSize
        var shapes: [String: [Int]] = [
            "item_embedding.weight": [config.vocabularySize, c], "position_embedding.weight": [config.maxLength, c],
            "input_ln.weight": [c], "input_ln.bias": [c],
        ]
        for i in 0..<config.layers { shapes.merge(PostLNBlock.shapes(prefix: "layers.\(i).", hidden: c, inner: inner)) { $1 } }
        if config.architecture == .bert4rec {
            shapes["head.dense.weight"] = [c, c]
            shapes["head.dense.bias"] = [c]
            shapes["head.ln.weight"] = [c]
            shapes["head.ln.bias"] = [c]
            shapes["head.output.bias"] = [config.vocabularySize]
        }
        return shapes
    }

    // MARK: Files

    /// Loads `config.json` and `model.safetensors` from `folder`.
    public convenience init(folder: String) throws {
        let configPath = (folder as NSString).appendingPathComponent("config.json")
        let config: SequentialModelConfig
        do {
            config = try JSONDecoder().decode(SequentialModelConfig.self, from: Data(contentsOf: URL(fileURLWithPath: configPath)))
        } catch {
            throw SequentialModelError.malformed(path: configPath, detail: "not a sequential model configuration (\(error.localizedDescription))")
        }
        let path = (folder as NSString).appendingPathComponent("model.safetensors")
        let tensors = try SafeTensors.read(path).tensors
        do {
            try self.init(config: config, parameters: tensors.mapValues(\.values))
        } catch SequentialModelError.malformed(_, let detail) {
            throw SequentialModelError.malformed(path: path, detail: detail)
        }
    }

    /// Writes `config.json` into `folder` (through a temporary file), creating the folder if needed.
    public func saveConfig(to folder: String) throws { try Self.writeConfig(config, to: folder) }

    public var itemCount: Int { config.itemCount }
    public var methodName: String { config.architecture.rawValue }
    public var checkpointConfig: String { Self.checkpointText(config) }
    public var minimumTrainingLength: Int { config.architecture == .sasrec ? 2 : 1 }

    /// SASRec: next-item cross-entropy at every position (or BCE with one sampled negative);
    /// BERT4Rec: the cloze loss at the masked positions.
    public func trainingLoss(_ tape: Tape, sequences: [[Int32]], random: inout SeededRandom, dropout: inout SeededRandom?) -> Float {
        let batch: SequentialBatches.TrainingBatch
        switch config.architecture {
        case .sasrec:
            batch = SequentialBatches.nextItem(
                sequences: sequences, maxLength: config.maxLength, itemCount: config.itemCount, sampleNegatives: config.loss == .bce, random: &random)
        case .bert4rec: batch = SequentialBatches.cloze(sequences: sequences, config: config, random: &random)
        }
        let hidden = encode(tape, sequences: batch.sequences, dropout: &dropout)
        let rows = Ops.gatherRows(tape, hidden, rows: batch.rows)
        guard config.loss == .bce && config.architecture == .sasrec else {
            return Ops.crossEntropy(tape, logits: logits(tape, hidden: rows), targets: batch.targets, mask: [Float](repeating: 1, count: batch.targets.count))
        }
        let table = weights.itemEmbedding
        let positive = Ops.pairDot(tape, rows, table: table, ids: batch.targets)
        let negative = Ops.pairDot(tape, rows, table: table, ids: batch.negatives)
        let n = batch.targets.count
        let mask = [Float](repeating: 1, count: n)
        // The original's loss: the mean over positions of −log σ(s⁺) − log(1 − σ(s⁻)), i.e. the sum
        // of the two means, each seeding its own scores' gradient.
        return Ops.binaryCrossEntropy(tape, logits: positive, labels: [Float](repeating: 1, count: n), mask: mask)
            + Ops.binaryCrossEntropy(tape, logits: negative, labels: [Float](repeating: 0, count: n), mask: mask)
    }

    // MARK: Forward pass

    /// Records the encoder over `sequences` (model ids, no padding) on `tape`; returns the hidden
    /// states of every token packed end to end (Σ lengths, C), sequence by sequence. `dropout` draws
    /// one mask seed per dropout site (training); nil is inference.
    public func encode(_ tape: Tape, sequences: [[Int32]], dropout: inout SeededRandom?) -> Variable {
        let w = weights
        let causal = config.architecture == .sasrec
        let offsets = SequentialBatches.offsets(sequences)
        func drop(_ x: Variable, _ probability: Float) -> Variable {
            guard probability > 0, dropout != nil else { return x }
            return Ops.dropout(tape, x, mask: DropoutMask(probability: probability, seed: dropout!.next()))
        }
        var x = Ops.embedding(
            tape, tokens: sequences.flatMap { $0 }, positions: sequences.flatMap { $0.indices.map(Int32.init) },
            wte: w.itemEmbedding, wpe: w.positionEmbedding)
        x = drop(Ops.layerNorm(tape, x, weight: w.inputNormWeight, bias: w.inputNormBias), config.hiddenDropout)
        let settings = PostLNBlock.Settings(
            heads: config.heads, causal: causal, gelu: .tanh, hiddenDropout: config.hiddenDropout, attentionDropout: config.attentionDropout)
        for block in w.layers { x = block.forward(tape, x, offsets: offsets, settings: settings, dropout: &dropout) }
        return x
    }

    /// Logits over the whole vocabulary (R, V) for hidden rows (R, C): SASRec's dot products with
    /// the item embeddings, or BERT4Rec's head then the tied embeddings plus the output bias.
    public func logits(_ tape: Tape, hidden: Variable) -> Variable {
        guard let head = weights.head else { return Ops.tiedLogits(tape, hidden, wte: weights.itemEmbedding) }
        let dense = Ops.gelu(tape, Ops.linear(tape, hidden, weight: head.denseWeight, bias: head.denseBias))
        let normed = Ops.layerNorm(tape, dense, weight: head.normWeight, bias: head.normBias)
        return Ops.addRowBias(tape, Ops.tiedLogits(tape, normed, wte: weights.itemEmbedding), bias: head.outputBias)
    }
}
