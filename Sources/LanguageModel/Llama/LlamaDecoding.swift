import Foundation
import Tensors

/// A Llama decode's key/value cache (one (B, S, Hkv·D) buffer per layer for keys and for values,
/// after rotary positions) and the activations of its largest pass, allocated once per generation.
final class LlamaDecodingState {
    let batch, slots: Int
    var keys, values: [[Float]]
    var keyMask: [Float]
    var filled = 0
    let rows: Int
    var x, normed, rstd, query, rotatedQuery, key, rotatedKey, value, grouped, attended, projected, gate, up, activated, last: [Float]
    var logits: [Float]

    init(config: LlamaConfig, batch: Int, promptLength: Int, slots: Int, logitRows: Int) {
        let c = config.hiddenSize, kv = config.keyValueHeads * config.headSize, f = config.intermediateSize
        self.batch = batch
        self.slots = slots
        keys = Array(repeating: [Float](repeating: 0, count: batch * slots * kv), count: config.layers)
        values = keys
        keyMask = [Float](repeating: 0, count: batch * slots)
        let rows = batch * promptLength
        self.rows = rows
        let buffer = { (width: Int) in [Float](repeating: 0, count: rows * width) }
        x = buffer(c)
        normed = x
        query = x
        rotatedQuery = x
        attended = x
        projected = x
        rstd = buffer(1)
        key = buffer(kv)
        rotatedKey = key
        value = key
        grouped = buffer(3 * c)
        gate = buffer(f)
        up = gate
        activated = gate
        last = [Float](repeating: 0, count: batch * c)
        logits = [Float](repeating: 0, count: logitRows * config.vocabularySize)
    }
}

extension LlamaModel: IncrementalDecoding {
    public var vocabularySize: Int { config.vocabularySize }
    public var maxPositions: Int { config.maxPositions }

    func decodingState(batch: Int, promptLength: Int, slots: Int) -> LlamaDecodingState {
        LlamaDecodingState(config: config, batch: batch, promptLength: promptLength, slots: slots, logitRows: batch)
    }

    func withLogits<R>(_ state: LlamaDecodingState, _ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        state.logits.withUnsafeBufferPointer(body)
    }

    func copySequences(from source: LlamaDecodingState, to target: LlamaDecodingState, sources: [Int]) {
        let (s, kv, v) = (source.slots, config.keyValueHeads * config.headSize, config.vocabularySize)
        precondition(target.slots == s, "states of different lengths")
        for layer in 0..<config.layers {
            copyRows(&target.keys[layer], from: source.keys[layer], width: s * kv, sources: sources)
            copyRows(&target.values[layer], from: source.values[layer], width: s * kv, sources: sources)
        }
        copyRows(&target.keyMask, from: source.keyMask, width: s, sources: sources)
        copyRows(&target.logits, from: source.logits, width: v, sources: sources)
        target.filled = source.filled
    }

