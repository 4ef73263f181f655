import Foundation
import XCTest
@testable import LanguageModel

final class GenerationTests: XCTestCase {
    let model = try! GPT2Model(folder: GPT2ModelTests.fixture.path)

    private func logSoftmax(_ logits: [Float], row: Int, token: Int32) -> Double {
        let v = model.config.vocabularySize
        return Sampler.logSoftmax(Array(logits[(row * v)..<((row + 1) * v)]), at: Int(token))
    }

    func testKVCacheDecodingEqualsAFullForwardPass() {
        let prompt: [Int32] = [3, 14, 15]
        let generated = model.generate(prompts: [prompt], options: SamplingOptions(temperature: 0, maxNewTokens: 8))[0]
        XCTAssertEqual(generated.tokens.count, 8)
        let full = model.logits([prompt + generated.tokens])
        let v = model.config.vocabularySize
        var logprob = 0.0
        for (i, token) in generated.tokens.enumerated() {
            let row = prompt.count - 1 + i
            let slice = full[(row * v)..<((row + 1) * v)]
            XCTAssertEqual(Int32(slice.firstIndex(of: slice.max()!)! - row * v), token, "step \(i)")
            logprob += logSoftmax(full, row: row, token: token)
        }
        XCTAssertEqual(generated.logprob, logprob, accuracy: 1e-4)
    }

    func testBatchedPromptsOfDifferentLengthsMatchOneByOne() {
        let prompts: [[Int32]] = [[3, 14, 15, 9, 26], [7], [20, 21]]
        let options = SamplingOptions(temperature: 0, maxNewTokens: 6)
        let batched = model.generate(prompts: prompts, options: options)
        for (prompt, result) in zip(prompts, batched) {
            let alone = model.generate(prompts: [prompt], options: options)[0]
            XCTAssertEqual(result.tokens, alone.tokens)
            XCTAssertEqual(result.logprob, alone.logprob, accuracy: 1e-4)
        }
    }

    func testSamplingIsSeededAndTopKOneIsGreedy() {
        let prompt: [Int32] = [1, 2, 3]
        let a = model.generate(prompts: [prompt, prompt], options: SamplingOptions(temperature: 1, maxNewTokens: 10, seed: 5))
        let b = model.generate(prompts: [prompt, prompt], options: SamplingOptions(temperature: 1, maxNewTokens: 10, seed: 5))
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a[0].tokens, a[1].tokens, "two samples of one prompt differ")
        let greedy = model.generate(prompts: [prompt], options: SamplingOptions(temperature: 0, maxNewTokens: 10))
        let topOne = model.generate(prompts: [prompt], options: SamplingOptions(temperature: 1.5, topK: 1, maxNewTokens: 10, seed: 9))
        XCTAssertEqual(greedy[0].tokens, topOne[0].tokens)
        XCTAssertEqual(greedy[0].logprob, topOne[0].logprob, accuracy: 1e-6, "the score ignores the temperature")
        let stop = greedy[0].tokens[2]
        let endsEarly = model.generate(prompts: [prompt], options: SamplingOptions(temperature: 0, maxNewTokens: 10), endOfText: stop)
        XCTAssertEqual(endsEarly[0].tokens, Array(greedy[0].tokens.prefix(greedy[0].tokens.firstIndex(of: stop)!)))
    }
}
