/// What `calrec compare` prints: one paired randomisation test between two `ranks.tsv` files.
public struct PairedTestRecord: Codable, Sendable, Equatable {
    public var metric: String
    /// "optimistic" or "pessimistic".
    public var ranks: String
    public var users: Int
    public var meanDifference: Double
    public var pValue: Double
    public var permutations: Int
    public var seed: UInt64
    public var a: String
    public var b: String

    public init(
        metric: RankingMetric, pessimistic: Bool, users: Int, test: PairedRandomizationTest, seed: UInt64, a: String, b: String
    ) {
        self.metric = metric.description
        ranks = pessimistic ? "pessimistic" : "optimistic"
        self.users = users
        meanDifference = test.meanDifference
        pValue = test.pValue
        permutations = test.permutations
        self.seed = seed
        self.a = a
        self.b = b
    }

    enum CodingKeys: String, CodingKey {
        case metric, ranks, users, permutations, seed, a, b
        case meanDifference = "mean_difference"
        case pValue = "p_value"
    }
}
