import Foundation
import RecData

/// `samples.jsonl`: one generated sample a line, `{"logprob": -3.2, "text": "...", "user": "..."}` —
/// the user, the sample's text and its log-probability under the untempered model (natural log).
/// The same lines come from any engine that samples (the Swift sampler, or an accelerator's).
public enum SamplesFile {
    /// One line of the file.
    public struct Record: Codable, Sendable, Equatable {
        public var user: String
        public var text: String
        public var logprob: Double

        public init(user: String, text: String, logprob: Double) {
            self.user = user
            self.text = text
            self.logprob = logprob
        }
    }

    /// The lines of `samples.jsonl` for `(user, sample)` pairs, in order (keys sorted in each line).
    public static func render(_ rows: [(user: String, sample: GeneratedSample)]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = ""
        for (user, sample) in rows {
            let record = Record(user: user, text: sample.text, logprob: sample.logprob)
            text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
        }
        return text
    }

    /// Samples grouped by user, in file order. Every problem names the line and the field.
    public static func read(_ path: String) throws -> [String: [GeneratedSample]] {
        guard FileManager.default.fileExists(atPath: path) else { throw RecDataError.missingPath(path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecDataError.io(path: path, detail: "cannot read the file")
        }
        var samples: [String: [GeneratedSample]] = [:]
        var count = 0
        for (offset, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(line))
            } catch {
                throw RecDataError.malformedLine(file: path, line: number, detail: "not valid JSON")
            }
            guard let record = object as? [String: Any] else {
                throw RecDataError.malformedLine(file: path, line: number, detail: "not a JSON object")
            }
            guard let user = record["user"] else { throw RecDataError.missingField(file: path, line: number, field: "user") }
            guard let userID = (user as? String) ?? (user as? NSNumber).map({ $0.stringValue }) else {
                throw RecDataError.invalidField(file: path, line: number, field: "user", detail: "must be a string")
            }
            guard let textValue = record["text"] else { throw RecDataError.missingField(file: path, line: number, field: "text") }
            guard let text = textValue as? String else {
                throw RecDataError.invalidField(file: path, line: number, field: "text", detail: "must be a string")
            }
            guard let logprobValue = record["logprob"] else {
                throw RecDataError.missingField(file: path, line: number, field: "logprob")
            }
            guard let number = logprobValue as? NSNumber, !(logprobValue is Bool), number.doubleValue.isFinite else {
                throw RecDataError.invalidField(file: path, line: offset + 1, field: "logprob", detail: "must be a finite number")
            }
            samples[userID, default: []].append(GeneratedSample(text: text, logprob: number.doubleValue))
            count += 1
        }
        if count == 0 { throw RecDataError.emptyFile(path) }
        return samples
    }
}
