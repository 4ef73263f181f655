import Evaluation
import RecData

/// The popularity baseline: an item's score is its number of occurrences in the training part of
/// all sequences (all but each user's last two purchases), whatever the user. Items never bought in
/// training share the score 0 — real ties, which the tie-aware ranks must show.
public struct PopularityBaseline: Sendable {
    public let counts: [Float]

    public init(dataset: SequenceDataset) {
        var counts = [Float](repeating: 0, count: dataset.itemIDs.count)
        for sequence in dataset.sequences {
            for purchase in sequence.dropLast(2) { counts[Int(purchase.item)] += 1 }
        }
        self.counts = counts
    }

    /// Every item's training count.
    public func score(into row: ScoreRow) { row.assign(counts) }
}
