import Foundation

/// Float buffers kept for reuse, by size. A training step allocates the same activations, gradients
/// and attention weights every time; drawing them from here instead of the allocator means that after
/// the first step no step asks the system for memory (no page faults, no zero-filling of fresh pages),
/// and memory stays at one step's peak. Buffers come back when the `Variable` or `PooledBuffer` that
/// holds them is released — for a step, when `Tape.backward()` or `Tape.reset()` drops its closures.
///
/// Batches whose lengths vary from step to step (padded to each batch's longest sequence) ask for
/// slightly different sizes every time, so buffers are kept by capacity class — sizes k·2^e with
/// k in 8…15, at most 12.5% above what is asked — and handed out trimmed to the size asked.
public final class BufferPool: @unchecked Sendable {
    /// The pool the engine's operations use.
    public static let shared = BufferPool()

    private var free: [Int: [[Float]]] = [:]
    private let lock = NSLock()
    /// Buffers handed out that had to be newly allocated (for tests and statistics).
    public private(set) var allocations = 0

    public init() {}

    /// A buffer of `count` zeros.
    public func zeros(_ count: Int) -> [Float] {
        var buffer = take(count)
        buffer.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        return buffer
    }

    /// A buffer of `count` floats with unspecified contents, for outputs the caller overwrites whole.
    public func take(_ count: Int) -> [Float] {
        let size = Self.classAtLeast(count)
        lock.lock()
        if var stack = free[size], var buffer = stack.popLast() {
            free[size] = stack
            lock.unlock()
            // Within the buffer's capacity: no reallocation either way.
            if buffer.count > count {
                buffer.removeLast(buffer.count - count)
            } else if buffer.count < count {
                buffer.append(contentsOf: repeatElement(0, count: count - buffer.count))
            }
            return buffer
        }
        allocations += 1
        lock.unlock()
        var buffer = [Float](repeating: 0, count: size)
        buffer.removeLast(size - count)
        return buffer
    }

    /// Returns a buffer for reuse.
    public func give(_ buffer: [Float]) {
        guard buffer.capacity >= 8 else { return }
        let size = Self.classAtMost(buffer.capacity)
        lock.lock()
        free[size, default: []].append(buffer)
        lock.unlock()
    }

    /// The smallest size class (k·2^e, k in 8…15) at or above `n`.
    static func classAtLeast(_ n: Int) -> Int {
        let e = max(0, (Int.bitWidth - n.leadingZeroBitCount) - 4)
        return ((n + (1 << e) - 1) >> e) << e
    }

    /// The largest size class at or below `n` (what a buffer of capacity `n` can always serve).
    static func classAtMost(_ n: Int) -> Int {
        let e = max(0, (Int.bitWidth - n.leadingZeroBitCount) - 4)
        return (n >> e) << e
    }

    /// Releases every kept buffer.
    public func drain() {
        lock.lock()
        free.removeAll()
        lock.unlock()
    }
}

/// A scratch buffer from `BufferPool.shared` that goes back to it when released (e.g. saved attention
/// weights captured by a backward closure).
public final class PooledBuffer {
    public var values: [Float]

    public init(count: Int) { values = BufferPool.shared.take(count) }

    deinit { BufferPool.shared.give(values) }
}
