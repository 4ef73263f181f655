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
func normal(_ n: Int, _ scale: Float) -> [Float] { (0..<n).map { _ in Float.random(in: -scale...scale) } }
var parameters: [String: SafeTensors.Tensor] = [:]
let shapes: [String: [Int]] = {
    var s: [String: [Int]] = ["wte.weight": [vocabulary, channels], "wpe.weight": [context, channels], "ln_f.weight": [channels], "ln_f.bias": [channels]]
    for i in 0..<layers {
        for (k, v) in ["ln_1.weight": [channels], "ln_1.bias": [channels], "attn.c_attn.weight": [channels, 3 * channels], "attn.c_attn.bias": [3 * channels],
                       "attn.c_proj.weight": [channels, channels], "attn.c_proj.bias": [channels], "ln_2.weight": [channels], "ln_2.bias": [channels],
                       "mlp.c_fc.weight": [channels, 4 * channels], "mlp.c_fc.bias": [4 * channels], "mlp.c_proj.weight": [4 * channels, channels],
                       "mlp.c_proj.bias": [channels]] { s["h.\(i).\(k)"] = v }
    }
    return s
}()
for (name, shape) in shapes {
    let n = shape.reduce(1, *)
    parameters[name] = .init(shape: shape, values: name.contains("ln_") && name.hasSuffix("weight") ? [Float](repeating: 1, count: n) : normal(n, 0.02))
}
let trainer = GPT2Trainer(model: try GPT2Model(config: config, parameters: parameters))
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
