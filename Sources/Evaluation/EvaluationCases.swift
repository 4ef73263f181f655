import Dispatch
import Foundation
import RecData

/// Which leave-one-out target is evaluated.
public enum EvaluationSplit: String, Sendable, CaseIterable, Codable {
    /// Target: the second-to-last purchase; history: everything before it.
    case valid
    /// Target: the last purchase; history: everything before it.
    case test
}

/// One user to evaluate: the history a method may read and the item it should rank high.
public struct EvaluationCase: Sendable, Equatable {
    public var user: Int
    public var history: [Int32]
    public var target: Int32

    public init(user: Int, history: [Int32], target: Int32) {
        self.user = user
        self.history = history
        self.target = target
    }
}

extension SequenceDataset {
    /// The evaluation cases of `split`, users in dataset order; users with fewer than three purchases
    /// are left out, as in `LeaveOneOutSplit`.
    public func evaluationCases(_ split: EvaluationSplit) -> [EvaluationCase] {
        sequences.enumerated().compactMap { user, sequence in
            guard sequence.count >= 3 else { return nil }
            let end = split == .test ? sequence.count - 1 : sequence.count - 2
            return EvaluationCase(user: user, history: sequence[..<end].map(\.item), target: sequence[end].item)
        }
    }
}

/// Ranks every case's target against the whole catalogue, in parallel on every core.
public enum FullRankingEvaluator {
    /// `score(case, row)` writes one score per item into `row`. With `excludeHistory`, the user's
    /// history items are left out of the ranking (the target never is).
    public static func rank(
        cases: [EvaluationCase], dataset: SequenceDataset, excludeHistory: Bool = false,
        score: @Sendable (EvaluationCase, ScoreRow) -> Void
    ) -> [UserRank] {
        rankByIndex(cases: cases, dataset: dataset, excludeHistory: excludeHistory) { i, row in score(cases[i], row) }
    }

    /// `rank` for scores computed ahead for all cases: `score(i, row)` writes those of `cases[i]`.
    public static func rankByIndex(
        cases: [EvaluationCase], dataset: SequenceDataset, excludeHistory: Bool = false,
        score: @Sendable (Int, ScoreRow) -> Void
    ) -> [UserRank] {
        let itemCount = dataset.itemIDs.count
        let results = ConcurrentSlots<TieAwareRank>(count: cases.count)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, cases.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var buffer = [Float](repeating: 0, count: itemCount)
            for i in stride(from: worker, to: cases.count, by: workers) {
                let c = cases[i]
                buffer.withUnsafeMutableBufferPointer { score(i, ScoreRow($0)) }
                let rank = buffer.withUnsafeBufferPointer {
                    TieAwareRank(scores: $0, target: Int(c.target), excluded: excludeHistory ? c.history.map(Int.init) : [])
                }
                results[i] = rank
            }
        }
        return cases.enumerated().map { i, c in
            UserRank(user: dataset.userIDs[c.user], target: dataset.itemIDs[Int(c.target)], rank: results[i]!)
        }
    }
}
