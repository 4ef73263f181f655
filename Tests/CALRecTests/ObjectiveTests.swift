import Foundation
import LanguageModel
import Tensors
import XCTest
@testable import CALRec

final class ObjectiveTests: XCTestCase {
    let examples = [
        SequenceExample(history: [0, 1], target: 2), SequenceExample(history: [4, 5, 6], target: 7),
        SequenceExample(history: [9], target: 10),
    ]

    /// The parts of the objective on a 3-example batch against a computation in Double from the
    /// model's hidden states, with the pooling masks derived here from the prompt and target lengths.
    func testCombinedLossMatchesAHandComputationOnThreeExamples() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        let trainer = GPT2Trainer(model: try CALRecFixtures.model(tokenizer))
        let batch = CALRecBatch(examples: examples, builder: builder)
        let objective = CALRecObjective(alpha: 0.3, beta: 0.2, temperature: 0.5)
        let losses = objective.record(Tape(), trainer: trainer, batch: batch)

        let c = trainer.config.channels
        let scratch = Tape()
        let joint = trainer.hidden(scratch, tokens: batch.joint).value.array
        let alone = trainer.hidden(scratch, tokens: batch.targetOnly).value.array
        scratch.reset()
        func mean(_ h: [Float], row: Int, length: Int, _ range: Range<Int>) -> [Double] {
            var v = [Double](repeating: 0, count: c)
            for t in range { for i in 0..<c { v[i] += Double(h[(row * length + t) * c + i]) } }
            let norm = v.map { $0 / Double(range.count) }.reduce(0) { $0 + $1 * $1 }.squareRoot() * Double(range.count)
            return v.map { $0 / norm }  // the mean, normalised to unit length
        }
        var targetInJoint: [[Double]] = [], history: [[Double]] = [], target: [[Double]] = []
        for (row, example) in examples.enumerated() {
            let p = builder.prompt(history: example.history).count
            let body = builder.target(example.target).count - 1
            targetInJoint.append(mean(joint, row: row, length: batch.length, p..<(p + body)))
            history.append(mean(joint, row: row, length: batch.length, 0..<p))
            target.append(mean(alone, row: row, length: batch.targetLength, 0..<body))
        }
        func infoNCE(_ a: [[Double]], _ b: [[Double]]) -> Double {
            let n = a.count
            var loss = 0.0
            for i in 0..<n {
                let logits = (0..<n).map { j in zip(a[j], b[i]).reduce(0) { $0 + $1.0 * $1.1 } / 0.5 }
                loss -= logits[i] - log(logits.map(exp).reduce(0, +))
            }
            return loss / Double(n)
        }
        let tt = infoNCE(targetInJoint, target), ut = infoNCE(history, target)
        XCTAssertEqual(Double(losses.targetTarget), tt, accuracy: 1e-4)
        XCTAssertEqual(Double(losses.userTarget), ut, accuracy: 1e-4)
        let nig = trainer.languageModelLoss(Tape(), tokens: batch.joint, targets: batch.targets, lossMask: batch.lossMask)
        XCTAssertEqual(losses.nextItem, nig, accuracy: 1e-5)
        XCTAssertEqual(Double(losses.total), 0.5 * Double(nig) + 0.3 * tt + 0.2 * ut, accuracy: 1e-4)
    }

    /// d(total)/d(parameter) from the tape against central differences, for the contrastive weights
    /// the paper prints (β negative) and larger ones that make the contrastive terms dominate.
    func testObjectiveGradientsMatchFiniteDifferences() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        for objective in [CALRecObjective(), CALRecObjective(alpha: 0.4, beta: 0.4, temperature: 0.2)] {
            let trainer = GPT2Trainer(model: try CALRecFixtures.model(tokenizer, channels: 16, layers: 1))
            let batch = CALRecBatch(examples: examples, builder: builder)
            let tape = Tape()
            _ = objective.record(tape, trainer: trainer, batch: batch)
            tape.backward()
            func total() -> Double {
                let scratch = Tape()
                defer { scratch.reset() }
                return Double(objective.record(scratch, trainer: trainer, batch: batch).total)
            }
            for (name, index) in ["wte.weight": 40, "h.0.attn.c_attn.weight": 21, "h.0.mlp.c_fc.weight": 77, "ln_f.weight": 3, "wpe.weight": 35] {
                let p = trainer.parameters[name]!
                let analytic = Double(p.gradient[index])
                let saved = p.value[index]
                p.value[index] = saved + 1e-2
                let up = total()
                p.value[index] = saved - 1e-2
                let down = total()
                p.value[index] = saved
                let numeric = (up - down) / 2e-2
                XCTAssertEqual(analytic, numeric, accuracy: 3e-2 * max(abs(numeric), 1e-2), "\(name) α=\(objective.alpha)")
            }
        }
    }
}
