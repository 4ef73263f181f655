import Foundation
import XCTest
import TestEnvironment
@testable import LanguageModel

/// The GGUF reader against what llama.cpp's own Python package (`gguf` 0.19.0) reads from the same
/// files (`Tests/Fixtures/gguf/make_fixture.py`).
final class GGUFTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gguf")

    private func expected(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent(name))) as! [String: Any]
    }

    private func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-gguf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Every metadata type and every tensor type, each dequantized value bit for bit as gguf does.
    func testEveryMetadataAndTensorTypeReadsAsTheGGUFPackageReadsIt() throws {
        let file = try GGUFFile(path: Self.fixtures.appendingPathComponent("types.gguf").path)
        let expected = try expected("types.expected.json")
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, expected["alignment"] as? Int)
        XCTAssertEqual(file.dataOffset, expected["data_offset"] as? Int)
        let metadata = expected["metadata"] as! [String: Any]
        XCTAssertEqual(file["general.architecture"]?.string, "llama")
        XCTAssertEqual(file["test.uint8"], .uint8(200))
        XCTAssertEqual(file["test.int8"], .int8(-100))
        XCTAssertEqual(file["test.uint16"], .uint16(60000))
        XCTAssertEqual(file["test.int16"], .int16(-30000))
        XCTAssertEqual(file["test.uint32"], .uint32(4_000_000_000))
        XCTAssertEqual(file["test.int32"], .int32(-2_000_000_000))
        XCTAssertEqual(file["test.float32"], .float32(Float(metadata["test.float32"] as! Double)))
        XCTAssertEqual(file["test.uint64"], .uint64(1 << 63 + 5))
        XCTAssertEqual(file["test.int64"], .int64(-(1 << 62)))
        XCTAssertEqual(file["test.float64"], .float64(1e-300))
        XCTAssertEqual(file["test.bool"], .bool(true))
        XCTAssertEqual(file["test.string"], .string(metadata["test.string"] as! String))
        XCTAssertEqual(file["test.array_int32"], .array([.int32(1), .int32(-2), .int32(3)]))
        XCTAssertEqual(file["test.array_string"], .array([.string("a"), .string(""), .string("ü")]))

        let tensors = expected["tensors"] as! [[String: Any]]
        XCTAssertEqual(file.tensors.map(\.name), tensors.map { $0["name"] as! String })
        XCTAssertEqual(Set(file.tensors.map(\.type)), Set(GGMLType.allCases), "the fixture has one tensor of every type")
        for (tensor, want) in zip(file.tensors, tensors) {
            XCTAssertEqual(Int(tensor.type.rawValue), want["type"] as? Int, tensor.name)
            XCTAssertEqual(tensor.dimensions, want["dimensions"] as? [Int], tensor.name)
            XCTAssertEqual(tensor.offset, want["offset"] as? Int, tensor.name)
            let values = file.dequantize(tensor)
            let reference = (want["values"] as! [Double]).map(Float.init)
            XCTAssertEqual(values.count, reference.count, tensor.name)
            XCTAssertEqual(values.map(\.bitPattern), reference.map(\.bitPattern), "\(tensor.name) (\(tensor.type.name))")
        }
    }

    /// The real SmolLM2-135M-Instruct file (fetched by `make models`): its header, the
    /// architecture's metadata, the tokenizer's sizes, and two blocks of each tensor type it holds.
    func testSmolLM2FileReadsAsTheGGUFPackageReadsIt() throws {
        let file = try GGUFFile(path: try TestEnvironment.smolLM2())
        let expected = try expected("smollm2.expected.json")
        XCTAssertEqual(file.tensors.count, expected["tensor_count"] as? Int)
        XCTAssertEqual(file.alignment, expected["alignment"] as? Int)
        XCTAssertEqual(file.dataOffset, expected["data_offset"] as? Int)
        let metadata = expected["metadata"] as! [String: Any]
        for (key, value) in metadata {
            if let text = value as? String {
                XCTAssertEqual(file[key]?.string, text, key)
            } else if let number = file[key]?.number {
                XCTAssertEqual(Float(number), Float((value as! NSNumber).doubleValue), key)
            } else {
                XCTAssertEqual(file[key]?.integer, (value as! NSNumber).intValue, key)
            }
        }
        XCTAssertEqual(file["tokenizer.ggml.tokens"]?.array?.count, expected["token_count"] as? Int)
        XCTAssertEqual(file["tokenizer.ggml.merges"]?.array?.count, expected["merge_count"] as? Int)
        XCTAssertEqual(
            file["tokenizer.ggml.tokens"]?.array?.prefix(5).compactMap(\.string), expected["first_tokens"] as? [String])
        for want in expected["tensors"] as! [[String: Any]] {
            let name = want["name"] as! String
            let tensor = try XCTUnwrap(file.tensor(named: name), name)
            XCTAssertEqual(Int(tensor.type.rawValue), want["type"] as? Int, name)
            XCTAssertEqual(tensor.dimensions, want["dimensions"] as? [Int], name)
            XCTAssertEqual(tensor.offset, want["offset"] as? Int, name)
            let values = file.dequantize(tensor)
            XCTAssertEqual(values.count, tensor.elementCount, name)
            let reference = (want["first_values"] as! [Double]).map(Float.init)
            XCTAssertEqual(values.prefix(reference.count).map(\.bitPattern), reference.map(\.bitPattern), "\(name) (\(tensor.type.name))")
        }
    }

    func testATruncatedFileNamesWhereItEnds() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("types.gguf"))
        let whole = try GGUFFile(path: Self.fixtures.appendingPathComponent("types.gguf").path)
        let folder = try scratch()
        // Inside the header, inside the metadata, and inside the last tensor's data.
        for cut in [3, 40, whole.dataOffset + whole.tensors.last!.offset + 5] {
            let path = folder + "/cut-\(cut).gguf"
            try data.prefix(cut).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try GGUFFile(path: path)) { error in
                guard case .truncated(let failing, let detail)? = error as? GGUFError else { return XCTFail("\(cut): \(error)") }
                XCTAssertEqual(failing, path)
                XCTAssert(detail.contains("byte"), detail)
            }
        }
    }

    func testAnotherFormatOrAnUnsupportedTensorTypeIsRefusedWithWhatToDo() throws {
        let folder = try scratch()
        try Data("PK\u{3}\u{4}not a model".utf8).write(to: URL(fileURLWithPath: folder + "/zip.gguf"))
        XCTAssertThrowsError(try GGUFFile(path: folder + "/zip.gguf")) { error in
            XCTAssertEqual(error as? GGUFError, .notGGUF(path: folder + "/zip.gguf"))
        }
        // Turn the first tensor's type (F32, the u32 after its dimensions) into Q4_K (12).
        var data = try Data(contentsOf: Self.fixtures.appendingPathComponent("types.gguf"))
        let file = try GGUFFile(path: Self.fixtures.appendingPathComponent("types.gguf").path)
        let name = Array(file.tensors[0].name.utf8)
        let at = try XCTUnwrap(data.firstRange(of: Data(name))).upperBound + 4 + 8 * file.tensors[0].dimensions.count
        XCTAssertEqual(data[at], 0, "the F32 type id")
        data[at] = 12
        try data.write(to: URL(fileURLWithPath: folder + "/q4k.gguf"))
        XCTAssertThrowsError(try GGUFFile(path: folder + "/q4k.gguf")) { error in
            XCTAssertEqual(error as? GGUFError, .unsupportedType(path: folder + "/q4k.gguf", tensor: "t.f32", type: "Q4_K"))
            XCTAssert((error as? LocalizedError)?.errorDescription?.contains("Q8_0") == true)
        }
    }
}
