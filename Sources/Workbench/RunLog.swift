import Foundation
import RecData
import Support

/// `runs.jsonl` beside the state: one line per run, also where provenance is off.
enum RunLog {
    static func append(_ report: RunReport, folder: String) throws {
        var entry: [String: Any] = [
            "run_id": report.runID, "workbook": report.workbook, "status": report.status.rawValue,
            "started": ISO8601DateFormatter().string(from: report.started),
            "finished": ISO8601DateFormatter().string(from: report.finished), "parameters": report.parameters,
        ]
        entry["blocks"] = report.outcomes.map { ["id": $0.id, "status": $0.status.rawValue, "key": $0.key, "seconds": $0.seconds] }
        try appendLine(entry, folder: folder)
    }

    static func appendLine(_ entry: [String: Any], folder: String) throws {
        let path = (folder as NSString).appendingPathComponent("runs.jsonl")
        let line = try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
        var existing = FileManager.default.contents(atPath: path) ?? Data()
        existing.append(line)
        try AtomicWrite.write(existing, to: path)
    }
}
