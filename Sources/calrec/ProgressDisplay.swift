import Foundation

/// Progress of long work on standard error: a bar redrawn in place on a terminal
/// (`[#####·····] 120/600  loss 3.2104  4,532 tok/s  ETA 1m20s`), plain log lines about every 5%
/// elsewhere (CI logs, workbook blocks), so captured output stays readable.
final class ProgressDisplay {
    let total: Int
    let label: String
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let started = Date()
    private var lastDraw = Date.distantPast

    init(total: Int, label: String) {
        self.total = max(1, total)
        self.label = label
    }

    /// Reports that `done` of `total` units are finished; `detail` follows the count.
    func update(_ done: Int, detail: String) {
        let elapsed = Date().timeIntervalSince(started)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        if isTerminal {
            guard done == total || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            let width = 24
            let filled = width * done / total
            let bar = String(repeating: "#", count: filled) + String(repeating: "·", count: width - filled)
            let line = "\(label) [\(bar)] \(done)/\(total)  \(detail)  ETA \(Self.duration(eta))"
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)\(done == total ? "\n" : "")".utf8))
        } else if done == 1 || done == total || done % max(1, total / 20) == 0 {
            FileHandle.standardError.write(Data("calrec: \(label) \(done)/\(total) \(detail) ETA \(Self.duration(eta))\n".utf8))
        }
    }

    /// `1h02m`, `3m20s`, `42s`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, s % 3600 / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
