import Foundation
import Support
import Tensors

/// How to sample continuations.
public struct SamplingOptions: Sendable, Equatable {
    /// 0 means greedy (argmax).
    public var temperature: Float = 1
    /// Keep only the k most likely tokens (nil: all).
    public var topK: Int?
    /// Keep the smallest set of tokens whose probability reaches p (nil: all).
    public var topP: Float?
    public var maxNewTokens: Int = 32
    /// Generation of a sequence stops when its text ends with one of these (the stop text is kept
    /// out of the result), or at the end-of-text token.
    public var stopSequences: [String] = []
    public var seed: UInt64 = 0

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil, maxNewTokens: Int = 32, stopSequences: [String] = [], seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.maxNewTokens = maxNewTokens
        self.stopSequences = stopSequences
        self.seed = seed
    }
}

/// One generated continuation.
public struct GeneratedSequence: Sendable, Equatable {
    public var tokens: [Int32]
    /// Σ log p(token | prefix) of the generated tokens under the model itself — the untempered,
    /// unfiltered distribution, whatever the sampling temperature or top-k/top-p (natural log).
    public var logprob: Double
}

extension GPT2Model: IncrementalDecoding {
    /// A GPT-2 decode's cache and activations.
    final class DecodingState {
        let cache: KVCache
        let work: DecodeWorkspace
        init(cache: KVCache, work: DecodeWorkspace) {
            self.cache = cache
            self.work = work
        }
    }

    public var vocabularySize: Int { config.vocabularySize }
    public var maxPositions: Int { config.maxPositions }

    func decodingState(batch: Int, promptLength: Int, slots: Int) -> DecodingState {
        DecodingState(
            cache: KVCache(config: config, batch: batch, slots: slots),
            work: DecodeWorkspace(config: config, rows: batch * promptLength, batch: batch, logitRows: batch))
    }

    func decode(_ tokens: [Int32], positions: [Int32], mask: [Float], newLength: Int, state: DecodingState, lastOnly: Bool) {
        step(tokens, positions: positions, mask: mask, newLength: newLength, cache: state.cache, work: state.work, lastOnly: lastOnly)
    }

    func withLogits<R>(_ state: DecodingState, _ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        state.work.logits.withUnsafeBufferPointer(body)
    }

    func copySequences(from source: DecodingState, to target: DecodingState, sources: [Int]) {
        let (s, c, v) = (source.cache.slots, config.channels, config.vocabularySize)
        precondition(target.cache.slots == s, "states of different lengths")
        for layer in 0..<config.layers {
            copyRows(&target.cache.keys[layer], from: source.cache.keys[layer], width: s * c, sources: sources)
            copyRows(&target.cache.values[layer], from: source.cache.values[layer], width: s * c, sources: sources)
        }
        copyRows(&target.cache.keyMask, from: source.cache.keyMask, width: s, sources: sources)
        copyRows(&target.work.logits, from: source.work.logits, width: v, sources: sources)
        target.cache.filled = source.cache.filled
    }
}

/// A key/value cache for every layer: (B, S, C) keys and values, plus the key mask and positions.
final class KVCache {
    let batch: Int
    let slots: Int
    let channels: Int
    var keys: [[Float]]
    var values: [[Float]]
    var keyMask: [Float]
    var filled = 0

    init(config: GPT2Config, batch: Int, slots: Int) {
        self.batch = batch
        self.slots = slots
        channels = config.channels
        keys = Array(repeating: [Float](repeating: 0, count: batch * slots * config.channels), count: config.layers)
        values = keys
        keyMask = [Float](repeating: 0, count: batch * slots)
    }
}

extension GPT2Model {
    /// Continues each prompt (left-padded into one batch, positions counted over real tokens only)
    /// with a KV cache. `decode` turns a sequence's generated tokens into text for stop sequences;
    /// `endOfText` ends a sequence. Deterministic for a seed.
    public func generate(
        prompts: [[Int32]], options: SamplingOptions, endOfText: Int32? = nil, decode: (([Int32]) -> String)? = nil
    ) -> [GeneratedSequence] {
        sampleContinuations(prompts: prompts, options: options, endOfText: endOfText, decode: decode)
    }

