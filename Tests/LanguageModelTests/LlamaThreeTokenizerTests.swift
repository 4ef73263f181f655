import Foundation
import Support
import TestEnvironment
import XCTest
@testable import LanguageModel
@testable import Tokenization

/// Llama 3's and Qwen2's pre-tokenization, normalizer and merge rule against Hugging Face's
/// `tokenizers`: byte-level BPE with SmolLM2's vocabulary and merges and each family's
/// `pre_tokenizer`, `normalizer` and `ignore_merges` exactly as the library serialises them
/// (`Tests/Fixtures/pretokenizers/make_expected.py` computed the pieces and ids). Skipped when
/// SmolLM2's GGUF file is not cached; `make test` fetches it and requires it.
final class LlamaThreeTokenizerTests: XCTestCase {
    struct Fixture: Decodable {
        struct Entry: Decodable {
            var text: String
            var ids: [Int32]
        }
        struct Variant: Decodable {
            var pre_tokenizer: TokenizerJSONFile.PreTokenizerSpec
            var normalizer: TokenizerJSONFile.Normalizer?
            var ignore_merges: Bool
            var strings: [Entry]
            var item_id_hashes: [String]
        }
        var gguf_sha256: String
        var variants: [String: Variant]
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    func fixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("pretokenizers/expected.json")))
    }

    /// SmolLM2's tokenizer file with the variant's pre-tokenizer, normalizer and merge rule, read back
    /// through `tokenizer.json`'s reader.
    func tokenizer(_ variant: Fixture.Variant) throws -> BPETokenizer {
        let smolLM2 = try GGUFTokenizer.tokenizer(try GGUFFile(path: try TestEnvironment.smolLM2()))
        var file = TokenizerJSONFile(smolLM2)
        file.preTokenizer = variant.pre_tokenizer
        file.normalizer = variant.normalizer
        file.model.ignoreMerges = variant.ignore_merges
        return try file.tokenizer(path: "tokenizer.json")
    }

    func itemTexts() throws -> [String] {
        try String(contentsOf: Self.fixtures.appendingPathComponent("smollm2/office-item-texts.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(String.self, from: Data($0.utf8)) }
    }

    func check(_ name: String, preTokenization: PreTokenization, normalization: TextNormalization, ignoreMerges: Bool) throws {
        let fixture = try fixture()
        XCTAssertEqual(try ContentHash.file(try TestEnvironment.smolLM2()), fixture.gguf_sha256, "the fixture was computed from another GGUF file")
        let expected = try XCTUnwrap(fixture.variants[name])
        let tokenizer = try tokenizer(expected)
        XCTAssertEqual(tokenizer.preTokenization, preTokenization)
        XCTAssertEqual(tokenizer.normalization, normalization)
        XCTAssertEqual(tokenizer.ignoreMerges, ignoreMerges)
        // The pieces alone are checked without the model in TokenizationTests.
        for entry in expected.strings {
            let normalized = normalization.apply(Substring(entry.text))
            let ids = tokenizer.encode(entry.text)
            XCTAssertEqual(ids, entry.ids, entry.text.debugDescription)
            XCTAssertEqual(Array(tokenizer.decode(ids).unicodeScalars), Array(normalized.unicodeScalars))
        }
        let items = try itemTexts()
        XCTAssertEqual(items.count, expected.item_id_hashes.count)
        var mismatches = 0
        for (text, hash) in zip(items, expected.item_id_hashes) {
            let ids = tokenizer.encode(text)
            if String(ContentHash.sha256(ids.map(String.init).joined(separator: ",")).prefix(12)) != hash {
                mismatches += 1
                if mismatches <= 5 { XCTFail("\(text.debugDescription): \(ids) differs from Hugging Face's") }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testLlamaThreeSplitsAndIgnoresMergesAsHuggingFaceDoes() throws {
        try check("llama3", preTokenization: .llama3, normalization: .none, ignoreMerges: true)
    }

    func testQwenTwoSplitsSingleDigitsAndComposesToNFCAsHuggingFaceDoes() throws {
        try check("qwen2", preTokenization: .qwen2, normalization: .nfc, ignoreMerges: false)
    }

    /// A tokenizer written as `tokenizer.json` reads back with the same pre-tokenizer, normalizer
    /// and merge rule, and its fingerprint names them (a tokenizer without them keeps its old one).
    func testTokenizerJSONRoundTripKeepsTheFamilysSettings() throws {
        let vocabulary: [String: Int32] = ["a": 0, "b": 1, "ab": 2, "<|end_of_text|>": 3]
        let plain = BPETokenizer(vocabulary: vocabulary, merges: [("a", "b")], specialTokens: ["<|end_of_text|>"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-llama3-tokenizer-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (pre, normalization, ignore) in [(PreTokenization.llama3, TextNormalization.none, true), (.qwen2, .nfc, false)] {
            let tokenizer = BPETokenizer(
                vocabulary: vocabulary, merges: [("a", "b")], specialTokens: ["<|end_of_text|>"], preTokenization: pre, normalization: normalization,
                ignoreMerges: ignore)
            try tokenizer.save(to: folder)
            let back = try BPETokenizer.load(folder: folder)
            XCTAssertEqual(back.preTokenization, pre)
            XCTAssertEqual(back.normalization, normalization)
            XCTAssertEqual(back.ignoreMerges, ignore)
            XCTAssertEqual(back.fingerprint, tokenizer.fingerprint)
            XCTAssertNotEqual(back.fingerprint, plain.fingerprint)
            XCTAssertEqual(back.endOfText, 3, "Llama 3's end-of-text token stands in for <|endoftext|>")
        }
    }

    /// The cache of piece encodings tells canonically equivalent pieces of different bytes apart.
    func testCanonicallyEquivalentPiecesOfDifferentBytesEncodeDifferently() {
        let composed = "\u{E9}", decomposed = "e\u{301}"
        var vocabulary: [String: Int32] = [:]
        for byte in UInt8(0)...UInt8(255) { vocabulary[ByteLevel.encode([byte])] = Int32(byte) }
        let tokenizer = BPETokenizer(vocabulary: vocabulary, merges: [])
        XCTAssertEqual(tokenizer.encode(composed), [0xC3, 0xA9])
        XCTAssertEqual(tokenizer.encode(decomposed), [0x65, 0xCC, 0x81])
    }
}
