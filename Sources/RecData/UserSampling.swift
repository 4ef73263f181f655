import Support

/// Keeps a random fraction of a category's users, as the paper does for Office (50%) and Pet (20%).
///
/// Users are put in lexicographic order of their identifiers, shuffled with `SeededRandom(seed)`, and
/// the first `round(fraction × count)` are kept. The result depends only on the set of identifiers,
/// the fraction and the seed — not on file order.
public enum UserSampling {
    /// The identifiers kept.
    public static func sample(_ userIDs: [String], fraction: Double, seed: UInt64) throws -> Set<String> {
        guard fraction > 0, fraction <= 1 else {
            throw RecDataError.invalidArgument("--sample-users must be in (0, 1]; got \(fraction)")
        }
        var ordered = Array(Set(userIDs)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if fraction == 1 { return Set(ordered) }
        var random = SeededRandom(seed: seed)
        random.shuffle(&ordered)
        let keep = Int((fraction * Double(ordered.count)).rounded())
        return Set(ordered.prefix(keep))
    }
}
