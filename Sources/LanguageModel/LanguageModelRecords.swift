import Training

/// What `calrec lm score` prints: the text's token count and total log-probability (natural log).
public struct ScoredText: Codable, Sendable, Equatable {
    public var tokens: Int
    public var logprob: Double

    public init(tokens: Int, logprob: Double) {
        self.tokens = tokens
        self.logprob = logprob
    }
}

/// One line `calrec lm generate` prints: a continuation, its length and its log-probability under
/// the untempered model.
public struct GeneratedText: Codable, Sendable, Equatable {
    public var text: String
    public var tokens: Int
    public var logprob: Double

    public init(text: String, tokens: Int, logprob: Double) {
        self.text = text
        self.tokens = tokens
        self.logprob = logprob
    }
}

/// `cost.json` in a folder written by `calrec lm train`: the steps trained and what they cost, over
/// every process of a resumed run.
public struct TrainingCostFile: Codable, Sendable, Equatable {
    public static let currentVersion = 2
    public var version: Int
    public var steps: Int
    public var cpuSeconds: Double
    public var wallSeconds: Double
    public var resumed: Bool?

    public init(steps: Int, cost: TrainingCost, resumed: Bool) {
        version = Self.currentVersion
        self.steps = steps
        cpuSeconds = cost.cpuSeconds
        wallSeconds = cost.wallSeconds
        self.resumed = resumed ? true : nil
    }

    enum CodingKeys: String, CodingKey {
        case version, steps, resumed
        case cpuSeconds = "cpu_seconds"
        case wallSeconds = "wall_seconds"
    }
}
