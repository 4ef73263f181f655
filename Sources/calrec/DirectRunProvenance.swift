import ArgumentParser
import Foundation
import Provenance
import Workbench

/// Provenance for a subcommand run directly, not from a workbook (ARCHITECTURE.md, "Provenance":
/// every run that writes artifacts is recorded): the repository state is settled before the command
/// runs, and when it succeeds the files it declares it writes (`DeclaresFiles`: `--out`,
/// `--metrics-file`) are hashed into a run record on `refs/calrec/runs/<run-id>` whose manifest keeps the command line.
///
/// Not recorded: subcommands that write nothing, `calrec run` (it records the workbook run itself),
/// runs outside a git repository (said on standard error) and runs with `CALREC_NO_PROVENANCE` set
/// to anything but empty, `0`, `false` or `no` (the test suite sets it, as it drives the binary from
/// inside this repository).
struct DirectRunProvenance {
    static let disablingVariable = "CALREC_NO_PROVENANCE"

    let arguments: [String]
    let outputs: [String]
    let recorder: RunRecorder
    let source: RunManifest.Source
    let started: Date

    /// Starts recording `command`, parsed from `arguments` (the command line without the program
    /// name), or returns nil when this run is not recorded.
    static func begin(_ command: ParsableCommand, arguments: [String]) throws -> DirectRunProvenance? {
        guard let subcommand = arguments.first, subcommand != RunCommand.configuration.commandName else { return nil }
        let outputs = (command as? DeclaresFiles)?.files.outputs ?? []
        guard !outputs.isEmpty, !isDisabled(ProcessInfo.processInfo.environment[disablingVariable]) else { return nil }
        let repository: GitRepository
        do {
            repository = try GitRepository(discoveringFrom: FileManager.default.currentDirectoryPath)
        } catch ProvenanceError.notARepository {
            log("provenance not recorded: \(FileManager.default.currentDirectoryPath) is not inside a git repository")
            return nil
        }
        let recorder = RunRecorder(repository: repository)
        return DirectRunProvenance(
            arguments: arguments, outputs: outputs, recorder: recorder,
            source: try recorder.sourceState(excluding: RunRecorder.defaultOutputs + outputs), started: Date())
    }

    /// Whether the value of `CALREC_NO_PROVENANCE` switches provenance off: set, and not empty, `0`, `false` or `no`.
    static func isDisabled(_ value: String?) -> Bool {
        guard let value = value?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return !["", "0", "false", "no"].contains(value)
    }

    /// Records the finished command and its artifacts.
    func record() throws {
        let finished = Date()
        let runID = WorkbookRunner.runID(started)
        let manifest = RunManifest(
            runID: runID, workbook: "", status: "succeeded", started: started, finished: finished, source: source, parameters: [:],
            toolVersion: Calrec.buildIdentity, swiftVersion: MachineInfo.swiftVersion, machine: Calrec.machine,
            blocks: [.init(id: arguments[0], status: "ran", key: "", seconds: finished.timeIntervalSince(started), metrics: [:])],
            artifacts: try recorder.artifacts(outputs), command: arguments)
        let commit = try recorder.record(manifest)
        log("run recorded: refs/calrec/runs/\(runID) (commit \(commit.hex.prefix(10)))")
    }
}
