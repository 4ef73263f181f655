import Foundation
import RecData
import Reporting

/// Runs `calrec` subcommands in-process for the workbench; the CLI provides it, so the workbench
/// needs no knowledge of the commands themselves.
public protocol InProcessCommands: Sendable {
    /// Runs one `calrec` command (arguments without the program name); output goes to stdout.
    func run(_ arguments: [String]) throws
    /// Checks one command's arguments without running it (a dry run reports mistakes up front).
    func validate(_ arguments: [String]) throws
}

extension InProcessCommands {
    public func validate(_ arguments: [String]) throws {}
}

/// Options of `calrec run` / `calrec status`.
public struct RunOptions: Sendable {
    /// Re-run every block.
    public var force = false
    /// Re-run this block and every block after it; earlier blocks are not run.
    public var from: String?
    /// Re-run only this block.
    public var only: String?
    /// Say what would run, run nothing.
    public var dryRun = false
    /// `-p name=value` overrides of parameter defaults.
    public var overrides: [String: String] = [:]
    /// The tool version that enters every cache key.
    public var toolVersion: String
    /// Where artifacts go; the state lives in `<artifacts>/<workbook>/.calrec/`.
    public var artifactsRoot = "artifacts"

    public init(toolVersion: String) { self.toolVersion = toolVersion }
}

/// What happened to one block in a run.
public struct BlockOutcome: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case ran, cached, failed, interrupted, notRun = "not-run", wouldRun = "would-run"
    }

    public var id: String
    public var status: Status
    /// For `wouldRun` and `ran`: why the cache could not be used.
    public var reasons: [String]
    public var result: BlockResult?
    public var error: String?
    public var seconds: Double
    public var key: String
    /// The commands or script as run (after substitution).
    public var renderedText: String
    /// Files and folders the block writes.
    public var outputs: [String] = []
}

/// A whole run of a workbook.
public struct RunReport: Sendable, Codable {
    public enum Status: String, Sendable, Codable { case succeeded, failed, interrupted, planned }

    public var runID: String
    public var workbook: String
    public var status: Status
    public var started: Date
    public var finished: Date
    public var parameters: [String: String]
    public var outcomes: [BlockOutcome]
    /// For an interrupted run: the signal that stopped it (SIGINT, SIGTERM).
    public var signal: Int32?

    /// Blocks served from the cache.
    public var cacheHits: Int { outcomes.filter { $0.status == .cached }.count }
}

/// Executes a workbook's blocks in order with caching (ARCHITECTURE.md, "Workbook format"):
/// a block is skipped only if its cache key matches its last successful run and its outputs still
/// hash to what was recorded. A failing block stops the run; earlier artifacts stay.
/// Sendable for the interrupt handler, which reads it while the run goes on: its properties are set
/// before `run()` and not changed after.
public final class WorkbookRunner: @unchecked Sendable {
    public let workbook: Workbook
    public let options: RunOptions
    let commands: InProcessCommands
    /// Parameter values after overrides.
    public let values: [String: String]
    /// Called with the run's report when SIGINT or SIGTERM stops an in-process block, which cannot
    /// be stopped half-way: the process exits (status 128 + signal) after it returns, so this is
    /// where the caller renders and records the interrupted run. (An interrupted `sh` block is
    /// stopped instead, and `run()` returns the report as usual.)
    public var onInterruptedExit: (@Sendable (RunReport) -> Void)?

    var stateFolder: String {
        ((options.artifactsRoot as NSString).appendingPathComponent(workbook.name) as NSString).appendingPathComponent(".calrec")
    }

    var statePath: String { (stateFolder as NSString).appendingPathComponent("state.json") }

    public init(workbook: Workbook, options: RunOptions, commands: InProcessCommands) throws {
        self.workbook = workbook
        self.options = options
        self.commands = commands
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
        self.values = values
        for id in [options.from, options.only].compactMap({ $0 }) where !workbook.blocks.contains(where: { $0.id == id }) {
            throw WorkbenchError.parse(file: workbook.path, line: 1, message: "no block '#\(id)' in the workbook")
        }
    }

    // MARK: - Planning

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

