import ArgumentParser
import CALRec
import Evaluation
import Foundation
import LanguageModel
import RecData
import Support
import Workbench

/// `calrec export`: what another engine needs to train and sample CALRec on the same data with the
/// same tokens (`TrainingExport`; the PyTorch engine in `python/calrec_torch` reads it).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write export.json: the template's and every item's token ids, the training sequences, validation examples and evaluation users.",
        discussion: """
            The tokenizer is --model's (a GGUF file, a Hugging Face folder or a folder calrec train wrote); the PyTorch engine
            assembles prompts and batches from these ids exactly as calrec train and calrec recommend do.
            """)

    @OptionGroup var data: TrainingDataOptions
    @Option(help: "Model whose tokenizer encodes the texts: a GGUF file, a Hugging Face folder, or a folder calrec train wrote.")
    var model: String
    @Option(help: "Output file (export.json).") var out: String
    @Option(help: "Prompt wording: paper or compact (default: the model's calrec.json, else paper).") var template: String?
    @Option(name: .customLong("max-input"), help: "Most prompt tokens (default: the model's calrec.json, else its positions − --max-output, at most 1,024).")
    var maxInput: Int?
    @Option(name: .customLong("max-output"), help: "Most target tokens, end-of-text included (default: the model's calrec.json, else 64).")
    var maxOutput: Int?
    @Option(help: "Which users to list for sampling: valid or test.") var split: EvaluationSplit = .test
    @Option(help: "Users listed for sampling: tiny (first 50), default (first 500), full (all).") var budget: Budget = .full
    @Option(name: .customLong("max-users"), help: "List only the first N users for sampling (default: by --budget).") var maxUsers: Int?
    @Option(name: .customLong("mixture-exponent"), help: "Stage 1: P(dataset) ∝ n^exponent (recorded for the trainer).")
    var mixtureExponent = 0.3

    func validate() throws {
        if let template, PromptTemplate(name: template) == nil { throw ValidationError("--template must be paper or compact") }
    }

    func run() throws {
        let folder = try ModelFolder(path: model)
        let recorded = try RecommendCommand.settings(model)
        let template = self.template.flatMap(PromptTemplate.init(name:)) ?? recorded.template
        let maxOutput = self.maxOutput ?? recorded.maxOutput
        let maxInput = self.maxInput ?? recorded.maxInput ?? (min(folder.model.maxPositions, 1024) - maxOutput)
        let limit = maxUsers ?? budget.evaluatedUsers
        let entries = try data.datasets().map { dataset in
            let builder = try PromptBuilder(
                template: template, tokenizer: folder.tokenizer, items: dataset.items, format: data.itemTextFormat, maxInputTokens: maxInput,
                maxOutputTokens: maxOutput)
            let users = dataset.evaluationCases(split).prefix(limit ?? Int.max).map {
                TrainingExport.EvaluationUser(user: dataset.userIDs[$0.user], history: $0.history)
            }
            return (sequences: TrainingSequences(dataset: dataset), builder: builder, itemIDs: dataset.itemIDs, evaluation: Array(users))
        }
        let export = try TrainingExport(datasets: entries, evaluationSplit: split.rawValue, mixtureExponent: mixtureExponent)
        try export.write(to: out)
        let summary = export.datasets.map { "\($0.name): \($0.itemTokens.count) items, \($0.sequences.count) sequences, \($0.evaluation.count) \(split.rawValue) users" }
        print("export → \(out): \(summary.joined(separator: "; ")); tokenizer \(export.tokenizer.sha256.prefix(12))")
    }
}

extension ExportCommand: DeclaresFiles {
    /// The data and the model it reads, the export it writes.
    var files: CommandFiles { data.files + CommandFiles(reading: [model], writing: [out]) }
}
