/// The de-duplication rule of docs/method.md §2: a review that exactly repeats the same user's previous record
/// (same item, same time, same rating, same text) is dropped. The same item at another time, or with
/// another rating or text, is kept. "Previous" means the preceding record in the user's chronological
/// order, before anything is dropped, so a run of identical records keeps its first.
public enum Deduplication {
    /// Whether `record` repeats `previous` exactly.
    public static func isDuplicate(_ record: ReviewRecord, of previous: ReviewRecord) -> Bool {
        record.item == previous.item && record.time == previous.time && record.rating == previous.rating
            && record.textHash == previous.textHash
    }

    /// Drops duplicates from one user's chronologically ordered records; returns the kept records and
    /// how many were dropped.
    public static func apply(_ records: [ReviewRecord]) -> (kept: [ReviewRecord], dropped: Int) {
        guard var previous = records.first else { return ([], 0) }
        var kept = [previous]
        for record in records.dropFirst() {
            if !isDuplicate(record, of: previous) { kept.append(record) }
            previous = record
        }
        return (kept, records.count - kept.count)
    }
}
