import Foundation
import XCTest
@testable import LanguageModel
import Tensors

final class TrainingTests: XCTestCase {
    let tokens: [[Int32]] = [[3, 14, 15, 9, 26, 5], [0, 36, 1, 2, 2, 2]]
    let mask: [[Float]] = [[1, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 0]]

    func trainer() throws -> GPT2Trainer { GPT2Trainer(model: try GPT2Model(folder: GPT2ModelTests.fixture.path)) }

    /// The tape's gradients against central differences of the loss, for entries of every kind of tensor.
    func testModelGradientsMatchFiniteDifferences() throws {
        let t = try trainer()
        let tape = Tape()
        _ = t.languageModelLoss(tape, tokens: tokens, lossMask: mask)
        tape.backward()
        func loss() -> Double {
            let scratch = Tape()
            defer { scratch.reset() }
            return Double(t.languageModelLoss(scratch, tokens: tokens, lossMask: mask))
        }
        let probes = ["wte.weight": 3 * 12 + 4, "wpe.weight": 2 * 12 + 1, "h.0.attn.c_attn.weight": 17, "h.1.mlp.c_fc.bias": 5,
                      "h.1.ln_2.weight": 3, "ln_f.bias": 7, "h.0.attn.c_proj.weight": 40, "h.1.mlp.c_proj.weight": 100]
        for (name, index) in probes {
            let p = t.parameters[name]!
            let analytic = Double(p.gradient[index])
            let saved = p.value[index]
            let h: Float = 1e-2
            p.value[index] = saved + h
            let up = loss()
            p.value[index] = saved - h
            let down = loss()
            p.value[index] = saved
            let numeric = (up - down) / Double(2 * h)
            XCTAssertEqual(analytic, numeric, accuracy: 2e-2 * max(abs(numeric), 1e-2), name)
        }
    }

    func testTrainingMemorisesAFixedBatch() throws {
        let t = try trainer()
        let tape = Tape()
        var first: Float = 0
        var last: Float = 0
        for step in 0..<60 {
            t.zeroGradients()
            let loss = t.languageModelLoss(tape, tokens: tokens, lossMask: mask)
            tape.backward()
            t.update(lr: 3e-2)
            if step == 0 { first = loss }
            last = loss
        }
        XCTAssertLessThan(last, first / 5, "loss \(first) → \(last)")
        // The trained weights generate the memorised continuation greedily.
        let model = try t.model()
        let continuation = model.generate(prompts: [[3, 14]], options: SamplingOptions(temperature: 0, maxNewTokens: 3))[0].tokens
        XCTAssertEqual(continuation, [15, 9, 26])
    }

    func testSameSeedSameLosses() throws {
        func run() throws -> [Float] {
            let t = try trainer()
            let tape = Tape()
            return (0..<5).map { _ in
                t.zeroGradients()
                let loss = t.languageModelLoss(tape, tokens: tokens, lossMask: mask)
                tape.backward()
                t.update(lr: 1e-2)
                return loss
            }
        }
        XCTAssertEqual(try run(), try run())
    }
}
