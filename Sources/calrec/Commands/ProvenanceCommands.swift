import ArgumentParser
import Foundation
import Provenance

/// `calrec runs`: the recorded runs of this repository.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List recorded runs (refs/calrec/runs/*).")

    func run() throws {
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: FileManager.default.currentDirectoryPath))
        for id in try recorder.runIDs() {
            let m = try recorder.manifest(run: id)
            let source = (m.source.commit.map { String($0.prefix(10)) } ?? "no-commit") + (m.source.dirty ? "+dirty" : "")
            print("\(id)  \(m.status.padding(toLength: 11, withPad: " ", startingAt: 0))  \(source)  \(m.what)")
        }
    }
}

/// `calrec audit`: re-hash the artifacts of a run.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Re-hash a run's artifacts (or one artifact's latest run): OK / MODIFIED / MISSING.")

    @Argument(help: "A run id, or the path of an artifact (its newest run is audited).")
    var target: String

    func run() throws {
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: FileManager.default.currentDirectoryPath))
        let results: [AuditResult]
        let runIDs = try recorder.runIDs()
        let run: String
        if runIDs.contains(target) {
            run = target
            results = try recorder.audit(run: target)
        } else if let latest = try recorder.latestRun(with: target) {
            run = latest
            results = try recorder.audit(run: latest, only: target)
        } else {
            throw ProvenanceError.unknownRun(target)
        }
        print("run \(run)")
        if try !recorder.manifest(run: run).hasRootRelativePaths {
            print("paths relative to the working directory (\(FileManager.default.currentDirectoryPath)), as this older record has them")
        } else {
            print("paths relative to the repository root \(recorder.repository.root ?? "?")")
        }
        for result in results { print("\(result.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(result.path)") }
        let bad = results.filter { $0.state != .ok }.count
        print("\(results.count - bad) OK, \(bad) not")
        if bad > 0 { throw ExitCode.failure }
    }
}

/// `calrec diff`: what differs between two runs.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Show what differs between two runs: parameters, metrics, code.")

    @Argument var runA: String
    @Argument var runB: String

    func run() throws {
        let recorder = RunRecorder(repository: try GitRepository(discoveringFrom: FileManager.default.currentDirectoryPath))
        let lines = try recorder.diff(runA, runB)
        print(lines.isEmpty ? "no differences in parameters, metrics or code" : lines.joined(separator: "\n"))
    }
}
