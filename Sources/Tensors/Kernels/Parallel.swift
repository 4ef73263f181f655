import COpenBLAS
import Foundation

/// The engine's own threading. Every kernel splits its work into one contiguous part per thread and
/// runs the parts with `DispatchQueue.concurrentPerform`; OpenBLAS itself runs single-threaded inside
/// each part. One level of threads for everything (GEMMs, softmax, cross-entropy, layer norm,
/// optimiser) keeps both cores busy through the element-wise work too, and avoids OpenBLAS's worker
/// threads spinning (`sched_yield`) while the caller does non-GEMM work between calls.
///
/// Parts are fixed by the sizes and the thread count alone, so a run is bit-for-bit reproducible for
/// a given thread count. `CALREC_THREADS` overrides the thread count (default: active cores).
public enum Parallel {
    /// Threads the kernels use.
    public static let threads: Int = {
        // Claim OpenBLAS for single-threaded use inside our parts before any GEMM runs.
        openblas_set_num_threads(1)
        if let text = ProcessInfo.processInfo.environment["CALREC_THREADS"], let n = Int(text), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body` on contiguous, near-equal sub-ranges of `0..<count`, one per thread (fewer when a
    /// part would hold less than `minimumPerPart`); on the calling thread when there is one part.
    public static func forEachRange(_ count: Int, minimumPerPart: Int = 1, _ body: (Range<Int>) -> Void) {
        forEachPart(count, minimumPerPart: minimumPerPart) { _, range in body(range) }
    }

    /// `forEachRange` that also hands each part its index (`0..<partCount(count, minimumPerPart:)`),
    /// for kernels that keep one partial result per part and combine them in order afterwards.
    public static func forEachPart(_ count: Int, minimumPerPart: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        let parts = partCount(count, minimumPerPart: minimumPerPart)
        if parts <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        // The parts touch disjoint data by construction (each kernel's contract), which the type
        // system cannot see through raw pointers: the body is handed over as @Sendable unchecked.
        withoutActuallyEscaping(body) { body in
            let shared = unsafeBitCast(body, to: (@Sendable (Int, Range<Int>) -> Void).self)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                shared(part, range(part, of: parts, count: count))
            }
        }
    }

    /// How many parts `forEachRange` uses for `count` items.
    public static func partCount(_ count: Int, minimumPerPart: Int = 1) -> Int {
        max(1, min(threads, count / max(1, minimumPerPart)))
    }

    /// Part `part` of `parts` near-equal contiguous ranges of `0..<count`.
    public static func range(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }
}
