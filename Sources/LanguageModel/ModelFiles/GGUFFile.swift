import Foundation

/// A GGUF file (llama.cpp's model format, version 2 or 3): metadata, tensor infos and the tensor data,
/// memory-mapped. Layout (little-endian): the magic `GGUF`, `u32` version, `u64` tensor count, `u64`
/// metadata count; each metadata entry a string key, a `u32` value type and the value; each tensor
/// info a string name, `u32` dimension count, `u64` dimensions (innermost first, ggml's `ne`), `u32`
/// ggml type and `u64` offset into the data section, which starts at the next multiple of
/// `general.alignment` (32 when absent) after the infos. Strings are a `u64` byte count and UTF-8.
public struct GGUFFile: Sendable {
    /// A metadata value.
    public enum Value: Sendable, Equatable {
        case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
        case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
        case array([Value])

        /// The value as an integer, for any integer type that holds it.
        public var integer: Int? {
            switch self {
            case .uint8(let v): return Int(v)
            case .int8(let v): return Int(v)
            case .uint16(let v): return Int(v)
            case .int16(let v): return Int(v)
            case .uint32(let v): return Int(v)
            case .int32(let v): return Int(v)
            case .uint64(let v): return Int(exactly: v)
            case .int64(let v): return Int(v)
            default: return nil
            }
        }

        /// The value as a floating-point number (either float type).
        public var number: Double? {
            switch self {
            case .float32(let v): return Double(v)
            case .float64(let v): return v
            default: return nil
            }
        }

        public var string: String? { if case .string(let s) = self { return s } else { return nil } }
        public var array: [Value]? { if case .array(let a) = self { return a } else { return nil } }
    }

    /// Where a tensor's data lies and how it is stored.
    public struct TensorInfo: Sendable, Equatable {
        public var name: String
        /// ggml's `ne`: the innermost (contiguous) dimension first. A Hugging Face (out, in) matrix
        /// has dimensions `[in, out]` here.
        public var dimensions: [Int]
        public var type: GGMLType
        /// Bytes from the start of the data section.
        public var offset: Int

        public var elementCount: Int { dimensions.reduce(1, *) }
        public var byteCount: Int { elementCount / type.blockSize * type.bytesPerBlock }
    }

    public let path: String
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: Value)]
    public let tensors: [TensorInfo]
    public let alignment: Int
    /// Where the data section starts in the file.
    public let dataOffset: Int
    private let data: Data

    /// Reads the header, metadata and tensor infos of `path` (the data stays mapped, read on demand).
    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw GGUFError.unreadable(path: path, detail: error.localizedDescription)
        }
        self.path = path
        self.data = data
        var reader = GGUFByteReader(data: data, path: path)
        guard try reader.bytes(4, "the magic") == Array("GGUF".utf8) else { throw GGUFError.notGGUF(path: path) }
        version = try reader.u32("the version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(path: path, version: version) }
        let tensorCount = try reader.count("the tensor count")
        let metadataCount = try reader.count("the metadata count")
        var metadata: [(key: String, value: Value)] = []
        for index in 0..<metadataCount {
            let key = try reader.string("metadata key \(index)")
            let type = try reader.u32("the type of '\(key)'")
            metadata.append((key, try reader.value(type: type, key: key)))
        }
        self.metadata = metadata
        let alignmentValue = metadata.first { $0.key == "general.alignment" }?.value.integer ?? 32
        guard alignmentValue > 0, alignmentValue & (alignmentValue - 1) == 0 else {
            throw GGUFError.malformed(path: path, detail: "general.alignment is \(alignmentValue), not a power of two")
        }
        alignment = alignmentValue
        var tensors: [TensorInfo] = []
        for index in 0..<tensorCount {
            let name = try reader.string("the name of tensor \(index)")
            let rank = Int(try reader.u32("the rank of '\(name)'"))
            guard (1...4).contains(rank) else { throw GGUFError.malformed(path: path, detail: "tensor '\(name)' has \(rank) dimensions") }
            var dimensions: [Int] = []
            for _ in 0..<rank { dimensions.append(try reader.count("a dimension of '\(name)'")) }
            let raw = try reader.u32("the type of '\(name)'")
            guard let type = GGMLType(rawValue: raw) else {
                throw GGUFError.unsupportedType(path: path, tensor: name, type: GGMLType.unsupportedName(raw))
            }
            guard dimensions[0] % type.blockSize == 0 else {
                throw GGUFError.malformed(path: path, detail: "tensor '\(name)': \(dimensions[0]) values a row is no whole number of \(type.name) blocks")
            }
            let offset = try reader.count("the offset of '\(name)'")
            tensors.append(TensorInfo(name: name, dimensions: dimensions, type: type, offset: offset))
        }
        self.tensors = tensors
        dataOffset = (reader.position + alignmentValue - 1) / alignmentValue * alignmentValue
        for tensor in tensors {
            guard tensor.offset % alignmentValue == 0 else {
                throw GGUFError.malformed(path: path, detail: "tensor '\(tensor.name)' starts at \(tensor.offset), not a multiple of \(alignmentValue)")
            }
            let end = dataOffset + tensor.offset + tensor.byteCount
            guard end <= data.count else {
                throw GGUFError.truncated(path: path, detail: "tensor '\(tensor.name)' ends at byte \(end); the file has \(data.count)")
            }
        }
    }

    /// The metadata value of `key`, if the file has it.
    public subscript(key: String) -> Value? { metadata.first { $0.key == key }?.value }

    /// The tensor named `name`, if the file has it.
    public func tensor(named name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// Every value of `tensor` as Float32, in ggml's order (innermost dimension fastest).
    public func dequantize(_ tensor: TensorInfo) -> [Float] {
        let count = tensor.elementCount
        let start = dataOffset + tensor.offset
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            data.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[start..<(start + tensor.byteCount)])
                GGMLDequantization.dequantize(tensor.type, bytes: bytes, count: count, into: out.baseAddress!)
            }
            initialized = count
        }
    }
}

