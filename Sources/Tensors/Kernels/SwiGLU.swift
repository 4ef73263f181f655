import Foundation

/// The gated feed-forward activation of Llama-family models (Shazeer, 2020): the SiLU of the gate
/// projection times the up projection, element by element.
///
///     gate, up, out: (N, F)
///     out = silu(gate) · up,  silu(x) = x · σ(x),  σ(x) = 1 / (1 + e^−x)
public enum SwiGLU {
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        Parallel.forEachRange(count, minimumPerPart: 4096) { range in
            for i in range {
                let x = gate[i]
                out[i] = x / (1 + expf(-x)) * up[i]
            }
        }
    }

    /// Accumulates `dgate` and `dup` (`+=`) from `dout`:
    /// `dup += g · silu(gate)`; `dgate += g · up · σ(gate) · (1 + gate · (1 − σ(gate)))`.
    public static func backward(
        dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, gate: UnsafePointer<Float>,
        up: UnsafePointer<Float>, count: Int
    ) {
        Parallel.forEachRange(count, minimumPerPart: 4096) { range in
            for i in range {
                let x = gate[i]
                let sigmoid = 1 / (1 + expf(-x))
                dup[i] += dout[i] * x * sigmoid
                dgate[i] += dout[i] * up[i] * sigmoid * (1 + x * (1 - sigmoid))
            }
        }
    }
}
