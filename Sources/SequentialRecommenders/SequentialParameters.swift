import TextEncoders
import Foundation
import Support
import Tensors

/// What the sequential recommenders share about their tensors: RecBole's initialisation, the
/// parameter set made from named values, and the model folder (`config.json` +
/// `model.safetensors`).
enum SequentialParameters {
    /// RecBole's initialisation of `shapes`: layer-norm gains (`…ln.weight`) 1; biases and the tensors
    /// `isZero` names 0; every other tensor N(0, 0.02). Drawn in name order, deterministic for a seed.
    static func recBoleInitial(_ shapes: [String: [Int]], seed: UInt64, isZero: (String) -> Bool = { _ in false }) -> [String: [Float]] {
        var random = SeededRandom(seed: seed)
        var parameters: [String: [Float]] = [:]
        for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            let count = shape.reduce(1, *)
            if name.hasSuffix("ln.weight") {
                parameters[name] = [Float](repeating: 1, count: count)
            } else if name.hasSuffix("bias") || isZero(name) {
                parameters[name] = [Float](repeating: 0, count: count)
            } else {
                parameters[name] = (0..<count).map { _ in
                    let u1 = max(random.unit(), 1e-300), u2 = random.unit()
                    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2) * 0.02)
                }
            }
        }
        return parameters
    }

    /// A parameter set of the tensors `shapes` names (sorted by name) with `parameters`' values,
    /// trainable (those `frozen` names excepted) without weight decay (Adam, as RecBole trains these
    /// models).
    static func set(_ shapes: [String: [Int]], values parameters: [String: [Float]], frozen: (String) -> Bool = { _ in false }) throws -> ParameterSet {
        var initial: [ParameterSet.Initial] = []
        for name in shapes.keys.sorted() {
            let shape = shapes[name]!
            guard let values = parameters[name] else { throw SequentialModelError.malformed(path: "", detail: "tensor '\(name)' missing") }
            guard values.count == shape.reduce(1, *) else {
                throw SequentialModelError.malformed(path: "", detail: "tensor '\(name)' has \(values.count) values, expected shape \(shape)")
            }
            initial.append(ParameterSet.Initial(name: name, shape: shape, values: values, decays: false, trainable: !frozen(name)))
        }
        return ParameterSet(initial)
    }

    /// The configuration and tensors of a model folder; `kind` names the model in errors.
    static func read<Config: Decodable>(folder: String, kind: String, as _: Config.Type) throws -> (config: Config, parameters: [String: [Float]]) {
        let configPath = (folder as NSString).appendingPathComponent("config.json")
        let config: Config
        do {
            config = try JSONDecoder().decode(Config.self, from: Data(contentsOf: URL(fileURLWithPath: configPath)))
        } catch {
            throw SequentialModelError.malformed(path: configPath, detail: "not a \(kind) configuration (\(error.localizedDescription))")
        }
        let path = (folder as NSString).appendingPathComponent("model.safetensors")
        return (config, try SafeTensors.read(path).tensors.mapValues(\.values))
    }

    /// A text-aware model folder reads only the item features it was trained on.
    static func check(featuresKey: String, against features: ItemFeatures, folder: String) throws {
        guard featuresKey == features.header.cacheKey else {
            throw SequentialModelError.malformed(
                path: folder, detail: "trained on features \(featuresKey.prefix(12)), given features \(features.header.cacheKey.prefix(12))")
        }
    }
}

extension SequentialRecommender {
    /// Writes `config.json` and `model.safetensors` into `folder` (each through a temporary file).
    public func save(to folder: String) throws {
        try saveConfig(to: folder)
        try SafeTensors.write(
            parameterSet.weightTensors(), metadata: ["format": "pt"], to: (folder as NSString).appendingPathComponent("model.safetensors"))
    }
}
