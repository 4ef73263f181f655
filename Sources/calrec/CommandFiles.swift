import ArgumentParser
import Foundation
import Workbench

/// A calrec subcommand, or a group of its options, that says which files and folders it reads and
/// writes, from its parsed options. Every subcommand a workbook block may run conforms: the
/// workbench hashes the inputs into the block's cache key and links them to the blocks that wrote
/// them, and hashes and records the outputs (so does `DirectRunProvenance` for a command run
/// directly). A path that is only an option's value — a prompt, a format name — is never a file
/// here, whatever lies on disk under that name.
protocol DeclaresFiles {
    /// What the command reads and writes, as the paths its arguments give.
    var files: CommandFiles { get }
}

/// A workbook block's command that declares no files.
enum CommandFilesError: LocalizedError, Equatable {
    case undeclared(command: String)

    var errorDescription: String? {
        switch self {
        case .undeclared(let command):
            return "calrec \(command) does not declare the files it reads and writes, so a workbook cannot cache or record it; "
                + "run it from an sh block with deps= and outs=, or give the command a DeclaresFiles conformance (Sources/calrec/CommandFiles.swift)"
        }
    }
}

extension CommandFiles {
    /// Files from optional paths: options that were not given (nil) are left out.
    init(reading inputs: [String?], writing outputs: [String?] = []) {
        self.init(inputs: inputs.compactMap { $0 }, outputs: outputs.compactMap { $0 })
    }

    static func + (a: CommandFiles, b: CommandFiles) -> CommandFiles {
        CommandFiles(inputs: a.inputs + b.inputs, outputs: a.outputs + b.outputs)
    }
}

extension Calrec {
    /// The subcommands a workbook block may run, by their full names (`lm generate`): every leaf
    /// of the command tree except the workbook and run-record commands (`CalrecInProcess.refused`).
    static var workbookSubcommands: [(name: String, type: ParsableCommand.Type)] {
        func leaves(_ type: ParsableCommand.Type, prefix: [String]) -> [(name: String, type: ParsableCommand.Type)] {
            let name = prefix + [type.configuration.commandName ?? "?"]
            let children = type.configuration.subcommands
            return children.isEmpty ? [(name.joined(separator: " "), type)] : children.flatMap { leaves($0, prefix: name) }
        }
        return configuration.subcommands
            .filter { !CalrecInProcess.refused.contains($0.configuration.commandName ?? "") }
            .flatMap { leaves($0, prefix: []) }
    }
}

// MARK: - Option groups

extension DataSourceOptions: DeclaresFiles {
    /// The data folder, whole: with `--category` only some of its files are read, but which ones
    /// (`.json` or `.json.gz`) is known only once they exist.
    var files: CommandFiles { CommandFiles(reading: [amazon2018, recbole]) }
}

extension TrainingDataOptions: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: recbole + [amazon2018]) }
}

extension LMCatalogueOptions: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [recbole]) }
}

extension EvaluationOptions: DeclaresFiles {
    /// `--out` (metrics.json, ranks.tsv and whatever the method saves there) and `--metrics-file`.
    var files: CommandFiles { CommandFiles(reading: [], writing: [out, metricsFile]) }
}

extension SequentialModelOptions: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [load]) }
}

// MARK: - Subcommands

extension DoctorCommand: DeclaresFiles {
    /// Reads the machine, not files of the workbook; writes nothing.
    var files: CommandFiles { CommandFiles() }
}

extension SynthCommand: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [], writing: [out]) }
}

extension StatsCommand: DeclaresFiles {
    var files: CommandFiles { source.files + CommandFiles(reading: [reference]) }
}

extension PrepareCommand: DeclaresFiles {
    var files: CommandFiles { source.files + CommandFiles(reading: [], writing: [out]) }
}

extension TrainCommand: DeclaresFiles {
    /// The data, the model it starts from, and the model folder it writes. `<out>.checkpoint` is
    /// not declared: it is the training's resumable state, and a resumed run ends where an
    /// uninterrupted one would, so it changes no result.
    var files: CommandFiles { data.files + CommandFiles(reading: [`init`], writing: [out]) }
}

extension LMTrainCommand: DeclaresFiles {
    /// The documents and the model folder (`<out>.checkpoint` as for `TrainCommand`).
    var files: CommandFiles { source.files + CommandFiles(reading: [textFile], writing: [out]) }
}

extension LMGenerateCommand: DeclaresFiles {
    /// The model only: `--prompt` is text, even when a file has that name.
    var files: CommandFiles { CommandFiles(reading: [model]) }
}

extension LMScoreCommand: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [model]) }
}

extension RecommendCommand: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [model]) + source.files + evaluation.files }
}

extension EvaluateCommand: DeclaresFiles {
    /// The samples or scores file, the data, and the evaluation's outputs.
    var files: CommandFiles { CommandFiles(reading: [input]) + source.files + evaluation.files }
}

extension BaselineCommand: DeclaresFiles {
    /// The data, a saved model with `--load`, and the evaluation's outputs (SASRec and BERT4Rec
    /// save their model inside `--out`).
    var files: CommandFiles { source.files + sequential.files + evaluation.files }
}

extension CompareCommand: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [ranksA, ranksB]) }
}

extension ResultsCommand: DeclaresFiles {
    /// Each method's metrics file (the path after `NAME=`; an item without one is refused when the
    /// command runs) and the reference numbers.
    var files: CommandFiles {
        let metrics = methods.compactMap { item in item.firstIndex(of: "=").map { String(item[item.index(after: $0)...]) } }
        return CommandFiles(reading: metrics + [reference])
    }
}
