import Evaluation
import Foundation
import LanguageModel
import RecData
import Retrieval
import Tensors
import XCTest
@testable import CALRec

final class FineTuningTests: XCTestCase {
    func options(steps: Int) -> CALRecTraining.Options {
        var options = CALRecTraining.Options()
        options.steps = steps
        options.batch = 8
        options.learningRate = 3e-3
        options.warmupSteps = 10
        options.validateEvery = 25
        options.seed = 2
        return options
    }

    /// 20 users whose next purchase always follows the last one in a fixed cycle: after fine-tuning,
    /// greedy generation + quasi-round-robin BM25 ranks every user's test target first.
    func testATinyModelLearnsTwentyUsersToRecallAtOne() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        let dataset = CALRecFixtures.dataset()
        let result = try CALRecTraining(options: options(steps: 500)).train(
            model: try CALRecFixtures.model(tokenizer), datasets: [(TrainingSequences(dataset: dataset), builder)])
        XCTAssertLessThan(result.curve.last!.nextItem, result.curve.first!.nextItem / 5)
        XCTAssertNotNil(result.bestValidation)

        var inference = Recommender.Options()
        inference.samples = 2
        inference.temperature = 0
        let recommender = Recommender(model: result.model, builder: builder, options: inference)
        let cases = dataset.evaluationCases(.test)
        let samples = recommender.generate(cases: cases)
        XCTAssertEqual(samples[0][0].text, ItemTextFormat().body(of: dataset.items[Int(cases[0].target)]))
        let index = BM25Index(documents: dataset.items.map(ItemTextFormat().plainText))
        let ranks = recommender.rank(cases: cases, samples: samples, dataset: dataset, index: index)
        XCTAssertEqual(ranks.count, 20)
        let summary = EvaluationSummary(ranks: ranks, metrics: [.recall(1)], bootstrapSamples: 0, seed: 0)
        XCTAssertEqual(summary.means[.recall(1)]!.pessimistic, 1, "ranks \(ranks.map(\.rank))")
    }

    /// The same 20 users with a tiny model of the Llama architecture (RMSNorm, rotary positions,
    /// grouped-query attention, SwiGLU, tied head): Recall@1 = 1 after fine-tuning.
    func testATinyLlamaLearnsTwentyUsersToRecallAtOne() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        let dataset = CALRecFixtures.dataset()
        let config = LlamaConfig(
            vocabularySize: tokenizer.vocabulary.count, hiddenSize: 32, intermediateSize: 64, layers: 2, attentionHeads: 4, keyValueHeads: 2,
            maxPositions: 128, rmsNormEpsilon: 1e-5, ropeTheta: 10_000, tiedEmbeddings: true)
        let result = try CALRecTraining(options: options(steps: 500)).train(
            model: try LlamaModel.initialized(config: config, seed: 5), datasets: [(TrainingSequences(dataset: dataset), builder)])
        XCTAssertTrue(result.model is LlamaModel)
        XCTAssertLessThan(result.curve.last!.nextItem, result.curve.first!.nextItem / 5)
        var inference = Recommender.Options()
        inference.samples = 2
        inference.temperature = 0
        let recommender = Recommender(model: result.model, builder: builder, options: inference)
        let cases = dataset.evaluationCases(.test)
        let samples = recommender.generate(cases: cases)
        let index = BM25Index(documents: dataset.items.map(ItemTextFormat().plainText))
        let ranks = recommender.rank(cases: cases, samples: samples, dataset: dataset, index: index)
        XCTAssertEqual(ranks.count, 20)
        let summary = EvaluationSummary(ranks: ranks, metrics: [.recall(1)], bootstrapSamples: 0, seed: 0)
        XCTAssertEqual(summary.means[.recall(1)]!.pessimistic, 1, "ranks \(ranks.map(\.rank))")
    }

    func testResumingAKilledFineTuningRunGivesTheUninterruptedResult() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        let data = [(TrainingSequences(dataset: CALRecFixtures.dataset()), builder),
                    (TrainingSequences(dataset: CALRecFixtures.dataset(users: 9, length: 5, name: "Other")), builder)]
        var options = options(steps: 12)
        options.validateEvery = 4
        options.accumulationSteps = 2
        let model = try CALRecFixtures.model(tokenizer, channels: 16, layers: 1)
        let straight = try CALRecTraining(options: options).train(model: model, datasets: data)

        let folder = NSTemporaryDirectory() + "calrec-finetune-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        struct Killed: Error {}
        let checkpointing = CALRecTraining.Checkpointing(folder: folder, every: 5, resume: true)
        XCTAssertThrowsError(try CALRecTraining(options: options).train(model: model, datasets: data, checkpointing: checkpointing) {
            if $0.step == 8 { throw Killed() }  // the checkpoint holds step 5 and the best model of step 4
        })
        let killed = try XCTUnwrap(try CALRecTraining.Checkpointing.readRecord(CALRecTraining.Point.self, in: folder)?.cost)
        XCTAssertGreaterThan(killed.cpuSeconds, 0)
        let resumed = try CALRecTraining(options: options).train(model: model, datasets: data, checkpointing: checkpointing)
        // The killed process's time up to step 5 is carried over, and the last checkpoint adds this one's.
        XCTAssertEqual(resumed.priorCost, killed)
        XCTAssertEqual(straight.priorCost, .zero)
        let final = try XCTUnwrap(try CALRecTraining.Checkpointing.readRecord(CALRecTraining.Point.self, in: folder)?.cost)
        XCTAssertGreaterThan(final.cpuSeconds, killed.cpuSeconds)
        XCTAssertGreaterThan(final.wallSeconds, killed.wallSeconds)
        XCTAssertEqual(resumed.curve, straight.curve.map { point in
            var p = point
            p.tokensPerSecond = resumed.curve[point.step - 1].tokensPerSecond
            return p
        })
        XCTAssertEqual(resumed.bestStep, straight.bestStep)
        for (name, tensor) in (straight.model as! GPT2Model).parameters {
            XCTAssertEqual((resumed.model as! GPT2Model).parameters[name]!.values, tensor.values, name)
        }
    }

    func testSameSeedSameRun() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        let data = [(TrainingSequences(dataset: CALRecFixtures.dataset()), builder)]
        let model = try CALRecFixtures.model(tokenizer, channels: 16, layers: 1)
        let a = try CALRecTraining(options: options(steps: 6)).train(model: model, datasets: data)
        let b = try CALRecTraining(options: options(steps: 6)).train(model: model, datasets: data)
        XCTAssertEqual(a.curve.map(\.loss), b.curve.map(\.loss))
        var other = options(steps: 6)
        other.seed = 3
        let c = try CALRecTraining(options: other).train(model: model, datasets: data)
        XCTAssertNotEqual(a.curve.map(\.loss), c.curve.map(\.loss))
    }

    func testNDCGSelectionKeepsTheStepWithTheBestValidationNDCG() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        var options = options(steps: 120)
        options.validateEvery = 30
        options.selection = .ndcg(samples: 2, temperature: 0)
        let result = try CALRecTraining(options: options).train(
            model: try CALRecFixtures.model(tokenizer), datasets: [(TrainingSequences(dataset: CALRecFixtures.dataset()), builder)])
        let validated = result.curve.filter { $0.validationNDCG != nil }
        XCTAssertEqual(validated.map(\.step), [30, 60, 90, 120])
        let best = validated.max { a, b in a.validationNDCG! < b.validationNDCG! || (a.validationNDCG! == b.validationNDCG! && a.step > b.step) }!
        XCTAssertEqual(result.bestStep, best.step)
        XCTAssertEqual(result.bestValidation, -best.validationNDCG!)
        XCTAssertGreaterThan(best.validationNDCG!, 0.3, "the cycle is learnable: \(validated.map { $0.validationNDCG! })")
    }
}
