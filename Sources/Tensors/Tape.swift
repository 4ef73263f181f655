/// A value in the computation graph: a row-major Float32 buffer, its shape, and (for values the loss
/// depends on) a gradient buffer of the same size. The buffers are views of memory the variable
/// keeps alive: pooled activation storage, storage of its own, or a `ParameterSet`'s flat buffers.
///
/// The gradient is allocated (zero-filled) the first time it is asked for, which for an activation is
/// during the backward pass: a forward pass without backward (inference, validation) allocates no
/// gradients, and a training step holds only the gradients the backward pass has reached. A variable
/// belongs to one thread at a time.
public final class Variable {
    public let shape: [Int]
    public let value: FloatBuffer
    /// What the value lives in.
    private let valueStorage: FloatStorage
    /// What the gradient lives in, once it exists.
    private var gradientStorage: FloatStorage?
    private var gradientBuffer: FloatBuffer?
    /// Whether the storage comes from (and goes back to) the pool (outputs of operations).
    private let pooled: Bool
    /// Whether operations accumulate this variable's gradient in their backward steps: false for a
    /// frozen parameter, whose gradient nothing reads (its weight-gradient products are skipped).
    public var requiresGradient = true

    /// A variable holding a copy of `value`; its gradient starts at zero.
    public init(shape: [Int], value: [Float]) {
        precondition(value.count == shape.reduce(1, *), "shape \(shape) does not match \(value.count) values")
        self.shape = shape
        valueStorage = FloatStorage(capacity: value.count)
        self.value = valueStorage.buffer(count: value.count)
        self.value.assign(value)
        pooled = false
    }

    /// Zeros of `shape` drawn from `BufferPool.shared` (as its gradient will be), returned to it on release.
    public init(zeros shape: [Int]) {
        let count = shape.reduce(1, *)
        self.shape = shape
        valueStorage = BufferPool.shared.zeros(count)
        value = valueStorage.buffer(count: count)
        pooled = true
    }

    /// A view of `count(shape)` values at `offset` of `values`, with the gradient at `gradientOffset`
    /// of `gradients` (a trainable tensor of a parameter set) or, without `gradients`, a gradient of
    /// its own made when first asked for (a frozen one).
    init(shape: [Int], values: FloatStorage, offset: Int, gradients: FloatStorage?, gradientOffset: Int) {
        let count = shape.reduce(1, *)
        self.shape = shape
        valueStorage = values
        value = values.buffer(count: count, offset: offset)
        if let gradients {
            gradientStorage = gradients
            gradientBuffer = gradients.buffer(count: count, offset: gradientOffset)
        }
        pooled = false
    }

    deinit {
        if pooled {
            BufferPool.shared.give(valueStorage)
            if let gradientStorage { BufferPool.shared.give(gradientStorage) }
        }
    }

    public var count: Int { value.count }

    /// The gradient, zeros until backward steps accumulate into it.
    public var gradient: FloatBuffer {
        if let gradientBuffer { return gradientBuffer }
        let storage = pooled ? BufferPool.shared.zeros(count) : FloatStorage(capacity: count)
        let buffer = storage.buffer(count: count)
        gradientStorage = storage
        gradientBuffer = buffer
        return buffer
    }

    /// Whether the gradient has been allocated (asked for) yet.
    public var hasGradient: Bool { gradientBuffer != nil }
}

/// The reverse-mode tape, micrograd-style: every operation appends a closure that accumulates
/// its output's gradient into its inputs' gradients; `backward()` runs them in reverse order.
/// Operations (in `Operations.swift`) call the fused kernels, so each closure is one kernel call.
public final class Tape {
    private var backwardSteps: [() -> Void] = []

    public init() {}

    /// Appends the backward step of an operation just performed.
    public func record(_ step: @escaping () -> Void) { backwardSteps.append(step) }

    /// Runs every recorded backward step, last first, forgetting each once it has run: what only
    /// that step held (an activation, its gradient, saved statistics) goes back to the pool there and
    /// then, so the backward pass reuses the forward pass's memory as it frees it.
    public func backward() {
        while let step = backwardSteps.popLast() { step() }
    }

    /// Forgets the recorded steps without running them (inference).
    public func reset() { backwardSteps.removeAll(keepingCapacity: true) }
}
