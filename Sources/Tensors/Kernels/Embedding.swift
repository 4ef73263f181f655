/// Token and position embeddings (GPT-2's `wte` and `wpe`):
///
///     tokens, positions: (N)       N = B·T; positions index `wpe` (they start past a KV cache)
///     wte: (V, C);  wpe: (maxT, C)
///     out: (N, C) = wte[token] + wpe[position]
public enum Embedding {
    public static func forward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>,
        wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>, rows n: Int, channels c: Int
    ) {
        for r in 0..<n {
            let o = out + r * c
            let te = wte + Int(tokens[r]) * c
            let pe = wpe + Int(positions[r]) * c
            for i in 0..<c { o[i] = te[i] + pe[i] }
        }
    }

    /// Accumulates `dwte` and `dwpe` (`+=`) from `dout` (N, C).
    public static func backward(
        dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, rows n: Int, channels c: Int
    ) {
        for r in 0..<n {
            let g = dout + r * c
            let dte = dwte + Int(tokens[r]) * c
            let dpe = dwpe + Int(positions[r]) * c
            for i in 0..<c {
                dte[i] += g[i]
                dpe[i] += g[i]
            }
        }
    }
}
