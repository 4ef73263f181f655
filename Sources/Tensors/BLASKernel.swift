import COpenBLAS
import Foundation
import Support

/// A trap of Debian's OpenBLAS: its OpenBLAS 0.3.21 does not recognise some newer CPUs
/// and falls back to a generic kernel (Prescott: ≈ 6× slower GEMM). OpenBLAS reads
/// `OPENBLAS_CORETYPE` only when it loads, so a program that finds a generic kernel on a CPU that can
/// do better re-executes itself once with the variable set.
public enum BLASKernel {
    /// Kernels OpenBLAS falls back to when it does not know the CPU.
    static let generic: Set<String> = ["prescott", "core2", "nehalem", "atom", "katmai", "coppermine", "northwood", "banias", "unknown"]

    /// The kernel in use.
    public static var current: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// The kernel to ask for, given the one in use and the CPU's feature flags (nil: keep it).
    public static func better(than kernel: String, cpuFlags: Set<String>) -> String? {
        guard generic.contains(kernel.lowercased()) else { return nil }
        if cpuFlags.contains("avx512f") && cpuFlags.contains("avx512bw") && cpuFlags.contains("avx512vl") { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The threads OpenBLAS would use by itself (the engine runs it single-threaded inside its own parts).
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Re-executes the program with `OPENBLAS_CORETYPE` set when OpenBLAS picked a generic kernel
    /// that the CPU can beat. Does nothing when the variable is already set (the user's choice, or
    /// the re-executed process), so it happens at most once. `CALREC_ASSUME_GENERIC_BLAS=1` makes it
    /// act as if the kernel were generic, so the path can be tested on any machine.
    public static func reexecIfGeneric() {
        let environment = ProcessInfo.processInfo.environment
        let kernel = environment["CALREC_ASSUME_GENERIC_BLAS"] == "1" ? "Prescott" : current
        guard environment["OPENBLAS_CORETYPE"] == nil, let better = better(than: kernel, cpuFlags: Platform.cpuFlags) else { return }
        setenv("OPENBLAS_CORETYPE", better, 1)
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv(Platform.executablePath, &argv)
        // If exec fails the program simply goes on with the slow kernel; the run record will say so.
        for pointer in argv { free(pointer) }
    }
}
