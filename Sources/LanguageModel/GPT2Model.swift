import Foundation
import Tensors

/// A GPT-2 decoder (Radford et al., 2019): learned positions, pre-LN blocks (attention, then an MLP
/// with tanh GELU), a final layer norm and logits tied to the token embeddings. Weights use Hugging
/// Face's names and `Conv1D` layout (`h.{i}.attn.c_attn.weight` is (C, 3C)), so a GPT-2
/// `model.safetensors` + `config.json` loads as is (a `transformer.` prefix is accepted; the
/// attention-mask buffers are ignored).
public final class GPT2Model {
    public let config: GPT2Config
    /// Parameters by Hugging Face name.
    public let parameters: [String: SafeTensors.Tensor]
    /// The weights as the decode step reads them (typed, sharing the tensors' storage).
    let inferenceWeights: GPT2InferenceWeights

    public init(config: GPT2Config, parameters: [String: SafeTensors.Tensor]) throws {
        try Self.checkShapes(parameters, config: config)
        self.config = config
        self.parameters = parameters
        inferenceWeights = GPT2InferenceWeights(parameters, config: config)
    }

    /// Loads `config.json` and `model.safetensors` from `folder`.
    public convenience init(folder: String) throws {
        let config = try GPT2Config.read((folder as NSString).appendingPathComponent("config.json"))
        let path = (folder as NSString).appendingPathComponent("model.safetensors")
        var parameters: [String: SafeTensors.Tensor] = [:]
        for (name, tensor) in try SafeTensors.read(path).tensors {
            let key = name.hasPrefix("transformer.") ? String(name.dropFirst("transformer.".count)) : name
            if key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias") || key == "lm_head.weight" { continue }
            parameters[key] = tensor
        }
        do {
            try self.init(config: config, parameters: parameters)
        } catch let ModelError.malformed(_, detail) {
            throw ModelError.malformed(path: path, detail: detail)
        }
    }

    /// Every parameter name with its expected shape.
    public var expectedShapes: [String: [Int]] { Self.shapes(config) }

    /// Every parameter name of a GPT-2 with `config`, with its shape.
    public static func shapes(_ config: GPT2Config) -> [String: [Int]] {
        let c = config.channels
        var shapes: [String: [Int]] = [
            "wte.weight": [config.vocabularySize, c], "wpe.weight": [config.maxPositions, c], "ln_f.weight": [c], "ln_f.bias": [c],
        ]
        for i in 0..<config.layers {
            shapes["h.\(i).ln_1.weight"] = [c]
            shapes["h.\(i).ln_1.bias"] = [c]
            shapes["h.\(i).attn.c_attn.weight"] = [c, 3 * c]
            shapes["h.\(i).attn.c_attn.bias"] = [3 * c]
            shapes["h.\(i).attn.c_proj.weight"] = [c, c]
            shapes["h.\(i).attn.c_proj.bias"] = [c]
            shapes["h.\(i).ln_2.weight"] = [c]
            shapes["h.\(i).ln_2.bias"] = [c]
            shapes["h.\(i).mlp.c_fc.weight"] = [c, 4 * c]
            shapes["h.\(i).mlp.c_fc.bias"] = [4 * c]
            shapes["h.\(i).mlp.c_proj.weight"] = [4 * c, c]
            shapes["h.\(i).mlp.c_proj.bias"] = [c]
        }
        return shapes
    }

    private static func checkShapes(_ parameters: [String: SafeTensors.Tensor], config: GPT2Config) throws {
        for (name, shape) in shapes(config).sorted(by: { $0.key < $1.key }) {
            guard let tensor = parameters[name] else { throw ModelError.malformed(path: "", detail: "tensor '\(name)' missing") }
            guard tensor.shape == shape else {
                throw ModelError.malformed(path: "", detail: "tensor '\(name)' has shape \(tensor.shape), expected \(shape)")
            }
        }
    }

    /// Logits (B, T, V) for `tokens` (B sequences of the same length T ≤ n_positions), in one pass.
    /// `keyMask` (B, T), when given, hides padded positions from attention. This is the
    /// incremental-decoding step run once over an empty cache, so full passes and generation share
    /// one implementation of the blocks.
    public func logits(_ tokens: [[Int32]], keyMask: [[Float]]? = nil) -> [Float] {
        let b = tokens.count
        let t = tokens.first?.count ?? 0
        precondition(tokens.allSatisfy { $0.count == t } && t <= config.maxPositions, "sequences must share a length ≤ n_positions")
        let cache = KVCache(config: config, batch: b, slots: t)
        let work = DecodeWorkspace(config: config, rows: b * t, batch: b, logitRows: b * t)
        step(
            tokens.flatMap { $0 }, positions: (0..<b).flatMap { _ in (0..<t).map(Int32.init) },
            mask: keyMask?.flatMap { $0 } ?? [Float](repeating: 1, count: b * t), newLength: t, cache: cache, work: work)
        return work.logits
    }
}
