import Foundation

/// The CPU seconds a method's result cost: fitting it (every training stage, for CALRec the chain
/// stage 0 → 1 → 2) and ranking the evaluated users. Written to metrics.json as `cpu_seconds` and
/// shown by `calrec results` beside the metrics.
struct ComputeCost {
    /// Training CPU seconds per stage, in the order run (nil: not known, e.g. a model loaded from elsewhere).
    var trainingStages: [(name: String, seconds: Double)]?
    /// Generation (CALRec), scoring and ranking of the evaluated users.
    var inferenceSeconds: Double

    var trainingSeconds: Double? { trainingStages.map { $0.reduce(0) { $0 + $1.seconds } } }

    /// `{"training": …, "inference": …, "training_stages": {…}}` (`training` null when unknown).
    var json: [String: Any] {
        var object: [String: Any] = ["inference": inferenceSeconds, "training": trainingSeconds.map { $0 as Any } ?? NSNull()]
        if let stages = trainingStages, stages.count > 1 {
            object["training_stages"] = Dictionary(uniqueKeysWithValues: stages.map { ($0.name, $0.seconds as Any) })
        }
        return object
    }

    /// The training CPU seconds of a model folder written by `calrec train` and of every folder it
    /// started from (`calrec.json`'s `init`, followed back to stage 0), oldest first; nil when a
    /// folder of the chain has no `calrec.json` with `cpu_seconds` (a model trained elsewhere).
    static func trainingChain(model: String) -> [(name: String, seconds: Double)]? {
        var stages: [(name: String, seconds: Double)] = []
        var folder: String? = model
        var visited = Set<String>()
        while let current = folder {
            let path = (current as NSString).appendingPathComponent("calrec.json")
            guard visited.insert((path as NSString).standardizingPath).inserted,
                let data = FileManager.default.contents(atPath: path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let seconds = (object["cpu_seconds"] as? NSNumber)?.doubleValue
            else {
                log("training CPU time unknown: \(path) is missing or has no cpu_seconds")
                return nil
            }
            let stage = (object["stage"] as? NSNumber).map { "stage \($0.intValue)" } ?? current
            stages.insert((stage, seconds), at: 0)
            folder = object["init"] as? String
        }
        return stages
    }
}
