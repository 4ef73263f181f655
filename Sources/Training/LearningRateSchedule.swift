import Tensors

/// How the learning rate moves over the steps of a run.
public enum LearningRateSchedule: Sendable, Equatable {
    /// The same rate at every step (SASRec's and BERT4Rec's Adam).
    case constant(Float)
    /// Linear warmup, then cosine decay (GPT-2 pretraining and CALRec fine-tuning).
    case warmupCosine(WarmupCosineSchedule)
    /// Linear warmup, then linear decay to zero (Recformer's fine-tuning).
    case warmupLinearDecay(WarmupLinearDecaySchedule)

    /// The rate at `step` (1-based).
    public func rate(step: Int) -> Float {
        switch self {
        case .constant(let rate): return rate
        case .warmupCosine(let schedule): return schedule.rate(step: step)
        case .warmupLinearDecay(let schedule): return schedule.rate(step: step)
        }
    }
}
