import ArgumentParser
import Foundation
import Reporting
import Provenance
import Support
import Tensors
import Workbench

/// `calrec` — the command-line face of calrec-workbench. Every subcommand is a thin call into a library.
@main
struct Calrec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calrec",
        abstract: "Reproduce, teach and audit CALRec (RecSys 2024) on an ordinary machine.",
        version: "0.1.0",
        subcommands: [
            DoctorCommand.self, LMCommand.self, TrainCommand.self, RecommendCommand.self,
            RunCommand.self, StatusCommand.self, SynthCommand.self, PrepareCommand.self, StatsCommand.self,
            BaselineCommand.self, EvaluateCommand.self, CompareCommand.self, ResultsCommand.self, RunsCommand.self, AuditCommand.self,
            DiffCommand.self, ExportCommand.self, FeaturesCommand.self,
        ])
}

extension Calrec {
    /// Entry point: make sure OpenBLAS runs a kernel fit for this CPU, then parse and run; a
    /// subcommand run directly that writes artifacts is recorded (`DirectRunProvenance`).
    static func main() {
        refuseTunedBuildOnUnfitCPU()
        BLASKernel.reexecIfGeneric()
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: error)  // usage errors, --help and --version, as ArgumentParser reports them
        }
        do {
            let provenance = try DirectRunProvenance.begin(command, arguments: arguments)
            try command.run()
            // The command's work is done and written: a record that cannot be made is said, not failed.
            do {
                try provenance?.record()
            } catch {
                log("provenance not recorded: \(describe(error))")
            }
        } catch let code as ExitCode {
            exit(withError: code)
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // `--help` and `help <command>` parse to ArgumentParser's help command, whose run throws its
            // own request for the help text: ArgumentParser prints it and exits 0.
            exit(withError: error)
        } catch {
            FileHandle.standardError.write(Data("error: \(describe(error))\n".utf8))
            Foundation.exit(1)
        }
    }
}

extension Calrec {
    /// This machine as run records describe it, with the engine's BLAS kernel, threads and build.
    /// (OpenBLAS's own thread count is read before the engine claims it single-threaded.)
    static var machine: MachineInfo {
        let blasThreads = BLASKernel.threads
        return .current(blasKernel: BLASKernel.current, blasThreads: blasThreads, engineThreads: Parallel.threads, build: EngineBuild.summary)
    }
}

/// A binary built with host tuning and copied to a CPU without those features would die of an illegal
/// instruction somewhere in the engine; say so at once instead. (This file is compiled portably.)
func refuseTunedBuildOnUnfitCPU() {
    let flags = Platform.cpuFlags
    guard !flags.isEmpty, let tuning = EngineBuild.tuning else { return }
    let missing = EngineBuild.requiredCPUFlags.filter { !flags.contains($0) }
    guard !missing.isEmpty else { return }
    FileHandle.standardError.write(Data("""
        error: this calrec was built for \(tuning) CPUs and this CPU lacks \(missing.joined(separator: ", ")); \
        rebuild it here (`make build`, which tunes only for what the CPU has, or `swift build -c release` for portable code)

        """.utf8))
    exit(1)
}

/// An error as one line: its `LocalizedError` description, or what it says of itself.
func describe(_ error: Error) -> String {
    (error as? LocalizedError)?.errorDescription ?? String(describing: error)
}

/// A progress line on standard error (kept off standard output, which carries results).
func log(_ message: String) {
    FileHandle.standardError.write(Data("calrec: \(message)\n".utf8))
}
