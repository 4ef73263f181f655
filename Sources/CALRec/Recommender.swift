import Evaluation
import Foundation
import LanguageModel
import RecData
import Retrieval
import Tensors

/// CALRec's inference (docs/method.md §5): for each evaluated user, `samples` continuations of the prompt
/// sampled at `temperature` with the KV cache, each with its log-probability under the model; the
/// texts are mapped to the catalogue by quasi-round-robin BM25 and ranked by the tie-aware evaluator.
public struct Recommender {
    public struct Options: Sendable, Equatable {
        /// N_gen: continuations sampled per user.
        public var samples = 10
        public var temperature: Float = 0.5
        public var topK: Int?
        public var topP: Float?
        /// Users whose samples are generated in one batch.
        public var usersPerBatch = 4
        public var seed: UInt64 = 0
        public var ranking = QuasiRoundRobin()

        public init() {}
    }

    public let model: any CausalLanguageModel
    public let builder: PromptBuilder
    public let options: Options

    public init(model: any CausalLanguageModel, builder: PromptBuilder, options: Options) {
        self.model = model
        self.builder = builder
        self.options = options
    }

    /// The samples of every case, in case order; `progress(done, total)` after each batch of users.
    public func generate(cases: [EvaluationCase], progress: (Int, Int) -> Void = { _, _ in }) -> [[GeneratedSample]] {
        var results: [[GeneratedSample]] = []
        let perBatch = max(1, options.usersPerBatch)
        for start in stride(from: 0, to: cases.count, by: perBatch) {
            let group = cases[start..<min(start + perBatch, cases.count)]
            var prompts: [[Int32]] = []
            for c in group { prompts += Array(repeating: builder.prompt(history: c.history), count: options.samples) }
            // One seed per batch, derived from the run's seed and the batch's first case: the same
            // user gets the same samples whatever else is evaluated beside it in a run of the same layout.
            let sampling = SamplingOptions(
                temperature: options.temperature, topK: options.topK, topP: options.topP, maxNewTokens: builder.maxOutputTokens - 1,
                seed: options.seed &+ UInt64(start) &* 0x9E37_79B9_7F4A_7C15)
            let generated = model.generate(prompts: prompts, options: sampling, endOfText: builder.endOfText, decode: nil)
            for (offset, _) in group.enumerated() {
                let slice = generated[(offset * options.samples)..<((offset + 1) * options.samples)]
                results.append(
                    slice.map { GeneratedSample(text: builder.tokenizer.decode($0.tokens).trimmingCharacters(in: .whitespaces), logprob: $0.logprob) })
            }
            progress(min(start + perBatch, cases.count), cases.count)
        }
        return results
    }

    /// Ranks every case's target from its samples (quasi-round-robin BM25 over `index`).
    public func rank(
        cases: [EvaluationCase], samples: [[GeneratedSample]], dataset: SequenceDataset, index: BM25Index, excludeHistory: Bool = false
    ) -> [UserRank] {
        let byUser = Dictionary(uniqueKeysWithValues: zip(cases.map(\.user), samples))
        let ranking = options.ranking
        return FullRankingEvaluator.rank(cases: cases, dataset: dataset, excludeHistory: excludeHistory) { c, row in
            row.assign(ranking.scores(samples: byUser[c.user] ?? [], index: index))
        }
    }
}
