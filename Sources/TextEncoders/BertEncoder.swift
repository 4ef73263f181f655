import Foundation
import Support
import Tensors
import Tokenization

/// A BERT encoder (Devlin et al., 2019) on the engine, laid out as Hugging Face's `BertModel`:
/// word + absolute position + token-type embeddings → layer norm → dropout, then `layers` post-LN
/// blocks (bidirectional multi-head attention with attention dropout → projection → dropout →
/// residual → layer norm; feed-forward with GELU → dropout → residual → layer norm). Sequences are
/// packed end to end without padding, each token attending within its own sequence, so no padding
/// mask enters the computation. Loads any Hugging Face BERT folder (`config.json`,
/// `model.safetensors`, `tokenizer.json` or `vocab.txt`); the pooler is not used.
///
/// Weights live in one `ParameterSet` under the names of `shapes(_:)` (linear weights stored
/// (in, out), the query, key and value projections fused into one (C, 3C) matrix); frozen
/// (`trainable: false`) for feature extraction, trainable for fine-tuning.
public final class BertEncoder {
    public let config: BertConfig
    public let tokenizer: WordPieceTokenizer
    public let parameterSet: ParameterSet
    /// SHA-256 of the weights file it was loaded from (nil for weights made in memory).
    public let weightsSHA256: String?
    let gelu: GELUForm

    let word, position, type, embeddingNormWeight, embeddingNormBias: Variable
    let layers: [PostLNBlock]

    /// `extra` names tensors beyond BERT's (a recommender's own embeddings, say) that join the same
    /// parameter set from `parameters`, without weight decay; look them up with
    /// `parameterSet.required(_:)`. Those also in `keptFrozen` are frozen but kept in checkpoints
    /// (`ParameterSet.Tensor.kept`).
    public init(
        config: BertConfig, tokenizer: WordPieceTokenizer, parameters: [String: [Float]], trainable: Bool, weightsSHA256: String? = nil,
        extra: [String: [Int]] = [:], keptFrozen: Set<String> = []
    ) throws {
        try config.validate(path: "config.json")
        let shapes = Self.shapes(config).merging(extra) { bert, _ in bert }
        var initial: [ParameterSet.Initial] = []
        for name in shapes.keys.sorted() {
            let shape = shapes[name]!
            guard let values = parameters[name], values.count == shape.reduce(1, *) else {
                throw TextEncoderError.malformed(path: "model.safetensors", detail: "tensor '\(name)' is missing or not of shape \(shape)")
            }
            // Weight decay on matrices, not on biases, layer norms or embeddings (BERT's fine-tuning).
            let decays = name.hasSuffix(".weight") && !name.contains("ln.") && !name.hasPrefix("embeddings.") && extra[name] == nil
            let kept = keptFrozen.contains(name)
            initial.append(ParameterSet.Initial(name: name, shape: shape, values: values, decays: decays, trainable: trainable && !kept, kept: kept))
        }
        self.config = config
        self.tokenizer = tokenizer
        self.weightsSHA256 = weightsSHA256
        gelu = config.geluForm!
        parameterSet = ParameterSet(initial)
        let set = parameterSet
        word = set.required("embeddings.word.weight")
        position = set.required("embeddings.position.weight")
        type = set.required("embeddings.type.weight")
        embeddingNormWeight = set.required("embeddings.ln.weight")
        embeddingNormBias = set.required("embeddings.ln.bias")
        layers = (0..<config.layers).map { PostLNBlock(set, prefix: "layers.\($0).") }
    }

    /// Every parameter of an encoder with `config`, with its shape. Linear weights are (in, out).
    public static func shapes(_ config: BertConfig) -> [String: [Int]] {
        let c = config.hidden, inner = config.intermediate
        var shapes: [String: [Int]] = [
            "embeddings.word.weight": [config.vocabularySize, c], "embeddings.position.weight": [config.maxPositions, c],
            "embeddings.type.weight": [config.typeVocabularySize, c], "embeddings.ln.weight": [c], "embeddings.ln.bias": [c],
        ]
        for i in 0..<config.layers { shapes.merge(PostLNBlock.shapes(prefix: "layers.\(i).", hidden: c, inner: inner)) { $1 } }
        return shapes
    }

    // MARK: Files

