import Foundation

/// Every parameter of a model in one place, as llm.c lays them out: one flat Float32 buffer for all
/// the weights, one for their gradients and one for each AdamW moment, each tensor a slice at the same
/// offset of all four (offsets rounded up to 64 bytes). A model reads its tensors through typed views
/// built once (`variable(named:)` is for that and for cold code, not for every step); the optimiser,
/// clipping and zeroing walk the flat buffers in the set's order, which is the order tensors are
/// given in (by convention their names sorted: the order of the safetensors files).
///
/// Each tensor has a trainable flag (frozen tensors keep their weights: the optimiser and clipping
/// skip them, so a frozen pretrained model can carry trainable adapters) and a weight-decay group.
public final class ParameterSet {
    /// One tensor: its Hugging Face-style name (the safetensors key), shape and place in the buffers.
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        /// Where its values start in each flat buffer.
        public let offset: Int
        public let count: Int
        /// Whether the optimiser updates it.
        public var trainable: Bool
        /// Whether AdamW's decoupled weight decay applies to it (matrices, usually; not biases or gains).
        public var decays: Bool
    }

    /// What a tensor starts as.
    public struct Initial {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public var decays: Bool
        public var trainable: Bool

        public init(name: String, shape: [Int], values: [Float], decays: Bool, trainable: Bool = true) {
            self.name = name
            self.shape = shape
            self.values = values
            self.decays = decays
            self.trainable = trainable
        }
    }

    /// The tensors in the set's order.
    public private(set) var tensors: [Tensor]
    /// Each tensor as a variable whose value and gradient are its slices (same order as `tensors`).
    public let variables: [Variable]
    public let weights: FloatStorage
    public let gradients: FloatStorage
    /// AdamW's first and second moments.
    public let firstMoments: FloatStorage
    public let secondMoments: FloatStorage
    private let indexByName: [String: Int]

    /// A set of `initial` tensors, in that order. Names must be unique and values match shapes.
    public init(_ initial: [Initial]) {
        var tensors: [Tensor] = []
        var offset = 0
        for tensor in initial {
            let count = tensor.shape.reduce(1, *)
            precondition(count == tensor.values.count, "\(tensor.name): shape \(tensor.shape) does not match \(tensor.values.count) values")
            tensors.append(Tensor(name: tensor.name, shape: tensor.shape, offset: offset, count: count, trainable: tensor.trainable, decays: tensor.decays))
            offset += (count + 15) / 16 * 16
        }
        weights = FloatStorage(capacity: offset)
        gradients = FloatStorage(capacity: offset)
        firstMoments = FloatStorage(capacity: offset)
        secondMoments = FloatStorage(capacity: offset)
        for (tensor, values) in zip(tensors, initial.map(\.values)) { weights.buffer(count: tensor.count, offset: tensor.offset).assign(values) }
        variables = tensors.map { [weights, gradients] in Variable(shape: $0.shape, values: weights, gradients: gradients, offset: $0.offset) }
        indexByName = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($0.element.name, $0.offset) })
        for (variable, tensor) in zip(variables, tensors) { variable.requiresGradient = tensor.trainable }
        self.tensors = tensors
    }

    /// Floats in each flat buffer (tensors plus alignment padding).
    public var capacity: Int { weights.capacity }

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

    /// Freezes (`false`) or unfreezes every tensor whose name `matching` accepts.
    public func setTrainable(_ trainable: Bool, matching: (String) -> Bool) {
        for i in tensors.indices where matching(tensors[i].name) {
            tensors[i].trainable = trainable
            variables[i].requiresGradient = trainable
        }
    }

    /// Sets every gradient to 0.
    public func zeroGradients() { gradients.base.update(repeating: 0, count: capacity) }

    // MARK: Whole-set copies and files

    /// Every tensor's weights by name (what `model.safetensors` holds); with `trainableOnly`, those
    /// of the trainable tensors (what a checkpoint of a frozen base with adapters needs).
    public func weightTensors(trainableOnly: Bool = false) -> [String: SafeTensors.Tensor] { Self.named(layout(trainableOnly), in: weights) }

    /// AdamW's moments by name: `m.<name>` and `v.<name>` for every tensor (or every trainable one).
    public func momentTensors(trainableOnly: Bool = false) -> [String: SafeTensors.Tensor] {
        var result: [String: SafeTensors.Tensor] = [:]
        for (name, tensor) in Self.named(layout(trainableOnly), in: firstMoments) { result["m." + name] = tensor }
        for (name, tensor) in Self.named(layout(trainableOnly), in: secondMoments) { result["v." + name] = tensor }
        return result
    }

    /// Sets the weights from `tensors` by name; every tensor of the set (every trainable one) must be
    /// there with its shape.
    public func loadWeights(_ tensors: [String: SafeTensors.Tensor], prefix: String = "", trainableOnly: Bool = false) throws {
        try Self.load(tensors, prefix: prefix, into: weights, layout: layout(trainableOnly))
    }

    /// Sets the moments from `m.<name>` and `v.<name>` tensors.
    public func loadMoments(_ tensors: [String: SafeTensors.Tensor], trainableOnly: Bool = false) throws {
        try Self.load(tensors, prefix: "m.", into: firstMoments, layout: layout(trainableOnly))
        try Self.load(tensors, prefix: "v.", into: secondMoments, layout: layout(trainableOnly))
    }

    private func layout(_ trainableOnly: Bool) -> [Tensor] { trainableOnly ? tensors.filter(\.trainable) : tensors }

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

    private static func named(_ layout: [Tensor], in storage: FloatStorage) -> [String: SafeTensors.Tensor] {
        var result: [String: SafeTensors.Tensor] = [:]
        for tensor in layout {
            result[tensor.name] = SafeTensors.Tensor(shape: tensor.shape, values: storage.buffer(count: tensor.count, offset: tensor.offset).array)
        }
        return result
    }

    private static func load(_ tensors: [String: SafeTensors.Tensor], prefix: String, into storage: FloatStorage, layout: [Tensor]) throws {
        for tensor in layout {
            guard let given = tensors[prefix + tensor.name] else { throw ParameterSetError.missing(name: prefix + tensor.name) }
            guard given.shape == tensor.shape, given.values.count == tensor.count else {
                throw ParameterSetError.shape(name: prefix + tensor.name, found: given.shape, expected: tensor.shape)
            }
            storage.buffer(count: tensor.count, offset: tensor.offset).assign(given.values)
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
