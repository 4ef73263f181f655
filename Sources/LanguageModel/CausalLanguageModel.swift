import Tensors

/// A pretrained or trained causal language model, whatever its family (GPT-2, Llama): what CALRec's
/// training and inference need of a backbone.
public protocol CausalLanguageModel: AnyObject {
    /// The architecture's short name (`gpt2`, `llama`), as run records give it.
    var family: String { get }
    var vocabularySize: Int { get }
    var maxPositions: Int { get }
    /// The configuration's fields as a checkpoint's setup records them (a resumed run must match).
    var configurationSetup: [String: String] { get }
    /// Logits (B, T, V) of B sequences of the same length T in one pass; `keyMask` (B, T) hides padding.
    func logits(_ tokens: [[Int32]], keyMask: [[Float]]?) -> [Float]
    /// Continues each prompt with the KV cache (left-padded batch, deterministic for a seed).
    func generate(prompts: [[Int32]], options: SamplingOptions, endOfText: Int32?, decode: (([Int32]) -> String)?) -> [GeneratedSequence]
    /// Writes the model's files (configuration and weights, or adapters) into `folder`.
    func save(to folder: String) throws
    /// Writes the configuration alone (beside a checkpoint's weights).
    func saveConfiguration(to folder: String) throws
    /// A trainer over a copy of this model's weights; `fineTuning` chooses what trains.
    func trainer(fineTuning: FineTuningOptions) throws -> any LanguageModelTrainer
}

/// A model's parameters on the tape: what CALRec's objective records its passes with.
public protocol LanguageModelTrainer: AnyObject {
    /// Every tensor: weights, gradients, AdamW moments, trainable flags.
    var parameterSet: ParameterSet { get }
    var optimizer: AdamW { get }
    /// Whether forward passes draw dropout (LoRA dropout); `reseedDropout` then seeds them.
    var usesDropout: Bool { get }
    /// Records the forward pass of right-padded `tokens` (B × T); returns the last hidden states
    /// (B·T, C) after the final norm.
    func hiddenStates(_ tape: Tape, tokens: [[Int32]]) -> Variable
    /// Logits (N, V) of hidden states (N, C).
    func outputLogits(_ tape: Tape, _ hidden: Variable) -> Variable
    /// Seeds the dropout of the passes that follow; nil turns it off (validation).
    func reseedDropout(_ seed: UInt64?)
    /// The model with the weights of `copy` (a flat buffer in the set's layout), or the current ones.
    func model(weights copy: FloatStorage?) throws -> any CausalLanguageModel
}

extension CausalLanguageModel {
    /// Σ_{t ≥ 1} log p(tokens[t] | tokens[..<t]): the total log-probability of every token after the
    /// first (natural log), from one full pass. The sequence must fit the model's positions.
    public func logProbability(of tokens: [Int32]) -> Double {
        guard tokens.count > 1 else { return 0 }
        let v = vocabularySize
        let logits = self.logits([tokens], keyMask: nil)
        var total = 0.0
        for t in 1..<tokens.count { total += Sampler.logSoftmax(Array(logits[((t - 1) * v)..<(t * v)]), at: Int(tokens[t])) }
        return total
    }
}
