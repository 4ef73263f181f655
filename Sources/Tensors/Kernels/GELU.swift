import Foundation

/// GELU in GPT-2's tanh form: `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, elementwise.
public enum GELU {
    static let scale: Float = 0.7978845608028654  // √(2/π)

    /// `out = gelu(inp)`, eight lanes at a time, parts of the buffer on every thread.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Parallel.forEachRange(count, minimumPerPart: 1 << 14) { part in
            var i = part.lowerBound
            while i + 8 <= part.upperBound {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: VectorMath.Vector.self)
                let inner: VectorMath.Vector = x + 0.044715 * x * x * x
                let t = VectorMath.tanh(scale * inner)
                UnsafeMutableRawPointer(out + i).storeBytes(of: 0.5 * x * (1 + t), as: VectorMath.Vector.self)
                i += 8
            }
            while i < part.upperBound {
                let x = inp[i]
                out[i] = 0.5 * x * (1 + VectorMath.tanh(scale * (x + 0.044715 * x * x * x)))
                i += 1
            }
        }
    }

    /// Accumulates `dinp += gelu'(inp) · dout`, eight lanes at a time, parts on every thread.
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        Parallel.forEachRange(count, minimumPerPart: 1 << 14) { part in
            var i = part.lowerBound
            while i + 8 <= part.upperBound {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: VectorMath.Vector.self)
                let g = UnsafeRawPointer(dout + i).loadUnaligned(as: VectorMath.Vector.self)
                let d = UnsafeRawPointer(dinp + i).loadUnaligned(as: VectorMath.Vector.self)
                let x2: VectorMath.Vector = x * x
                let inner: VectorMath.Vector = x + 0.044715 * x2 * x
                let t = VectorMath.tanh(scale * inner)
                let slope: VectorMath.Vector = 0.5 * x * (1 - t * t) * (scale * (1 + 0.134145 * x2))
                let local: VectorMath.Vector = 0.5 * (1 + t) + slope
                UnsafeMutableRawPointer(dinp + i).storeBytes(of: d + local * g, as: VectorMath.Vector.self)
                i += 8
            }
            while i < part.upperBound {
                let x = inp[i]
                let t = VectorMath.tanh(scale * (x + 0.044715 * x * x * x))
                let local = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * scale * (1 + 3 * 0.044715 * x * x)
                dinp[i] += local * dout[i]
                i += 1
            }
        }
    }

    /// The plain loops with libm's `tanhf` (references for tests).
    public static func referenceForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + tanhf(scale * (x + 0.044715 * x * x * x)))
        }
    }

    /// Accumulates `dinp += gelu'(inp) · dout`.
    public static func referenceBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = inp[i]
            let u = scale * (x + 0.044715 * x * x * x)
            let t = tanhf(u)
            let sech2 = 1 - t * t
            let local = 0.5 * (1 + t) + 0.5 * x * sech2 * scale * (1 + 3 * 0.044715 * x * x)
            dinp[i] += local * dout[i]
        }
    }
}
