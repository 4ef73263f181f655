import XCTest
@testable import Tensors

/// What a training step holds in memory: gradients only once the backward pass reaches them, and
/// each operation's saved state only until its backward step has run.
final class TapeMemoryTests: XCTestCase {
    func testAForwardPassAllocatesNoGradients() {
        let tape = Tape()
        let x = Variable(shape: [2, 3], value: [1, 2, 3, 4, 5, 6])
        let weight = Variable(shape: [3, 2], value: [1, 0, 0, 1, 1, 1])
        let hidden = Ops.linear(tape, x, weight: weight, bias: nil)
        let activated = Ops.gelu(tape, hidden)
        XCTAssertFalse(x.hasGradient || weight.hasGradient || hidden.hasGradient || activated.hasGradient)
        tape.reset()
    }

    func testBackwardReleasesEachActivationOnceItsStepHasRun() {
        let tape = Tape()
        let x = Variable(shape: [2, 3], value: [1, 2, 3, 4, 5, 6])
        let weight = Variable(shape: [3, 2], value: [1, 0, 0, 1, 1, 1])
        weak var hidden: Variable?
        var output: Variable? = {
            let h = Ops.linear(tape, x, weight: weight, bias: nil)
            hidden = h
            return Ops.gelu(tape, h)
        }()
        XCTAssertNotNil(hidden, "the tape keeps the intermediate alive for the backward pass")
        output!.gradient.assign([1, 1, 1, 1])
        output = nil
        tape.backward()
        XCTAssertNil(hidden, "once the steps that read it have run, the intermediate is gone")
        // x·W = [[4, 5], [10, 11]]: GELU′ there is 1 to 1e-3, so d/dx = Σ_j W[i, j] = [1, 1, 2].
        for (g, expected) in zip(x.gradient.array, [1, 1, 2, 1, 1, 2] as [Float]) { XCTAssertEqual(g, expected, accuracy: 1e-2) }
        // d/dW[i, j] = Σ_rows x[r, i]: [5, 7, 9] in each column.
        for (g, expected) in zip(weight.gradient.array, [5, 5, 7, 7, 9, 9] as [Float]) { XCTAssertEqual(g, expected, accuracy: 2e-2) }
    }
}
