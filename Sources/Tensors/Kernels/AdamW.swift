import Foundation

/// AdamW (Loshchilov & Hutter, 2019) with decoupled weight decay, as PyTorch's `torch.optim.AdamW`:
///
///     m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
///     p −= lr · ( m/(1−β1^t) / (sqrt(v/(1−β2^t)) + ε)  +  wd · p )
public struct AdamW: Sendable, Equatable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0.01

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One update of `count` parameters at step `step` (1-based) with learning rate `lr`.
    /// `decay` false skips weight decay (biases and layer-norm gains, by convention).
    public func update(
        parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, count: Int, step: Int, lr: Float, decay: Bool = true
    ) {
        let correction1 = 1 - powf(beta1, Float(step))
        let correction2 = 1 - powf(beta2, Float(step))
        let wd = decay ? weightDecay : 0
        let (beta1, beta2, epsilon) = (self.beta1, self.beta2, self.epsilon)
        Parallel.forEachRange(count, minimumPerPart: 1 << 15) { part in
            for i in part {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                let mHat = m[i] / correction1
                let vHat = v[i] / correction2
                p[i] -= lr * (mHat / (sqrtf(vHat) + epsilon) + wd * p[i])
            }
        }
    }
}

extension AdamW {
    /// One update of every trainable tensor of `set` from its gradients, tensor by tensor in the
    /// set's order, each with its own weight-decay group; frozen tensors are left as they are.
    public func update(_ set: ParameterSet, step: Int, lr: Float) {
        let (p, g, m, v) = (set.weights.base, set.gradients.base, set.firstMoments.base, set.secondMoments.base)
        for tensor in set.tensors where tensor.trainable {
            let o = tensor.gradientOffset
            update(parameters: p + tensor.offset, gradients: g + o, m: m + o, v: v + o, count: tensor.count, step: step, lr: lr, decay: tensor.decays)
        }
    }
}

/// Linear warmup to the peak rate, then cosine decay to `minimumFraction` of it.
public struct WarmupCosineSchedule: Sendable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minimumFraction: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, minimumFraction: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumFraction = minimumFraction
    }

    /// The learning rate at `step` (1-based).
    public func rate(step: Int) -> Float {
        if step <= warmupSteps { return peak * Float(step) / Float(max(warmupSteps, 1)) }
        let progress = min(1, Float(step - warmupSteps) / Float(max(totalSteps - warmupSteps, 1)))
        let cosine = 0.5 * (1 + cosf(Float.pi * progress))
        return peak * (minimumFraction + (1 - minimumFraction) * cosine)
    }
}

/// Global-norm gradient clipping: scales every gradient by `maxNorm / norm` when the L2 norm of all
/// of them together exceeds `maxNorm`; returns the norm before clipping.
public enum GradientClipping {
    /// Global-norm clipping of the trainable tensors of `set` together, summed tensor by tensor in
    /// the set's order; returns the norm before clipping.
    @discardableResult
    public static func clip(_ set: ParameterSet, maxNorm: Float) -> Float {
        let gradients = set.gradients.base
        var sum: Double = 0
        for tensor in set.tensors where tensor.trainable {
            let g = gradients + tensor.gradientOffset
            for i in 0..<tensor.count { sum += Double(g[i]) * Double(g[i]) }
        }
        let norm = Float(sum.squareRoot())
        if norm > maxNorm && norm > 0 {
            let scale = maxNorm / norm
            for tensor in set.tensors where tensor.trainable {
                let g = gradients + tensor.gradientOffset
                for i in 0..<tensor.count { g[i] *= scale }
            }
        }
        return norm
    }
}
