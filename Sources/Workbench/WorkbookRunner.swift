import Foundation
import Support

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
        self.values = try Self.parameterValues(workbook, options: options)
        for id in [options.from, options.only].compactMap({ $0 }) where !workbook.blocks.contains(where: { $0.id == id }) {
            throw WorkbenchError.parse(file: workbook.path, line: 1, message: "no block '#\(id)' in the workbook")
        }
    }

    /// Runs the workbook (or, with `dryRun`, plans it). Reports are the caller's business. Every
    /// block is prepared first, so a block whose commands do not parse or do not declare their
    /// files stops the run before anything runs.
    public func run() throws -> RunReport {
        let plan = try plan()
        // A dry run writes nothing, so it plans beside a running run (the state file is replaced atomically).
        let lock = options.dryRun ? nil : try RunLock(folder: stateFolder)
        defer { lock?.release() }
        do {
            return try run(plan, holding: lock)
        } catch {
            // If the interrupt handler is finishing the run, it ends the process; this thread must not.
            if lock != nil, !Interrupts.claimFinish() { while true { pause() } }
            throw error
        }
    }

    private func run(_ plan: [Prepared], holding lock: RunLock?) throws -> RunReport {
        let started = Date()
        let runID = Self.runID(started)
        var state = RunState.load(statePath)
        let progress = RunProgress()
        var earlier: [Earlier] = []
        var status: RunReport.Status = options.dryRun ? .planned : .succeeded
        let fromIndex = options.from.flatMap { id in plan.firstIndex { $0.block.id == id } }
        if let lock {
            Interrupts.install { [self] signal in
                // A running sh block is stopped; the run loop then records the run.
                if ShellBlock.terminateRunning() { return }
                // An in-process block cannot be stopped half-way: the run is finished here, once.
                guard Interrupts.claimFinish() else { return }
                let report = progress.interruptedReport(
                    signal: signal, runID: runID, workbook: workbook.path, started: started, parameters: values
                ) { reached in
                    Self.notRun(plan.filter { !reached.contains($0.block.id) }[...], reason: "the run was interrupted")
                }
                finishInterrupted(report)
                onInterruptedExit?(report)
                lock.release()
                // Not exit(): its clean-up would run under the threads still computing.
                _exit(128 + signal)
            }
        }
        defer { if lock != nil { Interrupts.uninstall() } }

        for (index, prepared) in plan.enumerated() {
            let block = prepared.block
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
                progress.append(contentsOf: Self.notRun(plan[index...], reason: RunProgress.reason(signal: signal)))
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
                    progress.append(contentsOf: Self.notRun(plan[(index + 1)...], reason: "the run was interrupted"))
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
                progress.append(contentsOf: Self.notRun(plan[(index + 1)...], reason: "an earlier block failed"))
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
    static func notRun(_ blocks: ArraySlice<Prepared>, reason: String) -> [BlockOutcome] {
        blocks.map { later in
            BlockOutcome(
                id: later.block.id, status: .notRun, reasons: [reason], result: nil, error: nil, seconds: 0, key: "",
                renderedText: later.renderedText)
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
