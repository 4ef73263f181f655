import Foundation
import RecData

/// Planning a run: the parameters' values, and each block with its parameters substituted and its
/// files resolved.
extension WorkbookRunner {
    /// A block with its parameters substituted and its files resolved.
    struct Prepared {
        var block: Block
        var commands: [[String]]  // calrec
        var script: String  // sh
        /// sh: the parameters' variables the script uses (`CALREC_P_name` → value).
        var environment: [String: String] = [:]
        var inputs: [String]
        var outputs: [String]
        var renderedText: String
    }

    /// The workbook's parameter values after `options.overrides`, with the built-in `reference`
    /// parameter naming `<artifacts>/<workbook>/reference.json` (written when it differs) if the
    /// front matter has reference numbers.
    static func parameterValues(_ workbook: Workbook, options: RunOptions) throws -> [String: String] {
        var values = Dictionary(uniqueKeysWithValues: workbook.parameters.map { ($0.name, $0.value) })
        for (name, value) in options.overrides.sorted(by: { $0.key < $1.key }) {
            guard values[name] != nil else {
                let known = workbook.parameters.map(\.name).joined(separator: ", ")
                throw WorkbenchError.parse(
                    file: workbook.path, line: 1, message: "unknown parameter '\(name)' in -p; the workbook declares: \(known)")
            }
            values[name] = value
        }
        for (name, value) in values where value.utf8.contains(0) {
            throw WorkbenchError.parse(file: workbook.path, line: 1, message: "parameter '\(name)' contains a NUL byte, which no command can receive")
        }
        if let reference = workbook.referenceJSON {
            let path = ((options.artifactsRoot as NSString).appendingPathComponent(workbook.name) as NSString)
                .appendingPathComponent("reference.json")
            if FileManager.default.contents(atPath: path) != reference { try AtomicWrite.write(reference, to: path) }
            values[Workbook.referenceParameter] = path
        }
        return values
    }

    func prepare(_ block: Block) throws -> Prepared {
        switch block.kind {
        case .calrec:
            let commands: [[String]]
            do {
                commands = try ParameterSubstitution.calrecCommands(block.text, values)
            } catch {
                throw WorkbenchError.parse(file: workbook.path, line: block.line, message: "unterminated quote in block #\(block.id)")
            }
            var inputs: [String] = []
            var outputs: [String] = []
            for command in commands {
                var i = 0
                while i < command.count {
                    let argument = command[i]
                    if Self.outputOptions.contains(argument), i + 1 < command.count {
                        i += 2
                        continue
                    }
                    if !argument.hasPrefix("-") {
                        if FileManager.default.fileExists(atPath: argument) {
                            inputs.append(argument)
                        } else if let equals = argument.firstIndex(of: "="),
                            FileManager.default.fileExists(atPath: String(argument[argument.index(after: equals)...]))
                        {
                            // `Name=path` (e.g. `results CALRec=metrics/calrec.json`): the path is an input.
                            inputs.append(String(argument[argument.index(after: equals)...]))
                        }
                    }
                    i += 1
                }
                outputs += Self.outputPaths(command)
            }
            let rendered = commands.map { (["calrec"] + $0).map(Self.displayQuote).joined(separator: " ") }.joined(separator: "\n")
            return Prepared(block: block, commands: commands, script: "", inputs: inputs, outputs: outputs, renderedText: rendered)
        case .sh:
            let script = block.shellScript ?? block.text  // rewritten when the workbook was parsed
            let used = ShellPlaceholders.parametersUsed(in: block.text, among: values.keys.sorted())
            let environment = Dictionary(uniqueKeysWithValues: used.map { (ShellPlaceholders.variable($0), values[$0] ?? "") })
            return Prepared(
                block: block, commands: [], script: script, environment: environment, inputs: block.declaredInputs,
                outputs: block.declaredOutputs, renderedText: Self.shellDisplay(script, environment: environment))
        }
    }

    /// An `sh` block as shown in reports: the parameters it receives, then the script as run.
    static func shellDisplay(_ script: String, environment: [String: String]) -> String {
        let lines = environment.sorted { $0.key < $1.key }.map { variable, value in
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            let json = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            return "# \(variable)=\(json)"
        }
        return (lines + [script]).joined(separator: "\n")
    }

    /// Options of calrec subcommands whose value is a file or folder the block writes.
    static let outputOptions: Set<String> = ["--out", "--metrics-file"]

    /// The files and folders a calrec subcommand's arguments say it writes (`--out X`, `--out=X`,
    /// `--metrics-file X`): what a block, or a subcommand run directly, records as its artifacts.
    public static func outputPaths(_ arguments: [String]) -> [String] {
        var paths: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if outputOptions.contains(argument), i + 1 < arguments.count {
                paths.append(arguments[i + 1])
                i += 2
                continue
            }
            if let equals = argument.firstIndex(of: "="), outputOptions.contains(String(argument[..<equals])) {
                paths.append(String(argument[argument.index(after: equals)...]))
            }
            i += 1
        }
        return paths
    }

    static func displayQuote(_ word: String) -> String {
        word.isEmpty || word.contains(where: { " \t\"'\\$`;&|<>(){}*?#~".contains($0) }) ? ParameterSubstitution.shellQuote(word) : word
    }
}
