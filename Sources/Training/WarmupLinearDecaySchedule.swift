/// Linear warmup to `peak`, then a linear decay to zero at `totalSteps`, in the form of Recformer's
/// `optimization.py`: the rate at step k is `peak · k / warmupSteps` while k < `warmupSteps`, then
/// `peak · max(0, 1 − k / totalSteps)`. (Unlike `transformers`' schedule of the same name, the decay
/// counts from step 0, not from the end of the warmup, so it starts below `peak`.)
public struct WarmupLinearDecaySchedule: Sendable, Equatable, Codable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Float, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate at `step` (1-based: the rate of the step-th optimiser update).
    public func rate(step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step) / Float(warmupSteps) }
        return peak * max(0, 1 - Float(step) / Float(max(totalSteps, 1)))
    }
}
