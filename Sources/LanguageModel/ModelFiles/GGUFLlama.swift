/// How a Llama-architecture GGUF file maps onto the Hugging Face Llama layout: its configuration
/// from the `llama.*` metadata, its tensor names, and the row order of the query and key matrices,
/// which llama.cpp's converter permutes for its rotary-embedding layout.
public enum GGUFLlama {
    /// The configuration the file's metadata gives; an error names the missing key.
    public static func config(_ file: GGUFFile) throws -> LlamaConfig {
        guard let architecture = file["general.architecture"]?.string else { throw missing(file, "general.architecture") }
        guard architecture == "llama" else {
            throw GGUFError.malformed(path: file.path, detail: "general.architecture is '\(architecture)'; this reader maps 'llama' models")
        }
        func integer(_ key: String) throws -> Int {
            guard let value = file[key]?.integer else { throw missing(file, key) }
            return value
        }
        func number(_ key: String) throws -> Float {
            guard let value = file[key]?.number else { throw missing(file, key) }
            return Float(value)
        }
        guard let vocabulary = file["llama.vocab_size"]?.integer ?? file["tokenizer.ggml.tokens"]?.array?.count else {
            throw missing(file, "llama.vocab_size")
        }
        let heads = try integer("llama.attention.head_count")
        return LlamaConfig(
            vocabularySize: vocabulary, hiddenSize: try integer("llama.embedding_length"),
            intermediateSize: try integer("llama.feed_forward_length"), layers: try integer("llama.block_count"),
            attentionHeads: heads, keyValueHeads: file["llama.attention.head_count_kv"]?.integer ?? heads,
            maxPositions: try integer("llama.context_length"), rmsNormEpsilon: try number("llama.attention.layer_norm_rms_epsilon"),
            ropeTheta: Float(file["llama.rope.freq_base"]?.number ?? 10_000), tiedEmbeddings: file.tensor(named: "output.weight") == nil)
    }

    /// The Hugging Face name of a GGUF tensor (`blk.3.attn_q.weight` → `model.layers.3.self_attn.q_proj.weight`),
    /// or nil for a tensor the Llama layout does not have.
    public static func huggingFaceName(_ name: String) -> String? {
        let fixed = [
            "token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight", "output.weight": "lm_head.weight",
        ]
        if let mapped = fixed[name] { return mapped }
        let parts = name.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]) else { return nil }
        let perLayer = [
            "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
            "attn_v.weight": "self_attn.v_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
            "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight", "ffn_down.weight": "mlp.down_proj.weight",
            "attn_norm.weight": "input_layernorm.weight", "ffn_norm.weight": "post_attention_layernorm.weight",
        ]
        return perLayer[parts[2]].map { "model.layers.\(layer).\($0)" }
    }

    /// Undoes llama.cpp's permutation of a query or key matrix (`rows` = heads × head size output
    /// rows of `columns` inputs, row-major as dequantized): within each head, GGUF row `2i + j` is
    /// Hugging Face row `j · (head size / 2) + i` — the converter interleaves the two rotary halves
    /// of each head. `heads` is the attention heads for the query, the key/value heads for the key.
    public static func unpermuteRows(_ values: [Float], rows: Int, columns: Int, heads: Int) -> [Float] {
        precondition(values.count == rows * columns && rows % (2 * heads) == 0, "a \(rows) × \(columns) matrix of \(heads) heads")
        let half = rows / heads / 2
        var out = [Float](repeating: 0, count: values.count)
        for head in 0..<heads {
            let base = head * 2 * half
            for i in 0..<half {
                for j in 0..<2 {
                    let from = (base + 2 * i + j) * columns, to = (base + j * half + i) * columns
                    for c in 0..<columns { out[to + c] = values[from + c] }
                }
            }
        }
        return out
    }

    private static func missing(_ file: GGUFFile, _ key: String) -> GGUFError {
        .malformed(path: file.path, detail: "metadata '\(key)' is missing; it is needed to build a Llama model")
    }
}
