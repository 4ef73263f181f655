import Foundation
import XCTest
@testable import Tensors

final class RepresentationKernelTests: GradientCheckCase {
    func testEmbeddingAddsTokenAndPositionAndRoutesGradients() {
        let (v, maxT, c) = (5, 4, 3)
        let wte = (0..<(v * c)).map { Float($0) }, wpe = (0..<(maxT * c)).map { Float($0) * 100 }
        let tokens: [Int32] = [4, 1, 4], positions: [Int32] = [0, 1, 2]
        var out = [Float](repeating: 0, count: 3 * c)
        Embedding.forward(out: &out, tokens: tokens, positions: positions, wte: wte, wpe: wpe, rows: 3, channels: c)
        XCTAssertEqual(Array(out[0..<3]), [12, 113, 214])  // wte[4] = 12, 13, 14; wpe[0] = 0, 100, 200
        XCTAssertEqual(Array(out[3..<6]), [303, 404, 505])
        var dwte = [Float](repeating: 0, count: v * c), dwpe = [Float](repeating: 0, count: maxT * c)
        Embedding.backward(dwte: &dwte, dwpe: &dwpe, dout: [Float](repeating: 1, count: 9), tokens: tokens, positions: positions, rows: 3, channels: c)
        XCTAssertEqual(Array(dwte[12..<15]), [2, 2, 2], "token 4 appears twice")
        XCTAssertEqual(Array(dwpe[9..<12]), [0, 0, 0])
    }

    func testSegmentMeanPoolGradients() {
        let (b, t, c) = (2, 4, 3)
        let inp = randoms(b * t * c), g = randoms(b * c)
        let mask: [Float] = [0, 1, 1, 0, 0, 0, 0, 0]  // the second sequence's segment is empty
        func reference(_ x: [Double]) -> Double {
            var loss = 0.0
            for bi in 0..<b {
                let positions = (0..<t).filter { mask[bi * t + $0] != 0 }
                guard !positions.isEmpty else { continue }
                for i in 0..<c { loss += positions.map { x[(bi * t + $0) * c + i] }.reduce(0, +) / Double(positions.count) * g[bi * c + i] }
            }
            return loss
        }
        var out = [Float](repeating: 0, count: b * c)
        SegmentMeanPool.forward(out: &out, inp: inp.map(Float.init), mask: mask, batch: b, length: t, channels: c)
        XCTAssertEqual(Array(out[c...]), [0, 0, 0])
        XCTAssertEqual(zip(out, g).reduce(0.0) { $0 + Double($1.0) * $1.1 }, reference(inp), accuracy: 1e-5)
        var dinp = [Float](repeating: 0, count: inp.count)
        SegmentMeanPool.backward(dinp: &dinp, dout: g.map(Float.init), mask: mask, batch: b, length: t, channels: c)
        assertClose(dinp, numericGradient(inp, reference), "dinp")
    }

    func testL2NormalizeGradients() {
        let (n, c) = (3, 4)
        let inp = randoms(n * c, scale: 3), g = randoms(n * c)
        func reference(_ x: [Double]) -> Double {
            var loss = 0.0
            for r in 0..<n {
                let row = x[(r * c)..<((r + 1) * c)]
                let norm = row.map { $0 * $0 }.reduce(0, +).squareRoot()
                for (i, value) in row.enumerated() { loss += value / norm * g[r * c + i] }
            }
            return loss
        }
        var out = [Float](repeating: 0, count: n * c), norm = [Float](repeating: 0, count: n)
        L2Normalize.forward(out: &out, norm: &norm, inp: inp.map(Float.init), rows: n, channels: c)
        var dinp = [Float](repeating: 0, count: n * c)
        L2Normalize.backward(dinp: &dinp, dout: g.map(Float.init), out: out, norm: norm, rows: n, channels: c)
        assertClose(dinp, numericGradient(inp, reference), "dinp")
    }

    /// A 3-example batch computed by hand: a = b = the standard basis e1, e2, e3 and τ = 0.5, so
    /// S = 2·I and every column's loss is −log(e² / (e² + 2)) = log(1 + 2e⁻²).
    func testInfoNCEOnAHandComputedBatch() {
        let basis: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        let loss = InfoNCE.forwardBackward(a: basis, b: basis, da: nil, db: nil, rows: 3, channels: 3, temperature: 0.5)
        XCTAssertEqual(Double(loss), log(1 + 2 * exp(-2.0)), accuracy: 1e-6)
        // Swapping the first two targets: their true pairs score 0 against one rival at 2.
        let swapped: [Float] = [0, 1, 0, 1, 0, 0, 0, 0, 1]
        let worse = InfoNCE.forwardBackward(a: basis, b: swapped, da: nil, db: nil, rows: 3, channels: 3, temperature: 0.5)
        // Columns 0 and 1: the true pair scores 0 against one other at 2 → log(1 + e² + 1); column 2 unchanged.
        XCTAssertEqual(Double(worse), (2 * log(2 + exp(2.0)) + log(1 + 2 * exp(-2.0))) / 3, accuracy: 1e-6)
    }

    func testInfoNCEGradients() {
        let (n, c) = (4, 5)
        let a = randoms(n * c), b = randoms(n * c)
        let tau = 0.5
        func reference(_ a: [Double], _ b: [Double]) -> Double {
            var loss = 0.0
            for i in 0..<n {
                let column = (0..<n).map { j in (0..<c).reduce(0.0) { $0 + a[j * c + $1] * b[i * c + $1] } / tau }
                loss += log(column.map(exp).reduce(0, +)) - column[i]
            }
            return loss / Double(n)
        }
        var da = [Float](repeating: 0, count: n * c), db = [Float](repeating: 0, count: n * c)
        let loss = InfoNCE.forwardBackward(a: a.map(Float.init), b: b.map(Float.init), da: &da, db: &db, rows: n, channels: c, temperature: Float(tau))
        XCTAssertEqual(Double(loss), reference(a, b), accuracy: 1e-5)
        assertClose(da, numericGradient(a) { reference($0, b) }, "da")
        assertClose(db, numericGradient(b) { reference(a, $0) }, "db")
    }
}
