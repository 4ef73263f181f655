import Foundation

/// A bar chart: groups (e.g. methods) × series (e.g. optimistic, pessimistic).
public struct BarChart: Sendable, Equatable, Codable {
    public var title: String
    public var groups: [String]
    public var series: [String]
    /// values[g][s]
    public var values: [[Double]]

    public init(title: String, groups: [String], series: [String], values: [[Double]]) {
        self.title = title
        self.groups = groups
        self.series = series
        self.values = values
    }
}

/// A line chart: named series of (x, y) points, e.g. training curves.
public struct LineChart: Sendable, Equatable, Codable {
    public struct Series: Sendable, Equatable, Codable {
        public var name: String
        public var points: [[Double]]  // [x, y]

        public init(name: String, points: [[Double]]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }
}

/// What one workbook block produced, for the report: its text output and structured results.
public struct BlockResult: Sendable, Equatable, Codable {
    public var stdout = ""
    public var stderr = ""
    public var tables: [Table] = []
    public var barCharts: [BarChart] = []
    public var lineCharts: [LineChart] = []
    /// Metrics a block reported, by name (e.g. `pop ndcg@10 opt`), for run comparisons.
    public var metrics: [String: Double] = [:]
    /// What an outside engine the block ran on reported about itself (e.g. `torch` → `2.15.0`,
    /// `devices`, `world_size`), for the run record.
    public var environment: [String: String] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey {
        case stdout, stderr, tables, barCharts, lineCharts, metrics, environment
    }

    /// Reads results cached before `environment` existed as having none.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stdout = try c.decode(String.self, forKey: .stdout)
        stderr = try c.decode(String.self, forKey: .stderr)
        tables = try c.decode([Table].self, forKey: .tables)
        barCharts = try c.decode([BarChart].self, forKey: .barCharts)
        lineCharts = try c.decode([LineChart].self, forKey: .lineCharts)
        metrics = try c.decode([String: Double].self, forKey: .metrics)
        environment = try c.decodeIfPresent([String: String].self, forKey: .environment) ?? [:]
    }
}

/// Where `calrec` commands running inside a workbook put their structured results. Outside a
/// workbook run there is no current collector and commands only print. The current collector is a
/// task-local value, set only around the block that runs (no process-wide state).
public final class ResultCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var result = BlockResult()

    @TaskLocal private static var active: ResultCollector?

    public init() {}

    /// The collector of the block running now, if any.
    public static var current: ResultCollector? { active }

    /// Makes `collector` current while `body` runs.
    public static func collecting<T>(into collector: ResultCollector, _ body: () throws -> T) rethrows -> T {
        try $active.withValue(collector) { try body() }
    }

    public func add(_ table: Table) { locked { $0.tables.append(table) } }
    public func add(_ chart: BarChart) { locked { $0.barCharts.append(chart) } }
    public func add(_ chart: LineChart) { locked { $0.lineCharts.append(chart) } }
    public func record(metric: String, _ value: Double) { locked { $0.metrics[metric] = value } }
    public func record(environment: [String: String]) { locked { $0.environment.merge(environment) { $1 } } }

    /// What has been collected so far.
    public var collected: BlockResult {
        lock.lock()
        defer { lock.unlock() }
        return result
    }

    private func locked(_ change: (inout BlockResult) -> Void) {
        lock.lock()
        change(&result)
        lock.unlock()
    }
}
