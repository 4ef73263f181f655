import Evaluation
import Foundation
import RecData
import Support
import Tensors

extension SequentialModel {
    /// Scores of every item (itemCount per history, dataset item order) for the next purchase after
    /// each history, in batches of `batchSize`; dropout is off. Histories must not be empty.
    public func scores(histories: [[Int32]]) -> [Float] { scores(histories: histories, batchSize: 64) }

    /// `scores(histories:)` in batches of `batchSize` histories.
    public func scores(histories: [[Int32]], batchSize: Int) -> [Float] {
        let n = config.itemCount, v = config.vocabularySize
        var out = [Float](repeating: 0, count: histories.count * n)
        for start in stride(from: 0, to: histories.count, by: batchSize) {
            let chunk = histories[start..<min(start + batchSize, histories.count)]
            let queries = chunk.map { SequentialBatches.query(history: $0, config: config) }
            let sequences = queries.map(\.tokens)
            let offsets = SequentialBatches.offsets(sequences)
            let tape = Tape()
            var noDropout: SeededRandom? = nil
            let hidden = encode(tape, sequences: sequences, dropout: &noDropout)
            let rows = queries.enumerated().map { Int32(offsets[$0.offset] + $0.element.position) }
            let logits = self.logits(tape, hidden: Ops.gatherRows(tape, hidden, rows: rows))
            tape.reset()
            for r in 0..<chunk.count {
                // Item i is id i + 1; padding (0) and the mask token are not candidates.
                let base = (start + r) * n
                for i in 0..<n { out[base + i] = logits.value[r * v + i + 1] }
            }
        }
        return out
    }
}