    /// Runs `tokens` (B × Tn new positions, in cache slots `cache.filled …`) through the model,
    /// storing their keys and values, into `work.logits`: the logits of every new position
    /// (B, Tn, V), or with `lastOnly` of each sequence's last new position only (B, V) — all that
    /// sampling needs. Allocates nothing but the prompt pass's attention weights.
    func step(
        _ tokens: [Int32], positions: [Int32], mask: [Float], newLength tn: Int, cache: KVCache, work: DecodeWorkspace,
        lastOnly: Bool = false
    ) {
        let b = cache.batch, c = config.channels, v = config.vocabularySize, s = cache.slots, n = b * tn
        precondition(n <= work.rows && (lastOnly ? b : n) * v <= work.logits.count, "a step of \(n) rows in a workspace of \(work.rows)")
        let weights = inferenceWeights
        let start = cache.filled
        for bi in 0..<b { for j in 0..<tn { cache.keyMask[bi * s + start + j] = mask[bi * tn + j] } }
        Embedding.forward(
            out: &work.x, tokens: tokens, positions: positions, wte: weights.tokenEmbedding, wpe: weights.positionEmbedding, rows: n,
            channels: c)
        for (layer, w) in weights.blocks.enumerated() {
            LayerNorm.forward(
                out: &work.normed, mean: &work.mean, rstd: &work.rstd, inp: work.x, weight: w.ln1Weight, bias: w.ln1Bias, rows: n, channels: c)
            Linear.forward(
                out: &work.qkv, inp: work.normed, weight: w.attentionWeight, bias: w.attentionBias, rows: n, inFeatures: c, outFeatures: 3 * c)
            work.qkv.withUnsafeBufferPointer { qkv in
                cache.keys[layer].withUnsafeMutableBufferPointer { keys in
                    cache.values[layer].withUnsafeMutableBufferPointer { values in
                        for bi in 0..<b {
                            for j in 0..<tn {
                                let row = qkv.baseAddress! + (bi * tn + j) * 3 * c
                                let slot = (bi * s + start + j) * c
                                (keys.baseAddress! + slot).update(from: row + c, count: c)
                                (values.baseAddress! + slot).update(from: row + 2 * c, count: c)
                            }
                        }
                    }
                }
            }
            if start == 0 && tn > 1 {
                // The prompt: every position attends within the new block, so the GEMM kernel applies.
                let promptMask = (0..<b).flatMap { bi in cache.keyMask[(bi * s)..<(bi * s + tn)] }
                let att = PooledBuffer(count: b * config.heads * tn * tn)
                Attention.forward(
                    out: &work.attended, att: att.values.base, qkv: work.qkv, keyMask: promptMask, causal: true, batch: b, length: tn,
                    channels: c, heads: config.heads)
            } else {
                CachedAttention.forward(
                    out: &work.attended, queries: work.qkv, queryStride: 3 * c, kCache: cache.keys[layer], vCache: cache.values[layer],
                    keyMask: cache.keyMask, batch: b, newLength: tn, slots: s, start: start, channels: c, heads: config.heads,
                    keyValueHeads: config.heads)
            }
            Linear.forward(
                out: &work.projected, inp: work.attended, weight: w.attentionProjectionWeight, bias: w.attentionProjectionBias, rows: n,
                inFeatures: c, outFeatures: c)
            work.addResidual(count: n * c)
            LayerNorm.forward(
                out: &work.normed, mean: &work.mean, rstd: &work.rstd, inp: work.x, weight: w.ln2Weight, bias: w.ln2Bias, rows: n, channels: c)
            Linear.forward(
                out: &work.hidden, inp: work.normed, weight: w.mlpUpWeight, bias: w.mlpUpBias, rows: n, inFeatures: c, outFeatures: 4 * c)
            GELU.forward(out: &work.activated, inp: work.hidden, count: n * 4 * c)
            Linear.forward(
                out: &work.projected, inp: work.activated, weight: w.mlpDownWeight, bias: w.mlpDownBias, rows: n, inFeatures: 4 * c,
                outFeatures: c)
            work.addResidual(count: n * c)
        }
        cache.filled += tn
        let rows = lastOnly ? b : n
        if lastOnly && tn > 1 {
            // Keep each sequence's last row only: the output projection is the largest product here.
            work.keepLastRows(batch: b, length: tn, channels: c)
            LayerNorm.forward(
                out: &work.normed, mean: &work.mean, rstd: &work.rstd, inp: work.last, weight: weights.finalNormWeight,
                bias: weights.finalNormBias, rows: rows, channels: c)
        } else {
            LayerNorm.forward(
                out: &work.normed, mean: &work.mean, rstd: &work.rstd, inp: work.x, weight: weights.finalNormWeight,
                bias: weights.finalNormBias, rows: rows, channels: c)
        }
        work.normed.withUnsafeBufferPointer { a in
            weights.tokenEmbedding.withUnsafeBufferPointer { e in
                work.logits.withUnsafeMutableBufferPointer { out in
                    Matmul.gemm(a.baseAddress!, transposeA: false, e.baseAddress!, transposeB: true, out.baseAddress!, m: rows, n: v, k: c)
                }
            }
        }
    }
}

