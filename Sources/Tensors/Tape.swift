/// A value in the computation graph: a row-major Float32 buffer, its shape, and (for values the loss
/// depends on) a gradient buffer of the same size. The buffers are views of memory the variable
/// keeps alive: pooled activation storage, storage of its own, or a `ParameterSet`'s flat buffers.
public final class Variable {
    public let shape: [Int]
    public let value: FloatBuffer
    public let gradient: FloatBuffer
    /// What the buffers live in.
    private let valueStorage: FloatStorage
    private let gradientStorage: FloatStorage
    /// Whether the storage goes back to the pool (outputs of operations; not parameters).
    private let pooled: Bool
    /// Whether operations accumulate this variable's gradient in their backward steps: false for a
    /// frozen parameter, whose gradient nothing reads (its weight-gradient products are skipped).
    public var requiresGradient = true

    /// A variable holding a copy of `value`, with a zero gradient.
    public init(shape: [Int], value: [Float]) {
        precondition(value.count == shape.reduce(1, *), "shape \(shape) does not match \(value.count) values")
        self.shape = shape
        valueStorage = FloatStorage(capacity: value.count)
        gradientStorage = FloatStorage(capacity: value.count)
        self.value = valueStorage.buffer(count: value.count)
        gradient = gradientStorage.buffer(count: value.count)
        self.value.assign(value)
        pooled = false
    }

    /// Zeros of `shape`, drawn with their gradient from `BufferPool.shared` and returned to it on release.
    public init(zeros shape: [Int]) {
        let count = shape.reduce(1, *)
        self.shape = shape
        valueStorage = BufferPool.shared.zeros(count)
        gradientStorage = BufferPool.shared.zeros(count)
        value = valueStorage.buffer(count: count)
        gradient = gradientStorage.buffer(count: count)
        pooled = true
    }

    /// A view of `count(shape)` values at `offset` of `values` and of the gradient at the same offset
    /// of `gradients` (a tensor of a parameter set).
    init(shape: [Int], values: FloatStorage, gradients: FloatStorage, offset: Int) {
        let count = shape.reduce(1, *)
        self.shape = shape
        valueStorage = values
        gradientStorage = gradients
        value = values.buffer(count: count, offset: offset)
        gradient = gradients.buffer(count: count, offset: offset)
        pooled = false
    }

    deinit {
        if pooled {
            BufferPool.shared.give(valueStorage)
            BufferPool.shared.give(gradientStorage)
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
