import Foundation
import RecData
import Support

/// Averages of ranking metrics over users, optimistic and pessimistic, with 95% bootstrap
/// confidence intervals (percentile method over users resampled with replacement, seeded).
public struct EvaluationSummary: Sendable {
    public struct Value: Sendable, Equatable {
        public var optimistic: Double
        public var pessimistic: Double
    }

    public let users: Int
    public let metrics: [RankingMetric]
    public let means: [RankingMetric: Value]
    /// 95% intervals: lower and upper bounds, optimistic and pessimistic.
    public let lower: [RankingMetric: Value]
    public let upper: [RankingMetric: Value]
    public let bootstrapSamples: Int
    public let seed: UInt64

    public init(ranks: [UserRank], metrics: [RankingMetric] = RankingMetric.paper, bootstrapSamples: Int = 1000, seed: UInt64 = 0) {
        users = ranks.count
        self.metrics = metrics
        self.bootstrapSamples = bootstrapSamples
        self.seed = seed
        var means: [RankingMetric: Value] = [:]
        var lower: [RankingMetric: Value] = [:]
        var upper: [RankingMetric: Value] = [:]
        let n = ranks.count
        // The same resampled user sets for every metric, so intervals are comparable.
        var random = SeededRandom(seed: seed)
        let draws: [[Int]] = n == 0 ? [] : (0..<bootstrapSamples).map { _ in (0..<n).map { _ in random.below(n) } }
        for metric in metrics {
            let opt = ranks.map { metric.value(rank: $0.rank.optimistic) }
            let pes = ranks.map { metric.value(rank: $0.rank.pessimistic) }
            means[metric] = Value(optimistic: Self.mean(opt), pessimistic: Self.mean(pes))
            guard n > 0, bootstrapSamples > 0 else {
                lower[metric] = means[metric]
                upper[metric] = means[metric]
                continue
            }
            var optMeans = draws.map { draw in draw.reduce(0.0) { $0 + opt[$1] } / Double(n) }
            var pesMeans = draws.map { draw in draw.reduce(0.0) { $0 + pes[$1] } / Double(n) }
            optMeans.sort()
            pesMeans.sort()
            lower[metric] = Value(optimistic: Self.percentile(optMeans, 0.025), pessimistic: Self.percentile(pesMeans, 0.025))
            upper[metric] = Value(optimistic: Self.percentile(optMeans, 0.975), pessimistic: Self.percentile(pesMeans, 0.975))
        }
        self.means = means
        self.lower = lower
        self.upper = upper
    }

    static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    /// Linear interpolation between order statistics of sorted `values`.
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = q * Double(sorted.count - 1)
        let i = Int(position.rounded(.down))
        let fraction = position - Double(i)
        return i + 1 < sorted.count ? sorted[i] + fraction * (sorted[i + 1] - sorted[i]) : sorted[i]
    }
}
