import Foundation
import RecData
import Support
import Tensors

extension BertEncoder {
    /// What identifies this encoder in a feature file and its cache key.
    public func identity(name: String) -> FeatureEncoderIdentity {
        FeatureEncoderIdentity(
            name: name, modelType: config.modelType, layers: config.layers, hidden: config.hidden,
            weightsSHA256: weightsSHA256
                ?? ContentHash.sha256(ItemFeatures.bytes(Array(UnsafeBufferPointer(start: parameterSet.weights.base, count: parameterSet.weights.capacity)))),
            tokenizerFingerprint: tokenizer.fingerprint)
    }

    /// One pooled vector per text (texts × hidden, row-major), the encoder frozen and dropout off.
    /// Texts are cut at `maxTokens` ([CLS] and [SEP] included) and encoded in batches of about
    /// `batchTokens` tokens, shortest first; `progress` sees the texts done so far.
    public func pooledVectors(
        texts: [String], pooling: FeaturePooling, normalized: Bool, maxTokens: Int, batchTokens: Int = 4096, progress: (Int) -> Void = { _ in }
    ) -> (values: [Float], tokens: Int, truncated: Int) {
        let c = config.hidden
        let limit = max(2, min(maxTokens, config.maxPositions))
        let encoded = texts.map { text -> (ids: [Int32], cut: Bool) in
            let ids = tokenizer.encodeWithoutSpecialTokens(text)
            return ([tokenizer.classifierID] + ids.prefix(limit - 2) + [tokenizer.separatorID], ids.count > limit - 2)
        }
        let order = encoded.indices.sorted { encoded[$0].ids.count < encoded[$1].ids.count }
        var out = [Float](repeating: 0, count: texts.count * c)
        var start = 0, done = 0
        let tape = Tape()
        while start < order.count {
            var end = start, tokens = 0
            while end < order.count && (end == start || tokens + encoded[order[end]].ids.count <= batchTokens) {
                tokens += encoded[order[end]].ids.count
                end += 1
            }
            let batch = order[start..<end].map { encoded[$0].ids }
            var offsets = [0]
            for ids in batch { offsets.append(offsets.last! + ids.count) }
            var noDropout: SeededRandom? = nil
            let hidden = encode(tape, sequences: batch, dropout: &noDropout)
            var pooled: Variable
            switch pooling {
            case .mean: pooled = Ops.packedMeanPool(tape, hidden, offsets: offsets)
            case .cls: pooled = Ops.gatherRows(tape, hidden, rows: offsets.dropLast().map(Int32.init))
            }
            if normalized { pooled = Ops.l2Normalize(tape, pooled) }
            for (row, index) in order[start..<end].enumerated() {
                for k in 0..<c { out[index * c + k] = pooled.value[row * c + k] }
            }
            tape.reset()
            done += end - start
            progress(done)
            start = end
        }
        return (out, encoded.reduce(0) { $0 + $1.ids.count }, encoded.filter(\.cut).count)
    }

    /// The features of every item of `dataset` (`ItemTextFormat.encoderText`), in its item order.
    public func itemFeatures(
        dataset: SequenceDataset, encoderName: String, pooling: FeaturePooling, normalized: Bool, maxTokens: Int, progress: (Int) -> Void = { _ in }
    ) -> ItemFeatures {
        let texts = dataset.items.map(ItemTextFormat.encoderText)
        let identity = identity(name: encoderName)
        let (values, tokens, truncated) = pooledVectors(texts: texts, pooling: pooling, normalized: normalized, maxTokens: maxTokens, progress: progress)
        let header = ItemFeatures.Header(
            encoder: identity, pooling: pooling, normalized: normalized, maxTokens: maxTokens, dataset: dataset.name, itemCount: texts.count,
            dimension: config.hidden, itemIDs: dataset.itemIDs, textsSHA256: ItemFeatures.textsHash(texts),
            matrixSHA256: ContentHash.sha256(ItemFeatures.bytes(values)),
            cacheKey: ItemFeatures.cacheKey(texts: texts, encoder: identity, pooling: pooling, normalized: normalized, maxTokens: maxTokens),
            tokens: tokens, truncatedItems: truncated)
        return ItemFeatures(header: header, values: values)
    }

    /// The features of `dataset`'s items kept in `folder`: those already there when their cache key
    /// and items match these inputs, else computed and written there. `computed` says which.
    public func cachedItemFeatures(
        dataset: SequenceDataset, encoderName: String, pooling: FeaturePooling, normalized: Bool, maxTokens: Int, folder: String,
        progress: (Int) -> Void = { _ in }
    ) throws -> (features: ItemFeatures, computed: Bool) {
        let key = ItemFeatures.cacheKey(
            texts: dataset.items.map(ItemTextFormat.encoderText), encoder: identity(name: encoderName), pooling: pooling, normalized: normalized,
            maxTokens: maxTokens)
        if let cached = try? ItemFeatures.read(folder: folder), cached.header.cacheKey == key, cached.header.itemIDs == dataset.itemIDs {
            return (cached, false)
        }
        let features = itemFeatures(
            dataset: dataset, encoderName: encoderName, pooling: pooling, normalized: normalized, maxTokens: maxTokens, progress: progress)
        try features.write(to: folder)
        return (features, true)
    }
}
