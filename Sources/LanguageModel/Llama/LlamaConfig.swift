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
    }
}
