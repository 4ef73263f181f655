import RecData
import Support

/// A paired randomisation (sign-flip) test between two methods evaluated on the same users: under
/// the null hypothesis each user's difference is equally likely to have either sign. The two-sided
/// p-value is `(1 + #{permutations with |mean| ≥ |observed mean|}) / (1 + permutations)`.
public struct PairedRandomizationTest: Sendable, Equatable {
    /// Mean of `a − b` over users.
    public var meanDifference: Double
    public var pValue: Double
    public var permutations: Int

    public init(_ a: [Double], _ b: [Double], permutations: Int = 10_000, seed: UInt64 = 0) {
        precondition(a.count == b.count, "paired samples need the same users")
        let differences = zip(a, b).map { $0 - $1 }
        let n = Double(max(differences.count, 1))
        let observed = abs(differences.reduce(0, +)) / n
        var random = SeededRandom(seed: seed)
        var extreme = 0
        let tolerance = 1e-12 * max(1, observed)
        for _ in 0..<permutations {
            var sum = 0.0
            var bits: UInt64 = 0
            for (i, d) in differences.enumerated() {
                if i % 64 == 0 { bits = random.next() }
                sum += (bits & 1) == 1 ? d : -d
                bits >>= 1
            }
            if abs(sum) / n >= observed - tolerance { extreme += 1 }
        }
        meanDifference = differences.reduce(0, +) / n
        pValue = Double(1 + extreme) / Double(1 + permutations)
        self.permutations = permutations
    }

    /// Compares two ranks files' users on `metric`, optimistic or pessimistic ranks.
    public init(_ a: [UserRank], _ b: [UserRank], metric: RankingMetric, pessimistic: Bool, permutations: Int = 10_000, seed: UInt64 = 0)
        throws
    {
        let byUser = Dictionary(uniqueKeysWithValues: b.map { ($0.user, $0) })
        guard a.count == b.count, a.allSatisfy({ byUser[$0.user] != nil }) else {
            throw EvaluationError.mismatchedUsers("\(a.count) and \(b.count) users, \(a.filter { byUser[$0.user] == nil }.count) unmatched")
        }
        func value(_ r: UserRank) -> Double { metric.value(rank: pessimistic ? r.rank.pessimistic : r.rank.optimistic) }
        self.init(a.map(value), a.map { value(byUser[$0.user]!) }, permutations: permutations, seed: seed)
    }
}
