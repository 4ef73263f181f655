import ArgumentParser
import Foundation
import LanguageModel
import RecData
import Reporting
import Support
import Tokenization
import Training
import Workbench

/// `calrec lm …`: the language-model engine on its own.
struct LMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm", abstract: "Language-model tools (GPT-2 format model folders).", subcommands: [LMTrainCommand.self, LMGenerateCommand.self, LMScoreCommand.self])
}

/// `calrec lm score`: the log-probability of a text under a model.
struct LMScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Print {\"tokens\": n, \"logprob\": x}: n tokens in the text, x the summed natural-log probability of tokens 2…n.")

    @Option(help: "Model folder: config.json, model.safetensors, vocab.json, merges.txt.")
    var model: String

    @Option(help: "The text to score.")
    var text: String

    func run() throws {
        let folder = try ModelFolder(path: model)
        let ids = folder.tokenizer.encode(text)
        guard ids.count <= folder.model.maxPositions else {
            throw ValidationError("the text has \(ids.count) tokens; the model reads at most \(folder.model.maxPositions)")
        }
        try printJSONLine(ScoredText(tokens: ids.count, logprob: folder.model.logProbability(of: ids)))
    }
}

/// `calrec lm train`: a byte-level BPE tokenizer and a GPT-2 trained from scratch on documents.
struct LMTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a tokenizer and a GPT-2 from scratch on a text file (one document a line) or an item catalogue.")

    @Option(name: .customLong("text-file"), help: "Documents, one a line.")
    var textFile: String?

    @OptionGroup var source: LMCatalogueOptions

    @Option(help: "Output model folder (config.json, model.safetensors, vocab.json, merges.txt, train.jsonl, cost.json).")
    var out: String

    @Option(help: "Tokenizer vocabulary size (special tokens included).") var vocab = 2048
    @Option(help: "Transformer layers.") var layers = 2
    @Option(help: "Channels (embedding size).") var channels = 128
    @Option(help: "Attention heads.") var heads = 4
    @Option(help: "Context length in tokens.") var context = 64
    @Option(help: "Sequences per micro-batch.") var batch = 8
    @Option(help: "Micro-batches accumulated per optimiser step (effective batch = batch × accumulate).") var accumulate = 1
    @Option(name: .customLong("checkpoint-every"), help: "Save the training state to <out>.checkpoint every this many steps (0: never).")
    var checkpointEvery = 0
    @Flag(help: "Continue from <out>.checkpoint (same data and options) to the result of an uninterrupted run.") var resume = false
    @Option(help: "Optimisation steps (default: by --budget).") var steps: Int?
    @Option(help: "Size preset for the steps: tiny (20), default (600), full (6,000).") var budget: Budget = .default
    @Option(name: .customLong("lr"), help: "Peak learning rate.") var learningRate: Float = 1e-3
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func run() throws {
        let started = TrainingCost.Mark.now()
        let documents: [String]
        if let textFile {
            guard let data = FileManager.default.contents(atPath: textFile) else { throw RecDataError.missingPath(textFile) }
            documents = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        } else {
            documents = try source.documents()
        }
        guard !documents.isEmpty else { throw ValidationError("no documents to train on") }
        let checkpointFolder = out + ".checkpoint"
        // Before --resume looks for the checkpoint: one a killed writer had moved aside comes back.
        AtomicWrite.removeDebris(of: checkpointFolder)
        let tokenizer: BPETokenizer
        // A checkpoint of another format is refused before its files are read.
        if resume, try LanguageModelTraining.readCheckpoint(checkpointFolder) != nil {
            log("resuming from \(checkpointFolder)")
            tokenizer = try ModelFolder(path: checkpointFolder).tokenizer
        } else {
            log("training a \(vocab)-token tokenizer on \(documents.count) documents")
            tokenizer = BPETrainer.train(texts: documents, vocabularySize: vocab)
        }
        let config = GPT2Config(
            vocabularySize: tokenizer.vocabulary.count, maxPositions: context, channels: channels, layers: layers, heads: heads)
        let model = try GPT2Model.initialized(config: config, seed: seed)
        var options = LanguageModelTraining.Options()
        let steps = self.steps ?? budget.languageModelSteps
        options.steps = steps
        options.batch = batch
        options.accumulationSteps = max(1, accumulate)
        options.context = context
        options.learningRate = learningRate
        options.warmupSteps = max(1, steps / 10)
        log("\(layers) layers, \(channels) channels, \(heads) heads, context \(context), batch \(batch) × \(options.accumulationSteps), \(steps) steps")
        options.seed = seed
        let progress = ProgressDisplay(total: steps, label: "step")
        let checkpointing = checkpointEvery > 0 || resume
            ? LanguageModelTraining.Checkpointing(
                folder: checkpointFolder, every: checkpointEvery > 0 ? checkpointEvery : steps, resume: resume, started: started,
                notice: { log($0) })
            : nil
        let (trained, curve, priorCost) = try LanguageModelTraining(options: options).train(
            model: model, tokenizer: tokenizer, documents: documents, checkpointing: checkpointing
        ) { point in
            progress.update(
                point.step,
                detail: String(format: "loss %.4f  lr %.2e  grad-norm %.2f  %.0f tok/s", point.loss, point.learningRate, point.gradientNorm, point.tokensPerSecond))
        }
        let lines = try JSONLinesText.render(curve)
        try AtomicWrite.folder(out) { staging in
            try trained.save(to: staging)
            try tokenizer.save(to: staging)
            try AtomicWrite.write(lines, to: (staging as NSString).appendingPathComponent("train.jsonl"))
            // What training cost, every process of a resumed run included.
            let cost = TrainingCostFile(steps: steps, cost: priorCost + started.elapsed(), resumed: resume)
            try AtomicWrite.write(try encodedJSON(cost, pretty: true), to: (staging as NSString).appendingPathComponent("cost.json"))
        }
        if let collector = ResultCollector.current {
            collector.add(LineChart(title: "Training loss", xLabel: "step", yLabel: "loss",
                                    series: [.init(name: "loss", points: curve.map { [Double($0.step), Double($0.loss)] })]))
            collector.record(metric: "final loss", Double(curve.last!.loss))
        }
        print("trained \(out): \(trained.parameters.values.reduce(0) { $0 + $1.values.count }) parameters, loss \(CurveSummary(curve.map(\.loss)).text)")
    }
}

