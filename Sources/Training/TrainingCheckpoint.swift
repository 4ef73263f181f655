import Foundation

/// What a checkpoint folder's `training.json` holds: everything besides the tensors that a run
/// needs to continue exactly where it was. The folder also holds `model.safetensors` (the weights
/// after `step`, Hugging Face names), `optimizer.safetensors` (AdamW's moments as `m.<name>` and
/// `v.<name>`, the step in the metadata), `best.safetensors` when validation has chosen a model,
/// and the model's own files (`config.json`, a tokenizer).
public struct TrainingCheckpoint<Point: Codable & Sendable>: Codable, Sendable {
    /// The format this code writes and reads. 1 was the per-model records without a version.
    public static var currentVersion: Int { 2 }

    /// The format of the folder.
    public var version: Int
    /// The kind of model and run ("gpt2-language-model", "calrec", "sasrec", "bert4rec").
    public var model: String
    /// The options and data a resumed run must share with this one, each as its JSON text.
    public var setup: [String: String]
    /// Optimiser steps done.
    public var step: Int
    /// The states of the run's random generators after `step`, in the run's own order.
    public var randomStates: [UInt64]
    /// The training curve up to `step`.
    public var curve: [Point]
    /// The step whose weights `best.safetensors` holds and its validation criterion (lower is better).
    public var bestStep: Int?
    public var bestCriterion: Double?
    /// Validations since the best one (early stopping counts these).
    public var validationsSinceBest: Int
    /// Whether the run has ended before its last step (early stopping): resuming returns at once.
    public var stopped: Bool
    /// What the processes that trained up to this checkpoint spent.
    public var cost: TrainingCost

    enum CodingKeys: String, CodingKey {
        case version, model, setup, step, curve, stopped, cost
        case randomStates = "random_states"
        case bestStep = "best_step"
        case bestCriterion = "best_criterion"
        case validationsSinceBest = "validations_since_best"
    }

    /// The top-level fields of `value`'s JSON encoding, each as its JSON text (a run's setup).
    public static func setup<Options: Encodable>(of value: Options) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        var result: [String: String] = [:]
        for (key, field) in object {
            let text = (try? JSONSerialization.data(withJSONObject: field, options: [.sortedKeys, .fragmentsAllowed])).map {
                String(decoding: $0, as: UTF8.self)
            }
            result[key] = text ?? "\(field)"
        }
        return result
    }

    /// The setup entries that differ between `self` and `setup`, for a message.
    func differences(from setup: [String: String]) -> [String] {
        Set(self.setup.keys).union(setup.keys).sorted().compactMap { key in
            let old = self.setup[key], new = setup[key]
            return old == new ? nil : "\(key): \(old ?? "absent") in the checkpoint, \(new ?? "absent") now"
        }
    }
}
