import Foundation
import LanguageModel
import Support
import Tensors
import Tokenization

/// SmolLM2-135M (the GGUF file, dequantized to Float32) trained and sampled by the Swift engine, one
/// measurement per process so peak resident memory is the measurement's own. `smollm2_bench.py`
/// runs it beside the same measurements in transformers + PyTorch eager.
///
///     SmolLM2Benchmark tokens   --model M.gguf --texts T.jsonl --out batch.json [--batch 8 --length 250 --prompts 16 --prompt-length 256]
///     SmolLM2Benchmark train full|lora --model M.gguf --tokens batch.json [--steps 3]
///     SmolLM2Benchmark generate --model M.gguf --tokens batch.json [--runs 2] [--new 40]
///
/// `tokens` encodes the lines of T.jsonl (one JSON string a line) with the model's tokenizer, joins
/// their ids and cuts the stream into the training batch (B windows of `length` tokens) and, after it,
/// the generation prompts; both engines then read the same ids from batch.json.
/// `train`: one untimed warm-up step, then `--steps` timed steps of cross-entropy over the next token
/// (the last position of each window has no target), global-norm clipping at 1, AdamW lr 1e-4;
/// `lora` puts rank-16, α 32, dropout 0.05 adapters on all seven matrices of every block.
/// `generate`: every prompt gets exactly `--new` tokens sampled at T = 1 (no end-of-text), KV cache;
/// one untimed warm-up run, `--runs` timed runs, then `--runs` prompt passes alone (one new token).
/// Prints one line of JSON; tokens/s count B·T trained tokens per step, or the new tokens.
let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    if let i = arguments.firstIndex(of: name), i + 1 < arguments.count { return arguments[i + 1] }
    return nil
}
func option(_ name: String, _ fallback: Int) -> Int { option(name).flatMap(Int.init) ?? fallback }
func fail(_ message: String) -> Never {
    FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
    exit(2)
}
let usage = "usage: SmolLM2Benchmark tokens --model M --texts T --out F | train full|lora --model M --tokens F [--steps N] | generate --model M --tokens F [--runs N]"
let mode = arguments.count > 1 ? arguments[1] : ""
guard let modelPath = option("--model") else { fail(usage) }

func peakMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}
/// Resident memory now (MiB), from /proc/self/statm.
func residentMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
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

