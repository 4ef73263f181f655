import Foundation
import XCTest
@testable import Tokenization

final class TokenizerTests: XCTestCase {
    func testByteAlphabetIsGPT2s() {
        XCTAssertEqual(ByteLevel.byteToCharacter[Int(UInt8(ascii: "A"))], "A")
        XCTAssertEqual(ByteLevel.byteToCharacter[32], "\u{120}")  // space → Ġ
        XCTAssertEqual(ByteLevel.byteToCharacter[10], "\u{10A}")  // newline → Ċ
        XCTAssertEqual(ByteLevel.byteToCharacter[0], "\u{100}")
        XCTAssertEqual(ByteLevel.byteToCharacter[173], "\u{143}")  // soft hyphen, the last non-printable byte
        XCTAssertEqual(Set(ByteLevel.byteToCharacter).count, 256)
        XCTAssertEqual(ByteLevel.decode(ByteLevel.encode(Array(0...255))), Array(0...255))
        XCTAssertEqual(ByteLevel.alphabetInVocabularyOrder.first, "!")
        XCTAssertEqual(ByteLevel.alphabetInVocabularyOrder[188], "\u{100}")
    }

    /// Expected pieces computed with Python's `regex` module and GPT-2's pattern (an independent implementation).
    func testPreTokenizationMatchesGPT2sPattern() {
        let cases: [(String, [String])] = [
            ("Hello world's 123  test\n\nok", ["Hello", " world", "'s", " 123", " ", " test", "\n", "\n", "ok"]),
            ("I'm  here -- (it's) 3.14!! ", ["I", "'m", " ", " here", " --", " (", "it", "'s", ")", " 3", ".", "14", "!!", " "]),
            ("Café naïve 東京 2024年\t\tend", ["Café", " naïve", " 東京", " 2024", "年", "\t", "\t", "end"]),
            ("don't'LL 'S  \n x", ["don", "'t", "'", "LL", " '", "S", "  \n", " x"]),
            ("Title: HP 78 Tri-Color, Price: $12.99", ["Title", ":", " HP", " 78", " Tri", "-", "Color", ",", " Price", ":", " $", "12", ".", "99"]),
            ("  lead and trail  ", [" ", " lead", " and", " trail", "  "]),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(PreTokenizer.pieces(text).map(String.init), expected, text)
        }
    }

    /// Corpus "aaa aaa aaa": pieces "aaa" ×1 and "Ġaaa" ×2. Pair counts: (a,a) = 2·1 + 2·2 = 6, (Ġ,a) = 2
    /// → merge a+a. Then (aa,a) = 1 + 2 = 3 beats (Ġ,aa) = 2 → merge aa+a. Then (Ġ,aaa) = 2 → merge.
    func testTrainingMergesTheMostFrequentPairsComputedByHand() {
        let tokenizer = BPETrainer.train(texts: ["aaa aaa aaa"], vocabularySize: 300)
        XCTAssertEqual(tokenizer.merges.map { "\($0.0) \($0.1)" }, ["a a", "aa a", "\u{120} aaa"])
        XCTAssertEqual(tokenizer.vocabulary["aa"], 256)
        XCTAssertEqual(tokenizer.vocabulary["\u{120}aaa"], 258)
        XCTAssertEqual(tokenizer.vocabulary["<|endoftext|>"], 259)
        XCTAssertEqual(tokenizer.encode(" aaa"), [258])
        // "aaaa": (a,a) merges everywhere first → aa aa, and no merge joins aa with aa.
        XCTAssertEqual(tokenizer.encode("aaaa"), [256, 256])
        // "aaaaa": aa aa a, then (aa,a) → aa aaa.
        XCTAssertEqual(tokenizer.encode("aaaaa"), [256, 257])
        // The vocabulary size is a ceiling.
        XCTAssertEqual(BPETrainer.train(texts: ["aaa aaa aaa"], vocabularySize: 258).merges.count, 1)
    }

    func testEncodeAppliesMergesByRankAsGPT2Does() {
        // "lower": l o w e r. Ranks: (o,w) 0, (l,ow) 1, (e,r) 2, (low,er) 3 → one token.
        var vocabulary: [String: Int32] = [:]
        for (i, c) in ByteLevel.alphabetInVocabularyOrder.enumerated() { vocabulary[String(c)] = Int32(i) }
        for (i, t) in ["ow", "low", "er", "lower"].enumerated() { vocabulary[t] = Int32(256 + i) }
        let tokenizer = BPETokenizer(vocabulary: vocabulary, merges: [("o", "w"), ("l", "ow"), ("e", "r"), ("low", "er")])
        XCTAssertEqual(tokenizer.encode("lower"), [259])
        XCTAssertEqual(tokenizer.encode("lowe"), [257, vocabulary["e"]!])
        XCTAssertEqual(tokenizer.encode("owl"), [256, vocabulary["l"]!])
    }

