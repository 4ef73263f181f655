import Retrieval

/// What `metrics.json` records about CALRec's inference (`calrec recommend`): the model, the
/// sampling (N_gen, temperature as set, seed) and the quasi-round-robin ranking, and the time
/// generation took.
public struct InferenceSettings: Codable, Sendable, Equatable {
    public var model: String
    /// N_gen: samples per user.
    public var samples: Int
    public var temperature: Float
    public var seed: UInt64
    public var usersEvaluated: Int
    public var generationSeconds: Double
    public var generationCPUSeconds: Double
    public var qrr: QuasiRoundRobin

    public init(
        model: String, samples: Int, temperature: Float, seed: UInt64, usersEvaluated: Int, generationSeconds: Double,
        generationCPUSeconds: Double, qrr: QuasiRoundRobin
    ) {
        self.model = model
        self.samples = samples
        self.temperature = temperature
        self.seed = seed
        self.usersEvaluated = usersEvaluated
        self.generationSeconds = generationSeconds
        self.generationCPUSeconds = generationCPUSeconds
        self.qrr = qrr
    }

    enum CodingKeys: String, CodingKey {
        case model, samples, temperature, seed, qrr
        case usersEvaluated = "users_evaluated"
        case generationSeconds = "generation_seconds"
        case generationCPUSeconds = "generation_cpu_seconds"
    }
}
