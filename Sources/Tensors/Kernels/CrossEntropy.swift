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
    /// its gradient for `dloss = gradientScale` (rows with mask 0 get zeros). Rows are split across threads;
    /// each row's loss is kept and the rows are summed in order, so the result does not depend on
    /// the thread count.
    @discardableResult
    public static func forwardBackward(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, mask: UnsafePointer<Float>,
        dlogits: UnsafeMutablePointer<Float>?, rows n: Int, vocabulary v: Int, gradientScale: Float = 1
    ) -> Float {
        var count: Float = 0
        for r in 0..<n { count += mask[r] }
        guard count > 0 else {
            dlogits?.update(repeating: 0, count: n * v)
            return 0
        }
        // The gradient is for d(loss) = gradientScale: folded into the normaliser of every row.
        let gradientCount = count / gradientScale
        let rowLoss = UnsafeMutablePointer<Double>.allocate(capacity: n)
        defer { rowLoss.deallocate() }
        Parallel.forEachRange(n, minimumPerPart: 8) { rows in
            // Without a gradient the exponentials still need a row to go to: one per part, reused.
            let scratch = dlogits == nil ? UnsafeMutablePointer<Float>.allocate(capacity: v) : nil
            defer { scratch?.deallocate() }
            for r in rows {
                rowLoss[r] = self.row(
                    logits + r * v, target: Int(targets[r]), weight: mask[r], count: gradientCount,
                    dlogits: dlogits.map { $0 + r * v }, scratch: scratch, vocabulary: v)
            }
        }
        var total: Double = 0
        for r in 0..<n { total += rowLoss[r] }
        return Float(total / Double(count))
    }

    /// One row: returns `weight · (logsumexp − logit[target])` and writes its gradient,
    /// `(softmax − onehot) · weight / count`, into `d`; without `d`, `scratch` (v floats) takes the
    /// exponentials.
    @inline(__always)
    static func row(
        _ row: UnsafePointer<Float>, target: Int, weight: Float, count: Float, dlogits d: UnsafeMutablePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>?, vocabulary v: Int
    ) -> Double {
        guard weight != 0 else {
            d?.update(repeating: 0, count: v)
            return 0
        }
        let maxValue = VectorMath.maximum(row, count: v)
        let sum: Float
        if let d {
            // One pass of exponentials, kept in the gradient row and scaled there.
            sum = VectorMath.exponentials(row, minus: maxValue, into: d, count: v)
            VectorMath.scale(d, by: weight / count / sum, count: v)
            d[target] -= weight / count
        } else {
            sum = VectorMath.exponentials(row, minus: maxValue, into: scratch!, count: v)
        }
        let logSum = logf(sum) + maxValue
        return Double(weight) * Double(logSum - row[target])
    }

    /// The plain loop with libm's `expf`, one row after another (reference for tests).
    @discardableResult
    public static func referenceForwardBackward(
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