    func decode(_ tokens: [Int32], positions: [Int32], mask: [Float], newLength tn: Int, state: LlamaDecodingState, lastOnly: Bool) {
        let b = state.batch, c = config.hiddenSize, v = config.vocabularySize, s = state.slots, n = b * tn
        let h = config.attentionHeads, hkv = config.keyValueHeads, d = config.headSize, kv = hkv * d, f = config.intermediateSize
        precondition(n <= state.rows, "a step of \(n) rows in a workspace of \(state.rows)")
        let weights = inferenceWeights, eps = config.rmsNormEpsilon
        let start = state.filled
        for bi in 0..<b { for j in 0..<tn { state.keyMask[bi * s + start + j] = mask[bi * tn + j] } }
        RowOps.gather(out: &state.x, inp: weights.embedding, rows: tokens, count: n, channels: c)
        func project(_ out: inout [Float], _ inp: [Float], _ p: LlamaTensors<[Float]>.Projection, inFeatures: Int, outFeatures: Int) {
            Matmul.gemm(inp, transposeA: false, p.weight, transposeB: true, &out, m: n, n: outFeatures, k: inFeatures)
            if let bias = p.bias {
                out.withUnsafeMutableBufferPointer { o in
                    for r in 0..<n { for j in 0..<outFeatures { o[r * outFeatures + j] += bias[j] } }
                }
            }
        }
        for (layer, w) in weights.blocks.enumerated() {
            RMSNorm.forward(out: &state.normed, rstd: &state.rstd, inp: state.x, weight: w.inputNorm, rows: n, channels: c, epsilon: eps)
            project(&state.query, state.normed, w.query, inFeatures: c, outFeatures: c)
            project(&state.key, state.normed, w.key, inFeatures: c, outFeatures: kv)
            project(&state.value, state.normed, w.value, inFeatures: c, outFeatures: kv)
            RotaryEmbedding.forward(out: &state.rotatedQuery, inp: state.query, positions: positions, table: rotary, rows: n, heads: h)
            RotaryEmbedding.forward(out: &state.rotatedKey, inp: state.key, positions: positions, table: rotary, rows: n, heads: hkv)
            state.rotatedKey.withUnsafeBufferPointer { key in
                state.value.withUnsafeBufferPointer { value in
                    state.keys[layer].withUnsafeMutableBufferPointer { keys in
                        state.values[layer].withUnsafeMutableBufferPointer { values in
                            for bi in 0..<b {
                                for j in 0..<tn {
                                    let row = (bi * tn + j) * kv, slot = (bi * s + start + j) * kv
                                    (keys.baseAddress! + slot).update(from: key.baseAddress! + row, count: kv)
                                    (values.baseAddress! + slot).update(from: value.baseAddress! + row, count: kv)
                                }
                            }
                        }
                    }
                }
            }
            if start == 0 && tn > 1 {
                // The prompt: every position attends within the new block, so the GEMM kernel applies.
                GroupedQKV.forward(
                    qkv: &state.grouped, q: state.rotatedQuery, k: state.rotatedKey, v: state.value, rows: n, heads: h, keyValueHeads: hkv,
                    headSize: d)
                let promptMask = (0..<b).flatMap { bi in state.keyMask[(bi * s)..<(bi * s + tn)] }
                let att = PooledBuffer(count: b * h * tn * tn)
                Attention.forward(
                    out: &state.attended, att: att.values.base, qkv: state.grouped, keyMask: promptMask, causal: true, batch: b, length: tn,
                    channels: c, heads: h)
            } else {
                CachedAttention.forward(
                    out: &state.attended, queries: state.rotatedQuery, queryStride: c, kCache: state.keys[layer], vCache: state.values[layer],
                    keyMask: state.keyMask, batch: b, newLength: tn, slots: s, start: start, channels: c, heads: h, keyValueHeads: hkv)
            }
            project(&state.projected, state.attended, w.output, inFeatures: c, outFeatures: c)
            addResidual(state, count: n * c)
            RMSNorm.forward(out: &state.normed, rstd: &state.rstd, inp: state.x, weight: w.postAttentionNorm, rows: n, channels: c, epsilon: eps)
            project(&state.gate, state.normed, w.gate, inFeatures: c, outFeatures: f)
            project(&state.up, state.normed, w.up, inFeatures: c, outFeatures: f)
            SwiGLU.forward(out: &state.activated, gate: state.gate, up: state.up, count: n * f)
            project(&state.projected, state.activated, w.down, inFeatures: f, outFeatures: c)
            addResidual(state, count: n * c)
        }
        state.filled += tn
        let rows = lastOnly ? b : n
        if lastOnly && tn > 1 {
            // Keep each sequence's last row only: the output projection is the largest product here.
            state.x.withUnsafeBufferPointer { x in
                state.last.withUnsafeMutableBufferPointer { last in
                    for bi in 0..<b { (last.baseAddress! + bi * c).update(from: x.baseAddress! + (bi * tn + tn - 1) * c, count: c) }
                }
            }
            RMSNorm.forward(out: &state.normed, rstd: &state.rstd, inp: state.last, weight: weights.finalNorm, rows: rows, channels: c, epsilon: eps)
        } else {
            RMSNorm.forward(out: &state.normed, rstd: &state.rstd, inp: state.x, weight: weights.finalNorm, rows: rows, channels: c, epsilon: eps)
        }
        Matmul.gemm(state.normed, transposeA: false, weights.outputHead ?? weights.embedding, transposeB: true, &state.logits, m: rows, n: v, k: c)
    }

    private func addResidual(_ state: LlamaDecodingState, count: Int) {
        state.x.withUnsafeMutableBufferPointer { x in
            state.projected.withUnsafeBufferPointer { p in
                for i in 0..<count { x[i] += p[i] }
            }
        }
    }

    /// Logits (B, T, V) for `tokens` (B sequences of the same length), in one pass: the decode
    /// step over an empty cache, so full passes and generation share one implementation.
    public func logits(_ tokens: [[Int32]], keyMask: [[Float]]? = nil) -> [Float] {
        let b = tokens.count, t = tokens.first?.count ?? 0
        precondition(tokens.allSatisfy { $0.count == t } && t <= config.maxPositions, "sequences must share a length ≤ the model's positions")
        let state = LlamaDecodingState(config: config, batch: b, promptLength: t, slots: t, logitRows: b * t)
        decode(
            tokens.flatMap { $0 }, positions: (0..<b).flatMap { _ in (0..<t).map(Int32.init) },
            mask: keyMask?.flatMap { $0 } ?? [Float](repeating: 1, count: b * t), newLength: t, state: state, lastOnly: false)
        return state.logits
    }

    /// Continues each prompt with the KV cache (see `GPT2Model.generate`): same sampling, same determinism.
    public func generate(
        prompts: [[Int32]], options: SamplingOptions, endOfText: Int32? = nil, decode: (([Int32]) -> String)? = nil
    ) -> [GeneratedSequence] {
        sampleContinuations(prompts: prompts, options: options, endOfText: endOfText, decode: decode)
    }
}
