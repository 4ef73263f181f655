import LanguageModel
import Tensors

/// CALRec's objective (docs/method.md §4): `L = (1 − α − β)·L_NIG + α·L_TT + β·L_UT`, with L_NIG the token
/// cross-entropy over the target tokens, and L_TT, L_UT in-batch InfoNCE at temperature τ_c between
/// mean-pooled, L2-normalised last hidden states (cosine similarity): v^{T|U} (target positions of
/// the joint pass) and v^U (history positions of the same pass) against v^T (a separate pass over
/// the target alone, same weights). Defaults as printed: α = 0.125, β = −0.025, τ_c = 0.5.
public struct CALRecObjective: Sendable, Codable, Equatable {
    public var alpha: Float
    public var beta: Float
    public var temperature: Float

    public init(alpha: Float = 0.125, beta: Float = -0.025, temperature: Float = 0.5) {
        self.alpha = alpha
        self.beta = beta
        self.temperature = temperature
    }

    /// Whether the contrastive terms take part (and the target-only pass runs).
    public var isContrastive: Bool { alpha != 0 || beta != 0 }

    /// The parts of one evaluation of the objective.
    public struct Losses: Sendable, Equatable {
        public var total: Float
        public var nextItem: Float
        public var targetTarget: Float
        public var userTarget: Float
    }

    /// Records the objective on `tape` for `batch` and seeds its backward pass with d(total) =
    /// `weight` (1/k for one of k accumulated micro-batches); returns the unweighted parts.
    public func record(_ tape: Tape, trainer: any LanguageModelTrainer, batch: CALRecBatch, weight: Float = 1) -> Losses {
        let b = batch.count, t = batch.length
        let hidden = trainer.hiddenStates(tape, tokens: batch.joint)
        let (rows, targets) = batch.predictedRows()
        // Logits only at the positions that predict a target token: the output projection over the
        // vocabulary is the largest product of a pass, and L_NIG reads no other row.
        let logits = trainer.outputLogits(tape, Ops.gatherRows(tape, hidden, rows: rows))
        let nextItem = Ops.crossEntropy(
            tape, logits: logits, targets: targets, mask: [Float](repeating: 1, count: rows.count), weight: (1 - alpha - beta) * weight)
        guard isContrastive else { return Losses(total: nextItem, nextItem: nextItem, targetTarget: 0, userTarget: 0) }
        let jointTarget = Ops.l2Normalize(tape, Ops.segmentMeanPool(tape, hidden, mask: batch.targetMask, batch: b, length: t))
        let jointHistory = Ops.l2Normalize(tape, Ops.segmentMeanPool(tape, hidden, mask: batch.historyMask, batch: b, length: t))
        let targetHidden = trainer.hiddenStates(tape, tokens: batch.targetOnly)
        let target = Ops.l2Normalize(
            tape, Ops.segmentMeanPool(tape, targetHidden, mask: batch.targetOnlyMask, batch: b, length: batch.targetLength))
        let targetTarget = Ops.infoNCE(tape, jointTarget, target, temperature: temperature, weight: alpha * weight)
        let userTarget = Ops.infoNCE(tape, jointHistory, target, temperature: temperature, weight: beta * weight)
        let total = (1 - alpha - beta) * nextItem + alpha * targetTarget + beta * userTarget
        return Losses(total: total, nextItem: nextItem, targetTarget: targetTarget, userTarget: userTarget)
    }

    /// L_NIG of `batch` without recording anything (validation).
    public static func nextItemLoss(trainer: any LanguageModelTrainer, batch: CALRecBatch) -> Float {
        let tape = Tape()
        defer { tape.reset() }
        let hidden = trainer.hiddenStates(tape, tokens: batch.joint)
        let (rows, targets) = batch.predictedRows()
        let logits = trainer.outputLogits(tape, Ops.gatherRows(tape, hidden, rows: rows))
        let v = logits.shape.last!
        return CrossEntropy.forwardBackward(
            logits: logits.value.base, targets: targets, mask: [Float](repeating: 1, count: rows.count), dlogits: nil,
            rows: rows.count, vocabulary: v)
    }
}
