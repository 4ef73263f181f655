import Foundation
import Tensors
import Training

/// GPT-2 with trainable parameters on the tape: the forward pass records every operation, the loss
/// seeds the backward pass, AdamW updates the parameters (weight decay on matrices only). The
/// parameters live in one `ParameterSet` (flat weights, gradients and moments); the forward pass
/// reads them through typed views.
public final class GPT2Trainer {
    public let config: GPT2Config
    /// Weights, gradients and AdamW moments of every tensor, names sorted.
    public let parameterSet: ParameterSet
    /// Typed views of `parameterSet` for the forward pass.
    public let weights: GPT2Weights
    /// Parameters by Hugging Face name (views of `parameterSet`, for tests and cold code).
    public let parameters: [String: Variable]
    public var optimizer = AdamW()
    /// AdamW updates made through `update(lr:)`.
    public private(set) var step = 0

    public init(model: GPT2Model) {
        config = model.config
        parameterSet = model.parameterSet()
        weights = GPT2Weights(parameterSet, config: config)
        parameters = Dictionary(uniqueKeysWithValues: zip(parameterSet.tensors.map(\.name), parameterSet.variables))
    }

    /// The current weights as a model (for generation and saving).
    public func model() throws -> GPT2Model { try GPT2Model(config: config, parameters: parameterSet.weightTensors()) }

    /// Records the forward pass of `tokens` (B × T) on `tape`; returns the last hidden states (B·T, C)
    /// after the final layer norm.
    public func hidden(_ tape: Tape, tokens: [[Int32]], keyMask: [[Float]]? = nil) -> Variable {
        let b = tokens.count, t = tokens[0].count
        let w = weights
        var x = Ops.embedding(
            tape, tokens: tokens.flatMap { $0 }, positions: (0..<b).flatMap { _ in (0..<t).map(Int32.init) }, wte: w.tokenEmbedding,
            wpe: w.positionEmbedding)
        let mask = keyMask?.flatMap { $0 }
        for block in w.blocks {
            let n1 = Ops.layerNorm(tape, x, weight: block.ln1Weight, bias: block.ln1Bias)
            let qkv = Ops.linear(tape, n1, weight: block.attentionWeight, bias: block.attentionBias)
            let att = Ops.attention(tape, qkv, keyMask: mask, causal: true, batch: b, length: t, heads: config.heads)
            x = Ops.add(tape, x, Ops.linear(tape, att, weight: block.attentionProjectionWeight, bias: block.attentionProjectionBias))
            let n2 = Ops.layerNorm(tape, x, weight: block.ln2Weight, bias: block.ln2Bias)
            let up = Ops.gelu(tape, Ops.linear(tape, n2, weight: block.mlpUpWeight, bias: block.mlpUpBias))
            x = Ops.add(tape, x, Ops.linear(tape, up, weight: block.mlpDownWeight, bias: block.mlpDownBias))
        }
        return Ops.layerNorm(tape, x, weight: w.finalNormWeight, bias: w.finalNormBias)
    }

    /// Next-token cross-entropy of `tokens` over the positions `mask` marks (mask[b][t] = 1 scores
    /// the prediction of tokens[b][t + 1]); records the backward pass, returns the loss.
    public func languageModelLoss(
        _ tape: Tape, tokens: [[Int32]], lossMask: [[Float]], keyMask: [[Float]]? = nil, lossWeight: Float = 1
    ) -> Float {
        let t = tokens[0].count
        let targets = tokens.map { row in (0..<t).map { $0 + 1 < t ? row[$0 + 1] : 0 } }
        let mask = lossMask.map { row in (0..<t).map { $0 + 1 < t ? row[$0] : 0 } }
        return languageModelLoss(tape, tokens: tokens, targets: targets, lossMask: mask, keyMask: keyMask, lossWeight: lossWeight)
    }

    /// Cross-entropy of predicting `targets[b][t]` at every position `lossMask[b][t]` marks. The
    /// backward pass is seeded with `lossWeight` (e.g. 1/k for one of k accumulated micro-batches);
    /// the returned loss is unweighted.
    public func languageModelLoss(
        _ tape: Tape, tokens: [[Int32]], targets: [[Int32]], lossMask: [[Float]], keyMask: [[Float]]? = nil, lossWeight: Float = 1
    ) -> Float {
        let hidden = hidden(tape, tokens: tokens, keyMask: keyMask)
        let logits = Ops.tiedLogits(tape, hidden, wte: weights.tokenEmbedding)
        return Ops.crossEntropy(
            tape, logits: logits, targets: targets.flatMap { $0 }, mask: lossMask.flatMap { $0 }, weight: lossWeight)
    }

    /// Global-norm clipping of all gradients together; returns the norm before clipping.
    @discardableResult
    public func clipGradients(maxNorm: Float) -> Float { GradientClipping.clip(parameterSet, maxNorm: maxNorm) }

    /// Zeroes every gradient.
    public func zeroGradients() { parameterSet.zeroGradients() }

    /// One AdamW update with learning rate `lr`; matrices decay, biases and layer-norm gains do not.
    public func update(lr: Float) {
        step += 1
        optimizer.update(parameterSet, step: step, lr: lr)
    }
}

extension GPT2Model: CausalLanguageModel {
    public var family: String { "gpt2" }

    public var configurationSetup: [String: String] { TrainingCheckpoint<Never>.setup(of: config) }

    public func saveConfiguration(to folder: String) throws { try config.save(to: folder) }

    /// GPT-2 models fine-tune fully (adapters and partial training are for Llama-family models).
    public func trainer(fineTuning: FineTuningOptions) throws -> any LanguageModelTrainer {
        guard fineTuning == .full else {
            throw ModelError.malformed(path: "fine-tuning", detail: "GPT-2 models fine-tune fully; LoRA and --train-top-blocks need a Llama-family model")
        }
        return GPT2Trainer(model: self)
    }
}

extension GPT2Trainer: LanguageModelTrainer {
    public var usesDropout: Bool { false }

    public func hiddenStates(_ tape: Tape, tokens: [[Int32]]) -> Variable { hidden(tape, tokens: tokens) }

    public func outputLogits(_ tape: Tape, _ hidden: Variable) -> Variable { Ops.tiedLogits(tape, hidden, wte: weights.tokenEmbedding) }

    public func reseedDropout(_ seed: UInt64?) {}

    public func model(weights copy: FloatStorage?) throws -> any CausalLanguageModel {
        guard let copy else { return try model() }
        return try GPT2Model(config: config, parameters: parameterSet.weightTensors(of: copy))
    }
}
