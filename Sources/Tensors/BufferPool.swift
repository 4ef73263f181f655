import Foundation

/// Float buffers kept for reuse, by size. A training step allocates the same activations, gradients
/// and attention weights every time; drawing them from here instead of the allocator means that after
/// the first step no step asks the system for memory (no page faults, no zero-filling of fresh pages),
/// and memory stays at one step's peak. Buffers come back when the `Variable` or `PooledBuffer` that
/// holds them is released — for a step, when `Tape.backward()` or `Tape.reset()` drops its closures.
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
        lock.lock()
        if var stack = free[count], let buffer = stack.popLast() {
            free[count] = stack
            lock.unlock()
            return buffer
        }
        allocations += 1
        lock.unlock()
        return [Float](repeating: 0, count: count)
    }

    /// Returns a buffer for reuse.
    public func give(_ buffer: [Float]) {
        guard !buffer.isEmpty else { return }
        lock.lock()
        free[buffer.count, default: []].append(buffer)
        lock.unlock()
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
