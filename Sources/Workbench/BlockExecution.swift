import Foundation
import Reporting

/// Running one prepared block: `calrec` commands in-process (their output and results collected),
/// `sh` scripts under a supervised `/bin/sh`.
extension WorkbookRunner {
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
        result.environment.merge(collected.environment) { $1 }
        result.stderr += collected.stderr
    }
}
