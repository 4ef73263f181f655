import ArgumentParser
import CALRec
import Foundation
import LanguageModel
import RecData
import Reporting
import Support
import Tokenization
import Training
import Workbench

/// Where `calrec train` reads its datasets: any number of RecBole folders and Amazon 2018 categories.
struct TrainingDataOptions: ParsableArguments {
    @Option(name: .customLong("recbole"), help: "RecBole folder of one dataset (repeatable).")
    var recbole: [String] = []

    @Option(name: .customLong("amazon2018"), help: "Folder of Amazon Reviews 2018 files.")
    var amazon2018: String?

    @Option(name: .customLong("category"), help: "Category stem in --amazon2018 (repeatable; default: all there).")
    var categories: [String] = []

    @Option(name: .customLong("category-format"), help: "How a category path becomes text: path, leaf or prefix:N.")
    var categoryFormat = "path"

    func validate() throws {
        if recbole.isEmpty && amazon2018 == nil { throw ValidationError("give at least one --recbole <folder> or --amazon2018 <folder>") }
        if CategoryFormat(argument: categoryFormat) == nil {
            throw ValidationError("--category-format must be path, leaf or prefix:N; got '\(categoryFormat)'")
        }
    }

    var itemTextFormat: ItemTextFormat { ItemTextFormat(categoryFormat: CategoryFormat(argument: categoryFormat)!) }

    func datasets() throws -> [SequenceDataset] {
        var result = try recbole.map { try SequenceDataset.loadRecBole(folder: $0) }
        if let folder = amazon2018 {
            let files = categories.isEmpty ? try Amazon2018Files.discover(in: folder) : try categories.map { try Amazon2018Files.locate(category: $0, in: folder) }
            for file in files { result.append(try SequenceDataset.loadAmazon2018(file, options: Amazon2018LoadOptions())) }
        }
        return result
    }
}

