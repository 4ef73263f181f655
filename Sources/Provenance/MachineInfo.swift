import COpenBLAS
import Foundation

/// What a run record says about the machine: CPU, cores, memory, OS and the BLAS kernel in use.
public struct MachineInfo: Codable, Equatable, Sendable {
    public var cpu: String
    public var cores: Int
    public var memoryGiB: Double
    public var os: String
    /// OpenBLAS's kernel (`openblas_get_corename()`), e.g. `Haswell`, `SkylakeX`, `Zen`, `Prescott`.
    public var blasKernel: String
    public var blasThreads: Int

    enum CodingKeys: String, CodingKey {
        case cpu, cores, os
        case memoryGiB = "memory_gib"
        case blasKernel = "blas_kernel"
        case blasThreads = "blas_threads"
    }

    public static func current() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
        var name = utsname()
        uname(&name)
        let os = [name.sysname, name.release, name.machine].map { field in
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }.joined(separator: " ")
        return MachineInfo(
            cpu: model, cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: (Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824 * 10).rounded() / 10, os: os,
            blasKernel: openblas_get_corename().map { String(cString: $0) } ?? "unknown",
            blasThreads: Int(openblas_get_num_threads()))
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
