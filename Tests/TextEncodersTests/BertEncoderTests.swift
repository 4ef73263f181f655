import Foundation
import XCTest
import TestEnvironment
import RecData
import Support
@testable import Tensors
@testable import TextEncoders

/// The BERT encoder against Hugging Face `transformers`' `BertModel` (float32) on all-MiniLM-L6-v2,
/// and the item-feature file.
final class BertEncoderTests: XCTestCase {
    private func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-features-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// ‖a − b‖ / ‖b‖.
    private func relativeError(_ a: [Float], _ b: [Double]) -> Double {
        var difference = 0.0, norm = 0.0
        for (x, y) in zip(a, b) {
            difference += (Double(x) - y) * (Double(x) - y)
            norm += y * y
        }
        return (difference / norm).squareRoot()
    }

    func testMeanAndCLSVectorsOfTwentyTextsMatchTransformersWithin1e4() throws {
        let encoder = try BertEncoder(folder: try TestEnvironment.miniLM())
        let expected = try MiniLMFixture.expected("encoder.expected.json")
        let entries = expected["texts"] as! [[String: Any]]
        XCTAssertEqual(entries.count, 20)
        let texts = entries.map { $0["text"] as! String }
        for entry in entries {
            XCTAssertEqual(encoder.tokenize(entry["text"] as! String, maxTokens: 512).map(Int.init), entry["ids"] as! [Int])
        }
        // Batched as feature extraction batches them (packed, several texts a batch).
        let mean = encoder.pooledVectors(texts: texts, pooling: .mean, normalized: false, maxTokens: 512, batchTokens: 200).values
        let cls = encoder.pooledVectors(texts: texts, pooling: .cls, normalized: false, maxTokens: 512, batchTokens: 200).values
        let c = encoder.config.hidden
        XCTAssertEqual(c, 384)
        var worst = 0.0
        for (i, entry) in entries.enumerated() {
            for (name, ours) in [("mean", mean), ("cls", cls)] {
                let reference = entry[name] as! [Double]
                let error = relativeError(Array(ours[(i * c)..<((i + 1) * c)]), reference)
                worst = max(worst, error)
                XCTAssertLessThan(error, 1e-4, "\(name) of text \(i) (\((entry["text"] as! String).prefix(40)))")
            }
        }
        // Token rows of the first text, first four values each.
        var noDropout: SeededRandom? = nil
        let tape = Tape()
        let hidden = encoder.encode(tape, sequences: [encoder.tokenize(texts[0], maxTokens: 512)], dropout: &noDropout)
        let rows = expected["first_text_token_rows_first4"] as! [[Double]]
        XCTAssertEqual(hidden.shape[0], rows.count)
        for (r, row) in rows.enumerated() {
            for k in 0..<4 { XCTAssertEqual(Double(hidden.value[r * c + k]), row[k], accuracy: 1e-4 * (1 + abs(row[k]))) }
        }
        print("largest relative error of 40 pooled vectors: \(worst)")
    }

    func testNormalisedVectorsHaveUnitLengthAndTruncationKeepsClassifierAndSeparator() throws {
        let encoder = try BertEncoder(folder: try TestEnvironment.miniLM())
        let ids = encoder.tokenize(String(repeating: "word ", count: 60), maxTokens: 16)
        XCTAssertEqual(ids.count, 16)
        XCTAssertEqual(ids.first, encoder.tokenizer.classifierID)
        XCTAssertEqual(ids.last, encoder.tokenizer.separatorID)
        let (values, tokens, truncated) = encoder.pooledVectors(
            texts: ["a stapler", String(repeating: "word ", count: 60)], pooling: .mean, normalized: true, maxTokens: 16)
        XCTAssertEqual(tokens, encoder.tokenize("a stapler", maxTokens: 16).count + 16)
        XCTAssertEqual(truncated, 1)
        for row in 0..<2 {
            let norm = (0..<384).reduce(Float(0)) { $0 + values[row * 384 + $1] * values[row * 384 + $1] }
            XCTAssertEqual(norm, 1, accuracy: 1e-5)
        }
    }

    private func header(weights: String = String(repeating: "a", count: 64), pooling: FeaturePooling = .mean) -> ItemFeatures.Header {
        let identity = FeatureEncoderIdentity(name: "enc", modelType: "bert", layers: 1, hidden: 3, weightsSHA256: weights, tokenizerFingerprint: "t")
        return ItemFeatures.Header(
            encoder: identity, pooling: pooling, normalized: false, maxTokens: 8, dataset: "d", itemCount: 2, dimension: 3, itemIDs: ["A", "B"],
            textsSHA256: "x", matrixSHA256: "", cacheKey: ItemFeatures.cacheKey(texts: ["a", "b"], encoder: identity, pooling: pooling, normalized: false, maxTokens: 8),
            tokens: 6, truncatedItems: 0)
    }

    func testFeatureFileRoundTripsAsRawFloat32AndADamagedMatrixIsRefused() throws {
        let folder = try scratch()
        let features = ItemFeatures(header: header(), values: [1, -2.5, 3e-8, .pi, 0, -0])
        try features.write(to: folder)
        let back = try ItemFeatures.read(folder: folder)
        XCTAssertEqual(back.values, features.values)
        XCTAssertEqual(Array(back.vector(1)), [.pi, 0, 0])
        // The matrix is plain little-endian float32, 4 bytes a value, no header.
        let raw = try Data(contentsOf: URL(fileURLWithPath: folder + "/item_features.f32"))
        XCTAssertEqual(raw.count, 24)
        XCTAssertEqual(Array(raw.prefix(4)), [0x00, 0x00, 0x80, 0x3F])
        XCTAssertNoThrow(try back.checkItems(["A", "B"], path: folder))
        XCTAssertThrowsError(try back.checkItems(["A", "C"], path: folder)) { error in
            XCTAssertTrue(error.localizedDescription.contains("item 2 is 'B'"), error.localizedDescription)
        }
        var damaged = raw
        damaged[5] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: folder + "/item_features.f32"))
        XCTAssertThrowsError(try ItemFeatures.read(folder: folder)) { error in
            XCTAssertTrue(error.localizedDescription.contains("SHA-256"), error.localizedDescription)
        }
    }

    func testAChangedEncoderPoolingOrTextChangesTheCacheKey() {
        let a = header(), b = header(weights: String(repeating: "b", count: 64)), c = header(pooling: .cls)
        XCTAssertNotEqual(a.cacheKey, b.cacheKey)
        XCTAssertNotEqual(a.cacheKey, c.cacheKey)
        XCTAssertNotEqual(
            ItemFeatures.cacheKey(texts: ["a", "b"], encoder: a.encoder, pooling: .mean, normalized: false, maxTokens: 8),
            ItemFeatures.cacheKey(texts: ["a", "c"], encoder: a.encoder, pooling: .mean, normalized: false, maxTokens: 8))
        XCTAssertEqual(a.cacheKey, header().cacheKey)
    }
}
