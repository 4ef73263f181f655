import Foundation

/// What the running process can find out about itself and its machine. Linux sources (`/proc`),
/// with a portable answer where there is none.
public enum Platform {
    /// The running executable's path (`/proc/self/exe`; the first argument where that is missing).
    public static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The CPU's feature flags as `/proc/cpuinfo` lists them (`avx2`, `fma`, …); empty where unknown.
    public static var cpuFlags: Set<String> {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: ":", maxSplits: 1).last?.split(separator: " ").map(String.init) ?? [])
    }

    /// The CPU's model name (`/proc/cpuinfo`), or "unknown".
    public static var cpuModel: String {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }) else { return "unknown" }
        return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }

    /// CPU seconds (user + system, all threads) this process has used so far: steadier than wall
    /// time on a shared machine, and what training records and metrics report beside it.
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// CPU seconds (user + system) of this process's children that have ended and been waited for
    /// (an outside engine a command ran).
    public static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Whether a process with this id exists (signal 0 reaches it, or it belongs to another user).
    public static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }
}
