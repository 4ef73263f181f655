import Foundation

/// Which GELU: GPT-2's tanh approximation or the exact form BERT uses.
public enum GELUForm: String, Sendable, Codable {
    /// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (GPT-2, Hugging Face `gelu_new`).
    case tanh
    /// `x · Φ(x) = 0.5 · x · (1 + erf(x / √2))` (BERT, Hugging Face `gelu`).
    case erf
}

/// GELU in its exact form, `x · Φ(x) = 0.5 · x · (1 + erf(x / √2))`, elementwise; its derivative is
/// `Φ(x) + x · φ(x)` with `φ(x) = exp(−x² / 2) / √(2π)`. The vector loops use an odd/even rational
/// approximation of erf on [−4, 4] (the one XLA and Eigen use for float; absolute error about 1e-7,
/// erf being ±1 in float beyond ±4); the references use libm's `erf`.
public enum ExactGELU {
    static let inverseSquareRootTwo: Float = 0.70710678118654752
    static let inverseSquareRootTwoPi: Float = 0.39894228040143268

    /// erf(x) eight lanes at a time.
    static func erf(_ value: VectorMath.Vector) -> VectorMath.Vector {
        var x = value
        x.replace(with: 4, where: x .> 4)
        x.replace(with: -4, where: x .< -4)
        let x2 = x * x
        var p = VectorMath.Vector(repeating: -2.72614225801306e-10)
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 - 2.10102402082508e-06
        p = p * x2 - 5.69250639462346e-05
        p = p * x2 - 7.34990630326855e-04
        p = p * x2 - 2.95459980854025e-03
        p = p * x2 - 1.60960333262415e-02
        p = p * x
        var q = VectorMath.Vector(repeating: -1.45660718464996e-05)
        q = q * x2 - 2.13374055278905e-04
        q = q * x2 - 1.68282697438203e-03
        q = q * x2 - 7.37332916720468e-03
        q = q * x2 - 1.42647390514189e-02
        return p / q
    }

    /// `out = x · Φ(x)`, eight lanes at a time, parts of the buffer on every thread.
    public static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        Parallel.forEachRange(count, minimumPerPart: 1 << 14) { part in
            var i = part.lowerBound
            while i + 8 <= part.upperBound {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: VectorMath.Vector.self)
                let y: VectorMath.Vector = 0.5 * x * (1 + erf(x * inverseSquareRootTwo))
                UnsafeMutableRawPointer(out + i).storeBytes(of: y, as: VectorMath.Vector.self)
                i += 8
            }
            while i < part.upperBound {
                let x = inp[i]
                out[i] = (0.5 * VectorMath.Vector(repeating: x) * (1 + erf(VectorMath.Vector(repeating: x * inverseSquareRootTwo))))[0]
                i += 1
            }
        }
    }

    /// Accumulates `dinp += (Φ(x) + x · φ(x)) · dout`, eight lanes at a time, parts on every thread.
    public static func backward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        func local(_ x: VectorMath.Vector) -> VectorMath.Vector {
            let cdf: VectorMath.Vector = 0.5 * (1 + erf(x * inverseSquareRootTwo))
            let pdf: VectorMath.Vector = inverseSquareRootTwoPi * VectorMath.exp(-0.5 * x * x)
            return cdf + x * pdf
        }
        Parallel.forEachRange(count, minimumPerPart: 1 << 14) { part in
            var i = part.lowerBound
            while i + 8 <= part.upperBound {
                let x = UnsafeRawPointer(inp + i).loadUnaligned(as: VectorMath.Vector.self)
                let g = UnsafeRawPointer(dout + i).loadUnaligned(as: VectorMath.Vector.self)
                let d = UnsafeRawPointer(dinp + i).loadUnaligned(as: VectorMath.Vector.self)
                UnsafeMutableRawPointer(dinp + i).storeBytes(of: d + local(x) * g, as: VectorMath.Vector.self)
                i += 8
            }
            while i < part.upperBound {
                dinp[i] += local(VectorMath.Vector(repeating: inp[i]))[0] * dout[i]
                i += 1
            }
        }
    }

    /// The plain loop with libm's `erf` (reference for tests).
    public static func referenceForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = Double(inp[i])
            out[i] = Float(0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())))
        }
    }

    /// Accumulates `dinp += gelu'(inp) · dout` with libm's `erf` and `exp` (reference for tests).
    public static func referenceBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = Double(inp[i])
            let local = 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot())) + x * Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
            dinp[i] += Float(local) * dout[i]
        }
    }
}
