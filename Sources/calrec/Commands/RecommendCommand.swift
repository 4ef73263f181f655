import ArgumentParser
import CALRec
import Evaluation
import Foundation
import LanguageModel
import RecData
import Reporting
import Retrieval
import Support
import Workbench

/// `calrec recommend`: CALRec's inference and evaluation (docs/method.md §5–6) for a fine-tuned model.
struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Sample N_gen continuations per user, rank the catalogue by quasi-round-robin BM25, evaluate (samples.jsonl, ranks.tsv, metrics.json, grounding.json).")

    @Option(help: "Model folder from `calrec train` (its calrec.json gives the prompt settings).") var model: String
    @OptionGroup var source: DataSourceOptions
    @OptionGroup var evaluation: EvaluationOptions

    @Option(name: .customLong("samples"), help: "N_gen: continuations sampled per user.") var samples = 10
    @Option(help: "Sampling temperature (0: greedy). Reported with every result.") var temperature: Float = 0.5
    @Option(name: .customLong("top-k")) var topK: Int?
    @Option(name: .customLong("top-p")) var topP: Float?
    @Option(name: .customLong("users-per-batch"), help: "Users generated together (batch = users × samples).") var usersPerBatch = 4
    @Option(name: .customLong("max-input"), help: "Override the model's prompt budget in tokens.") var maxInput: Int?
    @Option(help: "Sampling seed.") var seed: UInt64 = 0
    @OptionGroup var ranking: RankingOptions
    @Option(help: "Method name recorded in metrics.json.") var method = "calrec"
    @Option(help: "swift (this engine) or torch (python/calrec_torch: the KV-cache sampler on a GPU, several processes).")
    var engine = "swift"
    @Option(help: "--engine torch: processes (accelerate launch; one per GPU).") var processes = 1
    @Option(help: "--engine torch: auto (a GPU where there is one) or cpu.") var device = "auto"
    @Option(help: "--engine torch: the Python to run (default: CALREC_PYTHON, else .venv/bin/python).") var python: String?

    func validate() throws {
        guard engine == "swift" || engine == "torch" else { throw ValidationError("--engine must be swift or torch; got '\(engine)'") }
        guard device == "auto" || device == "cpu" else { throw ValidationError("--device must be auto or cpu; got '\(device)'") }
        if engine == "torch" && (topK != nil || topP != nil) { throw ValidationError("--engine torch samples from the whole distribution; --top-k and --top-p are this engine's") }
        if engine == "swift" && (processes != 1 || python != nil) { throw ValidationError("--processes and --python apply to --engine torch") }
    }

    func run() throws {
        var datasets: [SequenceDataset] = []
        try source.forEachDataset { datasets.append($0) }
        guard datasets.count == 1 else { throw ValidationError("recommend needs exactly one dataset; choose one with --category or --name") }
        let dataset = datasets[0]
        let folder = try ModelFolder(path: model)
        let settings = try Self.settings(model)
        let template = settings.template
        let maxOutput = settings.maxOutput
        let maxInput = self.maxInput ?? settings.maxInput ?? (folder.model.maxPositions - maxOutput)
        let builder = try PromptBuilder(
            template: template, tokenizer: folder.tokenizer, items: dataset.items, format: source.itemTextFormat, maxInputTokens: maxInput,
            maxOutputTokens: maxOutput)
        var options = Recommender.Options()
        options.samples = samples
        options.temperature = temperature
        options.topK = topK
        options.topP = topP
        options.usersPerBatch = usersPerBatch
        options.seed = seed
        options.ranking = ranking.quasiRoundRobin
        let recommender = Recommender(model: folder.model, builder: builder, options: options)
        var cases = dataset.evaluationCases(evaluation.split)
        if let limit = evaluation.userLimit { cases = Array(cases.prefix(limit)) }
        log("\(dataset.name): \(cases.count) users × \(samples) samples at temperature \(temperature)")
        let progress = ProgressDisplay(total: cases.count, label: "users")
        let started = Date()
        let cpuStarted = Platform.processCPUSeconds()
        let childCPUStarted = Platform.childrenCPUSeconds()
        let generated: [[GeneratedSample]]
        if engine == "torch" {
            generated = try generateOnTorch(cases: cases, dataset: dataset, builder: builder)
        } else {
            generated = recommender.generate(cases: cases) { done, _ in
                let rate = Double(done) / max(Date().timeIntervalSince(started), 1e-9)
                progress.update(done, detail: String(format: "%.1f users/s", rate))
            }
        }
        let childCPU = Platform.childrenCPUSeconds() - childCPUStarted
        let generationSeconds = Date().timeIntervalSince(started)
        let generationCPUSeconds = Platform.processCPUSeconds() - cpuStarted + childCPU
        var rows: [(user: String, sample: GeneratedSample)] = []
        for (c, list) in zip(cases, generated) { for sample in list { rows.append((dataset.userIDs[c.user], sample)) } }
        try AtomicWrite.write(try SamplesFile.render(rows), to: (evaluation.out as NSString).appendingPathComponent("samples.jsonl"))
        let index = BM25Index(documents: dataset.items.map(source.itemTextFormat.plainText))
        let ranks = recommender.rank(cases: cases, samples: generated, dataset: dataset, index: index, excludeHistory: evaluation.excludeHistory)
        let cost = ComputeCost(
            trainingStages: ComputeCost.trainingChain(model: model), inferenceSeconds: Platform.processCPUSeconds() - cpuStarted + childCPU)
        let inference = InferenceSettings(
            model: model, samples: samples, temperature: temperature, seed: seed, usersEvaluated: cases.count,
            generationSeconds: generationSeconds, generationCPUSeconds: generationCPUSeconds,
            qrr: ranking.quasiRoundRobin)
        try evaluation.write(ranks: ranks, dataset: dataset.name, method: method, multiple: false, settings: inference, cost: cost)
        try evaluation.writeGrounding(
            cases: cases, samples: generated, dataset: dataset, itemTexts: builder.generatableItemTexts, index: index, method: method)
    }

    /// The samples of every case from the PyTorch engine: the cases and the catalogue exported with
    /// this builder's tokens, `calrec_torch sample` into the output folder (samples.jsonl and
    /// sampling.json, whose environment goes into the run record), read back in case order.
    private func generateOnTorch(cases: [EvaluationCase], dataset: SequenceDataset, builder: PromptBuilder) throws -> [[GeneratedSample]] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let users = cases.map { TrainingExport.EvaluationUser(user: dataset.userIDs[$0.user], history: $0.history) }
        let export = try TrainingExport(
            datasets: [(TrainingSequences(dataset: dataset), builder, dataset.itemIDs, users)], evaluationSplit: evaluation.split.rawValue,
            mixtureExponent: 0.3)
        try export.write(to: scratch + "/export.json")
        var arguments = [
            "sample", "--export", scratch + "/export.json", "--model", model, "--out", evaluation.out, "--samples", String(samples), "--temperature",
            String(temperature), "--seed", String(seed), "--users-per-batch", String(usersPerBatch),
        ]
        if device == "cpu" { arguments.append("--cpu") }
        try TorchEngine(python: python).run(arguments, processes: processes)
        let samplesPath = (evaluation.out as NSString).appendingPathComponent("samples.jsonl")
        let byUser = try SamplesFile.read(samplesPath)
        var environment = TorchEngine.environment(recordedIn: (evaluation.out as NSString).appendingPathComponent("sampling.json"))
        environment["engine"] = "torch"
        ResultCollector.current?.record(environment: environment)
        return cases.map { byUser[dataset.userIDs[$0.user]] ?? [] }
    }

    /// The prompt settings a model folder's `calrec.json` records (the paper's when absent).
    static func settings(_ folder: String) throws -> (template: PromptTemplate, maxInput: Int?, maxOutput: Int) {
        guard let file = try ModelSettingsFile.read(folder: folder) else { return (.paper, nil, 64) }
        return (file.template.promptTemplate, file.maxInputTokens, file.maxOutputTokens)
    }
}

extension RecommendCommand: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [model]) + source.files + evaluation.files }
}