/// Problems with a GGUF file; each names it and says what to do.
public enum GGUFError: LocalizedError, Equatable {
    case unreadable(path: String, detail: String)
    case notGGUF(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, detail: String)
    case malformed(path: String, detail: String)
    case unsupportedType(path: String, tensor: String, type: String)

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path, let detail): return "\(path): cannot be read (\(detail))"
        case .notGGUF(let path): return "\(path): not a GGUF file (it does not start with 'GGUF'); pass a .gguf model or a Hugging Face folder"
        case .unsupportedVersion(let path, let version):
            return "\(path): GGUF version \(version); this reader knows versions 2 and 3 — convert it with a current llama.cpp"
        case .truncated(let path, let detail): return "\(path): truncated: \(detail); the download is probably incomplete, fetch it again"
        case .malformed(let path, let detail): return "\(path): malformed GGUF: \(detail)"
        case .unsupportedType(let path, let tensor, let type):
            return "\(path): tensor '\(tensor)' is stored as \(type), which this reader does not dequantize (F32, F16, BF16, Q8_0, Q4_0, Q4_1); "
                + "use a file quantized to one of those"
        }
    }
}

/// Reads GGUF's little-endian fields in order, with an error naming what was being read when the
/// file ends too soon.
struct GGUFByteReader {
    let data: Data
    let path: String
    private(set) var position = 0

    init(data: Data, path: String) {
        self.data = data
        self.path = path
    }

    mutating func bytes(_ count: Int, _ what: String) throws -> [UInt8] {
        guard count >= 0, position + count <= data.count else {
            throw GGUFError.truncated(path: path, detail: "the file ends at byte \(data.count) while reading \(what) at byte \(position)")
        }
        let start = data.startIndex + position
        position += count
        return [UInt8](data[start..<(start + count)])
    }

    private mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        let raw = try bytes(MemoryLayout<T>.size, what)
        return raw.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
    }

    mutating func u32(_ what: String) throws -> UInt32 { try load(UInt32.self, what) }

    /// A `u64` that must be a usable count, size or offset.
    mutating func count(_ what: String) throws -> Int {
        let value = try load(UInt64.self, what)
        guard value <= UInt64(data.count) * 8 + 1 << 20, let int = Int(exactly: value) else {
            throw GGUFError.malformed(path: path, detail: "\(what) is \(value), more than the file can hold")
        }
        return int
    }

    mutating func string(_ what: String) throws -> String {
        let length = try count("the length of \(what)")
        let raw = try bytes(length, what)
        guard let text = String(bytes: raw, encoding: .utf8) else { throw GGUFError.malformed(path: path, detail: "\(what) is not UTF-8") }
        return text
    }

    mutating func value(type: UInt32, key: String, depth: Int = 0) throws -> GGUFFile.Value {
        switch type {
        case 0: return .uint8(try load(UInt8.self, key))
        case 1: return .int8(try load(Int8.self, key))
        case 2: return .uint16(try load(UInt16.self, key))
        case 3: return .int16(try load(Int16.self, key))
        case 4: return .uint32(try load(UInt32.self, key))
        case 5: return .int32(try load(Int32.self, key))
        case 6: return .float32(Float(bitPattern: try load(UInt32.self, key)))
        case 7:
            let byte = try load(UInt8.self, key)
            guard byte <= 1 else { throw GGUFError.malformed(path: path, detail: "'\(key)' is a bool of value \(byte)") }
            return .bool(byte == 1)
        case 8: return .string(try string("'\(key)'"))
        case 9:
            guard depth == 0 else { throw GGUFError.malformed(path: path, detail: "'\(key)' nests arrays") }
            let elementType = try u32("the element type of '\(key)'")
            let count = try count("the length of '\(key)'")
            var values: [GGUFFile.Value] = []
            values.reserveCapacity(min(count, 1 << 20))
            for _ in 0..<count { values.append(try value(type: elementType, key: key, depth: depth + 1)) }
            return .array(values)
        case 10: return .uint64(try load(UInt64.self, key))
        case 11: return .int64(try load(Int64.self, key))
        case 12: return .float64(Double(bitPattern: try load(UInt64.self, key)))
        default: throw GGUFError.malformed(path: path, detail: "'\(key)' has value type \(type), which GGUF does not define")
        }
    }
}
