import Foundation

/// CPU time (user + system, all threads) this process has used, in seconds: recorded beside wall
/// time in training settings and metrics, since on a shared 2-core machine wall time varies with load.
enum CPUTime {
    static func now() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
