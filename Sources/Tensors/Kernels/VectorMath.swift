import Foundation

/// Exponential and hyperbolic tangent eight lanes at a time, for the hot loops (softmax, cross-entropy,
/// GELU), where calling libm once per element dominated the step. `exp` is Cephes' `expf`: range
/// reduction x = n·ln2 + r with ln2 split in two, a degree-6 polynomial in r, and 2ⁿ built in the
/// exponent bits; relative error below 2 ulp over the whole range (checked against libm in the tests).
/// Inputs below −87.3 give 0 (so −∞ from a mask gives exactly 0), above 88.7 give +∞.
public enum VectorMath {
    public typealias Vector = SIMD8<Float>

    @inlinable
    public static func exp(_ x: Vector) -> Vector {
        // Only lane-wise arithmetic, comparisons and bit casts: Swift's generic SIMD conversions
        // (float → int, rounding, min/max) are not lowered to vector instructions.
        var clamped = x
        clamped.replace(with: -87.3, where: x .< -87.3)
        clamped.replace(with: 88.7, where: x .> 88.7)
        // Round to nearest by the 1.5·2²³ trick: adding it leaves n in the low mantissa bits.
        let magic = Vector(repeating: 12582912)
        let shifted = clamped * 1.44269504088896341 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = p * r * r + r + 1
        // 2ⁿ: n (an integer in the low bits of `shifted`) plus the bias, moved into the exponent field.
        let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        var result = y * unsafeBitCast(exponent, to: Vector.self)
        result.replace(with: 0, where: x .< -87.3)
        result.replace(with: .infinity, where: x .> 88.7)
        return result
    }

    /// tanh(x) = 1 − 2 / (e^{2x} + 1), saturating to ±1.
    @inlinable
    public static func tanh(_ x: Vector) -> Vector {
        var bounded = 2 * x
        bounded.replace(with: -80, where: bounded .< -80)
        bounded.replace(with: 80, where: bounded .> 80)
        let e = exp(bounded)
        return 1 - 2 / (e + 1)
    }

    /// e^x for a scalar through the same polynomial (the tails of vector loops).
    @inlinable
    public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// tanh for a scalar through the same formula.
    @inlinable
    public static func tanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }

    /// The largest of `count` floats (−∞ for none).
    @inlinable
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        let whole = count / 8 * 8
        var lanes = Vector(repeating: -.infinity)
        var j = 0
        while j < whole {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self)
            lanes.replace(with: v, where: v .> lanes)
            j += 8
        }
        var result = lanes.max()
        for k in whole..<count where x[k] > result { result = x[k] }
        return result
    }

    /// `out[j] = exp((x[j] − shift) · scale)` for `count` floats (`out` may be `x`); returns their sum.
    @inlinable
    public static func exponentials(
        _ x: UnsafePointer<Float>, minus shift: Float, scale: Float = 1, into out: UnsafeMutablePointer<Float>, count: Int
    ) -> Float {
        let whole = count / 8 * 8
        var lanes = Vector.zero
        var j = 0
        while j < whole {
            let e = exp((UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self) - shift) * scale)
            UnsafeMutableRawPointer(out + j).storeBytes(of: e, as: Vector.self)
            lanes += e
            j += 8
        }
        var sum = lanes.sum()
        for k in whole..<count {
            out[k] = exp((x[k] - shift) * scale)
            sum += out[k]
        }
        return sum
    }

    /// `x[j] *= factor` for `count` floats.
    @inlinable
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        let whole = count / 8 * 8
        var j = 0
        while j < whole {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(x + j).storeBytes(of: v * factor, as: Vector.self)
            j += 8
        }
        for k in whole..<count { x[k] *= factor }
    }
}
