import Foundation
import XCTest
import TestEnvironment
@testable import Tokenization

/// BERT's WordPiece tokenizer: hand-made cases, and all-MiniLM-L6-v2's `tokenizer.json` against
/// Hugging Face `tokenizers` on every Office item text and on stress strings.
final class WordPieceTokenizerTests: XCTestCase {
    private func small() throws -> WordPieceTokenizer {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", "##a", "a", "cafe", ",", "!", "x", "##x", "日"]
        return try WordPieceTokenizer(vocabulary: Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($1, Int32($0)) }), maxCharactersPerWord: 10)
    }

    func testWordsSplitGreedilyIntoTheLongestPiecesFromTheirStart() throws {
        let t = try small()
        // "unaffable" → un ##aff ##able; "affa" → aff ##a; "b" has no piece → [UNK].
        XCTAssertEqual(t.encode("unaffable affa b"), [2, 5, 6, 7, 8, 9, 1, 3])
        // No split of the whole word → the whole word is unknown, not its unmatched tail.
        XCTAssertEqual(t.encodeWithoutSpecialTokens("unaffz"), [1])
    }

    func testNormalisationLowercasesStripsAccentsAndSetsPunctuationAndIdeographsApart() throws {
        let t = try small()
        // "CAFÉ," → cafe ,   "!日!" → ! 日 !   tabs and control characters are spaces or dropped.
        XCTAssertEqual(t.encodeWithoutSpecialTokens("CAF\u{00C9},\t!日!\u{0007}"), [11, 12, 13, 16, 13])
        XCTAssertEqual(BertPreTokenization().normalize("A\u{0000}B\u{FFFD}c\u{00A0}d"), "abc d")
    }

    func testWordsLongerThanTheLimitAreUnknownAndSpecialTokensMatchVerbatim() throws {
        let t = try small()
        XCTAssertEqual(t.encodeWithoutSpecialTokens("xxxxx xxxxxxxxxxx"), [14, 15, 15, 15, 15, 1])
        // [MASK] in the text is its id (not lowercased into "[mask]" and split); "[mask]" is not.
        XCTAssertEqual(t.encodeWithoutSpecialTokens("a[MASK]a"), [10, 4, 10])
        XCTAssertEqual(t.encodeWithoutSpecialTokens("[mask]"), [1, 1, 1])
    }

    func testMiniLMTokenizerMatchesHuggingFaceOnEveryOfficeItemAndTheStressStrings() throws {
        let folder = try TestEnvironment.miniLM()
        let tokenizer = try WordPieceTokenizer.load(folder: folder)
        let expected = try MiniLMFixture.expected("tokenizer.expected.json")
        let items = expected["office_items"] as! [[Int]]
        let texts = try MiniLMFixture.officeTexts()
        XCTAssertEqual(texts.count, 2420)
        XCTAssertEqual(items.count, texts.count)
        var mismatches = 0
        for (text, ids) in zip(texts, items) where tokenizer.encode(text).map(Int.init) != ids {
            mismatches += 1
            if mismatches <= 3 { XCTFail("\(text): \(tokenizer.encode(text)) vs \(ids)") }
        }
        XCTAssertEqual(mismatches, 0)
        for entry in expected["stress"] as! [[String: Any]] {
            let text = entry["text"] as! String
            XCTAssertEqual(tokenizer.encode(text).map(Int.init), entry["ids"] as! [Int], "\(text.debugDescription)")
        }
        // vocab.txt alone gives the same tokenizer.
        let fromVocabulary = try WordPieceTokenizer.load(vocabularyFile: (folder as NSString).appendingPathComponent("vocab.txt"), lowercase: true)
        XCTAssertEqual(fromVocabulary.fingerprint, tokenizer.fingerprint)
    }
}
