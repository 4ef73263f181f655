import Foundation
import RecData
import Support

/// `metrics.json`: one method's tie-aware metrics on one dataset and split, with the settings that
/// produced them (`Settings`, a type owned by the method's module) and what they cost.
///
/// ```json
/// {"version": 2, "method": "bm25", "dataset": "Office", "split": "test", "exclude_history": false,
///  "users": 4905, "metrics": {"ndcg@10": {"opt": 0.0336, "pes": 0.0319}, …},
///  "ci95": {"ndcg@10": {"opt": [lo, hi], "pes": [lo, hi]}, …}, "bootstrap": {"samples": 1000, "seed": 0},
///  "cpu_seconds": {"training": 0, "inference": 0.1}, "settings": {…}}
/// ```
/// Version 1 files (no `version`; metrics at the top level) are read too.
public struct MetricsFile<Settings: Codable & Sendable>: Codable, Sendable {
    /// The version this build writes.
    public static var currentVersion: Int { 2 }

    public typealias Value = MetricValue
    public typealias Interval = MetricInterval
    public typealias Cost = ComputeSeconds

    public var version: Int
    public var method: String
    public var dataset: String
    public var split: String
    public var excludeHistory: Bool
    public var users: Int
    /// Keyed by the metric's name (`ndcg@10`, `recall@1`, `mrr`).
    public var metrics: [String: Value]
    public var ci95: [String: Interval]
    public var bootstrap: BootstrapSettings
    public var cpuSeconds: Cost?
    public var settings: Settings?

    enum CodingKeys: String, CodingKey {
        case version, method, dataset, split, users, metrics, ci95, bootstrap, settings
        case excludeHistory = "exclude_history"
        case cpuSeconds = "cpu_seconds"
    }

    /// The file for `summary`, as this build writes it.
    public init(
        summary: EvaluationSummary, method: String, dataset: String, split: EvaluationSplit, excludeHistory: Bool,
        cost: Cost?, settings: Settings?
    ) {
        version = Self.currentVersion
        self.method = method
        self.dataset = dataset
        self.split = split.rawValue
        self.excludeHistory = excludeHistory
        users = summary.users
        var metrics: [String: Value] = [:], intervals: [String: Interval] = [:]
        for metric in summary.metrics {
            let mean = summary.means[metric]!, lower = summary.lower[metric]!, upper = summary.upper[metric]!
            metrics[metric.description] = Value(opt: mean.optimistic, pes: mean.pessimistic)
            intervals[metric.description] = Interval(opt: [lower.optimistic, upper.optimistic], pes: [lower.pessimistic, upper.pessimistic])
        }
        self.metrics = metrics
        ci95 = intervals
        bootstrap = BootstrapSettings(samples: summary.bootstrapSamples, seed: summary.seed)
        cpuSeconds = cost
        self.settings = settings
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
        guard version <= Self.currentVersion else {
            throw DecodingError.dataCorruptedError(
                forKey: .version, in: container,
                debugDescription: "version \(version) is newer than this calrec reads (\(Self.currentVersion)); update calrec")
        }
        method = try container.decodeIfPresent(String.self, forKey: .method) ?? ""
        dataset = try container.decodeIfPresent(String.self, forKey: .dataset) ?? ""
        split = try container.decodeIfPresent(String.self, forKey: .split) ?? ""
        excludeHistory = try container.decodeIfPresent(Bool.self, forKey: .excludeHistory) ?? false
        users = try container.decode(Int.self, forKey: .users)
        ci95 = try container.decodeIfPresent([String: Interval].self, forKey: .ci95) ?? [:]
        bootstrap = try container.decodeIfPresent(BootstrapSettings.self, forKey: .bootstrap) ?? BootstrapSettings(samples: 0, seed: 0)
        cpuSeconds = try container.decodeIfPresent(Cost.self, forKey: .cpuSeconds)
        if version >= 2 {
            metrics = try container.decode([String: Value].self, forKey: .metrics)
            settings = try container.decodeIfPresent(Settings.self, forKey: .settings)
        } else {
            // Version 1: every metric at the top level, settings mixed in beside them.
            let any = try decoder.container(keyedBy: AnyKey.self)
            var metrics: [String: Value] = [:]
            for key in any.allKeys where RankingMetric(key.stringValue) != nil {
                metrics[key.stringValue] = try any.decode(Value.self, forKey: key)
            }
            self.metrics = metrics
            settings = nil
        }
    }

    /// The file's bytes: pretty-printed, keys sorted, with a final newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Reads a metrics file; a file that is not one is an error naming it.
    public static func read(_ path: String) throws -> MetricsFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw RecDataError.missingPath(path) }
        do {
            return try JSONDecoder().decode(MetricsFile.self, from: data)
        } catch let error as DecodingError {
            throw RecDataError.malformedLine(file: path, line: 1, detail: "not a metrics.json file: \(DecodingErrorText.describe(error))")
        } catch {
            throw RecDataError.malformedLine(file: path, line: 1, detail: "not a metrics.json file")
        }
    }
}

/// A metric's mean over users (metrics.json), with optimistic and pessimistic ranks.
public struct MetricValue: Codable, Sendable, Equatable {
    public var opt: Double
    public var pes: Double

    public init(opt: Double, pes: Double) {
        self.opt = opt
        self.pes = pes
    }
}

/// A 95% interval, `[lower, upper]`, for each kind of rank.
public struct MetricInterval: Codable, Sendable, Equatable {
    public var opt: [Double]
    public var pes: [Double]
}

/// The bootstrap behind the 95% intervals.
public struct BootstrapSettings: Codable, Sendable, Equatable {
    public var samples: Int
    public var seed: UInt64
}

/// CPU seconds: fitting the method (nil when unknown, e.g. a model trained elsewhere) and ranking
/// the evaluated users; per stage when there were several.
public struct ComputeSeconds: Codable, Sendable, Equatable {
    public var training: Double?
    public var inference: Double
    public var trainingStages: [String: Double]?

    public init(training: Double?, inference: Double, trainingStages: [String: Double]? = nil) {
        self.training = training
        self.inference = inference
        self.trainingStages = trainingStages
    }

    enum CodingKeys: String, CodingKey {
        case training, inference
        case trainingStages = "training_stages"
    }
}

/// Settings that are not read (a reader that only needs the metrics).
public struct IgnoredSettings: Codable, Sendable {
    public init(from decoder: Decoder) throws {}
    public func encode(to encoder: Encoder) throws {}
}

/// Any key of a JSON object.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
