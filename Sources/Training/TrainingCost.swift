import Foundation
import Support

/// CPU seconds (user + system, all threads) and wall seconds a training run has cost. A run killed
/// and resumed costs the sum over its processes: its checkpoints carry what the processes before
/// them spent up to the checkpoint, so only the work after a killed process's last checkpoint (done
/// again on resuming) goes uncounted.
public struct TrainingCost: Codable, Sendable, Equatable {
    public var cpuSeconds: Double
    public var wallSeconds: Double

    public init(cpuSeconds: Double, wallSeconds: Double) {
        self.cpuSeconds = cpuSeconds
        self.wallSeconds = wallSeconds
    }

    public static let zero = TrainingCost(cpuSeconds: 0, wallSeconds: 0)

    public static func + (a: TrainingCost, b: TrainingCost) -> TrainingCost {
        TrainingCost(cpuSeconds: a.cpuSeconds + b.cpuSeconds, wallSeconds: a.wallSeconds + b.wallSeconds)
    }

    enum CodingKeys: String, CodingKey {
        case cpuSeconds = "cpu_seconds"
        case wallSeconds = "wall_seconds"
    }

    /// A moment of this process: its CPU seconds and the wall clock then.
    public struct Mark: Sendable {
        public let cpuSeconds: Double
        public let wall: Date

        public static func now() -> Mark { Mark(cpuSeconds: Platform.processCPUSeconds(), wall: Date()) }

        /// What this process has spent since the mark.
        public func elapsed() -> TrainingCost {
            TrainingCost(cpuSeconds: Platform.processCPUSeconds() - cpuSeconds, wallSeconds: Date().timeIntervalSince(wall))
        }
    }
}
