import Foundation

/// Ranking metrics of one rank (docs/method.md §6; one target per user, so Recall@K = HitRate@K):
/// NDCG@K = 1/log2(r + 1) if r ≤ K else 0; Recall@K = 1 if r ≤ K else 0; MRR = 1/r.
public enum RankingMetric: Hashable, Sendable, CustomStringConvertible {
    case ndcg(Int)
    case recall(Int)
    case mrr

    /// The metric's value for a 1-based rank.
    public func value(rank: Int) -> Double {
        precondition(rank >= 1)
        switch self {
        case .ndcg(let k): return rank <= k ? 1 / log2(Double(rank) + 1) : 0
        case .recall(let k): return rank <= k ? 1 : 0
        case .mrr: return 1 / Double(rank)
        }
    }

    /// `ndcg@10`, `recall@1`, `mrr` — the keys of `metrics.json`.
    public var description: String {
        switch self {
        case .ndcg(let k): return "ndcg@\(k)"
        case .recall(let k): return "recall@\(k)"
        case .mrr: return "mrr"
        }
    }

    /// Parses `ndcg@K`, `recall@K`, `hit@K` (same as recall) or `mrr`.
    public init?(_ text: String) {
        let lower = text.lowercased()
        if lower == "mrr" {
            self = .mrr
            return
        }
        let parts = lower.split(separator: "@")
        guard parts.count == 2, let k = Int(parts[1]), k > 0 else { return nil }
        switch parts[0] {
        case "ndcg": self = .ndcg(k)
        case "recall", "hit": self = .recall(k)
        default: return nil
        }
    }

    /// The paper's metrics: NDCG@10, Recall@1, Recall@10, MRR.
    public static let paper: [RankingMetric] = [.ndcg(10), .recall(1), .recall(10), .mrr]
}
