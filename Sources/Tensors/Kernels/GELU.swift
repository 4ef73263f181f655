import Foundation

/// GELU in GPT-2's tanh form: `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, elementwise.
public enum GELU {
    static let scale: Float = 0.7978845608028654  // √(2/π)

    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + tanhf(scale * (x + 0.044715 * x * x * x)))
        }
    }

    /// Accumulates `dinp += gelu'(inp) · dout`.
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
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
