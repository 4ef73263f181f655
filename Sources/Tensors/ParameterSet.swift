import Foundation

/// Every parameter of a model in one place, as llm.c lays them out: one flat Float32 buffer for all
/// the weights, one for the gradients of the trainable tensors and one for each of their AdamW
/// moments, each tensor a slice (offsets rounded up to 64 bytes; a trainable tensor sits at the same
/// gradient offset in the last three). A model reads its tensors through typed views
/// built once (`variable(named:)` is for that and for cold code, not for every step); the optimiser,
/// clipping and zeroing walk the flat buffers in the set's order, which is the order tensors are
/// given in (by convention their names sorted: the order of the safetensors files).
///
/// Each tensor has a trainable flag, fixed when the set is made (frozen tensors keep their weights,
/// and have no place in the gradient and moment buffers: a frozen 135 M-parameter base with small
/// adapters costs the base's weights and the adapters' optimiser state, not four copies of the base)
/// and a weight-decay group.
public final class ParameterSet {
    /// One tensor: its Hugging Face-style name (the safetensors key), shape and place in the buffers.
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        /// Where its values start in the weight buffer.
        public let offset: Int
        /// Where its gradient and moments start in those buffers (trainable tensors only).
        public let gradientOffset: Int
        public let count: Int
        /// Whether the optimiser updates it.
        public let trainable: Bool
        /// Whether AdamW's decoupled weight decay applies to it (matrices, usually; not biases or gains).
        public var decays: Bool
        /// A frozen tensor that is part of a training run's state all the same (a table the model
        /// derives from its weights now and then): checkpoints keep it with the trainable tensors.
        public let kept: Bool
    }

    /// What a tensor starts as.
    public struct Initial {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public var decays: Bool
        public var trainable: Bool
        /// Frozen but kept in checkpoints (see `Tensor.kept`).
        public var kept: Bool

        public init(name: String, shape: [Int], values: [Float], decays: Bool, trainable: Bool = true, kept: Bool = false) {
            self.name = name
            self.shape = shape
            self.values = values
            self.decays = decays
            self.trainable = trainable
            self.kept = kept
        }
    }

    /// The tensors in the set's order.
    public let tensors: [Tensor]
    /// Each tensor as a variable whose value and gradient are its slices (same order as `tensors`).
    public let variables: [Variable]
    public let weights: FloatStorage
    /// The trainable tensors' gradients.
    public let gradients: FloatStorage
    /// AdamW's first and second moments of the trainable tensors.
    public let firstMoments: FloatStorage
    public let secondMoments: FloatStorage
    private let indexByName: [String: Int]

    /// A set of `initial` tensors, in that order. Names must be unique and values match shapes.
    public init(_ initial: [Initial]) {
        var tensors: [Tensor] = []
        var offset = 0, gradientOffset = 0
        for tensor in initial {
            let count = tensor.shape.reduce(1, *)
            precondition(count == tensor.values.count, "\(tensor.name): shape \(tensor.shape) does not match \(tensor.values.count) values")
            tensors.append(
                Tensor(
                    name: tensor.name, shape: tensor.shape, offset: offset, gradientOffset: tensor.trainable ? gradientOffset : 0, count: count,
                    trainable: tensor.trainable, decays: tensor.decays, kept: !tensor.trainable && tensor.kept))
            offset += (count + 15) / 16 * 16
            if tensor.trainable { gradientOffset += (count + 15) / 16 * 16 }
        }
        weights = FloatStorage(capacity: offset)
        gradients = FloatStorage(capacity: gradientOffset)
        firstMoments = FloatStorage(capacity: gradientOffset)
        secondMoments = FloatStorage(capacity: gradientOffset)
        for (tensor, values) in zip(tensors, initial.map(\.values)) { weights.buffer(count: tensor.count, offset: tensor.offset).assign(values) }
        variables = tensors.map { [weights, gradients] tensor in
            let variable = Variable(
                shape: tensor.shape, values: weights, offset: tensor.offset, gradients: tensor.trainable ? gradients : nil, gradientOffset: tensor.gradientOffset)
            variable.requiresGradient = tensor.trainable
            return variable
        }
        indexByName = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($0.element.name, $0.offset) })
        self.tensors = tensors
    }

    /// Floats in the weight buffer (tensors plus alignment padding).
    public var capacity: Int { weights.capacity }

    /// Floats in the gradient buffer and in each moment buffer (trainable tensors plus padding).
    public var trainableCapacity: Int { gradients.capacity }

    /// Values of trainable tensors.
    public var trainableCount: Int { tensors.filter(\.trainable).reduce(0) { $0 + $1.count } }

    /// The tensor called `name` as a variable (to build a model's typed views once).
    public func variable(named name: String) -> Variable? { indexByName[name].map { variables[$0] } }

    /// The tensor named `name`, which a model's typed view requires (a missing one is a programming
    /// error: the set was built from the same configuration).
    public func required(_ name: String) -> Variable {
        guard let variable = variable(named: name) else { preconditionFailure("the parameter set has no '\(name)'") }
        return variable
    }

    /// Sets every trainable tensor's gradient to 0.
    public func zeroGradients() { gradients.base.update(repeating: 0, count: trainableCapacity) }

    /// Sets AdamW's moments to 0: a new optimisation starts (fine-tuning after pre-training) as a
    /// fresh optimiser would, not with the moments the earlier one left.
    public func zeroMoments() {
        firstMoments.base.update(repeating: 0, count: trainableCapacity)
        secondMoments.base.update(repeating: 0, count: trainableCapacity)
    }

    // MARK: Whole-set copies and files

    /// Every tensor's weights by name (what `model.safetensors` holds); with `trainableOnly`, those
    /// of the trainable tensors and the kept frozen ones (what a checkpoint of a frozen base with
    /// adapters needs).
    public func weightTensors(trainableOnly: Bool = false) -> [String: SafeTensors.Tensor] { Self.named(layout(trainableOnly), in: weights) }

    /// AdamW's moments by name: `m.<name>` and `v.<name>` for every trainable tensor (frozen ones have none).
    public func momentTensors() -> [String: SafeTensors.Tensor] {
        var result: [String: SafeTensors.Tensor] = [:]
        for (name, tensor) in Self.named(trainableLayout, in: firstMoments, at: \.gradientOffset) { result["m." + name] = tensor }
        for (name, tensor) in Self.named(trainableLayout, in: secondMoments, at: \.gradientOffset) { result["v." + name] = tensor }
        return result
    }

    /// Sets the weights from `tensors` by name; every tensor of the set (every trainable one) must be
    /// there with its shape.
    public func loadWeights(_ tensors: [String: SafeTensors.Tensor], prefix: String = "", trainableOnly: Bool = false) throws {
        try Self.load(tensors, prefix: prefix, into: weights, layout: layout(trainableOnly))
    }

    /// Sets the moments of every trainable tensor from `m.<name>` and `v.<name>` tensors.
    public func loadMoments(_ tensors: [String: SafeTensors.Tensor]) throws {
        try Self.load(tensors, prefix: "m.", into: firstMoments, layout: trainableLayout, at: \.gradientOffset)
        try Self.load(tensors, prefix: "v.", into: secondMoments, layout: trainableLayout, at: \.gradientOffset)
    }

    /// Every tensor, or with `trainableOnly` a training run's state: the trainable and the kept ones.
    private func layout(_ trainableOnly: Bool) -> [Tensor] { trainableOnly ? tensors.filter { $0.trainable || $0.kept } : tensors }
    /// The tensors with gradients and moments.
    private var trainableLayout: [Tensor] { tensors.filter(\.trainable) }

    /// A copy of the flat weight buffer (to keep a best model; same layout as this set).
    public func copyWeights(into copy: FloatStorage) {
        precondition(copy.capacity == capacity, "a weight copy must have the set's capacity")
        copy.base.update(from: weights.base, count: capacity)
    }

    /// Sets the weights from a copy made by `copyWeights(into:)`.
    public func restoreWeights(from copy: FloatStorage) {
        precondition(copy.capacity == capacity, "a weight copy must have the set's capacity")
        weights.base.update(from: copy.base, count: capacity)
    }

    /// The tensors of a flat buffer in this set's layout (e.g. a copy of the weights) by name.
    public func weightTensors(of copy: FloatStorage, trainableOnly: Bool = false) -> [String: SafeTensors.Tensor] {
        Self.named(layout(trainableOnly), in: copy)
    }

    /// Sets a flat buffer in this set's layout from `tensors` by name.
    public func load(_ tensors: [String: SafeTensors.Tensor], into copy: FloatStorage, trainableOnly: Bool = false) throws {
        try Self.load(tensors, prefix: "", into: copy, layout: layout(trainableOnly))
    }

    private static func named(_ layout: [Tensor], in storage: FloatStorage, at offset: KeyPath<Tensor, Int> = \.offset) -> [String: SafeTensors.Tensor] {
        var result: [String: SafeTensors.Tensor] = [:]
        for tensor in layout {
            result[tensor.name] = SafeTensors.Tensor(shape: tensor.shape, values: storage.buffer(count: tensor.count, offset: tensor[keyPath: offset]).array)
        }
        return result
    }

    private static func load(
        _ tensors: [String: SafeTensors.Tensor], prefix: String, into storage: FloatStorage, layout: [Tensor], at offset: KeyPath<Tensor, Int> = \.offset
    ) throws {
        for tensor in layout {
            guard let given = tensors[prefix + tensor.name] else { throw ParameterSetError.missing(name: prefix + tensor.name) }
            guard given.shape == tensor.shape, given.values.count == tensor.count else {
                throw ParameterSetError.shape(name: prefix + tensor.name, found: given.shape, expected: tensor.shape)
            }
            storage.buffer(count: tensor.count, offset: tensor[keyPath: offset]).assign(given.values)
        }
    }
}

/// Tensors given to a parameter set that do not fit it.
public enum ParameterSetError: Error, LocalizedError, Equatable {
    case missing(name: String)
    case shape(name: String, found: [Int], expected: [Int])

    public var errorDescription: String? {
        switch self {
        case .missing(let name):
            return "tensor '\(name)' is missing; the file was written for another model (check its config.json)"
        case .shape(let name, let found, let expected):
            return "tensor '\(name)' has shape \(found) but this model needs \(expected); the file was written for another configuration"
        }
    }
}
