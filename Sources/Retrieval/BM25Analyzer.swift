import RecData

/// The BM25 analyzer: lowercase, split on anything that is not a Unicode letter or number
/// (`RecData.WordAnalyzer`, the same rule as Table 1), and optionally drop English stop words.
public struct BM25Analyzer: Sendable, Equatable {
    /// Lucene's default English stop set (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`, 33 words).
    public static let englishStopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
        "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
        "will", "with",
    ]

    /// Words dropped after splitting (empty: none).
    public var stopWords: Set<String>

    public init(removeEnglishStopWords: Bool = false) {
        stopWords = removeEnglishStopWords ? Self.englishStopWords : []
    }

    /// The terms of `text`, in order, repeated words kept.
    public func terms(_ text: String) -> [String] {
        let words = WordAnalyzer.words(text)
        return stopWords.isEmpty ? words : words.filter { !stopWords.contains($0) }
    }
}
