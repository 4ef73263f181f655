import CALRec
import Evaluation
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

    /// As metrics.json records it (`training` absent when unknown; per stage when there were several,
    /// two stages of one name — a stage 2 continued from another — summed under it).
    var seconds: ComputeSeconds {
        let stages = trainingStages.flatMap { $0.count > 1 ? Dictionary($0.map { ($0.name, $0.seconds) }, uniquingKeysWith: +) : nil }
        return ComputeSeconds(training: trainingSeconds, inference: inferenceSeconds, trainingStages: stages)
    }

    /// The training CPU seconds of a model folder written by `calrec train` and of every folder it
    /// started from, oldest first, as its `calrec.json` recorded them at training time; nil (said on
    /// standard error) for a model trained elsewhere or before the chain was recorded.
    static func trainingChain(model: String) -> [(name: String, seconds: Double)]? {
        let path = (model as NSString).appendingPathComponent(ModelSettingsFile.fileName)
        let settings: ModelSettingsFile?
        do {
            settings = try ModelSettingsFile.read(folder: model)
        } catch {
            log("training CPU time unknown: \(describe(error))")
            return nil
        }
        guard let chain = settings?.trainingChain else {
            log("training CPU time unknown: \(path) is missing or has no training_chain")
            return nil
        }
        return chain.map { ($0.stage, $0.cpuSeconds) }
    }

    /// `training_chain` for a model trained now: its starting model's chain, then this stage. A
    /// pretrained GGUF file starts the chain: its pretraining was not done here and is not counted.
    static func chain(startingFrom initFolder: String?, stage: Int, seconds: Double) -> [ModelSettingsFile.ChainStage]? {
        var chain: [(name: String, seconds: Double)] = []
        if let initFolder, !initFolder.hasSuffix(".gguf") {
            guard let before = trainingChain(model: initFolder) else { return nil }
            chain = before
        }
        chain.append(("stage \(stage)", seconds))
        return chain.map { ModelSettingsFile.ChainStage(stage: $0.name, cpuSeconds: $0.seconds) }
    }
}
