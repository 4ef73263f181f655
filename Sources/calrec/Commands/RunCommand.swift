import ArgumentParser
import Foundation
import Provenance
import Support
import Workbench

/// Runs `calrec` subcommands in-process for workbook blocks, with the files each declares.
struct CalrecInProcess: InProcessCommands {
    /// Subcommands a workbook block may not run: the workbook and run-record commands.
    static let refused: Set<String> = ["run", "status", "runs", "audit", "diff"]

    func run(_ arguments: [String]) throws {
        try Self.refuseNested(arguments)
        var command = try Calrec.parseAsRoot(arguments)
        try command.run()
    }

    func files(for arguments: [String]) throws -> CommandFiles {
        try Self.refuseNested(arguments)
        let command: ParsableCommand
        do {
            command = try Calrec.parseAsRoot(arguments)
        } catch {
            throw ValidationError(Calrec.message(for: error))
        }
        guard let declaring = command as? DeclaresFiles else {
            let name = Calrec.workbookSubcommands.first { $0.type == type(of: command) }?.name
            throw CommandFilesError.undeclared(command: name ?? type(of: command).configuration.commandName ?? arguments[0])
        }
        return declaring.files
    }

    private static func refuseNested(_ arguments: [String]) throws {
        guard let name = arguments.first, !refused.contains(name) else {
            throw ValidationError("a workbook block cannot run another workbook")
        }
    }
}

/// Options shared by `calrec run` and `calrec status`.
struct WorkbookOptions: ParsableArguments {
    @Argument(help: "The workbook (Markdown with calrec/sh blocks).")
    var workbook: String

    @Option(name: .short, help: "Override a parameter: -p name=value (repeatable).")
    var parameter: [String] = []

    @Option(help: "Folder for the rendered reports.")
    var reports = "Reports"

    func overrides() throws -> [String: String] {
        var result: [String: String] = [:]
        for item in parameter {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("-p takes name=value, got '\(item)'")
            }
            result[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return result
    }
}

/// `calrec run`: execute a workbook's blocks in order with caching and render its report.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a workbook: blocks in order, cached when unchanged; writes Reports/<name>.md and .html.")

    @OptionGroup var options: WorkbookOptions

    @Flag(help: "Run every block, ignoring the cache.")
    var force = false

    @Option(help: "Run this block and every block after it.")
    var from: String?

    @Option(help: "Run only this block.")
    var only: String?

    @Flag(name: .customLong("dry-run"), help: "Show which blocks would run and why; run nothing.")
    var dryRun = false

    @Flag(name: .customLong("no-provenance"), help: "Do not record the run in git (needed outside a git repository).")
    var noProvenance = false

    func run() throws {
        let workbook = try Workbook(path: options.workbook)
        var runOptions = RunOptions(toolVersion: Calrec.buildIdentity)
        runOptions.force = force
        runOptions.from = from
        runOptions.only = only
        runOptions.dryRun = dryRun
        runOptions.overrides = try options.overrides()
        // Provenance is settled before anything runs: outside git the run is refused.
        var recorder: RunRecorder?
        if !dryRun && !noProvenance {
            do {
                recorder = RunRecorder(repository: try GitRepository(discoveringFrom: FileManager.default.currentDirectoryPath))
            } catch ProvenanceError.notARepository(let path) {
                throw ValidationError(
                    "\(path) is not inside a git repository, so the run cannot be pinned to a commit; run from a git checkout (git init) or pass --no-provenance")
            }
        }
        let source = try recorder.map { try $0.sourceState(excluding: [options.reports, runOptions.artifactsRoot]) }
        let finisher = RunFinisher(workbook: workbook, reports: options.reports, recorder: recorder, source: source)
        let runner = try WorkbookRunner(workbook: workbook, options: runOptions, commands: CalrecInProcess())
        runner.onInterruptedExit = { report in
            do { try finisher.finish(report) } catch { log("the interrupted run could not be recorded: \(Calrec.message(for: error))") }
        }
        let report = try runner.run()
        if dryRun {
            for outcome in report.outcomes {
                print("#\(outcome.id): \(outcome.status == .cached ? "cached" : outcome.status == .wouldRun ? "would run — \(outcome.reasons.joined(separator: "; "))" : outcome.status.rawValue)")
            }
            return
        }
        try finisher.finish(report)
        if report.status == .interrupted { throw ExitCode(128 + (report.signal ?? SIGINT)) }
        if report.status == .failed {
            let failed = report.outcomes.first { $0.status == .failed }
            throw WorkbenchError.blockFailed(id: failed?.id ?? "?", message: failed?.error ?? "unknown error")
        }
    }
}

