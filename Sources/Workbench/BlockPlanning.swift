import Foundation
import RecData
import Support

/// Planning a run: the parameters' values, and each block with its parameters substituted and its
/// files taken from what its commands declare (`InProcessCommands.files(for:)`) or, for `sh`
/// blocks, from `deps=` and `outs=`. Nothing here reads the files themselves, so every block is
/// prepared before the first one runs.
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

    /// Every block of the workbook prepared, in order; the first block whose commands do not parse
    /// or do not declare their files stops the plan with an error at its line.
    func plan() throws -> [Prepared] {
        try workbook.blocks.map(prepare)
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
            var files = CommandFiles()
            for command in commands {
                let declared: CommandFiles
                do {
                    declared = try self.commands.files(for: command)
                } catch {
                    throw WorkbenchError.parse(
                        file: workbook.path, line: block.line,
                        message: "block #\(block.id): \((error as? LocalizedError)?.errorDescription ?? String(describing: error))")
                }
                files.inputs += declared.inputs
                files.outputs += declared.outputs
            }
            let rendered = commands.map { (["calrec"] + $0).map(Self.displayQuote).joined(separator: " ") }.joined(separator: "\n")
            return Prepared(
                block: block, commands: commands, script: "", inputs: Self.unique(files.inputs), outputs: Self.unique(files.outputs),
                renderedText: rendered)
        case .sh:
            let script = block.shellScript ?? block.text  // rewritten when the workbook was parsed
            let used = ShellPlaceholders.parametersUsed(in: block.text, among: values.keys.sorted())
            let environment = Dictionary(uniqueKeysWithValues: used.map { (ShellPlaceholders.variable($0), values[$0] ?? "") })
            return Prepared(
                block: block, commands: [], script: script, environment: environment, inputs: block.declaredInputs,
                outputs: block.declaredOutputs, renderedText: Self.shellDisplay(script, environment: environment))
        }
    }

    /// `paths` without repeats, in their first order.
    static func unique(_ paths: [String]) -> [String] {
        var seen: Set<String> = []
        return paths.filter { seen.insert($0).inserted }
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

    static func displayQuote(_ word: String) -> String {
        word.isEmpty || word.contains(where: { " \t\"'\\$`;&|<>(){}*?#~".contains($0) }) ? ParameterSubstitution.shellQuote(word) : word
    }
}
