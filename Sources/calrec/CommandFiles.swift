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
                + "run it from an sh block with deps= and outs=, or give the command a DeclaresFiles conformance beside its definition"
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
