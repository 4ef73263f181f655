/// How the engine was compiled: portable code (a plain `swift build`), or code tuned for a CPU
/// family the Makefile chose for this host (Package.swift, `CALREC_TUNE`).
public enum EngineBuild {
    /// The CPU the engine's code was tuned for, or nil for portable code.
    public static var tuning: String? {
        #if CALREC_TUNED_HASWELL
            return "haswell"
        #else
            return nil
        #endif
    }

    /// The `/proc/cpuinfo` flags a CPU needs to run code tuned for `tuning` (empty for portable code).
    public static var requiredCPUFlags: [String] {
        tuning == nil ? [] : ["avx", "avx2", "fma", "bmi1", "bmi2", "abm", "movbe", "pclmulqdq", "f16c", "popcnt", "sse4_2"]
    }

    /// One line for reports and `calrec doctor`: "portable" or "tuned for haswell (AVX2 + FMA)".
    public static var summary: String { tuning.map { "tuned for \($0) (AVX2 + FMA)" } ?? "portable" }
}
