import ArgumentParser
import Retrieval

/// The quasi-round-robin options of the commands that rank samples (`recommend`, `evaluate`),
/// declared once (docs/method.md §5; the defaults are ours, the paper prints none).
struct RankingOptions: ParsableArguments {
    @Option(name: .customLong("n-preds"), help: "Quasi-round-robin: samples kept after de-duplication (N_preds).")
    var predictions = 5

    @Option(help: "Quasi-round-robin pooling across samples: max, mean or min.")
    var pooling: QuasiRoundRobin.Pooling = .max

    @Flag(name: .customLong("no-modulation"), help: "Quasi-round-robin: do not multiply columns by exp(ε·logprob).")
    var noModulation = false

    @Option(help: "Quasi-round-robin: ε of the modulation exp(ε·logprob).")
    var epsilon = 0.01

    func validate() throws {
        guard predictions >= 1 else { throw ValidationError("--n-preds must be at least 1") }
        guard epsilon.isFinite else { throw ValidationError("--epsilon must be a finite number") }
    }

    /// The ranking these options describe.
    var quasiRoundRobin: QuasiRoundRobin {
        QuasiRoundRobin(predictions: predictions, pooling: pooling, modulation: !noModulation, epsilon: epsilon)
    }
}

extension QuasiRoundRobin.Pooling: ExpressibleByArgument {}