    /// Loads a Hugging Face BERT folder. `trainable: false` keeps no gradients or moments.
    public convenience init(folder: String, trainable: Bool = false) throws {
        let configPath = (folder as NSString).appendingPathComponent("config.json")
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw TextEncoderError.malformed(path: configPath, detail: "cannot read it; a Hugging Face BERT folder has config.json and model.safetensors")
        }
        let config: BertConfig
        do {
            config = try JSONDecoder().decode(BertConfig.self, from: configData)
        } catch {
            throw TextEncoderError.malformed(
                path: configPath, detail: "not a BERT configuration (\((error as? DecodingError).map(DecodingErrorText.describe) ?? error.localizedDescription))")
        }
        try config.validate(path: configPath)
        let weightsPath = (folder as NSString).appendingPathComponent("model.safetensors")
        let file = try SafeTensors.read(weightsPath).tensors
        let parameters = try Self.parameters(fromHuggingFace: file, config: config, path: weightsPath)
        let tokenizer = try WordPieceTokenizer.load(folder: folder)
        guard tokenizer.tokens.count <= config.vocabularySize else {
            throw TextEncoderError.mismatch(path: folder, detail: "the tokenizer has \(tokenizer.tokens.count) tokens, the model's vocab_size is \(config.vocabularySize)")
        }
        try self.init(config: config, tokenizer: tokenizer, parameters: parameters, trainable: trainable, weightsSHA256: try ContentHash.file(weightsPath))
    }

    /// Our tensors from Hugging Face's names (`embeddings.word_embeddings.weight`,
    /// `encoder.layer.N.attention.self.query.weight` …; a `bert.` prefix and the old `gamma`/`beta`
    /// layer-norm names accepted): linear weights transposed from (out, in), query/key/value fused.
    static func parameters(fromHuggingFace file: [String: SafeTensors.Tensor], config: BertConfig, path: String) throws -> [String: [Float]] {
        var tensors: [String: SafeTensors.Tensor] = [:]
        for (name, tensor) in file {
            var key = name.hasPrefix("bert.") ? String(name.dropFirst(5)) : name
            if key.hasSuffix(".gamma") { key = String(key.dropLast(6)) + ".weight" }
            if key.hasSuffix(".beta") { key = String(key.dropLast(5)) + ".bias" }
            tensors[key] = tensor
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let t = tensors[name] else { throw TextEncoderError.malformed(path: path, detail: "tensor '\(name)' missing (not a BERT checkpoint?)") }
            guard t.shape == shape else { throw TextEncoderError.malformed(path: path, detail: "tensor '\(name)' has shape \(t.shape), expected \(shape)") }
            return t.values
        }
        /// (out, in) → (in, out).
        func transposed(_ values: [Float], rows: Int, columns: Int) -> [Float] {
            var out = [Float](repeating: 0, count: values.count)
            for r in 0..<rows { for k in 0..<columns { out[k * rows + r] = values[r * columns + k] } }
            return out
        }
        let c = config.hidden, inner = config.intermediate
        var out: [String: [Float]] = [
            "embeddings.word.weight": try tensor("embeddings.word_embeddings.weight", [config.vocabularySize, c]),
            "embeddings.position.weight": try tensor("embeddings.position_embeddings.weight", [config.maxPositions, c]),
            "embeddings.type.weight": try tensor("embeddings.token_type_embeddings.weight", [config.typeVocabularySize, c]),
            "embeddings.ln.weight": try tensor("embeddings.LayerNorm.weight", [c]),
            "embeddings.ln.bias": try tensor("embeddings.LayerNorm.bias", [c]),
        ]
        for i in 0..<config.layers {
            let hf = "encoder.layer.\(i).", p = "layers.\(i)."
            let q = transposed(try tensor(hf + "attention.self.query.weight", [c, c]), rows: c, columns: c)
            let k = transposed(try tensor(hf + "attention.self.key.weight", [c, c]), rows: c, columns: c)
            let v = transposed(try tensor(hf + "attention.self.value.weight", [c, c]), rows: c, columns: c)
            var qkv = [Float](repeating: 0, count: c * 3 * c)
            for row in 0..<c {
                for j in 0..<c {
                    qkv[row * 3 * c + j] = q[row * c + j]
                    qkv[row * 3 * c + c + j] = k[row * c + j]
                    qkv[row * 3 * c + 2 * c + j] = v[row * c + j]
                }
            }
            out[p + "attention.qkv.weight"] = qkv
            out[p + "attention.qkv.bias"] =
                try tensor(hf + "attention.self.query.bias", [c]) + tensor(hf + "attention.self.key.bias", [c]) + tensor(hf + "attention.self.value.bias", [c])
            out[p + "attention.out.weight"] = transposed(try tensor(hf + "attention.output.dense.weight", [c, c]), rows: c, columns: c)
            out[p + "attention.out.bias"] = try tensor(hf + "attention.output.dense.bias", [c])
            out[p + "attention.ln.weight"] = try tensor(hf + "attention.output.LayerNorm.weight", [c])
            out[p + "attention.ln.bias"] = try tensor(hf + "attention.output.LayerNorm.bias", [c])
            out[p + "ffn.up.weight"] = transposed(try tensor(hf + "intermediate.dense.weight", [inner, c]), rows: inner, columns: c)
            out[p + "ffn.up.bias"] = try tensor(hf + "intermediate.dense.bias", [inner])
            out[p + "ffn.down.weight"] = transposed(try tensor(hf + "output.dense.weight", [c, inner]), rows: c, columns: inner)
            out[p + "ffn.down.bias"] = try tensor(hf + "output.dense.bias", [c])
            out[p + "ffn.ln.weight"] = try tensor(hf + "output.LayerNorm.weight", [c])
            out[p + "ffn.ln.bias"] = try tensor(hf + "output.LayerNorm.bias", [c])
        }
        return out
    }

    // MARK: Forward pass

    /// Records the encoder over `sequences` (token ids, [CLS] … [SEP] included, each at most
    /// `maxPositions` long) on `tape`; returns the last hidden states of every token packed end to
    /// end (Σ lengths, C). `tokenTypes` (same lengths) default to 0; `positions` to 0, 1, 2 … per
    /// sequence. `added` (Σ lengths, C), when given, joins the sum of embeddings before the
    /// embedding layer norm (a further embedding of each token, such as its item's position).
    /// `dropout` draws one mask seed per dropout site (training); nil is inference.
    public func encode(
        _ tape: Tape, sequences: [[Int32]], tokenTypes: [[Int32]]? = nil, positions: [[Int32]]? = nil, added: Variable? = nil,
        dropout: inout SeededRandom?
    ) -> Variable {
        var offsets = [0]
        for sequence in sequences { offsets.append(offsets.last! + sequence.count) }
        func drop(_ x: Variable, _ probability: Float) -> Variable {
            guard probability > 0, dropout != nil else { return x }
            return Ops.dropout(tape, x, mask: DropoutMask(probability: probability, seed: dropout!.next()))
        }
        let tokens = sequences.flatMap { $0 }
        let positionIDs = positions?.flatMap { $0 } ?? sequences.flatMap { $0.indices.map(Int32.init) }
        let typeIDs = tokenTypes?.flatMap { $0 } ?? [Int32](repeating: 0, count: tokens.count)
        precondition(positionIDs.count == tokens.count && typeIDs.count == tokens.count, "positions and token types must match the tokens")
        precondition(typeIDs.allSatisfy { Int($0) < config.typeVocabularySize }, "a token type is beyond the encoder's \(config.typeVocabularySize)")
        precondition(positionIDs.allSatisfy { Int($0) < config.maxPositions }, "a sequence is longer than the encoder's \(config.maxPositions) positions")
        var x = Ops.embedding(tape, tokens: tokens, positions: positionIDs, wte: word, wpe: position)
        x = Ops.add(tape, x, Ops.gatherRows(tape, type, rows: typeIDs))
        if let added {
            precondition(added.shape == x.shape, "added embeddings must be (tokens, hidden)")
            x = Ops.add(tape, x, added)
        }
        x = drop(Ops.layerNorm(tape, x, weight: embeddingNormWeight, bias: embeddingNormBias, epsilon: config.layerNormEpsilon), config.hiddenDropout)
        let settings = PostLNBlock.Settings(
            heads: config.heads, causal: false, layerNormEpsilon: config.layerNormEpsilon, gelu: gelu, hiddenDropout: config.hiddenDropout,
            attentionDropout: config.attentionDropout)
        for block in layers { x = block.forward(tape, x, offsets: offsets, settings: settings, dropout: &dropout) }
        return x
    }

    /// [CLS] + the text's first `maxTokens − 2` ids + [SEP] (Hugging Face's truncation of one text).
    public func tokenize(_ text: String, maxTokens: Int) -> [Int32] {
        let limit = max(2, min(maxTokens, config.maxPositions))
        let ids = tokenizer.encodeWithoutSpecialTokens(text)
        return [tokenizer.classifierID] + ids.prefix(limit - 2) + [tokenizer.separatorID]
    }
}
