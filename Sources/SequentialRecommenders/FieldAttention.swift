import Foundation
import Tensors

/// RecBole's `VanillaAttention` over an item's feature fields (FDSA): each field's vector x_k (N, C)
/// scored by `e_k = relu(x_k · W1 + b1) · w2 + b2`, the fields weighted by `softmax_k(e)`:
///
///     out = Σ_k softmax_k(e)_k · x_k                 W1: (C, A), b1: (A), w2: (A, 1), b2: (1)
///
/// Forward and backward in one op; the inputs get gradients too.
struct FieldAttention {
    let hiddenWeight, hiddenBias, scoreWeight, scoreBias: Variable

    static func shapes(prefix p: String, width c: Int, attention a: Int) -> [String: [Int]] {
        [p + "hidden.weight": [c, a], p + "hidden.bias": [a], p + "score.weight": [a, 1], p + "score.bias": [1]]
    }

    init(_ set: ParameterSet, prefix p: String) {
        hiddenWeight = set.required(p + "hidden.weight")
        hiddenBias = set.required(p + "hidden.bias")
        scoreWeight = set.required(p + "score.weight")
        scoreBias = set.required(p + "score.bias")
    }

    func forward(_ tape: Tape, _ fields: [Variable]) -> Variable {
        let c = fields[0].shape.last!, n = fields[0].count / c, a = hiddenWeight.shape[1], k = fields.count
        let out = Variable(zeros: [n, c])
        let hidden = (0..<k).map { _ in PooledBuffer(count: n * a) }
        let weights = PooledBuffer(count: n * k)
        let (w2, b2) = (scoreWeight.value.base, scoreBias.value.base[0])
        let alpha = weights.values.base
        for (f, x) in fields.enumerated() {
            let h = hidden[f].values.base
            Linear.forward(out: h, inp: x.value.base, weight: hiddenWeight.value.base, bias: hiddenBias.value.base, rows: n, inFeatures: c, outFeatures: a)
            for i in 0..<(n * a) where h[i] < 0 { h[i] = 0 }
            for r in 0..<n {
                var e = b2
                for j in 0..<a { e += h[r * a + j] * w2[j] }
                alpha[r * k + f] = e
            }
        }
        for r in 0..<n {
            let row = alpha + r * k
            var top = -Float.infinity
            for f in 0..<k { top = max(top, row[f]) }
            var sum: Float = 0
            for f in 0..<k {
                row[f] = expf(row[f] - top)
                sum += row[f]
            }
            for f in 0..<k { row[f] /= sum }
        }
        let y = out.value.base
        for (f, x) in fields.enumerated() {
            let xv = x.value.base
            for r in 0..<n { for j in 0..<c { y[r * c + j] += alpha[r * k + f] * xv[r * c + j] } }
        }
        tape.record { [hiddenWeight, hiddenBias, scoreWeight, scoreBias] in
            let alpha = weights.values.base, dy = out.gradient.base
            // d(alpha) = dy · x_k per row, then the softmax's backward into the scores e.
            var de = [Float](repeating: 0, count: n * k)
            for (f, x) in fields.enumerated() {
                let xv = x.value.base
                for r in 0..<n {
                    var dot: Float = 0
                    for j in 0..<c { dot += dy[r * c + j] * xv[r * c + j] }
                    de[r * k + f] = dot
                }
            }
            for r in 0..<n {
                var mean: Float = 0
                for f in 0..<k { mean += alpha[r * k + f] * de[r * k + f] }
                for f in 0..<k { de[r * k + f] = alpha[r * k + f] * (de[r * k + f] - mean) }
            }
            let dh = PooledBuffer(count: n * a)
            for (f, x) in fields.enumerated() {
                let h = hidden[f].values.base, d = dh.values.base
                let w2 = scoreWeight.value.base
                for r in 0..<n {
                    let g = de[r * k + f]
                    scoreBias.gradient.base[0] += g
                    for j in 0..<a {
                        scoreWeight.gradient.base[j] += h[r * a + j] * g
                        // Through the ReLU: zero where the unit was off.
                        d[r * a + j] = h[r * a + j] > 0 ? g * w2[j] : 0
                    }
                }
                let dx: UnsafeMutablePointer<Float>? = x.requiresGradient ? x.gradient.base : nil
                Linear.backward(
                    dinp: dx, dweight: hiddenWeight.gradient.base, dbias: hiddenBias.gradient.base, dout: d, inp: x.value.base,
                    weight: hiddenWeight.value.base, rows: n, inFeatures: c, outFeatures: a)
                if let dx {
                    for r in 0..<n { for j in 0..<c { dx[r * c + j] += alpha[r * k + f] * dy[r * c + j] } }
                }
            }
        }
        return out
    }
}
