import Foundation
import Support
import Training

/// CPU time (user + system, all threads) this process has used, in seconds: recorded beside wall
/// time in training settings and metrics, since on a shared 2-core machine wall time varies with load.
enum CPUTime {
    static func now() -> Double { Platform.processCPUSeconds() }
}

extension TrainingCost {
    /// `cpu_seconds` and `wall_seconds` as training records write them, with `resumed: true` for a
    /// run continued from a checkpoint (its times include the earlier processes' up to that checkpoint).
    func record(resumed: Bool) -> [String: Any] {
        var object: [String: Any] = ["cpu_seconds": cpuSeconds, "wall_seconds": wallSeconds]
        if resumed { object["resumed"] = true }
        return object
    }
}
