import Foundation
import RecData
import Support
import Tensors

/// One training or validation example: a history (item indices, oldest first) and its target.
public struct SequenceExample: Sendable, Equatable {
    public var history: [Int32]
    public var target: Int32

    public init(history: [Int32], target: Int32) {
        self.history = history
        self.target = target
    }
}

/// The training sequences of one dataset (each user's leave-one-out training part) and the
/// augmentation of docs/method.md §4: each time a user is drawn, the last k items are dropped (k uniform in
/// 0…`maximumDropped`, at least 2 items kept) and the last remaining item is the target.
public struct TrainingSequences: Sendable {
    public let name: String
    /// Training parts with at least two items (item indices into the dataset's catalogue).
    public let sequences: [[Int32]]
    /// Validation examples: the whole training part as history, the validation target.
    public let validation: [SequenceExample]
    public var maximumDropped = 4

    public init(dataset: SequenceDataset) {
        name = dataset.name
        var sequences: [[Int32]] = []
        var validation: [SequenceExample] = []
        for sequence in dataset.sequences where sequence.count >= 3 {
            let items = sequence.map(\.item)
            let train = Array(items.dropLast(2))
            if train.count >= 2 { sequences.append(train) }
            validation.append(SequenceExample(history: train, target: items[items.count - 2]))
        }
        self.sequences = sequences
        self.validation = validation
    }

    /// One augmented example of user `index`.
    public func draw(_ index: Int, random: inout SeededRandom) -> SequenceExample {
        let sequence = sequences[index]
        let dropped = Int(random.next() % UInt64(min(maximumDropped, sequence.count - 2) + 1))
        let kept = sequence.dropLast(dropped)
        return SequenceExample(history: Array(kept.dropLast()), target: kept.last!)
    }
}

/// Stage 1's mixture of categories (docs/method.md §4): category c is drawn with probability ∝ n_c^exponent
/// (n_c its number of training sequences; the paper's exponent is 0.3), then a user uniformly.
public struct CategoryMixture: Sendable {
    public let weights: [Double]
    let cumulative: [Double]

    public init(sizes: [Int], exponent: Double = 0.3) {
        let raw = sizes.map { $0 > 0 ? pow(Double($0), exponent) : 0 }
        let total = raw.reduce(0, +)
        weights = raw.map { total > 0 ? $0 / total : 0 }
        var sum = 0.0
        cumulative = weights.map { w in
            sum += w
            return sum
        }
    }

    /// A category index.
    public func draw(random: inout SeededRandom) -> Int {
        let u = random.unit()
        return cumulative.firstIndex { u < $0 } ?? (weights.lastIndex { $0 > 0 } ?? 0)
    }
}
