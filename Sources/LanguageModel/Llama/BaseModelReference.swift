import Foundation
import Support

/// The pretrained file a fine-tuned model starts from, as `base_model.json` records it: where it
/// was, its format, its size and its SHA-256. Loading adapters checks the file still matches.
public struct BaseModelReference: Codable, Sendable, Equatable {
    public enum Format: String, Codable, Sendable {
        case gguf
        /// A Hugging Face folder; the hash is of its `model.safetensors`.
        case huggingFace = "huggingface"
    }

    public static let fileName = "base_model.json"

    public var format: Format
    /// The file (GGUF) or folder (Hugging Face), as an absolute path.
    public var path: String
    public var sha256: String
    public var bytes: Int

    /// The reference of `file`, hashing it now.
    public init(file: String, format: Format) throws {
        let absolute = URL(fileURLWithPath: file).standardizedFileURL.path
        let hashed = format == .gguf ? absolute : (absolute as NSString).appendingPathComponent("model.safetensors")
        self.format = format
        path = absolute
        sha256 = try ContentHash.file(hashed)
        bytes = (try FileManager.default.attributesOfItem(atPath: hashed)[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Writes `base_model.json` into `folder`.
    public func write(folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicWrite.write(try encoder.encode(self), to: (folder as NSString).appendingPathComponent(Self.fileName))
    }

    /// The reference in `folder`, nil when it has none.
    public static func read(folder: String) throws -> BaseModelReference? {
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(BaseModelReference.self, from: data)
        } catch let error as DecodingError {
            throw ModelError.malformed(path: path, detail: DecodingErrorText.describe(error))
        }
    }

    /// Loads the base model, after checking its file still has the recorded SHA-256.
    public func load(recordedIn folder: String) throws -> LlamaModel {
        let hashed = format == .gguf ? path : (path as NSString).appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: hashed) else {
            throw ModelError.io(
                path: (folder as NSString).appendingPathComponent(Self.fileName),
                detail: "the base model \(path) (SHA-256 \(sha256)) is not there; put that file back (make models fetches SmolLM2) or retrain")
        }
        let found = try ContentHash.file(hashed)
        guard found == sha256 else {
            throw ModelError.malformed(
                path: (folder as NSString).appendingPathComponent(Self.fileName),
                detail: "the base model \(hashed) has SHA-256 \(found), but these weights were trained on \(sha256)")
        }
        if format == .gguf { return try LlamaModel.load(gguf: path, base: self).model }
        let model = try LlamaModel.load(folder: path)
        return try LlamaModel(config: model.config, parameters: model.parameters, base: self)
    }
}
