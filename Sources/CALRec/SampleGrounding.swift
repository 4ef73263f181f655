import Evaluation
import Foundation
import Retrieval

/// What a run's generated samples name (`grounding.json` beside `samples.jsonl`): how many are,
/// word for word, a catalogue item's text, how many restate an item of the user's own history or
/// the held-out target, and which item each sample's best BM25 match is. It tells a model that
/// copies its prompt apart from one that predicts something new, which the ranking metrics alone
/// do not.
///
/// ```json
/// {"version": 1, "users": 500, "samples": 5000, "catalogue_text": 0.62, "history_text": 0.41,
///  "target_text": 0.01, "best_match_in_history": 0.55, "best_match_is_target": 0.03,
///  "unmatched": 0.0, "distinct_texts_per_user": 6.2}
/// ```
///
/// Shares are over all samples. A text matches an item when it equals the item's text as a model
/// generates it (`itemTexts`: `recommend` gives each body cut where training targets and sampling
/// are cut, at the output limit; `evaluate`, which knows no model, gives whole bodies), whitespace at
/// both ends trimmed. The best match is the item with the highest BM25 score for the
/// sample's text as the query (the lowest item index among equal scores); a sample sharing no term
/// with the catalogue has none and counts as unmatched.
public struct SampleGrounding: Codable, Sendable, Equatable {
    /// The version this build writes.
    public static var currentVersion: Int { 1 }

    public var version: Int
    /// Users evaluated (a user without samples counts here and in `distinctTextsPerUser`).
    public var users: Int
    public var samples: Int
    /// Samples that are some catalogue item's body.
    public var catalogueText: Double
    /// Samples that are the body of an item in the user's history.
    public var historyText: Double
    /// Samples that are the body of the user's target.
    public var targetText: Double
    /// Samples whose best BM25 match is an item of the user's history.
    public var bestMatchInHistory: Double
    /// Samples whose best BM25 match is the user's target.
    public var bestMatchIsTarget: Double
    /// Samples that share no term with any item.
    public var unmatched: Double
    /// Mean number of different texts among a user's samples (as quasi-round-robin de-duplicates
    /// them: untrimmed).
    public var distinctTextsPerUser: Double

    enum CodingKeys: String, CodingKey {
        case version, users, samples, unmatched
        case catalogueText = "catalogue_text"
        case historyText = "history_text"
        case targetText = "target_text"
        case bestMatchInHistory = "best_match_in_history"
        case bestMatchIsTarget = "best_match_is_target"
        case distinctTextsPerUser = "distinct_texts_per_user"
    }

    /// Counts the samples of every case (`samples[i]` belongs to `cases[i]`) against the catalogue:
    /// `itemTexts` (the text a model generates for each item) and `index` (BM25 over the items, in
    /// the same order).
    public init(cases: [EvaluationCase], samples: [[GeneratedSample]], itemTexts: [String], index: BM25Index) {
        precondition(cases.count == samples.count, "one list of samples per case")
        precondition(itemTexts.count == index.documentCount, "one text per indexed item")
        var itemsByBody: [String: [Int32]] = [:]
        for (item, body) in itemTexts.enumerated() {
            itemsByBody[body.trimmingCharacters(in: .whitespacesAndNewlines), default: []].append(Int32(item))
        }
        var counted = 0, catalogue = 0, history = 0, target = 0, bestInHistory = 0, bestIsTarget = 0, none = 0, distinct = 0
        var scores = [Float](repeating: 0, count: index.documentCount)
        for (c, list) in zip(cases, samples) {
            let historyItems = Set(c.history)
            distinct += Set(list.map(\.text)).count
            for sample in list {
                counted += 1
                let text = sample.text.trimmingCharacters(in: .whitespacesAndNewlines)
                if let items = itemsByBody[text] {
                    catalogue += 1
                    if items.contains(where: historyItems.contains) { history += 1 }
                    if items.contains(c.target) { target += 1 }
                }
                guard let best = Self.bestMatch(text, index: index, scores: &scores) else {
                    none += 1
                    continue
                }
                if historyItems.contains(best) { bestInHistory += 1 }
                if best == c.target { bestIsTarget += 1 }
            }
        }
        let share = { (n: Int) in counted == 0 ? 0 : Double(n) / Double(counted) }
        version = Self.currentVersion
        users = cases.count
        self.samples = counted
        catalogueText = share(catalogue)
        historyText = share(history)
        targetText = share(target)
        bestMatchInHistory = share(bestInHistory)
        bestMatchIsTarget = share(bestIsTarget)
        unmatched = share(none)
        distinctTextsPerUser = cases.isEmpty ? 0 : Double(distinct) / Double(cases.count)
    }

    /// The item with the highest positive BM25 score for `text` (the lowest index among equals).
    static func bestMatch(_ text: String, index: BM25Index, scores: inout [Float]) -> Int32? {
        let terms = index.termIDs(text)
        guard !terms.isEmpty else { return nil }
        scores.withUnsafeMutableBufferPointer { index.score(terms: terms, into: $0) }
        var best = -1
        var bestScore: Float = 0
        for (item, score) in scores.enumerated() where score > bestScore {
            best = item
            bestScore = score
        }
        return best < 0 ? nil : Int32(best)
    }

    /// The file's JSON (sorted keys, one line).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}
