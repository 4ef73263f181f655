import Evaluation
import Foundation
import RecData
import Support
import Tensors

/// A next-item recommender that `SequentialTrainer` trains and the tie-aware evaluator ranks with:
/// SASRec, BERT4Rec, UniSRec, FDSA. Items are dataset indices (0-based) in its inputs.
public protocol SequentialRecommender: AnyObject {
    /// Weights, gradients and Adam moments of every tensor.
    var parameterSet: ParameterSet { get }
    /// Items it scores (the dataset's catalogue).
    var itemCount: Int { get }
    /// Its name in logs, checkpoints and `metrics.json` (`sasrec`, `unisrec-t` …).
    var methodName: String { get }
    /// Its configuration as a checkpoint records it (a resumed run must match it).
    var checkpointConfig: String { get }
    /// The shortest training sequence (the validation and test targets removed) it learns from.
    var minimumTrainingLength: Int { get }
    /// Records the training loss of `sequences` on `tape` and returns it; the caller runs backward.
    /// `random` draws batch choices (masks, negatives, gating noise), `dropout` one seed per dropout
    /// site.
    func trainingLoss(_ tape: Tape, sequences: [[Int32]], random: inout SeededRandom, dropout: inout SeededRandom?) -> Float
    /// Scores of every item (itemCount per history, dataset order) for the next purchase after each
    /// history; dropout is off. Histories must not be empty.
    func scores(histories: [[Int32]]) -> [Float]
    /// Writes `config.json` into `folder` (creating it).
    func saveConfig(to folder: String) throws
    /// Writes `config.json` and `model.safetensors` into `folder`.
    func save(to folder: String) throws
    /// Recomputes what the model derives from its weights and holds fixed between optimiser steps
    /// (Recformer's item table, a frozen tensor of its parameter set, so that the best weights come
    /// back with it). The trainer calls it at the start of every epoch; the others derive nothing
    /// and do nothing.
    func refreshItemRepresentations()
}

/// The encoder settings every transformer recommender has, set from the shared command-line options.
public protocol TransformerSettings {
    var hidden: Int { get set }
    var layers: Int { get set }
    var heads: Int { get set }
    var maxLength: Int { get set }
    var hiddenDropout: Float { get set }
    var attentionDropout: Float { get set }
}

extension UniSRecConfig: TransformerSettings {}
extension FDSAConfig: TransformerSettings {}
extension S3RecConfig: TransformerSettings {}

extension SequentialRecommender {
    public func refreshItemRepresentations() {}

    /// Scores of every item after each history, in batches of 64 histories (each cut to its last
    /// `maxLength` items, as model ids): `logits` maps a batch and the packed row of each history's
    /// last item to logits of `width` columns, of which items are `firstItemColumn…`.
    func batchedScores(
        histories: [[Int32]], maxLength: Int, width: Int, firstItemColumn: Int, logits: (Tape, [[Int32]], [Int32]) -> Variable
    ) -> [Float] {
        let n = itemCount, batchSize = 64
        var out = [Float](repeating: 0, count: histories.count * n)
        for start in stride(from: 0, to: histories.count, by: batchSize) {
            let tape = Tape()
            defer { tape.reset() }
            let chunk = histories[start..<min(start + batchSize, histories.count)]
            let sequences = chunk.map { $0.suffix(maxLength).map { $0 + 1 } }
            var last: [Int32] = []
            var offset = 0
            for sequence in sequences {
                offset += sequence.count
                last.append(Int32(offset - 1))
            }
            let values = logits(tape, sequences, last).value
            for r in 0..<chunk.count { for i in 0..<n { out[(start + r) * n + i] = values[r * width + firstItemColumn + i] } }
        }
        return out
    }

    /// Tie-aware ranks of each case's target among all items (the history stays in the ranking
    /// unless `excludeHistory`).
    public func rank(cases: [EvaluationCase], dataset: SequenceDataset, excludeHistory: Bool = false) -> [UserRank] {
        let n = itemCount
        precondition(n == dataset.itemIDs.count, "the model was trained on \(n) items, the dataset has \(dataset.itemIDs.count)")
        let scores = self.scores(histories: cases.map(\.history))
        return FullRankingEvaluator.rankByIndex(cases: cases, dataset: dataset, excludeHistory: excludeHistory) { index, row in
            row.assign(scores[(index * n)..<((index + 1) * n)])
        }
    }

    /// `config` as JSON with sorted keys, for `checkpointConfig`.
    static func checkpointText<Config: Encodable>(_ config: Config) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(config)).flatMap { String(data: $0, encoding: .utf8) } ?? ""
    }

    /// Writes `config` as `config.json` into `folder` (through a temporary file), creating the folder.
    static func writeConfig<Config: Encodable>(_ config: Config, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(config).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("config.json")), options: .atomic)
    }
}