/// `calrec lm generate`: samples continuations of a prompt.
struct LMGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Sample continuations of a prompt; prints JSON lines {text, tokens, logprob}.")

    @Option(help: "Model folder.") var model: String
    @Option(help: "The prompt.") var prompt: String
    @Option(help: "Continuations to sample.") var samples = 1
    @Option(help: "Sampling temperature (0: greedy).") var temperature: Float = 1
    @Option(name: .customLong("top-k")) var topK: Int?
    @Option(name: .customLong("top-p")) var topP: Float?
    @Option(name: .customLong("max-new-tokens")) var maxNewTokens = 32
    @Option(help: "Stop when the text ends with this (repeatable).") var stop: [String] = []
    @Option(help: "Random seed.") var seed: UInt64 = 0

    func run() throws {
        let folder = try ModelFolder(path: model)
        let ids = folder.tokenizer.encode(prompt)
        guard !ids.isEmpty else { throw ValidationError("the prompt is empty") }
        guard ids.count + maxNewTokens <= folder.model.maxPositions else {
            throw ValidationError("prompt (\(ids.count) tokens) plus --max-new-tokens exceeds the model's \(folder.model.maxPositions) positions")
        }
        let options = SamplingOptions(temperature: temperature, topK: topK, topP: topP, maxNewTokens: maxNewTokens, stopSequences: stop, seed: seed)
        let results = folder.model.generate(
            prompts: Array(repeating: ids, count: samples), options: options,
            endOfText: folder.tokenizer.endOfText, decode: folder.tokenizer.decode)
        for result in results {
            var text = folder.tokenizer.decode(result.tokens)
            for s in stop where text.hasSuffix(s) { text.removeLast(s.count) }
            try printJSONLine(GeneratedText(text: text, tokens: result.tokens.count, logprob: result.logprob))
        }
    }
}

/// Where `lm train` finds an item catalogue: a RecBole folder; documents are the items' template bodies.
struct LMCatalogueOptions: ParsableArguments {
    @Option(name: .customLong("recbole"), help: "RecBole folder whose items are the documents.")
    var recbole: String?

    func documents() throws -> [String] {
        guard let recbole else { throw ValidationError("give --text-file <file> or --recbole <folder>") }
        let dataset = try SequenceDataset.loadRecBole(folder: recbole)
        let format = ItemTextFormat()
        return dataset.items.map(format.body)
    }
}

extension LMCatalogueOptions: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [recbole]) }
}

extension LMTrainCommand: DeclaresFiles {
    /// The documents and the model folder (`<out>.checkpoint` as for `TrainCommand`).
    var files: CommandFiles { source.files + CommandFiles(reading: [textFile], writing: [out]) }
}

extension LMGenerateCommand: DeclaresFiles {
    /// The model only: `--prompt` is text, even when a file has that name.
    var files: CommandFiles { CommandFiles(reading: [model]) }
}

extension LMScoreCommand: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [model]) }
}
