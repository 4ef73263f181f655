import Foundation

/// Paper numbers given in a workbook's front matter (`reference:`), read from the JSON file the
/// workbench writes for `{{reference}}`:
///
///     table1:                     # Table 1 rows by dataset (paper name or file stem)
///       Office: {users: 44736, duplicate_pct: 6.3, items: 27482, …}   # keys of `calrec stats --format json`
///     results:                    # metrics by dataset and method
///       Office:
///         CALRec: {ndcg@10: [0.0976, 0.0966], recall@1: [0.0582, 0.0530]}   # [opt, pes], or one number
public struct ReferenceNumbers: Sendable {
    /// dataset → statistic key → value
    public var table1: [String: [String: Double]] = [:]
    /// dataset → method → metric → (opt, pes)
    public var results: [String: [String: [String: (Double, Double)]]] = [:]

    public init() {}

    /// Reads the reference file; every problem names the file and the entry.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReferenceError.unreadable(path)
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ReferenceError.malformed(path, "the file is not a JSON object")
        }
        for (dataset, row) in (object["table1"] as? [String: Any]) ?? [:] {
            guard let row = row as? [String: Any] else { throw ReferenceError.malformed(path, "table1.\(dataset) is not a map") }
            table1[dataset] = try row.mapValues { value in
                guard let number = value as? NSNumber else { throw ReferenceError.malformed(path, "table1.\(dataset) has a non-number") }
                return number.doubleValue
            }
        }
        for (dataset, methods) in (object["results"] as? [String: Any]) ?? [:] {
            guard let methods = methods as? [String: Any] else { throw ReferenceError.malformed(path, "results.\(dataset) is not a map") }
            var byMethod: [String: [String: (Double, Double)]] = [:]
            for (method, metrics) in methods {
                guard let metrics = metrics as? [String: Any] else {
                    throw ReferenceError.malformed(path, "results.\(dataset).\(method) is not a map")
                }
                byMethod[method] = try metrics.mapValues { value in
                    if let number = value as? NSNumber { return (number.doubleValue, number.doubleValue) }
                    if let pair = value as? [NSNumber], pair.count == 2 { return (pair[0].doubleValue, pair[1].doubleValue) }
                    throw ReferenceError.malformed(path, "results.\(dataset).\(method) needs numbers or [opt, pes] pairs")
                }
            }
            results[dataset] = byMethod
        }
    }

    public enum ReferenceError: Error, LocalizedError, Equatable {
        case unreadable(String)
        case malformed(String, String)

        public var errorDescription: String? {
            switch self {
            case .unreadable(let path): return "\(path): cannot read the reference numbers"
            case .malformed(let path, let detail): return "\(path): \(detail)"
            }
        }
    }
}
