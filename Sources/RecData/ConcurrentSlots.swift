import Foundation

/// One slot per task of a parallel loop (`DispatchQueue.concurrentPerform`): each worker writes its
/// own slots, the caller reads them once the loop is done. Access is locked, so it is safe to share.
public final class ConcurrentSlots<Value>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// The value of slot `index` (nil until written).
    public subscript(index: Int) -> Value? {
        get {
            lock.lock()
            defer { lock.unlock() }
            return slots[index]
        }
        set {
            lock.lock()
            slots[index] = newValue
            lock.unlock()
        }
    }
}
