import Foundation
import Support
import Tensors
import TextEncoders
import Training

/// One domain UniSRec pre-trains on: its users' training sequences (item indices into `features`),
/// its item-text vectors, and the same items' vectors from word-dropped texts (the authors'
/// `feat2CLS`, for the word-drop augmentation).
public struct UniSRecPretrainingDomain: Sendable {
    public var name: String
    public var sequences: [[Int32]]
    public var features: ItemFeatures
    public var wordDropped: ItemFeatures

    public init(name: String, sequences: [[Int32]], features: ItemFeatures, wordDropped: ItemFeatures) {
        precondition(features.header.itemCount == wordDropped.header.itemCount, "one word-dropped vector per item")
        self.name = name
        self.sequences = sequences
        self.features = features
        self.wordDropped = wordDropped
    }

    /// Pre-training examples it gives: one per item of a sequence after its first.
    public var exampleCount: Int { sequences.reduce(0) { $0 + max(0, $1.count - 1) } }
}

/// UniSRec's pre-training settings (the authors' `props/UniSRec.yaml`, `props/pretrain.yaml`):
/// batches of 8,192 examples, Adam 1e-3, each sequence-sequence pair built by item drop (each item
/// but the first kept with probability 0.8) for 90% of the batches and by word drop (each item's
/// vector swapped for its word-dropped one with probability 0.2) for the rest, that loss weighted
/// λ = 1e-3. The authors run 300 epochs on five categories.
public struct UniSRecPretrainingOptions: Codable, Sendable, Equatable {
    public var epochs = 300
    public var batchSize = 8192
    public var learningRate: Float = 1e-3
    public var itemDropRatio: Float = 0.2
    public var itemDropCoefficient: Float = 0.9
    public var lambda: Float = 1e-3
    public var seed: UInt64 = 0

    public init(epochs: Int = 300, batchSize: Int = 8192, learningRate: Float = 1e-3, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
    }

    enum CodingKeys: String, CodingKey {
        case epochs, batchSize = "batch", learningRate = "lr", itemDropRatio = "item_drop_ratio", itemDropCoefficient = "item_drop_coefficient"
        case lambda, seed
    }
}

/// Pre-training examples and their augmentations, in item indices of the domains' joint catalogue.
struct UniSRecPretrainingExamples {
    var prefixes: [[Int32]] = []
    var targets: [Int32] = []

    /// Every (last ≤ `maxLength` items before a position, item at the position) of each sequence,
    /// from the second position on (the authors' `*.train.inter`).
    init(sequences: [[Int32]], maxLength: Int) {
        for sequence in sequences where sequence.count >= 2 {
            for t in 1..<sequence.count {
                prefixes.append(Array(sequence[max(0, t - maxLength)..<t]))
                targets.append(sequence[t])
            }
        }
    }

    /// Item drop: each item but the first kept with probability `1 − ratio`, the rest closed up.
    static func itemDrop(_ prefix: [Int32], ratio: Float, random: inout SeededRandom) -> [Int32] {
        prefix.enumerated().compactMap { position, item in position == 0 || Float(random.unit()) >= ratio ? item : nil }
    }
}

