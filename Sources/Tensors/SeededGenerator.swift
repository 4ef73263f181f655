/// The engine's seeded random source: SplitMix64 (Steele, Lea & Flood, 2014), fixed here so
/// initialisation, batching and sampling give the same numbers on every platform for a seed.
/// (RecData keeps its own `SeededRandom` of the same algorithm: data preparation sits below the
/// engine and does not depend on it.)
public struct SeededGenerator: Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
