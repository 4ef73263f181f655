/// The target's rank among all items, both ways ties can fall (docs/method.md §6):
/// optimistic `r_opt = 1 + #{items scored strictly above the target}`,
/// pessimistic `r_pes = #{items scored at or above the target}` (the target included).
/// A method without ties has `optimistic == pessimistic`.
public struct TieAwareRank: Sendable, Equatable, Codable {
    public var optimistic: Int
    public var pessimistic: Int

    public init(optimistic: Int, pessimistic: Int) {
        self.optimistic = optimistic
        self.pessimistic = pessimistic
    }

    /// Ranks `target` in `scores`. Items in `excluded` (e.g. the user's history) take no part,
    /// except the target itself. A NaN score counts as −∞.
    init(scores: UnsafeBufferPointer<Float>, target: Int, excluded: [Int] = []) {
        precondition(scores.indices.contains(target), "target \(target) outside \(scores.count) scores")
        @inline(__always) func value(_ s: Float) -> Float { s.isNaN ? -.infinity : s }
        let t = value(scores[target])
        var above = 0
        var atOrAbove = 0
        for s in scores {
            let v = value(s)
            if v > t { above += 1 }
            if v >= t { atOrAbove += 1 }
        }
        for e in Set(excluded) where e != target && scores.indices.contains(e) {
            let v = value(scores[e])
            if v > t { above -= 1 }
            if v >= t { atOrAbove -= 1 }
        }
        optimistic = above + 1
        pessimistic = atOrAbove
    }

    /// Ranks `target` among `scores`, one per item (an array, a slice of a score matrix, …).
    public init<C: Collection>(scores: C, target: Int, excluded: [Int] = []) where C.Element == Float {
        if let rank = scores.withContiguousStorageIfAvailable({ TieAwareRank(scores: $0, target: target, excluded: excluded) }) {
            self = rank
        } else {
            self = Array(scores).withUnsafeBufferPointer { TieAwareRank(scores: $0, target: target, excluded: excluded) }
        }
    }
}