    /// The cache-key parts of a prepared block, given the keys of the blocks before it and their outputs.
    func keyParts(_ prepared: Prepared, earlier: [(id: String, outputs: [String], key: String)]) throws -> CacheKeyParts {
        var inputs: [String: String] = [:]
        for path in prepared.inputs { inputs[path] = try ContentHash.path(path) ?? "missing" }
        var upstream: [String: String] = [:]
        for path in prepared.inputs {
            for producer in earlier where producer.outputs.contains(where: { Self.overlaps($0, path) }) {
                upstream[producer.id] = producer.key
            }
        }
        let text = prepared.block.kind == .calrec
            ? prepared.commands.map { $0.joined(separator: "\u{1F}") }.joined(separator: "\n")
            : ([prepared.script] + prepared.environment.sorted { $0.key < $1.key }.map { "\($0.key)\u{1F}\($0.value)" }).joined(separator: "\u{1E}")
        var attributes = prepared.block.attributes
        attributes["id"] = prepared.block.id
        return CacheKeyParts(
            kind: prepared.block.kind.rawValue, textHash: ContentHash.sha256(text), attributes: attributes, inputs: inputs,
            upstream: upstream, toolVersion: options.toolVersion)
    }

    /// Whether one path lies inside the other (or they are equal).
    static func overlaps(_ a: String, _ b: String) -> Bool {
        let x = (a as NSString).standardizingPath
        let y = (b as NSString).standardizingPath
        return x == y || x.hasPrefix(y + "/") || y.hasPrefix(x + "/")
    }

    /// Why a block cannot come from the cache (empty: it can).
    func staleness(_ parts: CacheKeyParts, record: BlockRecord?, block: Block, outputs: [String]) throws -> [String] {
        if !block.cacheable { return ["cache=false"] }
        guard let record else { return ["never run"] }
        var reasons = parts.differences(from: record.parts)
        if reasons.isEmpty && parts.key != record.key { reasons.append("cache key changed") }
        for path in outputs {
            let now = try ContentHash.path(path)
            if now == nil {
                reasons.append("output \(path) is missing")
            } else if now != record.outputs[path] {
                reasons.append("output \(path) was modified")
            }
        }
        return reasons
    }

    // MARK: - Running

    /// Runs the workbook (or, with `dryRun`, plans it). Reports are the caller's business.
    public func run() throws -> RunReport {
        // A dry run writes nothing, so it plans beside a running run (the state file is replaced atomically).
        let lock = options.dryRun ? nil : try RunLock(folder: stateFolder)
        defer { lock?.release() }
        do {
            return try run(holding: lock)
        } catch {
            // If the interrupt handler is finishing the run, it ends the process; this thread must not.
            if lock != nil, !Interrupts.claimFinish() { while true { pause() } }
            throw error
        }
    }

