import Foundation
import LanguageModel
import Support
import Tensors

/// Training and generation throughput of the Swift engine on the configurations of
/// docs/performance.md, one measurement per process so peak memory is the measurement's own.
///
///     LMBenchmark train tiny|small [--steps N]   batch 8 × context tokens, cross-entropy, AdamW
///     LMBenchmark generate small [--runs N] [--prompt 256]   batch 16, 256-token prompts, 64 sampled tokens (T = 1), KV cache
///
/// Prints one line of JSON: tokens/s, seconds, achieved GFLOP/s (6·N·tokens for training with N the
/// matmul parameters, as the PyTorch script counts them), peak resident memory (MiB) and the losses.
let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    if let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let n = Int(arguments[i + 1]) { return n }
    return fallback
}
let mode = arguments.count > 1 ? arguments[1] : "train"
let size = arguments.count > 2 && !arguments[2].hasPrefix("-") ? arguments[2] : "tiny"
let (layers, channels, heads, context) = size == "small" ? (4, 256, 4, 512) : (2, 128, 4, 256)
let vocabulary = 8192
let config = GPT2Config(vocabularySize: vocabulary, maxPositions: context, channels: channels, layers: layers, heads: heads)
let model = try GPT2Model.initialized(config: config, seed: 1)
/// Parameters that take part in a matrix product (Linear weights and the tied output projection).
let matmulParameters = layers * 12 * channels * channels + vocabulary * channels
var random = SeededRandom(seed: 7)

func peakMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
func json(_ fields: [(String, Any)]) -> String {
    "{" + fields.map { key, value in
        let text: String
        switch value {
        case let d as Double: text = String(format: "%.6g", d)
        case let s as String: text = "\"\(s)\""
        case let list as [Double]: text = "[" + list.map { String(format: "%.6g", $0) }.joined(separator: ", ") + "]"
        default: text = "\(value)"
        }
        return "\"\(key)\": \(text)"
    }.joined(separator: ", ") + "}"
}

switch mode {
case "train":
    let steps = option("--steps", 10)
    let batch = 8
    let trainer = GPT2Trainer(model: model)
    let tokens = (0..<batch).map { _ in (0..<context).map { _ in Int32(random.next() % UInt64(vocabulary)) } }
    let mask = [[Float]](repeating: [Float](repeating: 1, count: context), count: batch)
    let tape = Tape()
    var times: [Double] = []
    var losses: [Double] = []
    for step in 0...steps {  // step 0 warms up (first allocations) and is not timed
        let start = now()
        trainer.zeroGradients()
        let loss = trainer.languageModelLoss(tape, tokens: tokens, lossMask: mask)
        tape.backward()
        trainer.update(lr: 3e-4)
        if step > 0 { times.append(now() - start) }
        losses.append(Double(loss))
    }
    let seconds = median(times)
    let perStep = Double(batch * context)
    print(json([
        ("engine", "calrec"), ("mode", "train"), ("config", size), ("threads", Parallel.threads),
        ("tokens_per_second", perStep / seconds), ("step_seconds", seconds),
        ("gflops", 6 * Double(matmulParameters) * perStep / seconds / 1e9), ("peak_mib", peakMemoryMiB()),
        ("first_loss", losses.first!), ("last_loss", losses.last!),
    ]))
case "generate":
    let runs = option("--runs", 3)
    let (batch, promptLength, newTokens) = (16, option("--prompt", 256), 64)
    let prompts = (0..<batch).map { _ in (0..<promptLength).map { _ in Int32(random.next() % UInt64(vocabulary)) } }
    var totals: [Double] = []
    var generated = 0
    for run in 0...runs {  // run 0 warms up
        let start = now()
        let sequences = model.generate(prompts: prompts, options: SamplingOptions(temperature: 1, maxNewTokens: newTokens, seed: UInt64(run)))
        if run > 0 { totals.append(now() - start) }
        generated = sequences.map(\.tokens.count).reduce(0, +)
    }
    // The prompt pass alone: one sampled token, no decoding step.
    var prefills: [Double] = []
    for run in 0..<runs {
        let start = now()
        _ = model.generate(prompts: prompts, options: SamplingOptions(temperature: 1, maxNewTokens: 1, seed: UInt64(run)))
        prefills.append(now() - start)
    }
    let seconds = median(totals), prefill = median(prefills)
    print(json([
        ("engine", "calrec"), ("mode", "generate"), ("config", size), ("threads", Parallel.threads),
        ("new_tokens_per_second", Double(generated) / seconds), ("total_seconds", seconds), ("new_tokens", generated),
        ("prefill_seconds", prefill), ("decode_step_ms", (seconds - prefill) / Double(newTokens - 1) * 1000),
        ("peak_mib", peakMemoryMiB()),
    ]))
default:
    FileHandle.standardError.write("usage: LMBenchmark train tiny|small [--steps N] | generate small [--runs N]\n".data(using: .utf8)!)
    exit(2)
}
