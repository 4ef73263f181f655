import Foundation

/// One JSON object a line (keys sorted), as `train.jsonl` curves are written.
enum JSONLinesText {
    static func render<T: Encodable>(_ items: [T]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try items.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    }
}
