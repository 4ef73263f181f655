/// What a fine-tuning run changes of a pretrained model: every weight (full fine-tuning), only
/// the top blocks, or LoRA adapters on a frozen base.
public struct FineTuningOptions: Sendable, Codable, Equatable {
    /// LoRA adapters on a frozen base; nil trains the weights themselves.
    public var lora: LoRAOptions?
    /// Only the last N blocks (and the final norm) train; nil: all of them. With LoRA, adapters go
    /// into these blocks only (PEFT's `layers_to_transform`). The embeddings then stay frozen.
    public var trainableTopBlocks: Int?

    public init(lora: LoRAOptions? = nil, trainableTopBlocks: Int? = nil) {
        self.lora = lora
        self.trainableTopBlocks = trainableTopBlocks
    }

    /// Every weight trains.
    public static let full = FineTuningOptions()

    enum CodingKeys: String, CodingKey {
        case lora
        case trainableTopBlocks = "trainable_top_blocks"
    }
}

/// LoRA (Hu et al., 2021) as PEFT configures it: `W x + (α/r) · B A dropout(x)` on each target
/// matrix, A (r, in) drawn like PEFT's default (Kaiming-uniform with a = √5: U(±1/√in)), B (out, r)
/// zero, so training starts from the base model exactly.
public struct LoRAOptions: Sendable, Codable, Equatable {
    public var rank = 16
    public var alpha: Float = 32
    public var dropout: Float = 0.05
    public var targets: [LlamaMatrix] = LlamaMatrix.allCases
    /// Seeds the adapters' initial values.
    public var seed: UInt64 = 0

    public init(rank: Int = 16, alpha: Float = 32, dropout: Float = 0.05, targets: [LlamaMatrix] = LlamaMatrix.allCases, seed: UInt64 = 0) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
        self.seed = seed
    }

    /// The factor of the adapter's product, α / r.
    public var scale: Float { alpha / Float(rank) }
}
