import Foundation
import Support

/// The shape of a Llama-family decoder (Llama, SmolLM2, Qwen2-style): RMSNorm, rotary positions,
/// grouped-query attention and a SwiGLU feed-forward, as Hugging Face's `LlamaConfig` names them.
public struct LlamaConfig: Sendable, Equatable, Codable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var attentionHeads: Int
    public var keyValueHeads: Int
    public var maxPositions: Int
    public var rmsNormEpsilon: Float
    public var ropeTheta: Float
    /// Whether the output projection is the token embedding (no separate `lm_head`).
    public var tiedEmbeddings: Bool

    public var headSize: Int { hiddenSize / attentionHeads }

    public init(
        vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layers: Int, attentionHeads: Int, keyValueHeads: Int,
        maxPositions: Int, rmsNormEpsilon: Float, ropeTheta: Float, tiedEmbeddings: Bool
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layers = layers
        self.attentionHeads = attentionHeads
        self.keyValueHeads = keyValueHeads
        self.maxPositions = maxPositions
        self.rmsNormEpsilon = rmsNormEpsilon
        self.ropeTheta = ropeTheta
        self.tiedEmbeddings = tiedEmbeddings
    }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layers = "num_hidden_layers"
        case attentionHeads = "num_attention_heads"
        case keyValueHeads = "num_key_value_heads"
        case maxPositions = "max_position_embeddings"
        case rmsNormEpsilon = "rms_norm_eps"
        case ropeTheta = "rope_theta"
        case tiedEmbeddings = "tie_word_embeddings"
        case ropeScaling = "rope_scaling"
        case headDim = "head_dim"
        case hiddenAct = "hidden_act"
        case modelType = "model_type"
        case architectures
        case attentionBias = "attention_bias"
        case mlpBias = "mlp_bias"
    }

    /// Reads a Hugging Face `config.json` with Hugging Face's defaults (key/value heads = heads,
    /// RoPE base 10,000, untied embeddings). What this package cannot run — RoPE scaling, another
    /// activation, a head size other than hidden / heads, MLP biases — is an error naming the field.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        layers = try c.decode(Int.self, forKey: .layers)
        attentionHeads = try c.decode(Int.self, forKey: .attentionHeads)
        keyValueHeads = try c.decodeIfPresent(Int.self, forKey: .keyValueHeads) ?? attentionHeads
        maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? 2048
        rmsNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .rmsNormEpsilon) ?? 1e-6
        ropeTheta = try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10_000
        tiedEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings) ?? false
        func unsupported(_ key: CodingKeys, _ detail: String) -> DecodingError {
            .dataCorruptedError(forKey: key, in: c, debugDescription: detail)
        }
        if (try? c.decodeNil(forKey: .ropeScaling)) == false {
            throw unsupported(.ropeScaling, "rope_scaling is set; only plain rotary positions are supported")
        }
        if let act = try c.decodeIfPresent(String.self, forKey: .hiddenAct), act != "silu" {
            throw unsupported(.hiddenAct, "hidden_act is '\(act)'; Llama-family models here use 'silu' (SwiGLU)")
        }
        if let headDim = try c.decodeIfPresent(Int.self, forKey: .headDim), headDim * attentionHeads != hiddenSize {
            throw unsupported(.headDim, "head_dim \(headDim) × \(attentionHeads) heads is not the hidden size \(hiddenSize)")
        }
        if try c.decodeIfPresent(Bool.self, forKey: .mlpBias) == true { throw unsupported(.mlpBias, "mlp_bias is true; MLP biases are not supported") }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(["LlamaForCausalLM"], forKey: .architectures)
        try c.encode("llama", forKey: .modelType)
        try c.encode("silu", forKey: .hiddenAct)
        try c.encode(false, forKey: .attentionBias)
        try c.encode(false, forKey: .mlpBias)
        try c.encodeNil(forKey: .ropeScaling)
        try c.encode(vocabularySize, forKey: .vocabularySize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(layers, forKey: .layers)
        try c.encode(attentionHeads, forKey: .attentionHeads)
        try c.encode(keyValueHeads, forKey: .keyValueHeads)
        try c.encode(maxPositions, forKey: .maxPositions)
        try c.encode(rmsNormEpsilon, forKey: .rmsNormEpsilon)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(tiedEmbeddings, forKey: .tiedEmbeddings)
    }

    /// Reads `config.json`; errors name the file and the field.
    public static func read(_ path: String) throws -> LlamaConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.io(path: path, detail: "cannot read") }
        do {
            return try JSONDecoder().decode(LlamaConfig.self, from: data)
        } catch let error as DecodingError {
            throw ModelError.malformed(path: path, detail: "not a Llama-family config.json: \(DecodingErrorText.describe(error))")
        }
    }

    /// Writes `config.json` into `folder` (atomically).
    public func save(to folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicWrite.write(try encoder.encode(self), to: (folder as NSString).appendingPathComponent("config.json"))
    }
}
