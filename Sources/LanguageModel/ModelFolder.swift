import Foundation
import Tokenization

/// A model and its tokenizer, from any of the layouts this package reads:
///
/// - a GGUF file (`*.gguf`, Llama architecture): weights dequantized, tokenizer from its metadata;
/// - a Hugging Face Llama-family folder: `config.json` (with `hidden_size`), `model.safetensors`,
///   `tokenizer.json` — or, written by `calrec train` with LoRA, `adapter_config.json` +
///   `adapter_model.safetensors` + `base_model.json` instead of the weights;
/// - a GPT-2 folder: `config.json` (with `n_embd`), `model.safetensors`, `vocab.json`, `merges.txt`.
public struct ModelFolder {
    public let model: any CausalLanguageModel
    public let tokenizer: BPETokenizer

    public init(path: String) throws {
        if try !Self.isFolder(path) {
            (model, tokenizer) = try LlamaModel.load(gguf: path)
        } else if Self.isLlamaFamily(folder: path) {
            model = try LlamaModel.load(folder: path)
            tokenizer = try BPETokenizer.load(folder: path)
        } else {
            model = try GPT2Model(folder: path)
            tokenizer = try BPETokenizer.load(folder: path)
        }
        guard tokenizer.vocabulary.count <= model.vocabularySize else {
            throw ModelError.malformed(
                path: path, detail: "the tokenizer has \(tokenizer.vocabulary.count) tokens but the model only \(model.vocabularySize)")
        }
    }

    /// The tokenizer of a model (a GGUF file or a model folder) without loading its weights.
    public static func tokenizer(path: String) throws -> BPETokenizer {
        try isFolder(path) ? try BPETokenizer.load(folder: path) : try GGUFTokenizer.tokenizer(try GGUFFile(path: path))
    }

    /// Whether `path` is a model folder (true) or a GGUF file (false); anything else is an error.
    static func isFolder(_ path: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.io(path: path, detail: "no such model (give a GGUF file or a model folder with config.json)")
        }
        if isDirectory.boolValue { return true }
        guard path.hasSuffix(".gguf") else { throw ModelError.io(path: path, detail: "a model file must be GGUF (*.gguf); otherwise give a model folder") }
        return false
    }

    /// Whether `folder` holds a Llama-family model (adapters, or a `config.json` with `hidden_size`).
    static func isLlamaFamily(folder: String) -> Bool {
        if FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(PEFTAdapter.configName)) { return true }
        guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent("config.json")),
            let fields = try? JSONDecoder().decode(ConfigKind.self, from: data)
        else { return false }
        return fields.hiddenSize != nil
    }

    /// The one field that tells a Llama-family `config.json` (`hidden_size`) from GPT-2's (`n_embd`).
    private struct ConfigKind: Decodable {
        var hiddenSize: Int?
        enum CodingKeys: String, CodingKey { case hiddenSize = "hidden_size" }
    }
}
