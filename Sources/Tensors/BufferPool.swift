import Foundation

/// Float buffers kept for reuse, by size. A training step allocates the same activations, gradients
/// and attention weights every time; drawing them from here instead of the allocator means that after
/// the first step no step asks the system for memory (no page faults, no zero-filling of fresh pages),
/// and memory stays at one step's peak. Buffers come back when the `Variable` or `PooledBuffer` that
/// holds them is released — for a step, when `Tape.backward()` or `Tape.reset()` drops its closures.
///
/// Batches whose lengths vary from step to step (padded to each batch's longest sequence) ask for
/// slightly different sizes every time, so buffers are kept by capacity class — sizes k·2^e with
/// k in 8…15, at most 12.5% above what is asked — and handed out whole (the caller uses a prefix).
public final class BufferPool: @unchecked Sendable {
    /// The pool the engine's operations use.
    public static let shared = BufferPool()

    /// Free buffers by size class, each with the generation it came back in.
    private var free: [Int: [(storage: FloatStorage, generation: Int)]] = [:]
    private var generation = 0
    private let lock = NSLock()
    /// Buffers handed out that had to be newly allocated (for tests and statistics).
    public private(set) var allocations = 0

    public init() {}

    /// Storage for at least `count` floats whose first `count` are zeros.
    public func zeros(_ count: Int) -> FloatStorage {
        let storage = take(count)
        storage.base.update(repeating: 0, count: count)
        return storage
    }

    /// Storage for at least `count` floats with unspecified contents, for outputs the caller
    /// overwrites whole.
    public func take(_ count: Int) -> FloatStorage {
        let size = Self.classAtLeast(count)
        lock.lock()
        if let storage = free[size]?.popLast()?.storage {
            lock.unlock()
            return storage
        }
        // A free buffer of a larger class (up to half as large again) serves too: batches whose
        // lengths vary would otherwise keep one idle set of buffers per length seen.
        if let larger = free.keys.filter({ $0 > size && $0 <= size + size / 2 && free[$0]?.isEmpty == false }).min(),
            let storage = free[larger]?.popLast()?.storage
        {
            lock.unlock()
            return storage
        }
        allocations += 1
        lock.unlock()
        return FloatStorage(capacity: size)
    }

    /// Returns storage for reuse.
    public func give(_ storage: FloatStorage) {
        guard storage.capacity >= 8 else { return }
        let size = Self.classAtMost(storage.capacity)
        lock.lock()
        free[size, default: []].append((storage, generation))
        lock.unlock()
    }

    /// Releases the free buffers that no request took since the previous call, then starts a new
    /// generation. Called once a training step, it keeps the pool at what recent steps use: batches
    /// that grow longer would otherwise leave the buffers of every shorter length behind.
    public func trim() {
        lock.lock()
        for (size, entries) in free {
            let kept = entries.filter { $0.generation >= generation }
            free[size] = kept.isEmpty ? nil : kept
        }
        generation += 1
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
    private let storage: FloatStorage
    public let values: FloatBuffer

    public init(count: Int) {
        storage = BufferPool.shared.take(count)
        values = storage.buffer(count: count)
    }

    deinit { BufferPool.shared.give(storage) }
}
