/// A value in the computation graph: a row-major Float32 buffer, its shape, and (for values the loss
/// depends on) a gradient buffer of the same size.
public final class Variable {
    public let shape: [Int]
    public var value: [Float]
    public var gradient: [Float]

    public init(shape: [Int], value: [Float]) {
        precondition(value.count == shape.reduce(1, *), "shape \(shape) does not match \(value.count) values")
        self.shape = shape
        self.value = value
        gradient = [Float](repeating: 0, count: value.count)
    }

    /// Zeros of `shape`, drawn with their gradient from `BufferPool.shared` and returned to it on release.
    public init(zeros shape: [Int]) {
        let count = shape.reduce(1, *)
        self.shape = shape
        value = BufferPool.shared.zeros(count)
        gradient = BufferPool.shared.zeros(count)
        pooled = true
    }

    /// Whether the buffers go back to the pool (outputs of operations; not parameters).
    private var pooled = false

    deinit {
        if pooled {
            BufferPool.shared.give(value)
            BufferPool.shared.give(gradient)
        }
    }

    public var count: Int { value.count }
}

/// The reverse-mode tape, micrograd-style: every operation appends a closure that accumulates
/// its output's gradient into its inputs' gradients; `backward()` runs them in reverse order.
/// Operations (in `Operations.swift`) call the fused kernels, so each closure is one kernel call.
public final class Tape {
    private var backwardSteps: [() -> Void] = []

    public init() {}

    /// Appends the backward step of an operation just performed.
    public func record(_ step: @escaping () -> Void) { backwardSteps.append(step) }

    /// Runs every recorded backward step, last first, then forgets them.
    public func backward() {
        for step in backwardSteps.reversed() { step() }
        backwardSteps.removeAll(keepingCapacity: true)
    }

    /// Forgets the recorded steps without running them (inference).
    public func reset() { backwardSteps.removeAll(keepingCapacity: true) }
}
