import Foundation
import Support
import Tensors

extension LlamaModel {
    /// A Llama-family model initialised as Hugging Face's `LlamaPreTrainedModel` does: every matrix
    /// ~ N(0, 0.02), norm gains 1. Deterministic for a seed (for tests and from-scratch baselines).
    public static func initialized(config: LlamaConfig, seed: UInt64) throws -> LlamaModel {
        var random = SeededRandom(seed: seed)
        var parameters: [String: SafeTensors.Tensor] = [:]
        let shapes = shapes(config)
        for name in shapes.keys.sorted() {
            let shape = shapes[name]!
            let count = shape.reduce(1, *)
            let values: [Float]
            if shape.count == 1 {
                values = [Float](repeating: 1, count: count)
            } else {
                values = (0..<count).map { _ in
                    // Box–Muller.
                    let u1 = max(random.unit(), 1e-300), u2 = random.unit()
                    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2) * 0.02)
                }
            }
            parameters[name] = SafeTensors.Tensor(shape: shape, values: values)
        }
        return try LlamaModel(config: config, parameters: parameters)
    }
}
