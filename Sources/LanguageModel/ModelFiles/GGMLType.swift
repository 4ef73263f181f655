/// The tensor data types of ggml that the GGUF reader dequantizes, with their block layout, as ggml
/// defines them (`ggml-common.h`): values come in blocks of `blockSize`, each stored in
/// `bytesPerBlock` bytes.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q8_0 = 8
    case bf16 = 30

    /// Values per block.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q8_0: return 32
        }
    }

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 2 + 16  // f16 scale d, 32 four-bit values
        case .q4_1: return 2 + 2 + 16  // f16 scale d and minimum m, 32 four-bit values
        case .q8_0: return 2 + 32  // f16 scale d, 32 signed bytes
        }
    }

    public var name: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q8_0: return "Q8_0"
        case .bf16: return "BF16"
        }
    }

    /// ggml's names of the types this reader does not dequantize, for the error message.
    static func unsupportedName(_ raw: UInt32) -> String {
        let names: [UInt32: String] = [
            6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K",
            16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
            24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0",
        ]
        return names[raw] ?? "type \(raw)"
    }
}

/// Dequantization of ggml blocks into Float32, exactly as ggml's reference `dequantize_row_*` and
/// the `gguf` Python package compute it: the f16 scale (and minimum) converted to Float32, then
/// `q · d` (Q8_0), `(q − 8) · d` (Q4_0) or `q · d + m` (Q4_1), one rounding per operation.
/// Four-bit blocks hold value j in the low nibble of byte j and value j + 16 in its high nibble.
enum GGMLDequantization {
    /// Dequantizes `count` values of `type` from `bytes` into `out`.
    static func dequantize(_ type: GGMLType, bytes: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            for i in 0..<count { out[i] = Float(bitPattern: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        case .f16:
            for i in 0..<count { out[i] = Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16:
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        case .q8_0:
            for block in 0..<(count / 32) {
                let base = block * 34
                let d = half(bytes, base)
                for j in 0..<32 { out[block * 32 + j] = Float(Int8(bitPattern: bytes[base + 2 + j])) * d }
            }
        case .q4_0:
            for block in 0..<(count / 32) {
                let base = block * 18
                let d = half(bytes, base)
                for j in 0..<16 {
                    let q = bytes[base + 2 + j]
                    out[block * 32 + j] = Float(Int(q & 0x0F) - 8) * d
                    out[block * 32 + j + 16] = Float(Int(q >> 4) - 8) * d
                }
            }
        case .q4_1:
            for block in 0..<(count / 32) {
                let base = block * 20
                let d = half(bytes, base), m = half(bytes, base + 2)
                for j in 0..<16 {
                    let q = bytes[base + 4 + j]
                    out[block * 32 + j] = Float(q & 0x0F) * d + m
                    out[block * 32 + j + 16] = Float(q >> 4) * d + m
                }
            }
        }
    }

    @inline(__always) private static func half(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }
}
