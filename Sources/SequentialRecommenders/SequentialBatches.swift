import Support
import Tensors

/// Model inputs built from item sequences. Items are dataset indices (0-based); the model's ids
/// shift them by one (0 is the padding id of padded implementations, kept so weights line up with
/// theirs). A batch is packed without padding: its rows are the sequences' tokens end to end, and
/// `offsets` mark where each sequence starts.
enum SequentialBatches {
    /// A training batch: the input sequences, the packed rows the loss reads, the item id each of
    /// those rows should score highest, and (BCE) one sampled negative per row.
    struct TrainingBatch {
        var sequences: [[Int32]]
        var rows: [Int32]
        var targets: [Int32]
        var negatives: [Int32]
    }

    /// Where each sequence starts in the packed rows, and the total (offsets.count = sequences + 1).
    static func offsets(_ sequences: [[Int32]]) -> [Int] {
        var offsets = [0]
        for sequence in sequences { offsets.append(offsets.last! + sequence.count) }
        return offsets
    }

    /// SASRec: every position predicts the next item of the last `maxLength + 1` items. With
    /// `sampleNegatives`, each position also gets an item the user never bought in training.
    static func nextItem(
        sequences: [[Int32]], maxLength: Int, itemCount: Int, sampleNegatives: Bool, random: inout SeededRandom
    ) -> TrainingBatch {
        let windows = sequences.map { Array($0.suffix(maxLength + 1)).map { $0 + 1 } }
        let inputs = windows.map { Array($0.dropLast()) }
        let offsets = offsets(inputs)
        var batch = TrainingBatch(sequences: inputs, rows: [], targets: [], negatives: [])
        for (b, window) in windows.enumerated() {
            let bought = sampleNegatives ? Set(sequences[b]) : []
            for position in 0..<(window.count - 1) {
                batch.rows.append(Int32(offsets[b] + position))
                batch.targets.append(window[position + 1])
                if sampleNegatives {
                    var negative: Int32
                    repeat { negative = Int32(random.next() % UInt64(itemCount)) } while bought.contains(negative) && bought.count < itemCount
                    batch.negatives.append(negative + 1)
                }
            }
        }
        return batch
    }

    /// BERT4Rec: the last `maxLength` items with each position replaced by the mask token with
    /// probability `maskProbability` (at least one per sequence: the last when the draw masked none);
    /// the masked positions predict the items they hid.
    static func cloze(sequences: [[Int32]], config: SequentialModelConfig, random: inout SeededRandom) -> TrainingBatch {
        let windows = sequences.map { Array($0.suffix(config.maxLength)).map { $0 + 1 } }
        var masked: [[Int32]] = []
        var positions: [[Int]] = []
        for window in windows {
            var input = window
            var chosen: [Int] = []
            for position in window.indices where Float(random.unit()) < config.maskProbability {
                input[position] = config.maskToken
                chosen.append(position)
            }
            if chosen.isEmpty {
                input[window.count - 1] = config.maskToken
                chosen = [window.count - 1]
            }
            masked.append(input)
            positions.append(chosen)
        }
        let offsets = offsets(masked)
        var batch = TrainingBatch(sequences: masked, rows: [], targets: [], negatives: [])
        for (b, chosen) in positions.enumerated() {
            for position in chosen {
                batch.rows.append(Int32(offsets[b] + position))
                batch.targets.append(windows[b][position])
            }
        }
        return batch
    }

    /// Inference: the history's last items (BERT4Rec: the last `maxLength − 1` and the mask token)
    /// and the position whose output scores the next item.
    static func query(history: [Int32], config: SequentialModelConfig) -> (tokens: [Int32], position: Int) {
        switch config.architecture {
        case .sasrec:
            let tokens = history.suffix(config.maxLength).map { $0 + 1 }
            return (tokens, tokens.count - 1)
        case .bert4rec:
            let tokens = history.suffix(config.maxLength - 1).map { $0 + 1 } + [config.maskToken]
            return (tokens, tokens.count - 1)
        }
    }
}
