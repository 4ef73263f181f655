import Foundation
import XCTest
import TestEnvironment
@testable import LanguageModel

/// A Llama GGUF file mapped onto the Hugging Face Llama layout.
final class GGUFLlamaTests: XCTestCase {
    /// llama.cpp's converter permutes query/key rows (computed by its own formula in
    /// `Tests/Fixtures/gguf/make_fixture.py`); loading undoes it exactly.
    func testUnpermutingQueryRowsRestoresTheHuggingFaceOrder() throws {
        let url = GGUFTests.fixtures.appendingPathComponent("permutation.expected.json")
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let gguf = (fixture["gguf"] as! [Double]).map(Float.init)
        let huggingFace = (fixture["huggingface"] as! [Double]).map(Float.init)
        XCTAssertNotEqual(gguf, huggingFace)
        XCTAssertEqual(
            GGUFLlama.unpermuteRows(gguf, rows: fixture["rows"] as! Int, columns: fixture["columns"] as! Int, heads: fixture["heads"] as! Int),
            huggingFace)
    }

    func testGGUFTensorNamesMapToHuggingFaceLlamaNames() {
        XCTAssertEqual(GGUFLlama.huggingFaceName("token_embd.weight"), "model.embed_tokens.weight")
        XCTAssertEqual(GGUFLlama.huggingFaceName("output_norm.weight"), "model.norm.weight")
        XCTAssertEqual(GGUFLlama.huggingFaceName("blk.12.attn_q.weight"), "model.layers.12.self_attn.q_proj.weight")
        XCTAssertEqual(GGUFLlama.huggingFaceName("blk.0.attn_output.weight"), "model.layers.0.self_attn.o_proj.weight")
        XCTAssertEqual(GGUFLlama.huggingFaceName("blk.29.ffn_gate.weight"), "model.layers.29.mlp.gate_proj.weight")
        XCTAssertEqual(GGUFLlama.huggingFaceName("blk.3.ffn_norm.weight"), "model.layers.3.post_attention_layernorm.weight")
        XCTAssertNil(GGUFLlama.huggingFaceName("blk.3.attn_q_norm.weight"))
        XCTAssertNil(GGUFLlama.huggingFaceName("rope_freqs.weight"))
    }

    /// SmolLM2-135M's shape as its model card states it: 30 blocks, width 576, 9 query and 3
    /// key/value heads of 64, SwiGLU 1536, RMSNorm ε 1e-5, RoPE base 100,000, 49,152 tokens, tied
    /// embeddings; every one of its 272 tensors has a Hugging Face name.
    func testSmolLM2ConfigurationAndNamesComeFromItsMetadata() throws {
        let file = try GGUFFile(path: try TestEnvironment.smolLM2())
        let config = try GGUFLlama.config(file)
        XCTAssertEqual(
            config,
            LlamaConfig(
                vocabularySize: 49152, hiddenSize: 576, intermediateSize: 1536, layers: 30, attentionHeads: 9, keyValueHeads: 3,
                maxPositions: 8192, rmsNormEpsilon: 1e-5, ropeTheta: 100_000, tiedEmbeddings: true))
        XCTAssertEqual(config.headSize, 64)
        XCTAssertEqual(file.tensors.compactMap { GGUFLlama.huggingFaceName($0.name) }.count, 272)
        let q = try XCTUnwrap(file.tensor(named: "blk.0.attn_q.weight"))
        let k = try XCTUnwrap(file.tensor(named: "blk.0.attn_k.weight"))
        XCTAssertEqual(q.dimensions, [576, 576])
        XCTAssertEqual(k.dimensions, [576, 192], "3 key/value heads of 64 outputs, 576 inputs (innermost first)")
    }
}
