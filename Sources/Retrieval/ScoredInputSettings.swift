/// What `metrics.json` records about ranking a given file: the samples (`samples.jsonl`, ranked by
/// quasi-round-robin BM25 with `qrr`) or scores (`user item score` TSV) that were evaluated.
public struct ScoredInputSettings: Codable, Sendable, Equatable {
    public var input: String
    /// Absent for a scores file.
    public var qrr: QuasiRoundRobin?

    public init(input: String, qrr: QuasiRoundRobin?) {
        self.input = input
        self.qrr = qrr
    }
}
