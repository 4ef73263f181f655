import Foundation
import RecData
import Support

/// SIGINT (Ctrl-C) and SIGTERM during a run. The handler runs on a dispatch queue, not in signal
/// context, so it may do real work: the runner's handler stops a running `sh` block (the run loop
/// then records the interrupted run and returns), or, while an in-process block runs (which cannot
/// be stopped half-way), records and renders the run itself and exits with 128 + the signal.
/// Finished artifacts stay; nothing half-written is left (every artifact write is atomic; staging of
/// an abandoned write is removed by the next write of its output).
enum Interrupts {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var received: Int32?
    nonisolated(unsafe) private static var finishing = false
    private static let lock = NSLock()
    static let signals = [SIGINT, SIGTERM]

    /// The signal that interrupted this run, if one did.
    static var requested: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Whoever finishes an interrupted run (the handler or the run loop) claims it first; the
    /// first claim wins, so a run is recorded once.
    static func claimFinish() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if finishing { return false }
        finishing = true
        return true
    }

    static func install(handler: @escaping @Sendable (Int32) -> Void) {
        lock.lock()
        received = nil
        finishing = false
        lock.unlock()
        let registered = DispatchSemaphore(value: 0)
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                lock.lock()
                let first = received == nil
                if first { received = number }
                lock.unlock()
                if first { handler(number) }
            }
            source.setRegistrationHandler { registered.signal() }
            source.resume()
            sources.append(source)
        }
        // Back only once the sources listen, so a signal after this call is never lost.
        for _ in signals { _ = registered.wait(timeout: .now() + 2) }
    }

    static func uninstall() {
        for source in sources { source.cancel() }
        sources.removeAll()
        for number in signals { signal(number, SIG_DFL) }
    }

    /// Removes the staging files and folders (`.<name>.tmp-…`) under `folder` of atomic writes whose
    /// writers are gone. A live process's writes (this one's included) are left alone.
    static func removeTemporaryFiles(under folder: String) {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard AtomicWrite.isAbandonedContent((relative as NSString).lastPathComponent) else { continue }
            found.append((folder as NSString).appendingPathComponent(relative))
            enumerator.skipDescendants()
        }
        for path in found { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// What a run has done so far, readable from the interrupt handler while the run goes on.
final class RunProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var done: [BlockOutcome] = []
    private var running: (outcome: BlockOutcome, since: Date)?

    var outcomes: [BlockOutcome] {
        lock.lock()
        defer { lock.unlock() }
        return done
    }

    func append(_ outcome: BlockOutcome) { append(contentsOf: [outcome]) }

    func append(contentsOf outcomes: [BlockOutcome]) {
        lock.lock()
        done += outcomes
        if let running, outcomes.contains(where: { $0.id == running.outcome.id }) { self.running = nil }
        lock.unlock()
    }

    /// The block that starts running now.
    func start(_ outcome: BlockOutcome) {
        lock.lock()
        running = (outcome, Date())
        lock.unlock()
    }

    /// Why a run stopped, in words.
    static func reason(signal: Int32, seconds: Double? = nil) -> String {
        let name = signal == SIGINT ? "SIGINT (Ctrl-C)" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
        return "interrupted by \(name)" + (seconds.map { String(format: " after %.1f s", $0) } ?? "")
    }

    /// The run as it stands, stopped by `signal` in the running block (if one runs); `notReached`
    /// gives the outcomes of the blocks not among the ids it is given.
    func interruptedReport(
        signal: Int32, runID: String, workbook: String, started: Date, parameters: [String: String],
        notReached: (Set<String>) -> [BlockOutcome]
    ) -> RunReport {
        lock.lock()
        var outcomes = done
        let current = running
        lock.unlock()
        if let current {
            var outcome = current.outcome
            outcome.status = .interrupted
            outcome.seconds = Date().timeIntervalSince(current.since)
            outcome.error = Self.reason(signal: signal, seconds: outcome.seconds)
            outcome.result = nil
            outcomes.append(outcome)
        }
        outcomes += notReached(Set(outcomes.map(\.id)))
        var report = RunReport(
            runID: runID, workbook: workbook, status: .interrupted, started: started, finished: Date(), parameters: parameters,
            outcomes: outcomes)
        report.signal = signal
        return report
    }
}
