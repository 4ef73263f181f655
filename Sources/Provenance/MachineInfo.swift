import Foundation
import Support

/// What a run record says about the machine: CPU, cores, memory, OS and the BLAS kernel in use.
public struct MachineInfo: Codable, Equatable, Sendable {
    public var cpu: String
    public var cores: Int
    public var memoryGiB: Double
    public var os: String
    /// OpenBLAS's kernel (`openblas_get_corename()`), e.g. `Haswell`, `SkylakeX`, `Zen`, `Prescott`.
    public var blasKernel: String
    public var blasThreads: Int
    /// The engine's threads (`CALREC_THREADS`, default one per core). Its kernels split work into
    /// one part per thread, so results are bit-identical for a given count and differ, in the last
    /// bits, between counts: reproducing a number elsewhere means setting `CALREC_THREADS` to this
    /// (absent in older records).
    public var engineThreads: Int?
    /// How the engine was compiled: "portable" or "tuned for haswell (AVX2 + FMA)" (absent in older records).
    public var build: String?

    enum CodingKeys: String, CodingKey {
        case cpu, cores, os, build
        case memoryGiB = "memory_gib"
        case blasKernel = "blas_kernel"
        case blasThreads = "blas_threads"
        case engineThreads = "engine_threads"
    }

    /// This machine, with what the engine reports about its BLAS and its build (Provenance does not
    /// link the engine; the caller asks it).
    public static func current(blasKernel: String, blasThreads: Int, engineThreads: Int, build: String) -> MachineInfo {
        var name = utsname()
        uname(&name)
        let os = [name.sysname, name.release, name.machine].map { field in
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }.joined(separator: " ")
        return MachineInfo(
            cpu: Platform.cpuModel, cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: (Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824 * 10).rounded() / 10, os: os,
            blasKernel: blasKernel, blasThreads: blasThreads, engineThreads: engineThreads, build: build)
    }

    /// The Swift compiler that built this binary.
    public static var swiftVersion: String {
        #if compiler(>=6.4)
            return "6.4 or later"
        #elseif compiler(>=6.3)
            return "6.3"
        #elseif compiler(>=6.2)
            return "6.2"
        #elseif compiler(>=6.1)
            return "6.1"
        #else
            return "6.0"
        #endif
    }
}
