import ArgumentParser
import Foundation
import LanguageModel

/// `calrec lm …`: the language-model engine on its own.
struct LMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm", abstract: "Language-model tools (GPT-2 format model folders).", subcommands: [LMScoreCommand.self])
}

/// `calrec lm score`: the log-probability of a text under a model.
struct LMScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Print {\"tokens\": n, \"logprob\": x}: n tokens in the text, x the summed natural-log probability of tokens 2…n.")

    @Option(help: "Model folder: config.json, model.safetensors, vocab.json, merges.txt.")
    var model: String

    @Option(help: "The text to score.")
    var text: String

    func run() throws {
        try reportingErrors {
            let folder = try ModelFolder(path: model)
            let ids = folder.tokenizer.encode(text)
            guard ids.count <= folder.model.config.maxPositions else {
                throw ValidationError("the text has \(ids.count) tokens; the model reads at most \(folder.model.config.maxPositions)")
            }
            let object: [String: Any] = ["tokens": ids.count, "logprob": folder.model.logProbability(of: ids)]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}
