import Support
import Tensors

/// A causal language model that decodes incrementally over a key/value cache: what the shared
/// sampling loop (`generate`) needs from GPT-2 and Llama-family models alike.
protocol IncrementalDecoding {
    /// A decode's caches and activations, allocated once per generation.
    associatedtype DecodingState: AnyObject
    var vocabularySize: Int { get }
    var maxPositions: Int { get }
    /// The state for `batch` sequences of up to `slots` positions whose first pass has `promptLength` rows each.
    func decodingState(batch: Int, promptLength: Int, slots: Int) -> DecodingState
    /// Runs `newLength` new positions of every sequence through the model into the state's logits
    /// (each sequence's last new position only when `lastOnly`).
    func decode(_ tokens: [Int32], positions: [Int32], mask: [Float], newLength: Int, state: DecodingState, lastOnly: Bool)
    func withLogits<R>(_ state: DecodingState, _ body: (UnsafeBufferPointer<Float>) -> R) -> R
    /// Sets sequence `j` of `target` to sequence `sources[j]` of `source` (its cache, key mask and
    /// last logits row); both states have filled the same slots.
    func copySequences(from source: DecodingState, to target: DecodingState, sources: [Int])
}

extension IncrementalDecoding {
    /// Continues each prompt (left-padded into one batch, positions counted over real tokens only)
    /// with a KV cache. `decode` turns a sequence's generated tokens into text for stop sequences;
    /// `endOfText` ends a sequence. Deterministic for a seed.
    func sampleContinuations(
        prompts: [[Int32]], options: SamplingOptions, endOfText: Int32?, decode textOf: (([Int32]) -> String)?
    ) -> [GeneratedSequence] {
        let b = prompts.count
        guard b > 0 else { return [] }
        let p = prompts.map(\.count).max()!
        let slots = p + options.maxNewTokens
        precondition(prompts.allSatisfy { !$0.isEmpty }, "every prompt needs at least one token")
        precondition(
            prompts.allSatisfy { $0.count + options.maxNewTokens <= maxPositions },
            "a prompt plus the new tokens exceeds the model's \(maxPositions) positions")
        var tokens: [Int32] = [], positions: [Int32] = [], mask: [Float] = []
        for prompt in prompts {
            let pad = p - prompt.count
            tokens += [Int32](repeating: 0, count: pad) + prompt
            positions += [Int32](repeating: 0, count: pad) + (0..<prompt.count).map(Int32.init)
            mask += [Float](repeating: 0, count: pad) + [Float](repeating: 1, count: prompt.count)
        }
        // Identical prompts (a user's N samples) share one prompt pass, whose cache is then copied.
        var uniqueIndex: [[Int32]: Int] = [:]
        let sources = prompts.map { prompt in
            if let index = uniqueIndex[prompt] { return index }
            uniqueIndex[prompt] = uniqueIndex.count
            return uniqueIndex.count - 1
        }
        let state: DecodingState
        if uniqueIndex.count < b {
            let firsts = (0..<uniqueIndex.count).map { u in sources.firstIndex(of: u)! }
            let prefill = decodingState(batch: firsts.count, promptLength: p, slots: slots)
            decode(
                firsts.flatMap { tokens[($0 * p)..<(($0 + 1) * p)] }, positions: firsts.flatMap { positions[($0 * p)..<(($0 + 1) * p)] },
                mask: firsts.flatMap { mask[($0 * p)..<(($0 + 1) * p)] }, newLength: p, state: prefill, lastOnly: true)
            state = decodingState(batch: b, promptLength: 1, slots: slots)
            copySequences(from: prefill, to: state, sources: sources)
        } else {
            state = decodingState(batch: b, promptLength: p, slots: slots)
            decode(tokens, positions: positions, mask: mask, newLength: p, state: state, lastOnly: true)
        }
        let v = vocabularySize
        var nextPosition = prompts.map { Int32($0.count) }
        var results = [GeneratedSequence](repeating: GeneratedSequence(tokens: [], logprob: 0), count: b)
        var done = [Bool](repeating: false, count: b)
        var random = SeededRandom(seed: options.seed)
        var chosen = [Int32](repeating: 0, count: b)
        var scores = [Double](repeating: 0, count: b)
        for _ in 0..<options.maxNewTokens {
            // One uniform draw per live sequence, in order, so the rows can then be sampled in parallel
            // with the same result for any thread count.
            var uniforms = [Double](repeating: 0, count: b)
            for bi in 0..<b where !done[bi] { uniforms[bi] = random.unit() }
            let live = done.map { !$0 }
            withLogits(state) { rows in
                chosen.withUnsafeMutableBufferPointer { chosen in
                    scores.withUnsafeMutableBufferPointer { scores in
                        let shared = SamplingRows(rows: rows.baseAddress!, chosen: chosen.baseAddress!, scores: scores.baseAddress!)
                        Parallel.forEachRange(b) { part in
                            let weights = UnsafeMutablePointer<Float>.allocate(capacity: v)
                            defer { weights.deallocate() }
                            for bi in part where live[bi] {
                                let (token, score) = Sampler.choose(
                                    shared.rows + bi * v, vocabulary: v, options: options, uniform: uniforms[bi], weights: weights)
                                shared.chosen[bi] = token
                                shared.scores[bi] = score
                            }
                        }
                    }
                }
            }
            for bi in 0..<b where !done[bi] {
                let token = chosen[bi]
                results[bi].logprob += scores[bi]
                results[bi].tokens.append(token)
                if token == endOfText {
                    results[bi].tokens.removeLast()
                    done[bi] = true
                } else if let textOf, !options.stopSequences.isEmpty {
                    let text = textOf(results[bi].tokens)
                    if options.stopSequences.contains(where: { text.hasSuffix($0) }) { done[bi] = true }
                }
            }
            if done.allSatisfy({ $0 }) { break }
            decode(chosen, positions: nextPosition, mask: done.map { $0 ? 0 : 1 }, newLength: 1, state: state, lastOnly: false)
            for bi in 0..<b { nextPosition[bi] += 1 }
        }
        return results
    }
}

/// Row `j` of `target` (rows of `width` values) becomes row `sources[j]` of `source`.
func copyRows(_ target: inout [Float], from source: [Float], width: Int, sources: [Int]) {
    for (j, i) in sources.enumerated() {
        target.replaceSubrange((j * width)..<((j + 1) * width), with: source[(i * width)..<((i + 1) * width)])
    }
}

/// The per-step buffers the sampling tasks write, one row each.
struct SamplingRows: @unchecked Sendable {
    let rows: UnsafePointer<Float>
    let chosen: UnsafeMutablePointer<Int32>
    let scores: UnsafeMutablePointer<Double>
}