    private func run(holding lock: RunLock?) throws -> RunReport {
        let started = Date()
        let runID = Self.runID(started)
        var state = RunState.load(statePath)
        let progress = RunProgress()
        var earlier: [(id: String, outputs: [String], key: String)] = []
        var status: RunReport.Status = options.dryRun ? .planned : .succeeded
        let blocks = workbook.blocks
        let fromIndex = options.from.flatMap { id in blocks.firstIndex { $0.id == id } }
        if let lock {
            Interrupts.install { [self] signal in
                // A running sh block is stopped; the run loop then records the run.
                if ShellBlock.terminateRunning() { return }
                // An in-process block cannot be stopped half-way: the run is finished here, once.
                guard Interrupts.claimFinish() else { return }
                let report = progress.interruptedReport(
                    signal: signal, runID: runID, workbook: workbook.path, started: started, parameters: values
                ) { reached in
                    Self.notRun(blocks.filter { !reached.contains($0.id) }[...], reason: "the run was interrupted", prepare: self.prepare)
                }
                finishInterrupted(report)
                onInterruptedExit?(report)
                lock.release()
                // Not exit(): its clean-up would run under the threads still computing.
                _exit(128 + signal)
            }
        }
        defer { if lock != nil { Interrupts.uninstall() } }

        if options.dryRun {
            // Every calrec block's arguments are checked before anything is planned.
            for block in blocks where block.kind == .calrec {
                for command in try prepare(block).commands {
                    do {
                        try commands.validate(command)
                    } catch {
                        throw WorkbenchError.parse(
                            file: workbook.path, line: block.line,
                            message: "block #\(block.id): \((error as? LocalizedError)?.errorDescription ?? String(describing: error))")
                    }
                }
            }
        }
        for (index, block) in blocks.enumerated() {
            let prepared = try prepare(block)
            let parts = try keyParts(prepared, earlier: earlier)
            let key = parts.key
            let record = state.blocks[block.id]
            var outcome = BlockOutcome(
                id: block.id, status: .notRun, reasons: [], result: record?.result, error: nil, seconds: 0, key: key,
                renderedText: prepared.renderedText, outputs: prepared.outputs)
            defer { earlier.append((block.id, prepared.outputs, outcome.status == .notRun ? (record?.key ?? key) : key)) }

            let selected: Bool
            if let only = options.only {
                selected = block.id == only
            } else if let fromIndex {
                selected = index >= fromIndex
            } else {
                selected = true
            }
            guard selected else {
                progress.append(outcome)
                continue
            }
            var reasons = try staleness(parts, record: record, block: block, outputs: prepared.outputs)
            if options.force { reasons.insert("--force", at: 0) }
            if options.only != nil || fromIndex != nil { reasons.insert(options.only != nil ? "--only" : "--from", at: 0) }
            if reasons.isEmpty, let record {
                outcome.status = .cached
                outcome.result = record.result
                outcome.seconds = 0
                log("#\(block.id): cached")
                progress.append(outcome)
                continue
            }
            outcome.reasons = reasons
            if options.dryRun {
                outcome.status = .wouldRun
                progress.append(outcome)
                continue
            }
            if let signal = Interrupts.requested {
                status = .interrupted
                progress.append(contentsOf: Self.notRun(blocks[index...], reason: RunProgress.reason(signal: signal), prepare: prepare))
                break
            }
            log("#\(block.id): running (\(reasons.joined(separator: "; ")))")
            let clock = Date()
            progress.start(outcome)
            do {
                let result = try execute(prepared)
                if let signal = Interrupts.requested {
                    // Stopped by the interrupt, even if it ended with status 0 (a trap).
                    throw BlockFailure(message: RunProgress.reason(signal: signal), partial: result)
                }
                outcome.status = .ran
                outcome.result = result
                outcome.seconds = Date().timeIntervalSince(clock)
                var outputs: [String: String] = [:]
                for path in prepared.outputs { outputs[path] = try ContentHash.path(path) ?? "missing" }
                // Inputs are hashed again after the run in case the block wrote into them.
                let finalParts = try keyParts(prepared, earlier: earlier)
                outcome.key = finalParts.key
                state.blocks[block.id] = BlockRecord(
                    parts: finalParts, key: finalParts.key, outputs: outputs, result: result, seconds: outcome.seconds,
                    finished: Date())
                try state.save(statePath)
                log("#\(block.id): done in \(String(format: "%.1f", outcome.seconds)) s")
                progress.append(outcome)
            } catch {
                if let signal = Interrupts.requested {
                    outcome.status = .interrupted
                    outcome.seconds = Date().timeIntervalSince(clock)
                    outcome.error = RunProgress.reason(signal: signal, seconds: outcome.seconds)
                    outcome.result = (error as? BlockFailure)?.partial
                    state.blocks[block.id] = nil
                    try state.save(statePath)
                    log("#\(block.id): INTERRUPTED")
                    progress.append(outcome)
                    progress.append(contentsOf: Self.notRun(blocks[(index + 1)...], reason: "the run was interrupted", prepare: prepare))
                    status = .interrupted
                    break
                }
                outcome.status = .failed
                outcome.seconds = Date().timeIntervalSince(clock)
                if let failure = error as? BlockFailure {
                    outcome.error = failure.message
                    outcome.result = failure.partial
                } else {
                    outcome.error = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                    outcome.result = nil
                }
                state.blocks[block.id] = nil
                try state.save(statePath)
                log("#\(block.id): FAILED: \(outcome.error ?? "")")
                progress.append(outcome)
                status = .failed
                // The rest of the workbook does not run.
                progress.append(contentsOf: Self.notRun(blocks[(index + 1)...], reason: "an earlier block failed", prepare: prepare))
                break
            }
        }
        var report = RunReport(
            runID: runID, workbook: workbook.path, status: status, started: started, finished: Date(), parameters: values,
            outcomes: progress.outcomes)
        // The interrupt handler may be finishing this run already (it then ends the process); if it
        // is not, a signal from now on no longer interrupts the run, which has ended.
        if lock != nil, !Interrupts.claimFinish() { while true { pause() } }
        if status == .interrupted {
            report.signal = Interrupts.requested
            finishInterrupted(report)
        } else if !options.dryRun {
            try RunLog.append(report, folder: stateFolder)
        }
        return report
    }

