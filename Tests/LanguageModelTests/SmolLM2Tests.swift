import Foundation
import Tensors
import Tokenization
import XCTest
import TestEnvironment
@testable import LanguageModel

/// SmolLM2-135M from its GGUF file against Hugging Face's libraries: token ids from `tokenizers`
/// built as SmolLM2's `tokenizer.json` is configured, log-probabilities from `transformers`'
/// dequantized model (`Tests/Fixtures/smollm2/make_reference.py` computed both). Skipped when the
/// model is not cached; `make test` fetches it and requires it.
final class SmolLM2Tests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/smollm2")

    struct TokenizerFixture: Decodable {
        struct Entry: Decodable {
            var text: String
            var ids: [Int32]
        }
        var gguf_sha256: String
        var items: [Entry]
        var prompts: [Entry]
        var stress: [Entry]
    }

    struct LogProbFixture: Decodable {
        struct Text: Decodable {
            var name: String
            var text: String
            var ids: [Int32]
            var total_logprob: Double
            var token_logprobs: [Double]
            var last_top5_ids: [Int32]
            var last_top5_logits: [Double]
        }
        var texts: [Text]
        var embed_tokens_row0_first8: [Float]
        var q_proj_row0_first8: [Float]
        var q_proj_row1_first8: [Float]
    }

    nonisolated(unsafe) static var loaded: (model: LlamaModel, tokenizer: BPETokenizer)?

    static func smolLM2() throws -> (model: LlamaModel, tokenizer: BPETokenizer) {
        if let loaded { return loaded }
        let result = try LlamaModel.load(gguf: try TestEnvironment.smolLM2())
        loaded = result
        return result
    }

    func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
    }

    /// Every Office item text (as prompts carry it, with its leading space), the prompt strings of
    /// both templates, and strings that stress digits, contractions, whitespace, Unicode numerals,
    /// emoji and special tokens.
    func testTokenIDsAreHuggingFacesOnEveryItemTextAndPromptString() throws {
        let (_, tokenizer) = try Self.smolLM2()
        let expected = try fixture("tokenizer.expected.json", as: TokenizerFixture.self)
        XCTAssertEqual(expected.items.count, 2420)
        var mismatches = 0
        for entry in expected.items + expected.prompts + expected.stress {
            let ids = tokenizer.encode(entry.text)
            if ids != entry.ids {
                mismatches += 1
                if mismatches <= 5 { XCTFail("\(entry.text.debugDescription): \(ids) vs Hugging Face \(entry.ids)") }
            }
            XCTAssertEqual(tokenizer.decode(ids), entry.text)
        }
        XCTAssertEqual(mismatches, 0)
    }

    /// The Office texts of the fixture are the bodies the prompt builder tokenizes (so the fixture
    /// cannot drift from the data).
    func testTheFixtureHoldsTheItemTextsOfTheOfficeData() throws {
        let lines = try String(contentsOf: Self.fixtures.appendingPathComponent("office-item-texts.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(String.self, from: Data($0.utf8)) }
        let expected = try fixture("tokenizer.expected.json", as: TokenizerFixture.self)
        XCTAssertEqual(lines, expected.items.map(\.text))
    }

    func testDequantizedWeightsAreTransformers() throws {
        let (model, _) = try Self.smolLM2()
        let expected = try fixture("logprobs.expected.json", as: LogProbFixture.self)
        XCTAssertEqual(Array(model.parameters["model.embed_tokens.weight"]!.values.prefix(8)), expected.embed_tokens_row0_first8)
        let q = model.parameters["model.layers.0.self_attn.q_proj.weight"]!.values
        XCTAssertEqual(Array(q.prefix(8)), expected.q_proj_row0_first8)
        XCTAssertEqual(Array(q[576..<584]), expected.q_proj_row1_first8)
    }

    /// Log-probabilities of 20 texts within 1e-4 relative of `transformers` (Float32 on both sides,
    /// summed in Float64), each token's within 2e-3 absolute, and the last position's top-5 logits.
    func testLogProbabilitiesAreTransformersWithinOneInTenThousand() throws {
        let (model, tokenizer) = try Self.smolLM2()
        let expected = try fixture("logprobs.expected.json", as: LogProbFixture.self)
        XCTAssertEqual(expected.texts.count, 20)
        let v = model.config.vocabularySize
        for text in expected.texts {
            XCTAssertEqual(tokenizer.encode(text.text), text.ids, text.name)
            let logits = model.logits([text.ids])
            var total = 0.0
            for t in 1..<text.ids.count {
                let logprob = Sampler.logSoftmax(Array(logits[((t - 1) * v)..<(t * v)]), at: Int(text.ids[t]))
                XCTAssertEqual(logprob, text.token_logprobs[t - 1], accuracy: 2e-3, "\(text.name) token \(t)")
                total += logprob
            }
            XCTAssertEqual(total, text.total_logprob, accuracy: 1e-4 * abs(text.total_logprob), text.name)
            let last = Array(logits[((text.ids.count - 1) * v)..<(text.ids.count * v)])
            for (id, value) in zip(text.last_top5_ids, text.last_top5_logits) {
                XCTAssertEqual(Double(last[Int(id)]), value, accuracy: 1e-3 * max(1, abs(value)), "\(text.name) logit \(id)")
            }
        }
    }

    /// Greedy continuation with the KV cache, batched with left padding, equals the argmax of full passes.
    func testKVCacheGenerationEqualsFullPasses() throws {
        let (model, tokenizer) = try Self.smolLM2()
        let prompts = ["The capital of France is", "Title: Pens, Price:"].map { tokenizer.encode($0) }
        let generated = assertGreedyGenerationEqualsFullPasses(model, prompts: prompts, newTokens: 5, tolerance: 1e-3)
        XCTAssertTrue(tokenizer.decode(generated[0].tokens).contains("Paris"))
    }
}