extension UniSRecModel {
    /// Pre-trains this model (variant `T`; `features` = the joint catalogue of `domains`) with the
    /// authors' two contrastive tasks over in-batch examples; returns each epoch's mean loss.
    /// Sequences ending before the same next item are left out of each other's denominators.
    public func pretrain(
        domains: [UniSRecPretrainingDomain], options: UniSRecPretrainingOptions, progress: (Int, Double) -> Void = { _, _ in }
    ) -> [Double] {
        precondition(config.variant == .text, "pre-training has no item IDs")
        var offset: Int32 = 0
        var sequences: [[Int32]] = []
        for domain in domains {
            sequences += domain.sequences.map { $0.map { $0 + offset } }
            offset += Int32(domain.features.header.itemCount)
        }
        precondition(Int(offset) == config.itemCount, "the model's catalogue is the domains' together")
        // Each item's vector, then its word-dropped one: what the word-drop view gathers from.
        let withWordDropped = Variable(
            shape: [2 * config.itemCount, config.featureDimension], value: features.value.array + domains.flatMap(\.wordDropped.values))
        withWordDropped.requiresGradient = false
        let examples = UniSRecPretrainingExamples(sequences: sequences, maxLength: config.maxLength)
        var random = SeededRandom(seed: options.seed ^ 0x0051_5EC0_9E7A_1A)
        var dropout: SeededRandom? = SeededRandom(seed: options.seed ^ 0xD80F_0051_5EC0)
        let optimizer = AdamW(weightDecay: 0)
        var step = 0
        var curve: [Double] = []
        for epoch in stride(from: 1, through: options.epochs, by: 1) {
            var order = Array(examples.targets.indices)
            random.shuffle(&order)
            var total = 0.0, batches = 0
            for start in stride(from: 0, to: order.count, by: options.batchSize) {
                let chosen = order[start..<min(start + options.batchSize, order.count)]
                let tape = Tape()
                parameterSet.zeroGradients()
                total += Double(
                    pretrainingLoss(
                        tape, prefixes: chosen.map { examples.prefixes[$0] }, targets: chosen.map { examples.targets[$0] }, withWordDropped: withWordDropped,
                        options: options, random: &random, dropout: &dropout))
                tape.backward()
                step += 1
                optimizer.update(parameterSet, step: step, lr: options.learningRate)
                batches += 1
            }
            curve.append(total / Double(max(batches, 1)))
            progress(epoch, curve.last!)
        }
        parameterSet.zeroGradients()
        return curve
    }

    /// L_seq-item + λ L_seq-seq of one batch, recorded on `tape`. `withWordDropped` holds every
    /// item's vector (rows 0..<itemCount), then its word-dropped vector.
    func pretrainingLoss(
        _ tape: Tape, prefixes: [[Int32]], targets: [Int32], withWordDropped: Variable, options: UniSRecPretrainingOptions, random: inout SeededRandom,
        dropout: inout SeededRandom?
    ) -> Float {
        let n = targets.count
        // Sequences sharing a next item are not each other's negatives.
        var excluded = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n where i != j && targets[i] == targets[j] { excluded[i * n + j] = -1e4 } }
        let mask = Variable(shape: [n, n], value: excluded)
        mask.requiresGradient = false
        let labels = (0..<n).map(Int32.init)
        let ones = [Float](repeating: 1, count: n)
        func lastStates(_ sequences: [[Int32]], vectors: Variable?) -> Variable {
            let hidden = encode(tape, sequences: sequences.map { $0.map { $0 + 1 } }, dropout: &dropout, itemVectors: vectors)
            var ends: [Int32] = [], offset = 0
            for sequence in sequences {
                offset += sequence.count
                ends.append(Int32(offset - 1))
            }
            return Ops.l2Normalize(tape, Ops.gatherRows(tape, hidden, rows: ends))
        }
        let users = Ops.scale(tape, lastStates(prefixes, vectors: nil), by: 1 / config.temperature)
        let positives = Ops.l2Normalize(tape, adaptor.forward(tape, Ops.gatherRows(tape, features, rows: targets), training: &dropout))
        let seqItem = Ops.crossEntropy(tape, logits: Ops.add(tape, Ops.tiedLogits(tape, users, wte: positives), mask), targets: labels, mask: ones)
        // The augmented view: item drop for most batches, word drop for the rest (one draw a batch).
        let augmented: Variable
        if Float(random.unit()) < options.itemDropCoefficient {
            augmented = lastStates(prefixes.map { UniSRecPretrainingExamples.itemDrop($0, ratio: options.itemDropRatio, random: &random) }, vectors: nil)
        } else {
            let rows = prefixes.flatMap { $0.map { Float(random.unit()) < options.itemDropRatio ? $0 + Int32(config.itemCount) : $0 } }
            augmented = lastStates(prefixes, vectors: Ops.gatherRows(tape, withWordDropped, rows: rows))
        }
        let seqSeq = Ops.crossEntropy(
            tape, logits: Ops.add(tape, Ops.tiedLogits(tape, users, wte: augmented), mask), targets: labels, mask: ones, weight: options.lambda)
        return seqItem + options.lambda * seqSeq
    }
}
