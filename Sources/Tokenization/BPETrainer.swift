import HeapModule

/// Trains a byte-level BPE vocabulary on a corpus (Sennrich et al., 2016, on GPT-2's byte alphabet):
/// the 256 byte characters first (in GPT-2's vocabulary order), then, merge after merge, the most
/// frequent adjacent pair of symbols inside pre-tokenized pieces, until the vocabulary has the
/// requested size or no pair occurs `minimumFrequency` times; special tokens come last.
/// Deterministic: equal counts are broken by the pair's text (smallest first).
public enum BPETrainer {
    struct Candidate: Comparable {
        var count: Int
        var left: String
        var right: String
        var key: Int64

        /// Ordered so that the heap's maximum is the pair to merge next.
        static func < (a: Candidate, b: Candidate) -> Bool {
            if a.count != b.count { return a.count < b.count }
            if a.left != b.left { return a.left > b.left }
            return a.right > b.right
        }
    }

    static func key(_ a: Int32, _ b: Int32) -> Int64 { Int64(a) << 32 | Int64(UInt32(bitPattern: b)) }

    /// Trains on `texts` up to `vocabularySize` tokens (special tokens included).
    public static func train(
        texts: [String], vocabularySize: Int, specialTokens: [String] = ["<|endoftext|>"], minimumFrequency: Int = 2
    ) -> BPETokenizer {
        var tokens = ByteLevel.alphabetInVocabularyOrder.map(String.init)
        var tokenID: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() { tokenID[t] = Int32(i) }
        // Unique pieces with their frequencies, as symbol ids.
        var pieceCounts: [String: Int] = [:]
        for text in texts {
            for piece in PreTokenizer.pieces(text) { pieceCounts[ByteLevel.encode(piece.utf8), default: 0] += 1 }
        }
        let ordered = pieceCounts.keys.sorted()
        var words: [[Int32]] = ordered.map { $0.map { tokenID[String($0)]! } }
        let counts: [Int] = ordered.map { pieceCounts[$0]! }

        var pairCounts: [Int64: Int] = [:]
        var pairWords: [Int64: Set<Int>] = [:]
        for (w, word) in words.enumerated() where word.count > 1 {
            for i in 0..<(word.count - 1) {
                let k = key(word[i], word[i + 1])
                pairCounts[k, default: 0] += counts[w]
                pairWords[k, default: []].insert(w)
            }
        }
        var heap = Heap<Candidate>()
        func candidate(_ k: Int64) -> Candidate {
            Candidate(count: pairCounts[k] ?? 0, left: tokens[Int(k >> 32)], right: tokens[Int(Int32(truncatingIfNeeded: k))], key: k)
        }
        for k in pairCounts.keys { heap.insert(candidate(k)) }

        var merges: [(String, String)] = []
        let target = vocabularySize - specialTokens.count
        while tokens.count < target, let best = heap.popMax() {
            guard best.count == pairCounts[best.key], best.count >= minimumFrequency else {
                if best.count < minimumFrequency && best.count == pairCounts[best.key] { break }
                continue
            }
            let left = Int32(best.key >> 32)
            let right = Int32(truncatingIfNeeded: best.key)
            let merged = Int32(tokens.count)
            tokens.append(best.left + best.right)
            merges.append((best.left, best.right))
            var touched = Set<Int64>()
            for w in (pairWords[best.key] ?? []).sorted() {
                let old = words[w]
                let c = counts[w]
                for i in 0..<(old.count - 1) {
                    let k = key(old[i], old[i + 1])
                    pairCounts[k]! -= c
                    touched.insert(k)
                }
                var new: [Int32] = []
                new.reserveCapacity(old.count)
                var i = 0
                while i < old.count {
                    if i + 1 < old.count && old[i] == left && old[i + 1] == right {
                        new.append(merged)
                        i += 2
                    } else {
                        new.append(old[i])
                        i += 1
                    }
                }
                words[w] = new
                if new.count > 1 {
                    for j in 0..<(new.count - 1) {
                        let k = key(new[j], new[j + 1])
                        pairCounts[k, default: 0] += c
                        pairWords[k, default: []].insert(w)
                        touched.insert(k)
                    }
                }
            }
            pairCounts[best.key] = nil
            pairWords[best.key] = nil
            for k in touched where (pairCounts[k] ?? 0) > 0 { heap.insert(candidate(k)) }
        }
        var vocabulary: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() { vocabulary[t] = Int32(i) }
        for special in specialTokens where vocabulary[special] == nil { vocabulary[special] = Int32(vocabulary.count) }
        return BPETokenizer(vocabulary: vocabulary, merges: merges, specialTokens: specialTokens)
    }
}
