import Foundation
import Support

/// How an item's token states become one vector.
public enum FeaturePooling: String, Codable, Sendable, CaseIterable {
    /// The mean of the last hidden states over every token, [CLS] and [SEP] included
    /// (sentence-transformers' pooling of all-MiniLM-L6-v2).
    case mean
    /// The [CLS] token's last hidden state (UniSRec's `.feat1CLS` from bert-base-uncased).
    case cls
}

/// Which encoder made a feature file, and how: everything that decides its numbers.
public struct FeatureEncoderIdentity: Codable, Sendable, Equatable {
    /// The folder's last path component, for people (not part of the identity's meaning).
    public var name: String
    public var modelType: String
    public var layers: Int
    public var hidden: Int
    /// SHA-256 of `model.safetensors`.
    public var weightsSHA256: String
    /// `WordPieceTokenizer.fingerprint`.
    public var tokenizerFingerprint: String

    enum CodingKeys: String, CodingKey {
        case name, modelType = "model_type", layers, hidden, weightsSHA256 = "weights_sha256", tokenizerFingerprint = "tokenizer_fingerprint"
    }

    public init(name: String, modelType: String, layers: Int, hidden: Int, weightsSHA256: String, tokenizerFingerprint: String) {
        self.name = name
        self.modelType = modelType
        self.layers = layers
        self.hidden = hidden
        self.weightsSHA256 = weightsSHA256
        self.tokenizerFingerprint = tokenizerFingerprint
    }
}

/// Item-text features: one float32 vector per catalogue item, in the dataset's item order, from a
/// frozen text encoder. On disk (`write(to:)`): `item_features.f32`, the matrix as raw little-endian
/// float32, items × dimension, no header (UniSRec's `.feat1CLS` layout, `numpy.fromfile(…,
/// dtype=float32).reshape(items, dimension)` reads it), and `item_features.json` (`Header`) naming
/// the encoder, pooling, truncation, the item ids and the SHA-256 of the matrix and of the texts.
public struct ItemFeatures: Sendable, Equatable {
    public struct Header: Codable, Sendable, Equatable {
        public var format = ItemFeatures.format
        public var version = ItemFeatures.version
        public var encoder: FeatureEncoderIdentity
        public var pooling: FeaturePooling
        /// Whether each vector was scaled to unit length after pooling.
        public var normalized: Bool
        /// Tokens per item at most, [CLS] and [SEP] included.
        public var maxTokens: Int
        public var dataset: String
        public var itemCount: Int
        public var dimension: Int
        /// The dataset's item ids, in row order.
        public var itemIDs: [String]
        /// SHA-256 of the item texts encoded (joined by newlines, in row order).
        public var textsSHA256: String
        /// SHA-256 of `item_features.f32`.
        public var matrixSHA256: String
        /// `ItemFeatures.cacheKey` of the inputs.
        public var cacheKey: String
        /// Tokens the encoder read, over all items, and items cut at `maxTokens`.
        public var tokens: Int
        public var truncatedItems: Int

        public init(
            encoder: FeatureEncoderIdentity, pooling: FeaturePooling, normalized: Bool, maxTokens: Int, dataset: String, itemCount: Int, dimension: Int,
            itemIDs: [String], textsSHA256: String, matrixSHA256: String, cacheKey: String, tokens: Int, truncatedItems: Int
        ) {
            self.encoder = encoder
            self.pooling = pooling
            self.normalized = normalized
            self.maxTokens = maxTokens
            self.dataset = dataset
            self.itemCount = itemCount
            self.dimension = dimension
            self.itemIDs = itemIDs
            self.textsSHA256 = textsSHA256
            self.matrixSHA256 = matrixSHA256
            self.cacheKey = cacheKey
            self.tokens = tokens
            self.truncatedItems = truncatedItems
        }

        enum CodingKeys: String, CodingKey {
            case format, version, encoder, pooling, normalized, maxTokens = "max_tokens", dataset, itemCount = "item_count", dimension
            case itemIDs = "item_ids", textsSHA256 = "texts_sha256", matrixSHA256 = "matrix_sha256", cacheKey = "cache_key", tokens
            case truncatedItems = "truncated_items"
        }
    }

    public static let format = "calrec-item-features"
    public static let version = 1
    public static let headerFile = "item_features.json"
    public static let matrixFile = "item_features.f32"

    public var header: Header
    /// itemCount × dimension values, row-major.
    public var values: [Float]

    public init(header: Header, values: [Float]) {
        precondition(values.count == header.itemCount * header.dimension, "the matrix must hold items × dimension values")
        self.header = header
        self.values = values
    }

