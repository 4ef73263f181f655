import Tensors

/// The activations of one incremental-decoding step, allocated once per generation for its largest
/// pass (the prompt: batch × prompt-length rows) and reused by every later step, which needs
/// `batch` rows. Kernels read and write only the rows a step has. Logits are kept for `logitRows`
/// rows: the batch when only each sequence's last position is projected (sampling), every row for a
/// full pass.
final class DecodeWorkspace {
    let rows: Int
    var x, normed, mean, rstd, qkv, attended, projected, hidden, activated, last: [Float]
    /// The step's logits: (rows, V), or (B, V) for the last positions only.
    var logits: [Float]

    init(config: GPT2Config, rows: Int, batch: Int, logitRows: Int) {
        let c = config.channels
        self.rows = rows
        x = [Float](repeating: 0, count: rows * c)
        normed = x
        projected = x
        attended = x
        mean = [Float](repeating: 0, count: rows)
        rstd = mean
        qkv = [Float](repeating: 0, count: rows * 3 * c)
        hidden = [Float](repeating: 0, count: rows * 4 * c)
        activated = hidden
        last = [Float](repeating: 0, count: batch * c)
        logits = [Float](repeating: 0, count: logitRows * config.vocabularySize)
    }

    /// x += projected over the first `count` values (the residual connection).
    func addResidual(count: Int) {
        x.withUnsafeMutableBufferPointer { x in
            projected.withUnsafeBufferPointer { p in
                for i in 0..<count { x[i] += p[i] }
            }
        }
    }

    /// `last` = each sequence's last row of `x` (B sequences of `length` rows).
    func keepLastRows(batch b: Int, length tn: Int, channels c: Int) {
        x.withUnsafeBufferPointer { x in
            last.withUnsafeMutableBufferPointer { last in
                for bi in 0..<b {
                    (last.baseAddress! + bi * c).update(from: x.baseAddress! + (bi * tn + tn - 1) * c, count: c)
                }
            }
        }
    }
}
