import Foundation
import XCTest
@testable import LanguageModel
import Tensors

final class GPT2ModelTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tiny-gpt2")

    /// Logits of a tiny random GPT-2 in Hugging Face's layout, against NumPy's (make_fixture.py).
    func testTinyGPT2MatchesTheNumPyReference() throws {
        let model = try GPT2Model(folder: Self.fixture.path)
        XCTAssertEqual(model.config, GPT2Config(vocabularySize: 37, maxPositions: 16, channels: 12, layers: 2, heads: 3))
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixture.appendingPathComponent("expected.json"))) as! [String: Any]
        let sequences = (expected["sequences"] as! [[Int]]).map { $0.map(Int32.init) }
        let reference = expected["logits"] as! [[[Double]]]
        for (s, sequence) in sequences.enumerated() {
            let logits = model.logits([sequence])
            let flat = reference[s].flatMap { $0 }
            XCTAssertEqual(logits.count, flat.count)
            var worst = 0.0
            for (a, b) in zip(logits, flat) { worst = max(worst, abs(Double(a) - b)) }
            XCTAssertLessThan(worst, 1e-4, "sequence \(s)")
        }
    }

    func testPaddingOnTheRightLeavesEarlierLogitsUnchanged() throws {
        let model = try GPT2Model(folder: Self.fixture.path)
        let short: [Int32] = [3, 14, 15]
        let alone = model.logits([short])
        let padded = model.logits([short + [0, 0]], keyMask: [[1, 1, 1, 0, 0]])
        let v = model.config.vocabularySize
        for i in 0..<(3 * v) { XCTAssertEqual(alone[i], padded[i], accuracy: 1e-5) }
    }

    func testMissingOrMisshapenTensorsAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-gpt2-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: Self.fixture.appendingPathComponent("config.json").path, toPath: folder + "/config.json")
        let model = try GPT2Model(folder: Self.fixture.path)
        var tensors = model.parameters
        tensors["h.1.mlp.c_fc.bias"] = nil
        try SafeTensors.write(tensors, to: folder + "/model.safetensors")
        XCTAssertThrowsError(try GPT2Model(folder: folder)) { error in
            XCTAssertTrue(error.localizedDescription.contains("tensor 'h.1.mlp.c_fc.bias' missing"), error.localizedDescription)
        }
        try "{\"n_embd\": 12}".write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try GPT2Model(folder: folder)) { error in
            XCTAssertTrue(error.localizedDescription.contains("field 'vocab_size' missing"), error.localizedDescription)
        }
    }
}
