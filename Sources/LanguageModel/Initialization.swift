import Foundation
import Support
import Tensors

extension GPT2Model {
    /// A GPT-2 with GPT-2's initialisation (Radford et al., 2019): weights ~ N(0, 0.02), the
    /// residual projections (`attn.c_proj`, `mlp.c_proj`) scaled by 1/√(2·layers), position
    /// embeddings ~ N(0, 0.01), biases 0, layer-norm gains 1. Deterministic for a seed.
    public static func initialized(config: GPT2Config, seed: UInt64) throws -> GPT2Model {
        var random = SeededRandom(seed: seed)
        func normal(_ count: Int, _ std: Double) -> [Float] {
            (0..<count).map { _ in
                // Box–Muller.
                let u1 = max(random.unit(), 1e-300)
                let u2 = random.unit()
                return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2) * std)
            }
        }
        let residualScale = 1 / (2 * Double(config.layers)).squareRoot()
        let shapes = GPT2Model.shapes(config)
        var parameters: [String: SafeTensors.Tensor] = [:]
        for name in shapes.keys.sorted() {
            let shape = shapes[name]!
            let count = shape.reduce(1, *)
            let values: [Float]
            if name.hasSuffix(".bias") {
                values = [Float](repeating: 0, count: count)
            } else if name.contains("ln_") {
                values = [Float](repeating: 1, count: count)
            } else if name == "wpe.weight" {
                values = normal(count, 0.01)
            } else if name.hasSuffix("c_proj.weight") {
                values = normal(count, 0.02 * residualScale)
            } else {
                values = normal(count, 0.02)
            }
            parameters[name] = SafeTensors.Tensor(shape: shape, values: values)
        }
        return try GPT2Model(config: config, parameters: parameters)
    }

    /// Writes `config.json` and `model.safetensors` into `folder`.
    public func save(to folder: String) throws {
        try config.save(to: folder)
        try SafeTensors.write(parameters, metadata: ["format": "pt"], to: (folder as NSString).appendingPathComponent("model.safetensors"))
    }
}

extension GPT2Config {
    /// Writes `config.json` (Hugging Face's GPT-2 fields) into `folder`, creating it if needed.
    public func save(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var config = try JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as! [String: Any]
        config["model_type"] = "gpt2"
        config["activation_function"] = "gelu_new"
        let data = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .prettyPrinted])
        try data.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("config.json")), options: .atomic)
    }
}