    /// Several catalogues' features as one (rows in order; item ids prefixed with the catalogue's
    /// position, `0:…`), for a model pre-trained on them together. They must share the encoder.
    public static func joined(_ parts: [ItemFeatures]) -> ItemFeatures {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.header.dimension == parts[0].header.dimension }, "features of one width")
        let first = parts[0].header
        let ids = parts.enumerated().flatMap { index, part in part.header.itemIDs.map { "\(index):\($0)" } }
        let values = parts.flatMap(\.values)
        let key = ContentHash.sha256(parts.map(\.header.cacheKey).joined(separator: "+"))
        let header = Header(
            encoder: first.encoder, pooling: first.pooling, normalized: first.normalized, maxTokens: first.maxTokens,
            dataset: parts.map(\.header.dataset).joined(separator: "+"), itemCount: ids.count, dimension: first.dimension, itemIDs: ids,
            textsSHA256: ContentHash.sha256(parts.map(\.header.textsSHA256).joined(separator: "+")), matrixSHA256: ContentHash.sha256(bytes(values)), cacheKey: key,
            tokens: parts.reduce(0) { $0 + $1.header.tokens }, truncatedItems: parts.reduce(0) { $0 + $1.header.truncatedItems })
        return ItemFeatures(header: header, values: values)
    }

    /// Row `item`.
    public func vector(_ item: Int) -> ArraySlice<Float> { values[(item * header.dimension)..<((item + 1) * header.dimension)] }

    /// The key under which features of `texts` by `encoder` with these settings are cached: a change
    /// to any input (weights, tokenizer, pooling, normalisation, truncation, a text) changes it.
    public static func cacheKey(texts: [String], encoder: FeatureEncoderIdentity, pooling: FeaturePooling, normalized: Bool, maxTokens: Int) -> String {
        var text = "\(format) v\(version)\n\(encoder.modelType) \(encoder.layers) \(encoder.hidden)\n"
        text += "weights \(encoder.weightsSHA256)\ntokenizer \(encoder.tokenizerFingerprint)\n"
        text += "pooling \(pooling.rawValue) normalized \(normalized) max_tokens \(maxTokens)\n"
        text += "texts \(textsHash(texts))\n"
        return ContentHash.sha256(text)
    }

    static func textsHash(_ texts: [String]) -> String { ContentHash.sha256(texts.joined(separator: "\n")) }

    // MARK: Files

    /// Writes the matrix and the header into `folder` (each through a temporary file; the header last,
    /// so a folder with a header has its matrix).
    public func write(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let matrix = Self.bytes(values)
        var header = header
        header.matrixSHA256 = ContentHash.sha256(matrix)
        try AtomicWrite.write(matrix, to: (folder as NSString).appendingPathComponent(Self.matrixFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try AtomicWrite.write(try encoder.encode(header), to: (folder as NSString).appendingPathComponent(Self.headerFile))
    }

    /// Reads a folder written by `write(to:)`, checking the matrix against the header.
    public static func read(folder: String) throws -> ItemFeatures {
        let headerPath = (folder as NSString).appendingPathComponent(headerFile)
        let matrixPath = (folder as NSString).appendingPathComponent(matrixFile)
        guard let headerData = FileManager.default.contents(atPath: headerPath) else {
            throw TextEncoderError.malformed(path: headerPath, detail: "cannot read it; write the features with `calrec features --out \(folder)`")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: headerData)
        } catch {
            throw TextEncoderError.malformed(
                path: headerPath, detail: "not an item-feature header (\((error as? DecodingError).map(DecodingErrorText.describe) ?? error.localizedDescription))")
        }
        guard header.format == format, header.version == version else {
            throw TextEncoderError.malformed(path: headerPath, detail: "format \(header.format) v\(header.version); this calrec reads \(format) v\(version)")
        }
        guard header.itemIDs.count == header.itemCount, header.dimension > 0 else {
            throw TextEncoderError.malformed(path: headerPath, detail: "item_ids has \(header.itemIDs.count) ids for item_count \(header.itemCount)")
        }
        guard let matrix = FileManager.default.contents(atPath: matrixPath) else { throw TextEncoderError.malformed(path: matrixPath, detail: "cannot read it") }
        guard matrix.count == header.itemCount * header.dimension * 4 else {
            throw TextEncoderError.malformed(
                path: matrixPath, detail: "\(matrix.count) bytes; the header says \(header.itemCount) × \(header.dimension) float32 = \(header.itemCount * header.dimension * 4)")
        }
        guard ContentHash.sha256(matrix) == header.matrixSHA256 else {
            throw TextEncoderError.malformed(path: matrixPath, detail: "SHA-256 differs from the header's matrix_sha256 (a damaged or replaced file)")
        }
        var values = [Float](repeating: 0, count: header.itemCount * header.dimension)
        matrix.withUnsafeBytes { raw in
            for i in values.indices { values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
        }
        return ItemFeatures(header: header, values: values)
    }

    /// Checks that the rows are the items `itemIDs`, in that order.
    public func checkItems(_ itemIDs: [String], path: String) throws {
        guard header.itemIDs == itemIDs else {
            let first = zip(header.itemIDs, itemIDs).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            let detail = header.itemIDs.count != itemIDs.count
                ? "the features cover \(header.itemIDs.count) items, the dataset has \(itemIDs.count)"
                : "item \(first.map { "\($0 + 1)" } ?? "?") is '\(header.itemIDs[first ?? 0])' in the features but '\(itemIDs[first ?? 0])' in the dataset"
            throw TextEncoderError.mismatch(path: path, detail: detail)
        }
    }

    static func bytes(_ values: [Float]) -> Data {
        var data = Data(count: values.count * 4)
        data.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        return data
    }
}
