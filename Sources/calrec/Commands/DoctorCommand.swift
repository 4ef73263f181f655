import ArgumentParser
import Foundation
import Provenance
import Support
import Tensors
import Workbench

/// `calrec doctor`: the machine as calrec sees it — CPU, cores, memory, BLAS kernel and threads.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doctor", abstract: "Show the BLAS kernel, threads and CPU features calrec runs with.")

    func run() throws {
        let machine = Calrec.machine
        let flags = Platform.cpuFlags
        let features = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"].filter(flags.contains)
        print("calrec \(Calrec.configuration.version) (Swift \(MachineInfo.swiftVersion))")
        print("cpu: \(machine.cpu); \(machine.cores) cores; \(machine.memoryGiB) GiB")
        print("cpu features: \(features.joined(separator: " "))")
        print("os: \(machine.os)")
        print("build: engine and JSON reader \(EngineBuild.summary)")
        let requested = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""
        print("blas: OpenBLAS kernel \(machine.blasKernel)\(requested), \(machine.blasThreads) threads of its own")
        // Touching Parallel.threads makes OpenBLAS single-threaded: the engine splits the work itself.
        let engineThreads = Parallel.threads
        let source = ProcessInfo.processInfo.environment["CALREC_THREADS"] != nil ? "CALREC_THREADS" : "one per core"
        print("engine: \(engineThreads) threads (\(source)); each runs OpenBLAS single-threaded on its part of a product")
    }
}

extension DoctorCommand: DeclaresFiles {
    /// Reads the machine, not files of the workbook; writes nothing.
    var files: CommandFiles { CommandFiles() }
}
