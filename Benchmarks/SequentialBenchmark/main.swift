import Evaluation
import Foundation
import RecData
import SequentialRecommenders

/// SASRec / BERT4Rec epoch time on a RecBole dataset, for `Benchmarks/sequential_bench.py`.
///
///     SequentialBenchmark export <RecBole folder> <out.json>
///         the leave-one-out split as the PyTorch script reads it: item count, every user's training
///         items (all but the last two) and the test histories and targets, as 0-based item indices
///     SequentialBenchmark train sasrec|bert4rec <RecBole folder> [--epochs N] [--batch B] [--seed S]
///         trains N epochs (no early stopping), then ranks every user's test target
///
/// `train` prints one line of JSON: seconds of each epoch, the mean loss of each, test NDCG@10 (opt
/// and pes) over all users, and the peak resident memory in MiB.
let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    if let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let n = Int(arguments[i + 1]) { return n }
    return fallback
}
func peakMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

guard arguments.count >= 4 else { fail("usage: SequentialBenchmark export <folder> <out.json> | train sasrec|bert4rec <folder> [--epochs N]") }
switch arguments[1] {
case "export":
    let dataset = try RecBoleAtomic.read(folder: arguments[2])
    let test = dataset.evaluationCases(.test)
    let object: [String: Any] = [
        "item_count": dataset.itemIDs.count,
        "train": dataset.sequences.filter { $0.count >= 3 }.map { $0.dropLast(2).map { Int($0.item) } },
        "test_history": test.map { $0.history.map(Int.init) },
        "test_target": test.map { Int($0.target) },
    ]
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: arguments[3]))
case "train":
    guard let architecture = SequentialArchitecture(rawValue: arguments[2]) else { fail("unknown model \(arguments[2])") }
    let dataset = try RecBoleAtomic.read(folder: arguments[3])
    let config = SequentialModelConfig.defaults(for: architecture, itemCount: dataset.itemIDs.count)
    let model = try SequentialModel.initialized(config: config, seed: UInt64(option("--seed", 0)))
    let options = SequentialTrainingOptions(batchSize: option("--batch", 128), seed: UInt64(option("--seed", 0)))
    let trainer = try SequentialTrainer(model: model, dataset: dataset, options: options)
    var seconds: [Double] = [], losses: [Double] = []
    for _ in 0..<option("--epochs", 3) {
        let start = DispatchTime.now().uptimeNanoseconds
        losses.append(trainer.trainEpoch())
        seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let ranks = model.rank(cases: dataset.evaluationCases(.test), dataset: dataset)
    let ndcg = EvaluationSummary(ranks: ranks, metrics: [.ndcg(10)], bootstrapSamples: 0).means[.ndcg(10)]!
    let result: [String: Any] = [
        "engine": "swift", "model": architecture.rawValue, "epoch_seconds": seconds, "losses": losses,
        "test_ndcg10_opt": ndcg.optimistic, "test_ndcg10_pes": ndcg.pessimistic, "users": ranks.count, "peak_mib": peakMemoryMiB(),
    ]
    print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
default:
    fail("unknown mode \(arguments[1])")
}
