import Foundation
import LanguageModel
import Tensors

/// Training and generation throughput of the Swift engine on the configurations of
/// ../shared/perf/ANCHORS.md. Usage: LMBenchmark [tiny|small] [--steps N]
let arguments = CommandLine.arguments
let size = arguments.count > 1 && !arguments[1].hasPrefix("-") ? arguments[1] : "tiny"
let steps: Int = {
    if let i = arguments.firstIndex(of: "--steps"), i + 1 < arguments.count, let n = Int(arguments[i + 1]) { return n }
    return 5
}()
let (layers, channels, heads, context) = size == "small" ? (4, 256, 4, 512) : (2, 128, 4, 256)
let vocabulary = 8192, batch = 8
let config = GPT2Config(vocabularySize: vocabulary, maxPositions: context, channels: channels, layers: layers, heads: heads)
let trainer = GPT2Trainer(model: try GPT2Model.initialized(config: config, seed: 1))
let tokens = (0..<batch).map { _ in (0..<context).map { _ in Int32.random(in: 0..<Int32(vocabulary)) } }
let mask = [[Float]](repeating: [Float](repeating: 1, count: context), count: batch)
let tape = Tape()
var times: [Double] = []
for step in 0...steps {
    let start = DispatchTime.now().uptimeNanoseconds
    trainer.zeroGradients()
    _ = trainer.languageModelLoss(tape, tokens: tokens, lossMask: mask)
    tape.backward()
    trainer.update(lr: 1e-4)
    if step > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
}
times.sort()
let median = times[times.count / 2]
print(String(format: "train %@ (L=%d d=%d h=%d T=%d V=%d B=%d): median step %.3f s -> %.0f tok/s", size, layers, channels, heads, context, vocabulary, batch, median, Double(batch * context) / median))
