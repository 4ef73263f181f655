/// One user's scores, one per catalogue item (higher ranks first), which a method writes for the
/// evaluator. The evaluator owns the storage and lends a row to the scoring closure, which must not
/// keep it: the row is valid only during that call.
public struct ScoreRow {
    /// The evaluator's storage. Kernels that fill a row in place reach it through
    /// `withUnsafeMutableStorage` under the `Kernels` SPI; everything else uses the safe API.
    let storage: UnsafeMutableBufferPointer<Float>

    init(_ storage: UnsafeMutableBufferPointer<Float>) { self.storage = storage }

    /// Items in the catalogue.
    public var count: Int { storage.count }

    /// The score of item `index`.
    public subscript(index: Int) -> Float {
        get { storage[index] }
        nonmutating set { storage[index] = newValue }
    }

    /// Every item gets `value` (e.g. −∞ before a sparse method writes the items it scores).
    public func fill(_ value: Float) { storage.update(repeating: value) }

    /// The scores of `values`, item by item; `values` must have one score per item.
    public func assign<C: Collection>(_ values: C) where C.Element == Float {
        precondition(values.count == storage.count, "\(values.count) scores for \(storage.count) items")
        _ = storage.update(fromContentsOf: values)
    }

    /// The row's storage for a kernel that writes it in place (BM25 over the whole catalogue).
    @_spi(Kernels) public func withUnsafeMutableStorage<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(storage)
    }
}
