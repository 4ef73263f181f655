import XCTest
@testable import LanguageModel

extension XCTestCase {
    /// Greedy generation with the KV cache (all prompts in one left-padded batch) picks, at each
    /// step, the argmax of a full pass over the prompt and the tokens so far, and its log-probability
    /// is the full passes' (within `tolerance` relative).
    func assertGreedyGenerationEqualsFullPasses(
        _ model: any CausalLanguageModel, prompts: [[Int32]], newTokens: Int, tolerance: Double, file: StaticString = #filePath, line: UInt = #line
    ) -> [GeneratedSequence] {
        let generated = model.generate(prompts: prompts, options: SamplingOptions(temperature: 0, maxNewTokens: newTokens), endOfText: nil, decode: nil)
        let v = model.vocabularySize
        for (prompt, sequence) in zip(prompts, generated) {
            XCTAssertEqual(sequence.tokens.count, newTokens, file: file, line: line)
            var context = prompt
            var logprob = 0.0
            for token in sequence.tokens {
                let logits = model.logits([context], keyMask: nil)
                let last = Array(logits[((context.count - 1) * v)..<(context.count * v)])
                XCTAssertEqual(Int(token), last.indices.max { last[$0] < last[$1] }!, file: file, line: line)
                logprob += Sampler.logSoftmax(last, at: Int(token))
                context.append(token)
            }
            XCTAssertEqual(sequence.logprob, logprob, accuracy: tolerance * max(1, abs(logprob)), file: file, line: line)
        }
        return generated
    }
}