    func testRoundTripOnAnyUTF8AndSpecialTokens() throws {
        let corpus = ["Title: HP 78 Tri-Color Printer Cartridge, Category: Office > Ink, Brand: HP, Price: $12.99"]
        let tokenizer = BPETrainer.train(texts: corpus, vocabularySize: 320, specialTokens: ["<|endoftext|>", "<|item|>"])
        let texts = ["héllo wörld 😀 東京\n\t\u{0}\u{7F} end", "Title: HP 78, Price: $12.99", "", "   ", "a<|item|>b<|endoftext|>"]
        for text in texts { XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text) }
        let ids = tokenizer.encode("a<|item|>b")
        XCTAssertEqual(ids.count, 3)
        XCTAssertEqual(ids[1], tokenizer.id(ofSpecial: "<|item|>"))
        XCTAssertFalse(tokenizer.encode("a<|item|>b", allowSpecial: false).contains(tokenizer.id(ofSpecial: "<|item|>")!))
    }

    func testSavedFilesLoadBackToTheSameTokenizer() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-bpe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let corpus = (0..<50).map { "Item \($0): blue ink pen, pack of \($0 % 7), brand Acme's best" }
        let trained = BPETrainer.train(texts: corpus, vocabularySize: 400)
        try trained.save(to: folder)
        let merges = try String(contentsOfFile: folder + "/merges.txt", encoding: .utf8)
        XCTAssertTrue(merges.hasPrefix("#version: 0.2\n"))
        let loaded = try BPETokenizer(vocabularyFile: folder + "/vocab.json", mergesFile: folder + "/merges.txt")
        XCTAssertEqual(loaded.vocabulary, trained.vocabulary)
        XCTAssertEqual(loaded.specialTokens, ["<|endoftext|>"])
        for text in corpus + ["unseen words, 42!"] { XCTAssertEqual(loaded.encode(text), trained.encode(text)) }
        // Training is deterministic.
        XCTAssertEqual(BPETrainer.train(texts: corpus, vocabularySize: 400).merges.map { $0.0 + " " + $0.1 }, trained.merges.map { $0.0 + " " + $0.1 })
    }

    func testMalformedMergesFileNamesTheLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-bpe-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "{\"a\": 0, \"b\": 1, \"ab\": 2}".write(toFile: folder + "/vocab.json", atomically: true, encoding: .utf8)
        try "#version: 0.2\na b\nabc\n".write(toFile: folder + "/merges.txt", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BPETokenizer(vocabularyFile: folder + "/vocab.json", mergesFile: folder + "/merges.txt")) { error in
            XCTAssertEqual(error as? TokenizerError, .malformedFile(path: folder + "/merges.txt", line: 3, detail: "a merge is two tokens separated by one space"))
        }
    }
}

/// GPT-2's own files must load and encode exactly as GPT-2's tokenizer does.
final class GPT2CompatibilityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gpt2")

    func testGPT2FilesEncodeLikeGPT2() throws {
        let tokenizer = try BPETokenizer(
            vocabularyFile: Self.fixtures.appendingPathComponent("vocab.json").path,
            mergesFile: Self.fixtures.appendingPathComponent("merges.txt").path)
        XCTAssertEqual(tokenizer.vocabulary.count, 50257)
        XCTAssertEqual(tokenizer.merges.count, 50000)
        XCTAssertEqual(tokenizer.specialTokens, ["<|endoftext|>"])
        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.fixtures.appendingPathComponent("expected_ids.json"))) as! [String: [Int]]
        XCTAssertEqual(expected["Hello world"], [15496, 995])
        for (text, ids) in expected {
            XCTAssertEqual(tokenizer.encode(text, allowSpecial: false).map(Int.init), ids, text)
            XCTAssertEqual(tokenizer.decode(ids.map(Int32.init)), text)
        }
        XCTAssertEqual(tokenizer.encode("<|endoftext|>"), [50256])
        XCTAssertEqual(tokenizer.encode("a<|endoftext|>b"), [64, 50256, 65])
    }
}
