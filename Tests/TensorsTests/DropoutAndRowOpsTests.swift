import Foundation
import XCTest
@testable import Tensors

final class DropoutAndRowOpsTests: GradientCheckCase {
    func testDropoutKeepsAboutOneMinusPAndScalesKeptValuesByItsInverse() {
        let n = 100_000
        var out = [Float](repeating: 0, count: n)
        Dropout.forward(out: &out, inp: [Float](repeating: 1, count: n), mask: DropoutMask(probability: 0.25, seed: 5), count: n)
        let kept = out.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / Double(n), 0.75, accuracy: 0.01)
        XCTAssertTrue(kept.allSatisfy { $0 == 1 / Float(0.75) })
    }

    func testDropoutBackwardUsesTheForwardMaskAndSeedsDiffer() {
        let n = 1_000
        let mask = DropoutMask(probability: 0.5, seed: 9)
        var out = [Float](repeating: 0, count: n), grad = [Float](repeating: 0, count: n)
        Dropout.forward(out: &out, inp: [Float](repeating: 1, count: n), mask: mask, count: n)
        Dropout.backward(dinp: &grad, dout: [Float](repeating: 1, count: n), mask: mask, count: n)
        XCTAssertEqual(out, grad)
        var other = [Float](repeating: 0, count: n)
        Dropout.forward(out: &other, inp: [Float](repeating: 1, count: n), mask: DropoutMask(probability: 0.5, seed: 10), count: n)
        XCTAssertNotEqual(out, other)
    }

    func testGatherRowsSendsGradientBackToEveryCopyOfARow() {
        let tape = Tape()
        let x = Variable(shape: [3, 2], value: [1, 2, 3, 4, 5, 6])
        let gathered = Ops.gatherRows(tape, x, rows: [2, 0, 2])
        XCTAssertEqual(gathered.value.array, [5, 6, 1, 2, 5, 6])
        gathered.gradient.assign([1, 1, 10, 10, 100, 100])
        tape.backward()
        XCTAssertEqual(x.gradient.array, [10, 10, 0, 0, 101, 101])
    }

    func testRowBiasAddsToEveryRowAndSumsItsGradient() {
        let tape = Tape()
        let x = Variable(shape: [2, 3], value: [0, 0, 0, 1, 1, 1]), bias = Variable(shape: [3], value: [1, 2, 3])
        let out = Ops.addRowBias(tape, x, bias: bias)
        XCTAssertEqual(out.value.array, [1, 2, 3, 2, 3, 4])
        out.gradient.assign([1, 2, 3, 4, 5, 6])
        tape.backward()
        XCTAssertEqual(bias.gradient.array, [5, 7, 9])
        XCTAssertEqual(x.gradient.array, [1, 2, 3, 4, 5, 6])
    }

    func testBinaryCrossEntropyOnPairScoresMatchesHandValuesAndFiniteDifferences() {
        // Scores 0 and 2: −log σ(0) = log 2 = 0.693147; −log(1 − σ(2)) = log(1 + e²) = 2.126928.
        let tape = Tape()
        let x = Variable(shape: [2, 2], value: [0, 0, 1, 1]), table = Variable(shape: [3, 2], value: [7, 7, 1, 1, 5, 5])
        let scores = Ops.pairDot(tape, x, table: table, ids: [1, 1])
        XCTAssertEqual(scores.value.array, [0, 2])
        let loss = Ops.binaryCrossEntropy(tape, logits: scores, labels: [1, 0], mask: [1, 1])
        XCTAssertEqual(Double(loss), (0.693147 + 2.126928) / 2, accuracy: 1e-5)
        tape.backward()
        // d/dx of the mean: (σ(s) − y)/2 · table[1]; table[1] gets Σ (σ(s) − y)/2 · x.
        let sigma2 = 1 / (1 + exp(-2.0))
        XCTAssertEqual(Double(x.gradient[0]), (0.5 - 1) / 2, accuracy: 1e-6)
        XCTAssertEqual(Double(x.gradient[2]), sigma2 / 2, accuracy: 1e-6)
        XCTAssertEqual(Double(table.gradient[2]), sigma2 / 2, accuracy: 1e-6)
        XCTAssertEqual(table.gradient[0], 0)

        let logits = randoms(6, scale: 4), labels: [Float] = [1, 0, 1, 0, 0, 1], mask: [Float] = [1, 1, 0, 1, 1, 1]
        var gradient = [Float](repeating: 0, count: 6)
        BinaryCrossEntropy.forwardBackward(logits: logits.map(Float.init), labels: labels, mask: mask, dlogits: &gradient, count: 6)
        let numeric = numericGradient(logits) { z in
            var total = 0.0
            for i in 0..<6 where mask[i] != 0 {
                let p = 1 / (1 + exp(-z[i]))
                total -= Double(labels[i]) * log(p) + (1 - Double(labels[i])) * log(1 - p)
            }
            return total / 5
        }
        assertClose(gradient, numeric, "binary cross-entropy")
    }
}
