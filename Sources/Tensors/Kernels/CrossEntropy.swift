import Foundation

/// Token cross-entropy fused with log-softmax, over masked positions (CALRec's L_NIG counts target
/// tokens only):
///
///     logits: (N, V);  targets: (N);  mask: (N) 1 where the position counts, 0 elsewhere
///     loss = −(1/Σmask) · Σ_r mask_r · log softmax(logits_r)[targets_r]
///
/// The backward pass writes `dlogits = (softmax − onehot) · mask_r / Σmask · dloss` in place of the
/// logits' gradient buffer, reusing the probabilities, so the vocabulary-sized rows are walked once
/// forward and once backward.
public enum CrossEntropy {
    /// Returns the mean loss over masked positions (0 when none) and, when `dlogits` is given, writes
    /// its gradient for `dloss = 1` (rows with mask 0 get zeros).
    @discardableResult
    public static func forwardBackward(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>,
        dlogits: UnsafeMutablePointer<Float>?, rows n: Int, vocabulary v: Int
    ) -> Float {
        var count: Float = 0
        for r in 0..<n { count += mask[r] }
        guard count > 0 else {
            dlogits?.update(repeating: 0, count: n * v)
            return 0
        }
        var total: Double = 0
        for r in 0..<n {
            let row = logits + r * v
            let target = Int(targets[r])
            guard mask[r] != 0 else {
                dlogits.map { ($0 + r * v).update(repeating: 0, count: v) }
                continue
            }
            var maxValue = -Float.infinity
            for j in 0..<v where row[j] > maxValue { maxValue = row[j] }
            var sum: Float = 0
            if let dlogits {
                // One pass of exponentials, kept in the gradient row and scaled there.
                let d = dlogits + r * v
                for j in 0..<v {
                    d[j] = expf(row[j] - maxValue)
                    sum += d[j]
                }
                let scale = mask[r] / count / sum
                for j in 0..<v { d[j] *= scale }
                d[target] -= mask[r] / count
            } else {
                for j in 0..<v { sum += expf(row[j] - maxValue) }
            }
            let logSum = logf(sum) + maxValue
            total += Double(mask[r]) * Double(logSum - row[target])
        }
        return Float(total / Double(count))
    }
}
