import Foundation
import XCTest
@testable import Tokenization

/// Llama 3's and Qwen2's pre-tokenization against Hugging Face's `tokenizers`: the pieces its
/// `Split` pre-tokenizer (each family's pattern, `Isolated`) gives for stress strings that reach
/// every alternative of the pattern and its edges, after Qwen2's NFC normalizer
/// (`Tests/Fixtures/pretokenizers/make_expected.py` computed them). Needs no model file.
final class LlamaThreePreTokenizerTests: XCTestCase {
    struct Fixture: Decodable {
        struct Entry: Decodable {
            var text: String
            var pieces: [String]?
        }
        struct Variant: Decodable { var strings: [Entry] }
        var variants: [String: Variant]
    }

    func check(_ name: String, _ preTokenization: PreTokenization, _ normalization: TextNormalization) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pretokenizers/expected.json")
        let variant = try XCTUnwrap(try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url)).variants[name])
        let checked = variant.strings.filter { $0.pieces != nil }
        XCTAssertGreaterThan(checked.count, 60)
        for entry in checked {
            let pieces = preTokenization.pieces(normalization.apply(Substring(entry.text))).map(String.init)
            // Compared scalar by scalar: String equality would let canonically equivalent pieces pass.
            XCTAssertEqual(pieces.map { Array($0.unicodeScalars) }, entry.pieces!.map { Array($0.unicodeScalars) }, entry.text.debugDescription)
        }
    }

    func testLlamaThreePiecesAreHuggingFaces() throws { try check("llama3", .llama3, .none) }

    func testQwenTwoPiecesAreHuggingFacesAfterNFC() throws { try check("qwen2", .qwen2, .nfc) }
}
