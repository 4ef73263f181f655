import Foundation
import RecData

/// `scores.tsv`: header `user<TAB>item<TAB>score`, then sparse scores.
public enum SparseScoresFile {
    /// Scores by user: (item index in `itemIDs`, score). Every problem names the line and field.
    public static func read(_ path: String, itemIDs: [String]) throws -> [String: [(Int, Float)]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw RecDataError.missingPath(path) }
        let itemIndex = Dictionary(uniqueKeysWithValues: itemIDs.enumerated().map { ($1, $0) })
        var result: [String: [(Int, Float)]] = [:]
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) == "user\titem\tscore" else {
            throw RecDataError.invalidField(file: path, line: 1, field: "header", detail: "must be 'user<TAB>item<TAB>score'")
        }
        for (offset, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 3 else {
                throw RecDataError.invalidField(file: path, line: offset + 1, field: "user,item,score", detail: "needs 3 tab-separated values")
            }
            guard let item = itemIndex[String(fields[1])] else {
                throw RecDataError.invalidField(file: path, line: offset + 1, field: "item", detail: "names an item not in the dataset: \(fields[1])")
            }
            guard let score = Float(fields[2].trimmingCharacters(in: .whitespaces)), !score.isNaN else {
                throw RecDataError.invalidField(file: path, line: offset + 1, field: "score", detail: "is not a number: '\(fields[2])'")
            }
            result[String(fields[0]), default: []].append((item, score))
        }
        return result
    }
}
