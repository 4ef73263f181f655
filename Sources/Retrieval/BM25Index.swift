import Dispatch
import Foundation

/// BM25 parameters. Defaults are Lucene's (k1 = 1.2, b = 0.75).
public struct BM25Parameters: Sendable, Equatable {
    public var k1: Float
    public var b: Float

    public init(k1: Float = 1.2, b: Float = 0.75) {
        self.k1 = k1
        self.b = b
    }
}

/// An inverted index over a fixed corpus that scores every document for a query — Lucene's BM25
/// (docs/method.md §5):
///
///     score(q, d) = Σ_{t ∈ q} idf(t) · tf(t,d) / (tf(t,d) + k1 · (1 − b + b · |d| / avgdl))
///     idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
///
/// as Lucene ≥ 8 computes it (without the constant (k1 + 1) factor, which does not change rankings).
/// A term repeated in the query counts once per occurrence, as repeated clauses do in a Lucene
/// `BooleanQuery`. |d| counts the document's terms after the analyzer. Unknown query terms score 0.
///
/// Each posting stores the precomputed `tf / (tf + k1 · (1 − b + b · |d| / avgdl))`, so scoring a
/// query is one multiply-add per posting of its terms.
public struct BM25Index: Sendable {
    public let analyzer: BM25Analyzer
    public let parameters: BM25Parameters
    /// Number of documents.
    public let documentCount: Int
    /// Term → term id.
    public let vocabulary: [String: Int32]
    /// idf of each term id.
    public let idf: [Float]
    /// Postings of term t: `postingDocuments[postingStart[t] ..< postingStart[t + 1]]`.
    let postingStart: [Int]
    let postingDocuments: [Int32]
    /// The tf part of the score for each posting.
    let postingWeights: [Float]
    /// Terms per document (after the analyzer) and their mean.
    public let documentLengths: [Int]
    public let averageDocumentLength: Float

    /// Indexes `documents` (document i gets id i).
    public init(documents: [String], analyzer: BM25Analyzer = .init(), parameters: BM25Parameters = .init()) {
        self.analyzer = analyzer
        self.parameters = parameters
        documentCount = documents.count
        var vocabulary: [String: Int32] = [:]
        var documentTerms: [[Int32]] = []
        documentTerms.reserveCapacity(documents.count)
        for document in documents {
            documentTerms.append(
                analyzer.terms(document).map { term in
                    if let id = vocabulary[term] { return id }
                    let id = Int32(vocabulary.count)
                    vocabulary[term] = id
                    return id
                })
        }
        self.vocabulary = vocabulary
        documentLengths = documentTerms.map(\.count)
        let totalLength = documentLengths.reduce(0, +)
        averageDocumentLength = documents.isEmpty ? 0 : Float(totalLength) / Float(documents.count)

        // Term frequencies per document, then postings grouped by term (documents ascending).
        var postingsPerTerm = [[(document: Int32, tf: Int32)]](repeating: [], count: vocabulary.count)
        for (d, terms) in documentTerms.enumerated() {
            var counts: [Int32: Int32] = [:]
            for t in terms { counts[t, default: 0] += 1 }
            for (t, tf) in counts { postingsPerTerm[Int(t)].append((Int32(d), tf)) }
        }
        var start = [0]
        var documentsOut: [Int32] = []
        var weights: [Float] = []
        var idf: [Float] = []
        let n = Float(documents.count)
        for postings in postingsPerTerm {
            let df = Float(postings.count)
            idf.append(log(1 + (n - df + 0.5) / (df + 0.5)))
            for (d, tf) in postings.sorted(by: { $0.document < $1.document }) {
                let tf = Float(tf)
                let norm = parameters.k1 * (1 - parameters.b + parameters.b * Float(documentLengths[Int(d)]) / averageDocumentLength)
                documentsOut.append(d)
                weights.append(tf / (tf + norm))
            }
            start.append(documentsOut.count)
        }
        self.idf = idf
        postingStart = start
        postingDocuments = documentsOut
        postingWeights = weights
    }

    /// The term ids of `query` (repeats kept, unknown terms dropped).
    public func termIDs(_ query: String) -> [Int32] {
        analyzer.terms(query).compactMap { vocabulary[$0] }
    }

    /// Writes the score of every document for the query `terms` into `scores` (`documentCount` floats).
    public func score(terms: [Int32], into scores: UnsafeMutableBufferPointer<Float>) {
        precondition(scores.count >= documentCount, "the score buffer needs \(documentCount) floats")
        guard let out = scores.baseAddress else { return }
        out.update(repeating: 0, count: documentCount)
        postingDocuments.withUnsafeBufferPointer { documents in
            postingWeights.withUnsafeBufferPointer { weights in
                for t in terms {
                    let weight = idf[Int(t)]
                    for p in postingStart[Int(t)]..<postingStart[Int(t) + 1] {
                        out[Int(documents[p])] += weight * weights[p]
                    }
                }
            }
        }
    }

    /// The scores of every document for `query`, as a new array.
    public func scores(_ query: String) -> [Float] {
        var result = [Float](repeating: 0, count: documentCount)
        result.withUnsafeMutableBufferPointer { score(terms: termIDs(query), into: $0) }
        return result
    }

    /// Scores a batch of queries in parallel on every core: row i of `matrix`
    /// (`queries.count × documentCount`, row-major) receives the scores of `queries[i]`.
    public func score(batch queries: [[Int32]], into matrix: UnsafeMutableBufferPointer<Float>) {
        precondition(matrix.count >= queries.count * documentCount, "the matrix needs \(queries.count) × \(documentCount) floats")
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, queries.count))
        let base = UnsafeSendablePointer(matrix.baseAddress)
        let n = documentCount
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let lower = queries.count * worker / workers
            let upper = queries.count * (worker + 1) / workers
            for i in lower..<upper {
                score(terms: queries[i], into: UnsafeMutableBufferPointer(start: base.pointer! + i * n, count: n))
            }
        }
    }

    /// Plain per-document evaluation of the formula, in Double, for tests of the optimised path.
    public func referenceScores(_ query: String, documents: [String]) -> [Double] {
        let queryTerms = analyzer.terms(query)
        let docs = documents.map(analyzer.terms)
        let n = Double(docs.count)
        let avgdl = Double(docs.map(\.count).reduce(0, +)) / n
        let k1 = Double(parameters.k1)
        let b = Double(parameters.b)
        return docs.map { doc in
            var sum = 0.0
            for term in queryTerms {
                let tf = Double(doc.filter { $0 == term }.count)
                if tf == 0 { continue }
                let df = Double(docs.filter { $0.contains(term) }.count)
                let idf: Double = Foundation.log(1 + (n - df + 0.5) / (df + 0.5))
                let norm: Double = k1 * (1 - b + b * Double(doc.count) / avgdl)
                sum += idf * tf / (tf + norm)
            }
            return sum
        }
    }
}

/// A raw pointer handed to parallel workers that write disjoint rows.
struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>?
    init(_ pointer: UnsafeMutablePointer<Float>?) { self.pointer = pointer }
}
