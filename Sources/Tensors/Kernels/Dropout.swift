import Foundation

/// Inverted dropout with a counter-based mask: element `i` of a call seeded `seed` is kept when
/// `hash(seed, i)` falls above the drop probability, and kept values are scaled by 1/(1−p). The mask
/// is a pure function of (seed, index), so it needs no storage, is the same forward and backward,
/// does not depend on how the work is split across threads, and makes a training run reproducible
/// for a seed.
public struct DropoutMask: Sendable, Equatable {
    /// The probability of dropping an element, in [0, 1).
    public var probability: Float
    public var seed: UInt64

    public init(probability: Float, seed: UInt64) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        self.seed = seed
    }

    /// The factor element `index` is multiplied by: 0 when dropped, 1/(1−p) when kept.
    @inline(__always)
    public func factor(_ index: Int) -> Float {
        // SplitMix64's finaliser of (seed + golden·index): a well-mixed 64-bit hash per element.
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: index &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let uniform = Float(z >> 40) * 0x1.0p-24
        return uniform < probability ? 0 : 1 / (1 - probability)
    }
}

/// `out = inp ⊙ mask` elementwise, `dinp += dout ⊙ mask`.
public enum Dropout {
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, mask: DropoutMask, count: Int) {
        Parallel.forEachRange(count, minimumPerPart: 1 << 14) { part in
            for i in part { out[i] = inp[i] * mask.factor(i) }
        }
    }

    public static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, mask: DropoutMask, count: Int) {
        Parallel.forEachRange(count, minimumPerPart: 1 << 14) { part in
            for i in part { dinp[i] += dout[i] * mask.factor(i) }
        }
    }
}
