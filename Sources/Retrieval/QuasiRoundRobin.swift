import Foundation

/// One generated sample: its text and its total log-probability under the model.
public struct GeneratedSample: Sendable, Equatable, Codable {
    public var text: String
    public var logprob: Double

    public init(text: String, logprob: Double) {
        self.text = text
        self.logprob = logprob
    }
}

/// Quasi-round-robin BM25 ranking of docs/method.md §5: from `N_gen` samples to one score per catalogue item.
///
/// 1. sort samples by log-probability, best first (stable); drop repeated texts, keeping the best;
/// 2. keep the first `predictions` (N_preds);
/// 3. for each kept sample i: BM25 scores of every item with the sample text as the query; scale the
///    column linearly to [0, 1] (min–max; a constant column becomes all 0); multiply by
///    `exp(epsilon · s_i)` when `modulation` is on;
/// 4. pool the columns item by item (max, mean or min) into the item's score.
public struct QuasiRoundRobin: Sendable, Equatable, Codable {
    public enum Pooling: String, Sendable, CaseIterable, Codable {
        case max, mean, min
    }

    /// N_preds: samples kept after de-duplication. Our default (the paper does not print one).
    public var predictions: Int
    public var pooling: Pooling
    /// Multiply each column by exp(ε·s).
    public var modulation: Bool
    /// ε of the modulation. Our default, small: the paper finds results insensitive to small ε.
    public var epsilon: Double

    /// As recorded in metrics.json: `{"n_preds": 5, "pooling": "max", "modulation": true, "epsilon": 0.01}`.
    enum CodingKeys: String, CodingKey {
        case predictions = "n_preds"
        case pooling, modulation, epsilon
    }

    public init(predictions: Int = 5, pooling: Pooling = .max, modulation: Bool = true, epsilon: Double = 0.01) {
        self.predictions = predictions
        self.pooling = pooling
        self.modulation = modulation
        self.epsilon = epsilon
    }

    /// Steps 1–2: the samples that take part, best first.
    public func selectedSamples(_ samples: [GeneratedSample]) -> [GeneratedSample] {
        let ordered = samples.enumerated().sorted { a, b in
            a.element.logprob != b.element.logprob ? a.element.logprob > b.element.logprob : a.offset < b.offset
        }.map(\.element)
        var seen = Set<String>()
        var kept: [GeneratedSample] = []
        for sample in ordered where kept.count < predictions && seen.insert(sample.text).inserted {
            kept.append(sample)
        }
        return kept
    }

    /// One score per item of `index` for `samples`. With no samples every item scores 0.
    public func scores(samples: [GeneratedSample], index: BM25Index) -> [Float] {
        let kept = selectedSamples(samples)
        let n = index.documentCount
        var pooled = [Float](repeating: 0, count: n)
        guard !kept.isEmpty else { return pooled }
        var column = [Float](repeating: 0, count: n)
        for (k, sample) in kept.enumerated() {
            column.withUnsafeMutableBufferPointer { index.score(terms: index.termIDs(sample.text), into: $0) }
            let factor = modulation ? Float(Foundation.exp(epsilon * sample.logprob)) : 1
            Self.linearScale(&column, factor: factor)
            switch pooling {
            case .max:
                if k == 0 { pooled = column } else { for i in 0..<n { pooled[i] = Swift.max(pooled[i], column[i]) } }
            case .min:
                if k == 0 { pooled = column } else { for i in 0..<n { pooled[i] = Swift.min(pooled[i], column[i]) } }
            case .mean:
                for i in 0..<n { pooled[i] += column[i] / Float(kept.count) }
            }
        }
        return pooled
    }

    /// Min–max scaling to [0, 1], times `factor`; a constant column becomes 0.
    static func linearScale(_ column: inout [Float], factor: Float) {
        guard let low = column.min(), let high = column.max() else { return }
        let range = high - low
        if range == 0 {
            for i in column.indices { column[i] = 0 }
            return
        }
        // Divide first, so the column's maximum becomes exactly 1 (× factor): equal tops stay tied.
        for i in column.indices { column[i] = (column[i] - low) / range * factor }
    }
}
