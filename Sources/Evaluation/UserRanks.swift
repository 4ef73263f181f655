import Foundation
import RecData

/// One evaluated user: the target item and its tie-aware rank.
public struct UserRank: Sendable, Equatable {
    public var user: String
    public var target: String
    public var rank: TieAwareRank

    public init(user: String, target: String, rank: TieAwareRank) {
        self.user = user
        self.target = target
        self.rank = rank
    }
}

/// Errors of the evaluation files.
public enum EvaluationError: Error, LocalizedError, Equatable {
    case malformedRanks(file: String, line: Int, detail: String)
    case mismatchedUsers(String)

    public var errorDescription: String? {
        switch self {
        case .malformedRanks(let file, let line, let detail):
            return "\(file):\(line): \(detail); a ranks file has the header 'user<TAB>target<TAB>rank_opt<TAB>rank_pes' and one user a line"
        case .mismatchedUsers(let detail):
            return "the two ranks files do not cover the same users (\(detail)); compare runs on the same split"
        }
    }
}

/// `ranks.tsv`: `user`, `target`, `rank_opt`, `rank_pes`, one evaluated user a line.
public enum RanksFile {
    public static let header = "user\ttarget\trank_opt\trank_pes"

    public static func render(_ ranks: [UserRank]) -> String {
        var out = header + "\n"
        for r in ranks { out += "\(r.user)\t\(r.target)\t\(r.rank.optimistic)\t\(r.rank.pessimistic)\n" }
        return out
    }

    /// Parses a ranks file; every problem names the line and the field.
    public static func parse(_ text: String, file: String) throws -> [UserRank] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { throw EvaluationError.malformedRanks(file: file, line: 1, detail: "the file is empty") }
        guard first == header[...] else {
            throw EvaluationError.malformedRanks(file: file, line: 1, detail: "unexpected header '\(first)'")
        }
        var ranks: [UserRank] = []
        var seen = Set<String>()
        for (offset, line) in lines.dropFirst().enumerated() {
            let number = offset + 2
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4 else {
                throw EvaluationError.malformedRanks(file: file, line: number, detail: "expected 4 tab-separated fields, found \(fields.count)")
            }
            guard let opt = Int(fields[2]), opt >= 1 else {
                throw EvaluationError.malformedRanks(file: file, line: number, detail: "field 'rank_opt' is not a positive integer: '\(fields[2])'")
            }
            guard let pes = Int(fields[3]), pes >= opt else {
                throw EvaluationError.malformedRanks(file: file, line: number, detail: "field 'rank_pes' is not an integer ≥ rank_opt: '\(fields[3])'")
            }
            guard seen.insert(fields[0]).inserted else {
                throw EvaluationError.malformedRanks(file: file, line: number, detail: "field 'user' repeats user \(fields[0])")
            }
            ranks.append(UserRank(user: fields[0], target: fields[1], rank: TieAwareRank(optimistic: opt, pessimistic: pes)))
        }
        return ranks
    }

    public static func read(_ path: String) throws -> [UserRank] {
        guard let data = FileManager.default.contents(atPath: path) else { throw RecDataError.missingPath(path) }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }
}
