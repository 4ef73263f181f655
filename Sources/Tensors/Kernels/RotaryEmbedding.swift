import Foundation

/// Rotary position embedding (Su et al., 2021) in Hugging Face's Llama layout ("rotate half"): in
/// each head of size D, channel i < D/2 pairs with channel i + D/2, and the pair is rotated by the
/// angle `position · θ^(−2i/D)`:
///
///     inp, out:  (N, H·D)    N rows, each H heads of D channels; `positions` (N) gives each row's position
///     out[i]       = x[i] · cos − x[i + D/2] · sin
///     out[i + D/2] = x[i + D/2] · cos + x[i] · sin
///
/// `Table` holds cos and sin for every (position, i) up to a maximum position, computed in Float64
/// once and rounded to Float32.
public enum RotaryEmbedding {
    /// cos and sin of every position's angles: (P, D/2) each.
    public struct Table: Sendable {
        public let positions: Int
        public let headSize: Int
        public let cos: [Float]
        public let sin: [Float]

        public init(positions: Int, headSize: Int, theta: Float) {
            precondition(headSize % 2 == 0, "rotary embedding needs an even head size")
            let half = headSize / 2
            self.positions = positions
            self.headSize = headSize
            var cos = [Float](repeating: 0, count: positions * half), sin = cos
            for p in 0..<positions {
                for i in 0..<half {
                    // Hugging Face rounds the inverse frequency to Float32 before multiplying by the position.
                    let inverse = Double(Float(1 / pow(Double(theta), Double(2 * i) / Double(headSize))))
                    let angle = Double(p) * inverse
                    cos[p * half + i] = Float(Foundation.cos(angle))
                    sin[p * half + i] = Float(Foundation.sin(angle))
                }
            }
            self.cos = cos
            self.sin = sin
        }
    }

    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, positions: UnsafePointer<Int32>, table: Table, rows n: Int, heads h: Int
    ) {
        rotate(out: out, inp: inp, positions: positions, table: table, rows: n, heads: h, direction: 1, accumulate: false)
    }

    /// Accumulates `dinp` (`+=`) from `dout`: the inverse rotation (the rotation is orthogonal).
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, positions: UnsafePointer<Int32>, table: Table, rows n: Int, heads h: Int
    ) {
        rotate(out: dinp, inp: dout, positions: positions, table: table, rows: n, heads: h, direction: -1, accumulate: true)
    }

    private static func rotate(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, positions: UnsafePointer<Int32>, table: Table, rows n: Int, heads h: Int,
        direction: Float, accumulate: Bool
    ) {
        let d = table.headSize, half = d / 2
        table.cos.withUnsafeBufferPointer { cosTable in
            table.sin.withUnsafeBufferPointer { sinTable in
                let cosBase = cosTable.baseAddress!, sinBase = sinTable.baseAddress!
                Parallel.forEachRange(n, minimumPerPart: 16) { rows in
                    for r in rows {
                        let p = Int(positions[r])
                        precondition(p >= 0 && p < table.positions, "position \(p) is outside the rotary table of \(table.positions)")
                        let cs = cosBase + p * half, sn = sinBase + p * half
                        for head in 0..<h {
                            let x = inp + (r * h + head) * d, o = out + (r * h + head) * d
                            for i in 0..<half {
                                let a = x[i], b = x[i + half], c = cs[i], s = direction * sn[i]
                                if accumulate {
                                    o[i] += a * c - b * s
                                    o[i + half] += b * c + a * s
                                } else {
                                    o[i] = a * c - b * s
                                    o[i + half] = b * c + a * s
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
