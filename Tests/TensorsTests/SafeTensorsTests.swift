import Foundation
import XCTest
@testable import Tensors

final class SafeTensorsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/safetensors")

    func testReadsAFileWrittenIndependently() throws {
        let (tensors, metadata) = try SafeTensors.read(Self.fixtures.appendingPathComponent("small.safetensors").path)
        XCTAssertEqual(metadata, ["format": "pt"])
        XCTAssertEqual(tensors["a.weight"], .init(shape: [2, 3], values: [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]))
        XCTAssertEqual(tensors["b"], .init(shape: [2], values: [1, -2]))
        XCTAssertEqual(tensors["c"], .init(shape: [1], values: [3]))
    }

    func testWritesTheExactLayoutAndReadsItBack() throws {
        let data = try SafeTensors.encode(["w": .init(shape: [2], values: [1, -1])], metadata: ["k": "v"])
        let header = #"{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        var padded = header
        while (8 + padded.utf8.count) % 8 != 0 { padded += " " }
        XCTAssertEqual(Array(data.prefix(8)), [UInt8(padded.utf8.count), 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(String(decoding: data.subdata(in: 8..<(8 + padded.utf8.count)), as: UTF8.self), padded)
        XCTAssertEqual(Array(data.suffix(8)), [0, 0, 0x80, 0x3F, 0, 0, 0x80, 0xBF])  // 1.0 and -1.0, little-endian
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tensors: [String: SafeTensors.Tensor] = ["h.0.attn.c_attn.weight": .init(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), "wte": .init(shape: [1], values: [9])]
        try SafeTensors.write(tensors, to: path)
        XCTAssertEqual(try SafeTensors.read(path).tensors, tensors)
    }

    func testMalformedFilesAreRefusedWithTheReason() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensors.read(path)) { XCTAssertTrue("\($0)".contains("8-byte")) }
        var bad = try SafeTensors.encode(["w": .init(shape: [2], values: [1, 2])])
        bad.removeLast(4)
        try bad.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensors.read(path)) { error in
            XCTAssertTrue(error.localizedDescription.contains("tensor 'w'"), error.localizedDescription)
        }
    }

    func testATruncatedFileNamesTheByteCountsAndAlwaysTheSameTensor() throws {
        // Written by hand, entries out of name order: z at 0..<8, a at 8..<20, m (F16) at 20..<24.
        let header = #"{"z":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[3],"data_offsets":[8,20]},"m":{"dtype":"F16","shape":[2],"data_offsets":[20,24]}}"#
        var file = Data([UInt8(header.utf8.count), 0, 0, 0, 0, 0, 0, 0]) + Data(header.utf8)
        file += Data(repeating: 0, count: 20) + Data([0x00, 0x3C, 0x00, 0xC0])  // z, a all zero; m = [1, -2] in F16
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try file.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SafeTensors.read(path).tensors["m"], .init(shape: [2], values: [1, -2]))
        for kept in [23, 20, 9, 1, 0] {
            try file.prefix(8 + header.utf8.count + kept).write(to: URL(fileURLWithPath: path))
            for _ in 0..<3 {
                XCTAssertThrowsError(try SafeTensors.read(path)) { error in
                    XCTAssertEqual(error as? SafeTensors.Failure, .truncated(path: path, dataBytes: kept, neededBytes: 24, tensor: "m"))
                    XCTAssertTrue(
                        error.localizedDescription.hasPrefix("\(path): data section ends at byte \(kept), the header needs 24 (tensor 'm')"),
                        error.localizedDescription)
                }
            }
        }
    }
}