    /// Outcomes for blocks that do not run because of `reason`.
    static func notRun(_ blocks: ArraySlice<Block>, reason: String, prepare: (Block) throws -> Prepared) -> [BlockOutcome] {
        blocks.map { later in
            BlockOutcome(
                id: later.id, status: .notRun, reasons: [reason], result: nil, error: nil, seconds: 0, key: "",
                renderedText: (try? prepare(later).renderedText) ?? later.text)
        }
    }

    /// An interrupted run: staging left by dead writers removed (this process's own stays: a thread
    /// may still be writing; once the process has ended it is the next write's debris), the run
    /// logged. (The lock is released last, by whoever ends the run.)
    func finishInterrupted(_ report: RunReport) {
        Interrupts.removeTemporaryFiles(under: options.artifactsRoot)
        try? RunLog.append(report, folder: stateFolder)
        log("interrupted; finished artifacts are kept")
    }

    /// A failed block, with whatever it printed before failing.
    struct BlockFailure: Error {
        var message: String
        var partial: BlockResult
    }

    func execute(_ prepared: Prepared) throws -> BlockResult {
        var result = BlockResult()
        switch prepared.block.kind {
        case .calrec:
            for command in prepared.commands {
                let collector = ResultCollector()
                do {
                    let output = try StdoutCapture.capture {
                        try ResultCollector.collecting(into: collector) { try commands.run(command) }
                    }
                    result.stdout += output
                } catch let failure as StdoutCapture.CapturedFailure {
                    result.stdout += failure.output
                    Self.merge(collector.collected, into: &result)
                    let message = (failure.error as? LocalizedError)?.errorDescription ?? "\(failure.error)"
                    throw BlockFailure(message: "calrec \(command.joined(separator: " ")): \(message)", partial: result)
                }
                Self.merge(collector.collected, into: &result)
            }
        case .sh:
            let outcome = try ShellBlock.run(script: prepared.script, environment: prepared.environment, timeout: prepared.block.timeout)
            result.stdout = outcome.stdout
            result.stderr = outcome.stderr
            if outcome.timedOut {
                throw BlockFailure(message: "timed out after \(prepared.block.timeout ?? 0) s", partial: result)
            }
            if outcome.status != 0 {
                let tail = outcome.stderr.split(separator: "\n").suffix(3).joined(separator: " | ")
                throw BlockFailure(message: "/bin/sh exited with status \(outcome.status)\(tail.isEmpty ? "" : ": \(tail)")", partial: result)
            }
        }
        return result
    }

    static func merge(_ collected: BlockResult, into result: inout BlockResult) {
        result.tables += collected.tables
        result.barCharts += collected.barCharts
        result.lineCharts += collected.lineCharts
        result.metrics.merge(collected.metrics) { $1 }
        result.stderr += collected.stderr
    }

    /// A run's id: its UTC start time and six random hex digits (`20261130-111513-3fa2c1`).
    public static func runID(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date) + "-" + String(UUID().uuidString.prefix(6)).lowercased()
    }

    func log(_ message: String) {
        FileHandle.standardError.write(Data("calrec run \(workbook.name): \(message)\n".utf8))
    }
}

/// `runs.jsonl` beside the state: one line per run, also where provenance is off.
enum RunLog {
    static func append(_ report: RunReport, folder: String) throws {
        var entry: [String: Any] = [
            "run_id": report.runID, "workbook": report.workbook, "status": report.status.rawValue,
            "started": ISO8601DateFormatter().string(from: report.started),
            "finished": ISO8601DateFormatter().string(from: report.finished), "parameters": report.parameters,
        ]
        entry["blocks"] = report.outcomes.map { ["id": $0.id, "status": $0.status.rawValue, "key": $0.key, "seconds": $0.seconds] }
        try appendLine(entry, folder: folder)
    }

    static func appendLine(_ entry: [String: Any], folder: String) throws {
        let path = (folder as NSString).appendingPathComponent("runs.jsonl")
        let line = try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
        var existing = FileManager.default.contents(atPath: path) ?? Data()
        existing.append(line)
        try AtomicWrite.write(existing, to: path)
    }
}
