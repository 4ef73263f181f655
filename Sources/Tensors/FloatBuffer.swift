/// A fixed-size run of Float32 values in memory someone else owns (a `FloatStorage`): the value or
/// gradient of a `Variable`, or one tensor's slice of a `ParameterSet`'s flat buffers. It has
/// reference semantics — a copy of the struct sees and changes the same memory — so a kernel gets
/// `base` as is and element writes need no exclusive access.
public struct FloatBuffer: RandomAccessCollection, MutableCollection, @unchecked Sendable {
    /// The first value.
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    public init(base: UnsafeMutablePointer<Float>, count: Int) {
        self.base = base
        self.count = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    @inlinable
    public subscript(index: Int) -> Float {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }

    /// Calls `body` with the values, read-only.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// Calls `body` with the values, writable.
    @inlinable
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: base, count: count))
    }

    /// A copy of the values.
    public var array: [Float] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Overwrites every value with `values` (of the same count).
    public func assign(_ values: [Float]) {
        precondition(values.count == count, "\(values.count) values for a buffer of \(count)")
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: count) }
    }

    /// Sets every value to 0.
    public func zero() { base.update(repeating: 0, count: count) }
}

/// Float32 memory of a fixed capacity, 64-byte aligned and zero-filled when allocated, freed when the
/// last reference goes: the backing of pooled activations and of a parameter set's flat buffers.
public final class FloatStorage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, capacity) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(1, capacity))
        base.initialize(repeating: 0, count: max(1, capacity))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    /// The first `count` values (at most the capacity) as a buffer.
    public func buffer(count: Int, offset: Int = 0) -> FloatBuffer {
        precondition(offset >= 0 && offset + count <= capacity, "\(offset)+\(count) is outside a storage of \(capacity)")
        return FloatBuffer(base: base + offset, count: count)
    }
}
