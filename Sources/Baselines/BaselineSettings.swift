/// What `metrics.json` records about a training-free baseline: BM25-over-history's settings (absent
/// for Popularity, which has none).
public struct BaselineSettings: Codable, Sendable, Equatable {
    public struct BM25History: Codable, Sendable, Equatable {
        public var lastItems: Int
        public var stopWords: Bool
        public var k1: Float
        public var b: Float

        public init(lastItems: Int, stopWords: Bool, k1: Float, b: Float) {
            self.lastItems = lastItems
            self.stopWords = stopWords
            self.k1 = k1
            self.b = b
        }

        enum CodingKeys: String, CodingKey {
            case lastItems = "last_items"
            case stopWords = "stop_words"
            case k1, b
        }
    }

    public var bm25: BM25History?

    public init(bm25: BM25History?) { self.bm25 = bm25 }
}
