import Foundation
import RecData

/// Throughput of the Amazon 2018 review reader (simdjson + zlib streaming + interning), in MB/s of
/// input file bytes, median of `--runs` runs. Usage: ReaderBenchmark <reviews.jsonl[.gz]> [--runs N]
let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write("usage: ReaderBenchmark <reviews.jsonl[.gz]> [--runs N]\n".data(using: .utf8)!)
    exit(2)
}
let path = arguments[1]
var runs = 5
if let flag = arguments.firstIndex(of: "--runs"), flag + 1 < arguments.count, let n = Int(arguments[flag + 1]) { runs = n }
var threads: Int? = nil
if let flag = arguments.firstIndex(of: "--threads"), flag + 1 < arguments.count { threads = Int(arguments[flag + 1]) }
let size = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0)
/// CPU time (user + system) of this process, in seconds: steady where wall time is not, on a shared machine.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
var seconds: [Double] = []
var cpu: [Double] = []
var records = 0
for _ in 0..<runs {
    let cpuStart = cpuSeconds()
    let start = DispatchTime.now().uptimeNanoseconds
    let log = try Amazon2018ReviewReader.read(path: path, threads: threads)
    let end = DispatchTime.now().uptimeNanoseconds
    records = log.records.count
    seconds.append(Double(end - start) / 1e9)
    cpu.append(cpuSeconds() - cpuStart)
}
seconds.sort()
cpu.sort()
let median = seconds[seconds.count / 2]
print(String(format: "calrec Amazon2018ReviewReader: median %.3f s -> %7.1f MB/s, %d records, cpu %.3f s, runs=%@", median,
             size / 1e6 / median, records, cpu[cpu.count / 2], seconds.map { String(format: "%.3f", $0) }.joined(separator: ",")))
