import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
/// mapping each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets into the
/// byte buffer that follows the header) plus an optional `"__metadata__"` string map, then the
/// little-endian, row-major tensor data. Reading accepts F32, F16 and BF16 (converted to Float32);
/// writing produces F32 with names sorted and the header padded with spaces to a multiple of 8.
public enum SafeTensors {
    public struct Tensor: Equatable, Sendable {
        public var shape: [Int]
        public var values: [Float]

        public init(shape: [Int], values: [Float]) {
            self.shape = shape
            self.values = values
        }
    }

    public enum Failure: Error, LocalizedError, Equatable {
        case malformed(path: String, detail: String)
        case io(path: String, detail: String)
        /// The data section (the bytes after the header) is shorter than the header's offsets say:
        /// `tensor` ends at `neededBytes`, the section holds `dataBytes`.
        case truncated(path: String, dataBytes: Int, neededBytes: Int, tensor: String)

        public var errorDescription: String? {
            switch self {
            case .malformed(let path, let detail): return "\(path): not a valid safetensors file: \(detail)"
            case .truncated(let path, let dataBytes, let neededBytes, let tensor):
                return "\(path): data section ends at byte \(dataBytes), the header needs \(neededBytes) (tensor '\(tensor)'); "
                    + "the file is truncated (an interrupted copy or download?): copy or save it again"
            case .io(let path, let detail): return "\(path): \(detail)"
            }
        }
    }

    /// Reads every tensor and the metadata of a file.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.io(path: path, detail: "cannot read") }
        guard data.count >= 8 else { throw Failure.malformed(path: path, detail: "shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw Failure.malformed(path: path, detail: "header length \(headerLength) runs past the end of the file")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw Failure.malformed(path: path, detail: "the header is not a JSON object")
        }
        let base = 8 + Int(headerLength)
        // Every entry is checked before any data is read, in name order, so the error a damaged file
        // gets does not depend on the order of a dictionary.
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        var metadata: [String: String] = [:]
        for name in header.keys.sorted() {
            let value = header[name]!
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue),
                let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2
            else { throw Failure.malformed(path: path, detail: "tensor '\(name)' needs dtype, shape and data_offsets") }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16", "I16": width = 2
            // Integer buffers some checkpoints carry (BERT's `position_ids`), read as floats.
            case "I64": width = 8
            case "I32": width = 4
            case "I8", "U8", "BOOL": width = 1
            default: throw Failure.malformed(path: path, detail: "tensor '\(name)' has dtype \(dtype); F32, F16, BF16 and integer types are supported")
            }
            guard offsets[0] >= 0, offsets[1] == offsets[0] + shape.reduce(1, *) * width else {
                throw Failure.malformed(path: path, detail: "tensor '\(name)': data_offsets \(offsets) do not fit shape \(shape) × \(width) bytes")
            }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        // The tensor that ends last names a short data section (the first by name among equals).
        if let last = entries.max(by: { $0.end < $1.end || ($0.end == $1.end && $0.name > $1.name) }), base + last.end > data.count {
            throw Failure.truncated(path: path, dataBytes: data.count - base, neededBytes: last.end, tensor: last.name)
        }
        var tensors: [String: Tensor] = [:]
        for (name, dtype, shape, begin, _) in entries {
            let count = shape.reduce(1, *)
            var values = [Float](repeating: 0, count: count)
            data.withUnsafeBytes { raw in
                let start = raw.baseAddress! + base + begin
                for i in 0..<count {
                    switch dtype {
                    case "F32": values[i] = Float(bitPattern: UInt32(littleEndian: start.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                    case "F16": values[i] = Float(Float16(bitPattern: UInt16(littleEndian: start.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
                    case "I64": values[i] = Float(Int64(littleEndian: start.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                    case "I32": values[i] = Float(Int32(littleEndian: start.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                    case "I16": values[i] = Float(Int16(littleEndian: start.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
                    case "I8": values[i] = Float(start.loadUnaligned(fromByteOffset: i, as: Int8.self))
                    case "U8", "BOOL": values[i] = Float(start.loadUnaligned(fromByteOffset: i, as: UInt8.self))
                    default: values[i] = Float(bitPattern: UInt32(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16)
                    }
                }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        return (tensors, metadata)
    }

    /// The bytes of a file holding `tensors` as F32.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let object = try JSONSerialization.data(withJSONObject: metadata, options: [.sortedKeys, .withoutEscapingSlashes])
            entries.append("\"__metadata__\":" + String(decoding: object, as: UTF8.self))
        }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let tensor = tensors[name]!
            precondition(tensor.values.count == tensor.shape.reduce(1, *), "tensor \(name): shape and values disagree")
            let quoted = String(decoding: try JSONSerialization.data(withJSONObject: [name], options: [.withoutEscapingSlashes]), as: UTF8.self).dropFirst().dropLast()
            let end = offset + tensor.values.count * 4
            entries.append("\(quoted):{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += entries.joined(separator: ",") + "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var data = Data()
        var length = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: header.utf8)
        for name in names {
            tensors[name]!.values.withUnsafeBufferPointer { values in
                for v in values {
                    var bits = v.bitPattern.littleEndian
                    withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
                }
            }
        }
        return data
    }

    /// Writes `tensors` to `path` atomically (temporary file, then rename).
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        do {
            try encode(tensors, metadata: metadata).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure.io(path: path, detail: "cannot write: \(error.localizedDescription)")
        }
    }
}