/// Token choice from one row of logits.
enum Sampler {
    static func logSoftmax(_ row: [Float], at index: Int) -> Double {
        let maxValue = Double(row.max()!)
        let logSum = log(row.reduce(0.0) { $0 + exp(Double($1) - maxValue) }) + maxValue
        return Double(row[index]) - logSum
    }

    /// The token for one row of logits and its log-probability under the untempered distribution.
    /// `uniform` is the row's draw in [0, 1). Without top-k/top-p the distribution is walked in index
    /// order (no sort), with vectorised exponentials.
    /// `weights` is the caller's scratch of `v` floats.
    static func choose(
        _ row: UnsafePointer<Float>, vocabulary v: Int, options: SamplingOptions, uniform: Double, weights: UnsafeMutablePointer<Float>
    ) -> (Int32, Double) {
        let maxValue = VectorMath.maximum(row, count: v)
        let sum = VectorMath.exponentials(row, minus: maxValue, into: weights, count: v)
        let logSum = Double(logf(sum)) + Double(maxValue)
        let token: Int32
        if options.temperature <= 0 {
            var best = 0
            for j in 0..<v where row[j] > row[best] { best = j }
            token = Int32(best)
        } else if options.topK == nil && (options.topP ?? 1) >= 1 {
            let total = options.temperature == 1
                ? sum : VectorMath.exponentials(row, minus: maxValue, scale: 1 / options.temperature, into: weights, count: v)
            var u = uniform * Double(total)
            var picked = v - 1
            for j in 0..<v {
                u -= Double(weights[j])
                if u < 0 {
                    picked = j
                    break
                }
            }
            token = Int32(picked)
        } else {
            token = sample(Array(UnsafeBufferPointer(start: row, count: v)), options: options, uniform: uniform)
        }
        return (token, Double(row[Int(token)]) - logSum)
    }

    /// Sampling with top-k / top-p over the tokens sorted by logit (ties by index).
    static func sample(_ row: [Float], options: SamplingOptions, uniform: Double) -> Int32 {
        if options.temperature <= 0 {
            var best = 0
            for i in row.indices where row[i] > row[best] { best = i }
            return Int32(best)
        }
        var order = Array(row.indices)
        order.sort { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
        if let k = options.topK, k > 0, k < order.count { order = Array(order.prefix(k)) }
        let maxValue = Double(row[order[0]])
        var probabilities = order.map { exp((Double(row[$0]) - maxValue) / Double(options.temperature)) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        if let p = options.topP, p < 1 {
            var cumulative = 0.0
            var keep = 0
            while keep < probabilities.count && cumulative < Double(p) {
                cumulative += probabilities[keep]
                keep += 1
            }
            order = Array(order.prefix(keep))
            probabilities = Array(probabilities.prefix(keep))
            let sum = probabilities.reduce(0, +)
            probabilities = probabilities.map { $0 / sum }
        }
        var u = uniform
        for (i, probability) in probabilities.enumerated() {
            u -= probability
            if u < 0 { return Int32(order[i]) }
        }
        return Int32(order[order.count - 1])
    }
}
