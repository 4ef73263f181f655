import RecData
import Foundation
import Support
import Tensors
import Training

/// One batch of S³-Rec's pre-training data, built as RecBole's `reconstruct_pretrain_data` builds it
/// (model ids: item index + 1; the mask token is itemCount + 1).
struct S3RecPretrainingBatch {
    /// The sequences with masked items, and per position: the original item and a negative item.
    var masked: [[Int32]]
    var original: [[Int32]]
    var negatives: [[Int32]]
    /// The segment task: the sequence with one segment masked, the segment alone (mask tokens
    /// elsewhere) and a segment of the same length from another sequence of the batch.
    var maskedSegment: [[Int32]]
    var positiveSegment: [[Int32]]
    var negativeSegment: [[Int32]]

    init(masked: [[Int32]], original: [[Int32]], negatives: [[Int32]], maskedSegment: [[Int32]], positiveSegment: [[Int32]], negativeSegment: [[Int32]]) {
        self.masked = masked
        self.original = original
        self.negatives = negatives
        self.maskedSegment = maskedSegment
        self.positiveSegment = positiveSegment
        self.negativeSegment = negativeSegment
    }

    /// Each item masked with probability `config.maskRatio` (independently: a sequence may have none,
    /// as in RecBole 1.2.1); a random segment of length 1…⌊n/2⌋ for the segment task, its negative
    /// drawn from the batch's sequences end to end.
    init(sequences: [[Int32]], config: S3RecConfig, random: inout SeededRandom) {
        let windows = sequences.map { Array($0.suffix(config.maxLength)).map { $0 + 1 } }
        let long = windows.flatMap { $0 }
        let mask = config.maskToken
        func randomInt(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
        masked = []
        original = windows
        negatives = []
        maskedSegment = []
        positiveSegment = []
        negativeSegment = []
        for window in windows {
            let bought = Set(window)
            var input = window, negative = window
            for (position, _) in window.enumerated() {
                guard Float(random.unit()) < config.maskRatio else { continue }
                input[position] = mask
                var item: Int32
                repeat { item = Int32(randomInt(1...config.itemCount)) } while bought.contains(item) && bought.count < config.itemCount
                negative[position] = item
            }
            masked.append(input)
            negatives.append(negative)
            if window.count < 2 {
                maskedSegment.append(window)
                positiveSegment.append(window)
                negativeSegment.append(window)
                continue
            }
            let length = randomInt(1...(window.count / 2))
            let start = randomInt(0...(window.count - length))
            let negativeStart = randomInt(0...(long.count - length))
            let before = [Int32](repeating: mask, count: start), after = [Int32](repeating: mask, count: window.count - start - length)
            maskedSegment.append(Array(window[..<start]) + [Int32](repeating: mask, count: length) + Array(window[(start + length)...]))
            positiveSegment.append(before + Array(window[start..<(start + length)]) + after)
            negativeSegment.append(before + Array(long[negativeStart..<(negativeStart + length)]) + after)
        }
    }
}

/// The four pre-training losses of one batch (each a sum over its positions, unweighted).
public struct S3RecPretrainingLosses: Sendable, Equatable {
    public var associatedAttribute: Double
    public var maskedItem: Double
    public var maskedAttribute: Double
    public var segment: Double
    /// `Σ weight · loss`.
    public var total: Double
}

extension S3RecModel {
    /// Records the weighted pre-training loss of `batch` and seeds its gradients; returns the four losses.
    func pretrainingLosses(_ tape: Tape, batch: S3RecPretrainingBatch, dropout: inout SeededRandom?) -> S3RecPretrainingLosses {
        let w = config.weights, a = config.attributes.count, mask = config.maskToken
        let hidden = encode(tape, sequences: batch.masked, causal: false, dropout: &dropout, rightAligned: true)
        var kept: [Int32] = [], maskedRows: [Int32] = []
        var keptItems: [Int32] = [], maskedItems: [Int32] = [], negatives: [Int32] = []
        var row: Int32 = 0
        for (b, sequence) in batch.masked.enumerated() {
            for (position, id) in sequence.enumerated() {
                if id == mask {
                    maskedRows.append(row)
                    maskedItems.append(batch.original[b][position])
                    negatives.append(batch.negatives[b][position])
                } else {
                    kept.append(row)
                    keptItems.append(id)
                }
                row += 1
            }
        }
        func head(_ name: String, _ x: Variable) -> Variable { Ops.linear(tape, x, weight: heads[name]!.weight, bias: heads[name]!.bias) }
        /// Σ over rows and attributes of the binary cross-entropy of the attribute scores.
        func attributeLoss(_ name: String, rows: [Int32], items: [Int32], weight: Float) -> Double {
            guard !rows.isEmpty else { return 0 }
            let logits = Ops.tiedLogits(tape, head(name, Ops.gatherRows(tape, hidden, rows: rows)), wte: featureEmbedding)
            var labels = [Float](repeating: 0, count: rows.count * a)
            for (r, item) in items.enumerated() { for attribute in itemAttributes[Int(item) - 1] { labels[r * a + Int(attribute)] = 1 } }
            let entries = Float(rows.count * a)
            let mean = Ops.binaryCrossEntropy(tape, logits: logits, labels: labels, mask: [Float](repeating: 1, count: rows.count * a), weight: weight * entries)
            return Double(mean) * Double(entries)
        }
        let aap = attributeLoss("aap_norm", rows: kept, items: keptItems, weight: w.associatedAttribute)
        let map = attributeLoss("map_norm", rows: maskedRows, items: maskedItems, weight: w.maskedAttribute)
        let query = head("mip_norm", Ops.gatherRows(tape, hidden, rows: maskedRows))
        let mip = Self.sigmoidDifferenceLoss(
            tape, query, Ops.gatherRows(tape, itemEmbedding, rows: maskedItems), Ops.gatherRows(tape, itemEmbedding, rows: negatives), weight: w.maskedItem)
        func lastStates(_ sequences: [[Int32]]) -> Variable {
            var ends: [Int32] = [], offset = 0
            for sequence in sequences {
                offset += sequence.count
                ends.append(Int32(offset - 1))
            }
            return Ops.gatherRows(tape, encode(tape, sequences: sequences, causal: false, dropout: &dropout, rightAligned: true), rows: ends)
        }
        let context = head("sp_norm", lastStates(batch.maskedSegment))
        let sp = Self.sigmoidDifferenceLoss(
            tape, context, lastStates(batch.positiveSegment), lastStates(batch.negativeSegment), weight: w.segment)
        let total = Double(w.associatedAttribute) * aap + Double(w.maskedItem) * mip + Double(w.maskedAttribute) * map + Double(w.segment) * sp
        return S3RecPretrainingLosses(associatedAttribute: aap, maskedItem: mip, maskedAttribute: map, segment: sp, total: total)
    }