/// `calrec train --stage 0|1|2`: the two-stage fine-tuning of CALRec, with our stage 0 before it.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Stage 0 (our addition: a tokenizer and a GPT-2 pretrained on item texts), stage 1 (CALRec over a mixture of datasets) or stage 2 (one dataset).",
        discussion: """
            Stage 0 trains from scratch on the item bodies of every dataset given (the paper starts from PaLM-2 instead).
            Stages 1 and 2 fine-tune --init with (1 − α − β)·L_NIG + α·L_TT + β·L_UT; stage 1 draws datasets ∝ n^0.3, stage 2 takes one.
            The output folder holds the model chosen by validation L_NIG, its tokenizer, train.jsonl and calrec.json.
            """)

    @Option(help: "0, 1 or 2.") var stage: Int
    @OptionGroup var data: TrainingDataOptions
    @Option(help: "Model to start from (stages 1 and 2): a GGUF file (e.g. SmolLM2), a Hugging Face Llama-family folder, or a folder calrec train wrote.")
    var `init`: String?
    @Option(help: "Output model folder.") var out: String

    @Option(help: "Size preset: tiny (tests), default (minutes), full.") var budget: Budget = .default
    @Option(help: "Optimisation steps (default: by --budget).") var steps: Int?
    @Option(help: "Users (stages 1–2) or sequences (stage 0) per micro-batch.") var batch = 8
    @Option(help: "Micro-batches per optimiser step.") var accumulate = 1
    @Option(name: .customLong("lr"), help: "Peak learning rate (default: 1e-3 for stage 0, 1e-4 as printed for stages 1–2).") var learningRate: Float?
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(name: .customLong("checkpoint-every"), help: "Save the training state to <out>.checkpoint every this many steps (0: at the end only).")
    var checkpointEvery = 0
    @Flag(help: "Continue from <out>.checkpoint (same data and options).") var resume = false

    // Stage 0: the model.
    @Option(help: "Stage 0: tokenizer vocabulary size.") var vocab = 4096
    @Option(help: "Stage 0: transformer layers.") var layers = 2
    @Option(help: "Stage 0: channels.") var channels = 128
    @Option(help: "Stage 0: attention heads.") var heads = 4
    @Option(help: "Stage 0: positions (context).") var context = 256
    @Option(help: "Stage 0: tokens per training window (at most --context).") var window = 128

    // Stages 1–2: the method.
    @Option(help: "Weight α of L_TT.") var alpha: Float = 0.125
    @Option(help: "Weight β of L_UT (negative as printed).") var beta: Float = -0.025
    @Option(name: .customLong("tau"), help: "InfoNCE temperature τ_c.") var tau: Float = 0.5
    @Option(help: "Prompt wording: paper or compact.") var template = "paper"
    @Option(name: .customLong("max-input"), help: "Most prompt tokens (oldest items dropped first).") var maxInput: Int?
    @Option(name: .customLong("max-output"), help: "Most target tokens, end-of-text included.") var maxOutput = 64
    @Option(name: .customLong("validate-every"), help: "Steps between validations (L_NIG; picks the checkpoint).") var validateEvery: Int?
    @Option(name: .customLong("validation-users"), help: "Validation users per dataset (default: 32 tiny, 256 default, 1,024 full).") var validationUsers: Int?
    @Option(name: .customLong("mixture-exponent"), help: "Stage 1: P(dataset) ∝ n^exponent.") var mixtureExponent = 0.3
    @Option(help: "Checkpoint criterion: loss (validation L_NIG) or ndcg (validation NDCG@10 of the full inference; slower).")
    var select = "loss"
    @Option(name: .customLong("select-samples"), help: "--select ndcg: samples per validation user.") var selectSamples = 5
    @Option(name: .customLong("select-temperature"), help: "--select ndcg: sampling temperature.") var selectTemperature: Float = 0.5

    // Stages 1–2: what trains (Llama-family models; GPT-2 fine-tunes fully).
    @Option(name: .customLong("lora-rank"), help: "LoRA adapters of this rank on a frozen base (0: train the weights themselves).")
    var loraRank = 0
    @Option(name: .customLong("lora-alpha"), help: "LoRA α (the update is scaled by α / rank).") var loraAlpha: Float = 32
    @Option(name: .customLong("lora-dropout"), help: "Dropout on the adapters' input.") var loraDropout: Float = 0.05
    @Option(name: .customLong("lora-targets"), help: "Comma-separated matrices to adapt: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj.")
    var loraTargets = LlamaMatrix.allCases.map(\.rawValue).joined(separator: ",")
    @Option(name: .customLong("train-top-blocks"), help: "Train only the last N blocks (with LoRA: adapt only them); default all.")
    var trainTopBlocks: Int?

    // Stages 1–2: which engine trains.
    @Option(help: "swift (this engine) or torch (python/calrec_torch on PyTorch + Accelerate: GPUs, several processes).")
    var engine = "swift"
    @Option(help: "--engine torch: processes (accelerate launch; one per GPU).") var processes = 1
    @Option(help: "--engine torch: auto (a GPU where there is one) or cpu.") var device = "auto"
    @Option(help: "--engine torch: the Python to run (default: CALREC_PYTHON, else .venv/bin/python).") var python: String?

    /// What trains, from the LoRA and top-block options.
    var adaptation: FineTuningOptions {
        let targets = loraTargets.split(separator: ",").compactMap { LlamaMatrix(rawValue: String($0).trimmingCharacters(in: .whitespaces)) }
        let lora = loraRank > 0 ? LoRAOptions(rank: loraRank, alpha: loraAlpha, dropout: loraDropout, targets: targets, seed: seed) : nil
        return FineTuningOptions(lora: lora, trainableTopBlocks: trainTopBlocks)
    }

    func validate() throws {
        guard (0...2).contains(stage) else { throw ValidationError("--stage must be 0, 1 or 2") }
        if stage > 0 && `init` == nil { throw ValidationError("stage \(stage) starts from a model: give --init <folder>") }
        if stage > 0 && PromptTemplate(name: template) == nil { throw ValidationError("--template must be paper or compact") }
        guard select == "loss" || select == "ndcg" else { throw ValidationError("--select must be loss or ndcg") }
        guard batch >= 1, accumulate >= 1 else { throw ValidationError("--batch and --accumulate must be at least 1") }
        guard loraRank >= 0, loraDropout >= 0, loraDropout < 1 else { throw ValidationError("--lora-rank must be ≥ 0 and --lora-dropout in [0, 1)") }
        for name in loraTargets.split(separator: ",") where LlamaMatrix(rawValue: String(name).trimmingCharacters(in: .whitespaces)) == nil {
            throw ValidationError("--lora-targets: '\(name)' is not one of \(LlamaMatrix.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let trainTopBlocks, trainTopBlocks < 1 { throw ValidationError("--train-top-blocks must be at least 1") }
        guard engine == "swift" || engine == "torch" else { throw ValidationError("--engine must be swift or torch; got '\(engine)'") }
        guard device == "auto" || device == "cpu" else { throw ValidationError("--device must be auto or cpu; got '\(device)'") }
        if engine == "torch" {
            if stage == 0 { throw ValidationError("--engine torch trains stages 1 and 2; stage 0 runs on this engine") }
            if select != "loss" { throw ValidationError("--engine torch keeps the checkpoint by validation L_NIG (--select loss)") }
            if trainTopBlocks != nil { throw ValidationError("--engine torch trains every weight or LoRA adapters; --train-top-blocks is this engine's") }
            guard processes >= 1 else { throw ValidationError("--processes must be at least 1") }
        } else if processes != 1 || python != nil {
            throw ValidationError("--processes and --python apply to --engine torch")
        }
    }


    func run() throws {
        let started = TrainingCost.Mark.now()
        let datasets = try data.datasets()
        let format = data.itemTextFormat
        let checkpointFolder = out + ".checkpoint"
        // Before --resume looks for the checkpoint: one a killed writer had moved aside comes back.
        AtomicWrite.removeDebris(of: checkpointFolder)
        if stage == 0 {
            let steps = self.steps ?? budget.trainingSteps(stage: 0)
            try runStageZero(datasets: datasets, format: format, steps: steps, checkpointFolder: checkpointFolder, started: started)
        } else {
            try runFineTuning(datasets: datasets, format: format, checkpointFolder: checkpointFolder, started: started)
        }
    }

    private func runStageZero(datasets: [SequenceDataset], format: ItemTextFormat, steps: Int, checkpointFolder: String, started: TrainingCost.Mark) throws {
        let documents = datasets.flatMap { $0.items.map(format.body) }
        guard !documents.isEmpty else { throw ValidationError("the datasets have no items") }
        let tokenizer: BPETokenizer
        // A checkpoint of another format is refused before its files are read.
        if resume, try LanguageModelTraining.readCheckpoint(checkpointFolder) != nil {
            tokenizer = try ModelFolder(path: checkpointFolder).tokenizer
        } else {
            log("stage 0: training a \(vocab)-token tokenizer on \(documents.count) item texts")
            let template = PromptTemplate(name: self.template) ?? .paper
            tokenizer = BPETrainer.train(texts: documents + [template.render(history: [])], vocabularySize: vocab)
        }
        let config = GPT2Config(vocabularySize: tokenizer.vocabulary.count, maxPositions: context, channels: channels, layers: layers, heads: heads)
        var options = LanguageModelTraining.Options()
        options.steps = steps
        options.batch = batch
        options.accumulationSteps = accumulate
        options.context = min(context, window)
        options.learningRate = learningRate ?? 1e-3
        options.warmupSteps = max(1, steps / 10)
        options.seed = seed
        log("stage 0 (our addition, from scratch): \(layers) layers, \(channels) channels, \(heads) heads, \(context) positions, \(steps) steps")
        let progress = ProgressDisplay(total: steps, label: "stage 0 step")
        let (trained, curve, priorCost) = try LanguageModelTraining(options: options).train(
            model: try GPT2Model.initialized(config: config, seed: seed), tokenizer: tokenizer, documents: documents,
            checkpointing: checkpointing(checkpointFolder, steps: steps, started: started)
        ) { point in
            progress.update(point.step, detail: String(format: "loss %.4f  %.0f tok/s", point.loss, point.tokensPerSecond))
        }
        let lines = try JSONLinesText.render(curve)
        try AtomicWrite.folder(out) { staging in
            try trained.save(to: staging)
            try tokenizer.save(to: staging)
            try AtomicWrite.write(lines, to: (staging as NSString).appendingPathComponent("train.jsonl"))
            try writeSettings(to: staging, fineTuning: nil, datasets: datasets.map(\.name), cost: priorCost + started.elapsed())
        }
        ResultCollector.current?.add(LineChart(
            title: "Stage 0 (our addition): language-model loss on item texts", xLabel: "step", yLabel: "loss",
            series: [.init(name: "loss", points: curve.map { [Double($0.step), Double($0.loss)] })]))
        print("stage 0 → \(out): loss \(CurveSummary(curve.map(\.loss)).text)")
    }

    private func runFineTuning(datasets: [SequenceDataset], format: ItemTextFormat, checkpointFolder: String, started: TrainingCost.Mark) throws {
        if stage == 2 && datasets.count != 1 {
            throw ValidationError("stage 2 fine-tunes on one dataset; got \(datasets.count)")
        }
        let start = try ModelFolder(path: `init`!)
        let steps = self.steps ?? budget.trainingSteps(stage: stage, pretrainedLlama: start.model.family == "llama")
        let maxInput = self.maxInput ?? (min(start.model.maxPositions, 1024) - maxOutput)
        let template = PromptTemplate(name: self.template)!
        let pairs = try datasets.map { dataset in
            (TrainingSequences(dataset: dataset),
             try PromptBuilder(template: template, tokenizer: start.tokenizer, items: dataset.items, format: format, maxInputTokens: maxInput, maxOutputTokens: maxOutput))
        }
        if engine == "torch" {
            try runOnTorch(start: start, datasets: datasets, pairs: pairs, steps: steps, maxInput: maxInput, template: template, started: started)
            return
        }
        var options = CALRecTraining.Options()
        options.steps = steps
        options.batch = batch
        options.accumulationSteps = accumulate
        options.learningRate = learningRate ?? 1e-4
        options.warmupSteps = max(1, steps / 10)
        options.seed = seed
        options.objective = CALRecObjective(alpha: alpha, beta: beta, temperature: tau)
        options.mixtureExponent = mixtureExponent
        options.validateEvery = validateEvery ?? max(1, steps / 5)
        options.validationUsers = validationUsers ?? budget.validationUsers
        if select == "ndcg" { options.selection = .ndcg(samples: selectSamples, temperature: selectTemperature) }
        options.fineTuning = adaptation
        for (sequences, _) in pairs { log("\(sequences.name): \(sequences.sequences.count) training sequences, \(sequences.validation.count) validation users") }
        log("stage \(stage) from a \(start.model.family) model: \(describe(adaptation))")
        log("stage \(stage): α = \(alpha), β = \(beta), τ_c = \(tau), \(template == .paper ? "paper" : "compact") template, input ≤ \(maxInput), output ≤ \(maxOutput) tokens, batch \(batch) × \(accumulate), \(steps) steps")
        let progress = ProgressDisplay(total: steps, label: "stage \(stage) step")
        let result = try CALRecTraining(options: options).train(
            model: start.model, datasets: pairs, checkpointing: checkpointing(checkpointFolder, steps: steps, started: started)
        ) { point in
            var detail = String(format: "loss %.4f (nig %.4f tt %.3f ut %.3f)  %.0f tok/s", point.loss, point.nextItem, point.targetTarget, point.userTarget, point.tokensPerSecond)
            if let valid = point.validationNextItem { detail += String(format: "  valid nig %.4f", valid) }
            if let ndcg = point.validationNDCG { detail += String(format: "  valid ndcg@10 %.4f", ndcg) }
            progress.update(point.step, detail: detail)
        }
        let lines = try JSONLinesText.render(result.curve)
        try AtomicWrite.folder(out) { staging in
            try result.model.save(to: staging)
            try start.tokenizer.save(to: staging)
            try AtomicWrite.write(lines, to: (staging as NSString).appendingPathComponent("train.jsonl"))
            let best = result.bestValidation.map(Double.init)
            let fineTuning = ModelSettingsFile.FineTuning(
                initFolder: `init`!, alpha: alpha, beta: beta, tau: tau, steps: steps, bestStep: result.bestStep, selection: select,
                bestValidNIG: select == "ndcg" ? nil : best, bestValidNDCG10: select == "ndcg" ? best.map { -$0 } : nil,
                backbone: start.model.family, adaptation: adaptation)
            try writeSettings(
                to: staging, fineTuning: fineTuning, datasets: datasets.map(\.name), cost: result.priorCost + started.elapsed(),
                template: template, maxInput: maxInput)
        }
        if let collector = ResultCollector.current {
            var series: [LineChart.Series] = [.init(name: "train L_NIG", points: result.curve.map { [Double($0.step), Double($0.nextItem)] })]
            let valid = result.curve.compactMap { p in p.validationNextItem.map { [Double(p.step), Double($0)] } }
            if !valid.isEmpty { series.append(.init(name: "validation L_NIG", points: valid)) }
            collector.add(LineChart(title: "Stage \(stage): next-item loss", xLabel: "step", yLabel: "L_NIG", series: series))
            if let best = result.bestValidation, select == "loss" { collector.record(metric: "stage \(stage) best validation L_NIG", Double(best)) }
        }
        let kept = result.bestValidation.map {
            select == "ndcg" ? String(format: " (validation NDCG@10 %.4f)", -$0) : String(format: " (validation L_NIG %.4f)", $0)
        } ?? ""
        print("stage \(stage) → \(out): L_NIG \(CurveSummary(result.curve.map(\.nextItem)).text); kept step \(result.bestStep)\(kept)")
    }

    /// Stages 1–2 on the PyTorch engine: the export of these datasets with this tokenizer and
    /// template, `calrec_torch train` on it (in `--processes` processes), then calrec.json beside
    /// what it wrote, and its environment (versions, devices, world size) in the run record.
    private func runOnTorch(
        start: ModelFolder, datasets: [SequenceDataset], pairs: [(TrainingSequences, PromptBuilder)], steps: Int, maxInput: Int,
        template: PromptTemplate, started: TrainingCost.Mark
    ) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let exportPath = scratch + "/export.json"
        let entries = zip(datasets, pairs).map { dataset, pair in
            (sequences: pair.0, builder: pair.1, itemIDs: dataset.itemIDs, evaluation: [TrainingExport.EvaluationUser]())
        }
        try TrainingExport(datasets: entries, evaluationSplit: "test", mixtureExponent: mixtureExponent).write(to: exportPath)
        var arguments = [
            "train", "--export", exportPath, "--init", `init`!, "--out", out, "--stage", String(stage), "--steps", String(steps), "--batch", String(batch),
            "--accumulate", String(accumulate), "--lr", String(learningRate ?? 1e-4), "--warmup", String(max(1, steps / 10)), "--alpha", String(alpha),
            "--beta", String(beta), "--tau", String(tau), "--seed", String(seed), "--validate-every", String(validateEvery ?? max(1, steps / 5)),
            "--validation-users", String(validationUsers ?? budget.validationUsers), "--lora-rank", String(loraRank),
            "--lora-alpha", String(loraAlpha), "--lora-dropout", String(loraDropout), "--lora-targets", loraTargets,
        ]
        if checkpointEvery > 0 { arguments += ["--checkpoint-every", String(checkpointEvery)] }
        if resume { arguments.append("--resume") }
        if device == "cpu" { arguments.append("--cpu") }
        // Adapters of --init (a LoRA folder) go on training as they are, whatever the LoRA options say.
        let adaptation = (start.model as? LlamaModel)?.lora.map { FineTuningOptions(lora: $0, trainableTopBlocks: nil) } ?? self.adaptation
        log("stage \(stage) on the PyTorch engine (\(processes) process\(processes == 1 ? "" : "es")) from a \(start.model.family) model: \(describe(adaptation))")
        let childCPU = Platform.childrenCPUSeconds()
        try TorchEngine(python: python).run(arguments, processes: processes)
        let cost = TrainingCost(cpuSeconds: Platform.childrenCPUSeconds() - childCPU, wallSeconds: 0) + started.elapsed()
        // The tokenizer beside the model, as this engine's folders have it (adapters on a GGUF base have none otherwise).
        try start.tokenizer.save(to: out)
        let recorded = (out as NSString).appendingPathComponent("calrec_torch.json")
        var environment = TorchEngine.environment(recordedIn: recorded)
        environment["engine"] = "torch"
        ResultCollector.current?.record(environment: environment)
        let settings = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: recorded)))) as? [String: Any] ?? [:]
        let bestStep = (settings["best_step"] as? NSNumber)?.intValue ?? steps
        let best = (settings["best_valid_nig"] as? NSNumber)?.doubleValue
        let fineTuning = ModelSettingsFile.FineTuning(
            initFolder: `init`!, alpha: alpha, beta: beta, tau: tau, steps: steps, bestStep: bestStep, selection: select, bestValidNIG: best,
            bestValidNDCG10: nil, backbone: start.model.family, adaptation: adaptation)
        try writeSettings(
            to: out, fineTuning: fineTuning, datasets: datasets.map(\.name), cost: cost, template: template, maxInput: maxInput)
        if let best, let collector = ResultCollector.current { collector.record(metric: "stage \(stage) best validation L_NIG", best) }
    }

    /// What trains, in words.
    private func describe(_ adaptation: FineTuningOptions) -> String {
        let blocks = adaptation.trainableTopBlocks.map { "the top \($0) blocks" } ?? "every block"
        guard let lora = adaptation.lora else { return "full fine-tuning of \(blocks)" }
        return "LoRA rank \(lora.rank), α \(lora.alpha), dropout \(lora.dropout) on \(lora.targets.map(\.rawValue).joined(separator: ", ")) of \(blocks)"
    }

    /// Checkpoints to `folder` every --checkpoint-every steps (at the end only by default), this
    /// process's time counted from `started`.
    private func checkpointing(_ folder: String, steps: Int, started: TrainingCost.Mark) -> LanguageModelTraining.Checkpointing {
        .init(folder: folder, every: checkpointEvery > 0 ? checkpointEvery : steps, resume: resume, started: started, notice: { log($0) })
    }

    /// `calrec.json`: how prompts are built for this model (read back by `calrec recommend`), the
    /// stage's settings and what it cost, with the training chain.
    private func writeSettings(
        to folder: String, fineTuning: ModelSettingsFile.FineTuning?, datasets: [String], cost: TrainingCost,
        template: PromptTemplate? = nil, maxInput: Int? = nil
    ) throws {
        let chosen = template ?? PromptTemplate(name: self.template) ?? .paper
        let file = ModelSettingsFile(
            stage: stage, datasets: datasets, fineTuning: fineTuning, template: chosen, maxInputTokens: maxInput, maxOutputTokens: maxOutput,
            categoryFormat: data.categoryFormat, cpuSeconds: cost.cpuSeconds, wallSeconds: cost.wallSeconds, resumed: resume,
            trainingChain: ComputeCost.chain(startingFrom: stage == 0 ? nil : `init`, stage: stage, seconds: cost.cpuSeconds))
        try file.write(folder: folder)
    }
}

extension TrainingDataOptions: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: recbole + [amazon2018]) }
}

extension TrainCommand: DeclaresFiles {
    /// The data, the model it starts from, and the model folder it writes. `<out>.checkpoint` is
    /// not declared: it is the training's resumable state, and a resumed run ends where an
    /// uninterrupted one would, so it changes no result.
    var files: CommandFiles { data.files + CommandFiles(reading: [`init`], writing: [out]) }
}
