import Foundation

/// A `DecodingError` of one of the project's JSON files as one line — which field, and what was
/// wrong with it — for a message that names the file.
public enum DecodingErrorText {
    public static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)' missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field '\(path(context))' has the wrong type (\(context.debugDescription))"
        case .dataCorrupted(let context):
            return path(context).isEmpty ? context.debugDescription : "field '\(path(context))': \(context.debugDescription)"
        @unknown default:
            return String(describing: error)
        }
    }
}