    /// `Σ_r −log σ(σ(u_r·p_r) − σ(u_r·n_r))` over rows of u, p, n (R, C) — RecBole's MIP and SP
    /// losses; seeds the three inputs' gradients for d(loss) = `weight` (a sink, like `crossEntropy`).
    static func sigmoidDifferenceLoss(_ tape: Tape, _ u: Variable, _ p: Variable, _ n: Variable, weight: Float) -> Double {
        let c = u.shape.last!, rows = u.count / c
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        var total = 0.0
        let (uv, pv, nv) = (u.value.base, p.value.base, n.value.base)
        let (du, dp, dn) = (u.gradient.base, p.gradient.base, n.gradient.base)
        for r in 0..<rows {
            var a = 0.0, b = 0.0
            for k in 0..<c {
                a += Double(uv[r * c + k]) * Double(pv[r * c + k])
                b += Double(uv[r * c + k]) * Double(nv[r * c + k])
            }
            let sa = sigmoid(a), sb = sigmoid(b), d = sigmoid(sa - sb)
            total -= log(max(d, 1e-300))
            // d(−log σ(d))/d(d) = −(1 − σ(d)); through σ(a) and σ(b).
            let ga = Float(-(1 - d) * sa * (1 - sa)) * weight, gb = Float((1 - d) * sb * (1 - sb)) * weight
            for k in 0..<c {
                let i = r * c + k
                du[i] += ga * pv[i] + gb * nv[i]
                dp[i] += ga * uv[i]
                dn[i] += gb * uv[i]
            }
        }
        return total
    }

    /// Pre-trains on the training part of `dataset` (each user's purchases but the last two) for
    /// `epochs` passes in shuffled batches, Adam without weight decay at `learningRate`; returns the
    /// mean weighted loss of each epoch. `progress` sees the epoch and its mean loss. As RecBole 1.2.1
    /// does, the examples are every prefix of each training sequence that ends before one of its
    /// items (lengths 1 … n − 1), and an epoch makes as many steps as a pass over the users in batches
    /// of `batchSize` (RecBole batches prefixes with the fine-tuning's batch size).
    public func pretrain(
        dataset: SequenceDatasetSequences, epochs: Int, batchSize: Int, learningRate: Float, seed: UInt64, progress: (Int, Double) -> Void = { _, _ in }
    ) -> [Double] {
        let users = dataset.trainingSequences.filter { $0.count >= 2 }
        let sequences = users.flatMap { sequence in (1..<sequence.count).map { Array(sequence[..<$0]) } }
        let steps = max(1, (users.count + batchSize - 1) / batchSize)
        let prefixesPerStep = max(1, (sequences.count + steps - 1) / steps)
        var random = SeededRandom(seed: seed ^ 0x53_3E_C0_DE)
        var dropout: SeededRandom? = SeededRandom(seed: seed ^ 0xD80F_53EC)
        let optimizer = AdamW(weightDecay: 0)
        var step = 0
        var curve: [Double] = []
        for epoch in stride(from: 1, through: epochs, by: 1) {
            var order = Array(sequences.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            var total = 0.0, batches = 0
            for start in stride(from: 0, to: order.count, by: prefixesPerStep) {
                let tape = Tape()
                parameterSet.zeroGradients()
                let batch = S3RecPretrainingBatch(
                    sequences: order[start..<min(start + prefixesPerStep, order.count)].map { sequences[$0] }, config: config, random: &random)
                total += pretrainingLosses(tape, batch: batch, dropout: &dropout).total
                tape.backward()
                step += 1
                optimizer.update(parameterSet, step: step, lr: learningRate)
                batches += 1
            }
            curve.append(total / Double(max(batches, 1)))
            progress(epoch, curve.last!)
        }
        // Fine-tuning starts a new optimiser (RecBole builds one): the pre-training's moments, scaled to
        // its summed losses, would otherwise shrink every fine-tuning step.
        parameterSet.zeroGradients()
        parameterSet.zeroMoments()
        return curve
    }
}

/// The training sequences of a dataset: each user's item indices without the validation and test
/// targets (the last two purchases).
public struct SequenceDatasetSequences: Sendable {
    public var trainingSequences: [[Int32]]

    public init(_ dataset: SequenceDataset) {
        trainingSequences = dataset.sequences.filter { $0.count >= 3 }.map { $0.dropLast(2).map(\.item) }
    }

    public init(trainingSequences: [[Int32]]) { self.trainingSequences = trainingSequences }
}
