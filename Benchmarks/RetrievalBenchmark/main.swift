import Dispatch
import Evaluation
import Foundation
import RecData
import Retrieval
import Support

/// BM25 full-score-vector throughput and evaluation time.
/// Usage: RetrievalBenchmark <corpus: RecBole .item with a text column> <queries.txt> [--runs N]
/// Prints one `key value` line per measurement (read by Benchmarks/bm25_bench.py).
let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: RetrievalBenchmark <corpus.item> <queries.txt> [--runs N]\n".utf8))
    exit(2)
}
let runs: Int = {
    if let flag = arguments.firstIndex(of: "--runs"), flag + 1 < arguments.count, let n = Int(arguments[flag + 1]) { return n }
    return 3
}()

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

@MainActor func median(_ body: () -> Void) -> Double {
    (0..<runs).map { _ in seconds(body) }.sorted()[runs / 2]
}

// The corpus: the text column of a RecBole .item file, in file order.
let corpusLines = try String(contentsOfFile: arguments[1], encoding: .utf8).split(separator: "\n").dropFirst()
let documents = corpusLines.map { line -> String in
    let fields = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
    return fields.count == 2 ? String(fields[1]) : ""
}
let queries = try String(contentsOfFile: arguments[2], encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    .dropLast().map(String.init)
let analyzer = BM25Analyzer(removeEnglishStopWords: true)
var index = BM25Index(documents: documents, analyzer: analyzer)
let build = median { index = BM25Index(documents: documents, analyzer: analyzer) }
print("docs \(index.documentCount)")
print("queries \(queries.count)")
print("index_build_ms \(build * 1e3)")

var termIDs: [[Int32]] = []
let tokenize = median { termIDs = queries.map(index.termIDs) }
print("tokenize_qps \(Double(queries.count) / tokenize)")
print("avg_query_terms \(Double(termIDs.map(\.count).reduce(0, +)) / Double(queries.count))")

let n = index.documentCount
var matrix = [Float](repeating: 1, count: queries.count * n)  // touched before timing
let single = median {
    matrix.withUnsafeMutableBufferPointer { m in
        for (i, q) in termIDs.enumerated() {
            index.score(terms: q, into: UnsafeMutableBufferPointer(rebasing: m[(i * n)..<((i + 1) * n)]))
        }
    }
}
print("full_scores_qps_1thread \(Double(queries.count) / single)")
let parallel = median { matrix.withUnsafeMutableBufferPointer { index.score(batch: termIDs, into: $0) } }
print("full_scores_qps_all_threads \(Double(queries.count) / parallel)")
let fromText = median {
    matrix.withUnsafeMutableBufferPointer { m in
        for (i, q) in queries.enumerated() {
            index.score(terms: index.termIDs(q), into: UnsafeMutableBufferPointer(rebasing: m[(i * n)..<((i + 1) * n)]))
        }
    }
}
print("full_scores_from_text_qps_1thread \(Double(queries.count) / fromText)")
// A checksum so the work cannot be optimised away, and to compare with other implementations.
print("checksum_row0_sum \(matrix[0..<n].reduce(0, +))")

// Evaluation: 10,000 users over 5,000 items, scores with many ties; ranks + bootstrap summary.
var random = SeededRandom(seed: 1)
let users = 10_000
let items = 5_000
let scores = (0..<(users * items)).map { _ in Float(random.below(50)) }
let targets = (0..<users).map { _ in random.below(items) }
var ranks: [UserRank] = []
let rankTime = median {
    ranks = scores.withUnsafeBufferPointer { s in
        (0..<users).map { u in
            UserRank(
                user: "u\(u)", target: "t",
                rank: TieAwareRank(scores: UnsafeBufferPointer(rebasing: s[(u * items)..<((u + 1) * items)]), target: targets[u]))
        }
    }
}
print("evaluate_10k_users_5k_items_rank_ms \(rankTime * 1e3)")
let summaryTime = median { _ = EvaluationSummary(ranks: ranks, bootstrapSamples: 1000, seed: 0) }
print("evaluate_10k_users_summary_1000_bootstrap_ms \(summaryTime * 1e3)")