/// The end of a workbook run, finished or interrupted: the reports rendered and the run recorded in
/// git (unless provenance is off). Called from the interrupt handler's thread too, hence Sendable;
/// it runs once per process.
struct RunFinisher: @unchecked Sendable {
    let workbook: Workbook
    let reports: String
    let recorder: RunRecorder?
    let source: RunManifest.Source?

    func finish(_ report: RunReport) throws {
        var footer: [(String, String)] = [("provenance", "not recorded (--no-provenance)")]
        if let source {
            footer = [
                ("commit", source.commit ?? "none (no commits yet)"), ("branch", source.branch ?? "detached"),
                ("dirty", source.dirty ? "yes; snapshot tree \(source.snapshotTree ?? "?")" : "no"),
                ("record", "refs/calrec/runs/\(report.runID)"),
            ]
        }
        footer.append(("machine", Self.describe(Calrec.machine)))
        let paths = try ReportRenderer(workbook: workbook, report: report, provenance: footer).write(to: reports)
        log("report: \(paths.markdown), \(paths.html)")
        guard let recorder, let source else { return }
        let outputs = report.outcomes.flatMap(\.outputs) + [paths.markdown, paths.html]
        let manifest = RunManifest(
            runID: report.runID, workbook: report.workbook, status: report.status.rawValue, started: report.started,
            finished: report.finished, source: source, parameters: report.parameters,
            toolVersion: Calrec.buildIdentity, swiftVersion: MachineInfo.swiftVersion, machine: Calrec.machine,
            blocks: report.outcomes.map {
                RunManifest.Block(
                    id: $0.id, status: $0.status.rawValue, key: $0.key, seconds: $0.seconds, metrics: $0.result?.metrics ?? [:],
                    error: $0.error, environment: ($0.result?.environment).flatMap { $0.isEmpty ? nil : $0 })
            },
            artifacts: try recorder.artifacts(outputs))
        let commit = try recorder.record(manifest)
        log("run recorded: refs/calrec/runs/\(report.runID) (commit \(commit.hex.prefix(10)))")
    }
}

extension RunFinisher {
    /// The machine in one line, with what a number's last bits depend on: the engine's thread count
    /// (set `CALREC_THREADS` to it to reproduce the run elsewhere), OpenBLAS's kernel and the build.
    static func describe(_ machine: MachineInfo) -> String {
        var parts = ["\(machine.cpu), \(machine.cores) cores, \(machine.memoryGiB) GiB"]
        if let threads = machine.engineThreads { parts.append("engine \(threads) threads") }
        parts.append("OpenBLAS \(machine.blasKernel)")
        if let build = machine.build { parts.append(build) }
        return parts.joined(separator: "; ")
    }
}

/// `calrec status`: which blocks are stale and why.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "List a workbook's stale blocks and why.")

    @OptionGroup var options: WorkbookOptions

    func run() throws {
        let workbook = try Workbook(path: options.workbook)
        var runOptions = RunOptions(toolVersion: Calrec.buildIdentity)
        runOptions.dryRun = true
        runOptions.overrides = try options.overrides()
        let report = try WorkbookRunner(workbook: workbook, options: runOptions, commands: CalrecInProcess()).run()
        for outcome in report.outcomes {
            if outcome.status == .cached {
                print("#\(outcome.id): up to date")
            } else {
                print("#\(outcome.id): stale — \(outcome.reasons.joined(separator: "; "))")
            }
        }
    }
}

extension Calrec {
    /// The version and the first 12 hex digits of the SHA-256 of the running executable, e.g.
    /// `0.1.0+3f2a9c01b7d4`: part of every block's cache key and of run records, so a rebuilt
    /// calrec with other code re-runs blocks instead of serving results the old code made.
    static let buildIdentity: String = {
        let executable = Platform.executablePath
        guard let hash = try? ContentHash.file(executable) else { return configuration.version }
        return "\(configuration.version)+\(hash.prefix(12))"
    }()
}