/// The token ids both engines use.
struct Batch: Codable {
    var train: [[Int32]]
    var prompts: [[Int32]]
}
func readBatch() -> Batch {
    guard let path = option("--tokens") else { fail(usage) }
    do { return try JSONDecoder().decode(Batch.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch { fail("cannot read \(path): \(error)") }
}

switch mode {
case "tokens":
    guard let texts = option("--texts"), let out = option("--out") else { fail(usage) }
    let (batch, length) = (option("--batch", 8), option("--length", 250))
    let (promptCount, promptLength) = (option("--prompts", 16), option("--prompt-length", 256))
    let tokenizer = try GGUFTokenizer.tokenizer(GGUFFile(path: modelPath))
    let needed = batch * length + promptCount * promptLength
    var stream: [Int32] = []
    var lines = 0
    for line in try String(contentsOfFile: texts, encoding: .utf8).split(separator: "\n") where stream.count < needed {
        guard let text = try JSONSerialization.jsonObject(with: Data(line.utf8), options: .fragmentsAllowed) as? String else {
            fail("\(texts): a line that is not a JSON string")
        }
        stream += tokenizer.encode(text)
        lines += 1
    }
    guard stream.count >= needed else { fail("\(texts) has \(stream.count) tokens, \(needed) needed") }
    let train = (0..<batch).map { Array(stream[($0 * length)..<(($0 + 1) * length)]) }
    let start = batch * length
    let prompts = (0..<promptCount).map { Array(stream[(start + $0 * promptLength)..<(start + ($0 + 1) * promptLength)]) }
    let encoder = JSONEncoder()
    try encoder.encode(Batch(train: train, prompts: prompts)).write(to: URL(fileURLWithPath: out))
    print(json([("lines", lines), ("tokens", needed), ("out", out)]))

case "train":
    let variant = arguments.count > 2 && !arguments[2].hasPrefix("-") ? arguments[2] : "full"
    guard variant == "full" || variant == "lora" else { fail(usage) }
    let steps = option("--steps", 3)
    let tokens = readBatch().train
    let loadStart = now()
    let (model, _) = try LlamaModel.load(gguf: modelPath)
    let fineTuning = variant == "lora" ? FineTuningOptions(lora: LoRAOptions(rank: 16, alpha: 32, dropout: 0.05, targets: LlamaMatrix.allCases)) : .full
    let trainer = try LlamaTrainer(model: model, fineTuning: fineTuning)
    let loadSeconds = now() - loadStart
    let loadedMiB = residentMiB()
    let trainable = trainer.parameterSet.tensors.filter(\.trainable).map(\.count).reduce(0, +)
    let (b, t) = (tokens.count, tokens[0].count)
    // Next-token targets; the last position of each window has none.
    var targets: [Int32] = [], mask: [Float] = []
    for sequence in tokens {
        targets += sequence.dropFirst() + [0]
        mask += [Float](repeating: 1, count: t - 1) + [0]
    }
    var times: [Double] = []
    var losses: [Double] = []
    var norms: [Double] = []
    for step in 0...steps {  // step 0 warms up (first allocations, the buffer pool) and is not timed
        let start = now()
        trainer.reseedDropout(UInt64(step + 1))
        trainer.parameterSet.zeroGradients()
        let tape = Tape()
        let hidden = trainer.hidden(tape, tokens: tokens)
        let logits = trainer.outputLogits(tape, hidden)
        let loss = Ops.crossEntropy(tape, logits: logits, targets: targets, mask: mask)
        tape.backward()
        let norm = GradientClipping.clip(trainer.parameterSet, maxNorm: 1)
        trainer.optimizer.update(trainer.parameterSet, step: step + 1, lr: 1e-4)
        if step > 0 { times.append(now() - start) }
        losses.append(Double(loss))
        norms.append(Double(norm))
    }
    let seconds = median(times)
    print(json([
        ("engine", "calrec"), ("mode", "train"), ("variant", variant), ("threads", Parallel.threads), ("blas", BLASKernel.current),
        ("build", EngineBuild.summary), ("batch", b), ("length", t), ("steps", steps), ("trainable_parameters", trainable),
        ("tokens_per_second", Double(b * t) / seconds), ("step_seconds", seconds), ("step_times", times),
        ("load_seconds", loadSeconds), ("loaded_mib", loadedMiB), ("peak_mib", peakMemoryMiB()),
        ("losses", losses), ("grad_norms", norms),
    ]))

case "generate":
    let runs = option("--runs", 2)
    let newTokens = option("--new", 40)
    let prompts = readBatch().prompts
    let loadStart = now()
    let (model, _) = try LlamaModel.load(gguf: modelPath)
    let loadSeconds = now() - loadStart
    let loadedMiB = residentMiB()
    var totals: [Double] = []
    var generated = 0
    for run in 0...runs {  // run 0 warms up
        let start = now()
        let sequences = model.generate(
            prompts: prompts, options: SamplingOptions(temperature: 1, maxNewTokens: newTokens, seed: UInt64(run)), endOfText: nil, decode: nil)
        if run > 0 { totals.append(now() - start) }
        generated = sequences.map(\.tokens.count).reduce(0, +)
    }
    // The prompt pass alone: one sampled token, no decoding step.
    var prefills: [Double] = []
    for run in 0..<runs {
        let start = now()
        _ = model.generate(prompts: prompts, options: SamplingOptions(temperature: 1, maxNewTokens: 1, seed: UInt64(run)), endOfText: nil, decode: nil)
        prefills.append(now() - start)
    }
    let seconds = median(totals), prefill = median(prefills)
    print(json([
        ("engine", "calrec"), ("mode", "generate"), ("threads", Parallel.threads), ("blas", BLASKernel.current), ("build", EngineBuild.summary),
        ("batch", prompts.count), ("prompt_length", prompts[0].count), ("runs", runs),
        ("new_tokens_per_second", Double(generated) / seconds), ("total_seconds", seconds), ("run_times", totals), ("new_tokens", generated),
        ("prefill_seconds", prefill), ("decode_step_ms", (seconds - prefill) / Double(newTokens - 1) * 1000),
        ("load_seconds", loadSeconds), ("loaded_mib", loadedMiB), ("peak_mib", peakMemoryMiB()),
    ]))

default:
    fail(usage)
}
