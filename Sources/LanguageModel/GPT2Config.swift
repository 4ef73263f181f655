import Foundation

/// The hyper-parameters of a GPT-2 model, read from and written to Hugging Face's `config.json`.
public struct GPT2Config: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    public var maxPositions: Int
    public var channels: Int
    public var layers: Int
    public var heads: Int
    public var layerNormEpsilon: Float = 1e-5

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case maxPositions = "n_positions"
        case channels = "n_embd"
        case layers = "n_layer"
        case heads = "n_head"
        case layerNormEpsilon = "layer_norm_epsilon"
    }

    public init(vocabularySize: Int, maxPositions: Int, channels: Int, layers: Int, heads: Int) {
        self.vocabularySize = vocabularySize
        self.maxPositions = maxPositions
        self.channels = channels
        self.layers = layers
        self.heads = heads
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        maxPositions = try c.decode(Int.self, forKey: .maxPositions)
        channels = try c.decode(Int.self, forKey: .channels)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5
    }

    /// Reads `config.json`; a missing or inconsistent field is named.
    public static func read(_ path: String) throws -> GPT2Config {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError.io(path: path, detail: "cannot read") }
        let config: GPT2Config
        do {
            config = try JSONDecoder().decode(GPT2Config.self, from: data)
        } catch DecodingError.keyNotFound(let key, _) {
            throw ModelError.malformed(path: path, detail: "field '\(key.stringValue)' missing")
        } catch {
            throw ModelError.malformed(path: path, detail: "not a GPT-2 config.json (\(error))")
        }
        guard config.heads > 0, config.channels % config.heads == 0 else {
            throw ModelError.malformed(path: path, detail: "n_embd \(config.channels) is not a multiple of n_head \(config.heads)")
        }
        return config
    }
}

/// Errors of model files.
public enum ModelError: Error, LocalizedError, Equatable {
    case io(path: String, detail: String)
    case malformed(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .io(let path, let detail), .malformed(let path, let detail): return "\(path): \(detail)"
        }
    }
}
