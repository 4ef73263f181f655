import Foundation
import Tokenization

/// A model folder as the GPT-2 family ships it: `config.json`, `model.safetensors`, `vocab.json`,
/// `merges.txt`.
public struct ModelFolder {
    public let model: GPT2Model
    public let tokenizer: BPETokenizer

    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.io(path: path, detail: "no such model folder (it needs config.json, model.safetensors, vocab.json, merges.txt)")
        }
        model = try GPT2Model(folder: path)
        tokenizer = try BPETokenizer(
            vocabularyFile: (path as NSString).appendingPathComponent("vocab.json"),
            mergesFile: (path as NSString).appendingPathComponent("merges.txt"))
        guard tokenizer.vocabulary.count <= model.config.vocabularySize else {
            throw ModelError.malformed(
                path: path, detail: "vocab.json has \(tokenizer.vocabulary.count) tokens but the model only \(model.config.vocabularySize)")
        }
    }
}
