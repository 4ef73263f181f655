import Foundation
import LanguageModel
import RecData
import Support
import Tensors
import TestEnvironment
import Tokenization
import XCTest
@testable import CALRec

/// The PyTorch engine (`python/calrec_torch`) against this one on the same weights and the same
/// exported examples: prompt assembly, the objective's parts, gradients, and 20 AdamW steps. Runs
/// with the project's Python environment (`make venv`, or `CALREC_PYTHON`); skipped without torch.
final class TorchEngineTests: XCTestCase {
    /// The environment's Python, with torch, transformers, peft and accelerate.
    func python() throws -> String {
        try TestEnvironment.python(importing: ["torch", "transformers", "peft", "accelerate"])
    }

    func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: Data, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = TestEnvironment.repository.appendingPathComponent("python").path
        environment["HF_HUB_OFFLINE"] = "1"
        process.environment = environment
        // stderr to a file: a pipe nobody reads while stdout is drained could fill and stall the child.
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-torch-\(UUID().uuidString).err").path
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = FileManager.default.contents(atPath: errPath) ?? Data()
        return (process.terminationStatus, output, String(decoding: errors, as: UTF8.self))
    }

    /// Runs `python -m calrec_torch check …` and returns its JSON.
    func harness(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(try python(), ["-m", "calrec_torch", "check"] + arguments)
        XCTAssertEqual(result.status, 0, result.err)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: result.out) as? [String: Any], result.err)
    }

    func scratch(_ name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-torch-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func writeExport(builder: PromptBuilder, dataset: SequenceDataset, to folder: String) throws -> String {
        let path = folder + "/export.json"
        let export = try TrainingExport(
            datasets: [(TrainingSequences(dataset: dataset), builder, dataset.itemIDs, [])], evaluationSplit: "test", mixtureExponent: 0.3)
        try export.write(to: path)
        XCTAssertEqual(try TrainingExport.read(path), export, "the export reads back as written")
        return path
    }

    func json(_ examples: [SequenceExample]) -> [[String: Any]] { examples.map { ["history": $0.history.map(Int.init), "target": Int($0.target)] } }

    func write(_ object: Any, to path: String) throws {
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    /// 500 draws under a budget that keeps several of the 12-purchase histories' items and 500
    /// under one that a single item overflows (the prompt then keeps that item's last tokens).
    func testAModelLoadedFromAGGUFFileSavesAsAPlainHuggingFaceFolderWithTheSameLogits() throws {
        let python = try python()
        let gguf = try TestEnvironment.smolLM2()
        let folder = try scratch("gguf-save")
        // Full fine-tuning from a GGUF file ends with save_pretrained: it must not refuse the
        // dequantized model, and the folder must load back to the same function.
        let script = """
            import sys, torch
            from transformers import AutoModelForCausalLM
            from calrec_torch.models import load_base
            model = load_base(sys.argv[1], torch.float32)
            model.save_pretrained(sys.argv[2], safe_serialization=True)
            again = AutoModelForCausalLM.from_pretrained(sys.argv[2], dtype=torch.float32)
            ids = torch.tensor([[1, 504, 3458, 30, 2]])
            with torch.no_grad():
                print(float((model(ids).logits - again(ids).logits).abs().max()))
            """
        let result = try run(python, ["-c", script, gguf, folder + "/saved"])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertEqual(Double(String(decoding: result.out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/saved/model.safetensors"))
    }

    func testPromptAssemblyInPythonEqualsTheSwiftTokenIdsOnAThousandDraws() throws {
        _ = try python()
        let tokenizer = CALRecFixtures.tokenizer()
        let dataset = CALRecFixtures.dataset(length: 12)
        let sequences = TrainingSequences(dataset: dataset)
        var random = SeededRandom(seed: 11)
        for maxInput in [64, 24] {
            let folder = try scratch("prompts")
            let builder = try CALRecFixtures.builder(tokenizer, maxInput: maxInput, maxOutput: 12)
            let exportPath = try writeExport(builder: builder, dataset: dataset, to: folder)
            let draws = (0..<500).map { _ in sequences.draw(Int(random.next() % UInt64(sequences.sequences.count)), random: &random) }
            try write(json(draws), to: folder + "/draws.json")
            let result = try harness(["--export", exportPath, "--draws", folder + "/draws.json"])
            let prompts = try XCTUnwrap(result["prompts"] as? [[Int]]), targets = try XCTUnwrap(result["targets"] as? [[Int]])
            let decoded = try XCTUnwrap(result["decoded"] as? [String])
            XCTAssertEqual(prompts.count, 500)
            var lengths = Set<Int>()
            for (index, draw) in draws.enumerated() {
                let prompt = builder.prompt(history: draw.history)
                lengths.insert(prompt.count)
                XCTAssertEqual(prompts[index], prompt.map(Int.init), "budget \(maxInput), draw \(index)")
                XCTAssertEqual(targets[index], builder.target(draw.target).map(Int.init), "budget \(maxInput), draw \(index)")
                XCTAssertEqual(decoded[index], tokenizer.decode(prompt + builder.target(draw.target)), "decoded, draw \(index)")
            }
            if maxInput == 64 {
                XCTAssertGreaterThan(lengths.count, 3, "histories of several lengths: \(lengths.sorted())")
            } else {
                XCTAssertEqual(lengths, [24], "every prompt cut to the budget")
            }
        }
    }

    func testGPT2ObjectiveGradientsAndTwentyAdamWStepsAgreeWithPyTorch() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let model = try CALRecFixtures.model(tokenizer)
        try assertEnginesAgree(model: model, tokenizer: tokenizer, gradients: ["wte.weight", "h.0.attn.c_attn.weight", "ln_f.bias"])
    }

    func testLlamaObjectiveGradientsAndTwentyAdamWStepsAgreeWithPyTorch() throws {
        let tokenizer = CALRecFixtures.tokenizer()
        let config = LlamaConfig(
            vocabularySize: tokenizer.vocabulary.count, hiddenSize: 32, intermediateSize: 64, layers: 2, attentionHeads: 4, keyValueHeads: 2,
            maxPositions: 128, rmsNormEpsilon: 1e-5, ropeTheta: 10_000, tiedEmbeddings: true)
        let model = try LlamaModel.initialized(config: config, seed: 5)
        try assertEnginesAgree(
            model: model, tokenizer: tokenizer,
            gradients: ["model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.down_proj.weight"])
    }

    func assertEnginesAgree(
        model: any CausalLanguageModel, tokenizer: BPETokenizer, gradients names: [String], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        _ = try python()
        let folder = try scratch("objective")
        let builder = try CALRecFixtures.builder(tokenizer)
        let dataset = CALRecFixtures.dataset()
        let exportPath = try writeExport(builder: builder, dataset: dataset, to: folder)
        try model.save(to: folder + "/model")
        try tokenizer.save(to: folder + "/model")
        let sequences = TrainingSequences(dataset: dataset)
        var random = SeededRandom(seed: 3)
        let examples = (0..<5).map { _ in (0..<4).map { _ in sequences.draw(Int(random.next() % 20), random: &random) } }
        try write(examples.map(json), to: folder + "/batches.json")
        let batches = examples.map { CALRecBatch(examples: $0, builder: builder) }
        // Contrastive weights large enough that L_TT and L_UT shape the gradients.
        let objective = CALRecObjective(alpha: 0.3, beta: -0.1, temperature: 0.5)
        let steps = 20

        let trainer = try model.trainer(fineTuning: .full)
        let set = trainer.parameterSet
        let tape = Tape()
        set.zeroGradients()
        let initial = objective.record(tape, trainer: trainer, batch: batches[0])
        tape.backward()
        let swiftGradients = names.map { set.required($0).gradient.array }
        var curve: [CALRecObjective.Losses] = []
        for step in 1...steps {
            set.zeroGradients()
            curve.append(objective.record(tape, trainer: trainer, batch: batches[(step - 1) % batches.count]))
            tape.backward()
            GradientClipping.clip(set, maxNorm: 1)
            AdamW(weightDecay: 0.01).update(set, step: step, lr: 1e-3)
        }

        let result = try harness([
            "--export", exportPath, "--model", folder + "/model", "--batches", folder + "/batches.json", "--alpha", "0.3", "--beta", "-0.1",
            "--tau", "0.5", "--steps", String(steps), "--lr", "1e-3", "--weight-decay", "0.01", "--clip", "1", "--gradients",
        ] + names)
        func close(_ a: Double, _ b: Float, _ tolerance: Double, _ what: String) {
            XCTAssertEqual(a, Double(b), accuracy: tolerance * max(1, abs(Double(b))), what, file: file, line: line)
        }
        let torchInitial = try XCTUnwrap(result["initial"] as? [String: Double])
        close(torchInitial["nig"]!, initial.nextItem, 1e-4, "L_NIG")
        close(torchInitial["tt"]!, initial.targetTarget, 1e-4, "L_TT")
        close(torchInitial["ut"]!, initial.userTarget, 1e-4, "L_UT")
        close(torchInitial["loss"]!, initial.total, 1e-4, "total")
        let torchGradients = try XCTUnwrap(result["gradients"] as? [String: [Double]])
        for (name, ours) in zip(names, swiftGradients) {
            guard let theirs = torchGradients[name] else {
                XCTFail("no gradient of \(name) from PyTorch", file: file, line: line)
                continue
            }
            XCTAssertEqual(theirs.count, ours.count, name, file: file, line: line)
            let scale = max(1e-6, ours.map { abs(Double($0)) }.max() ?? 0)
            let worst = zip(theirs, ours).map { abs($0 - Double($1)) }.max() ?? 0
            XCTAssertLessThan(worst / scale, 1e-3, "\(name): largest difference \(worst) against gradients up to \(scale)", file: file, line: line)
        }
        let torchCurve = try XCTUnwrap(result["steps"] as? [[String: Double]])
        XCTAssertEqual(torchCurve.count, steps, file: file, line: line)
        for (step, (theirs, ours)) in zip(torchCurve, curve).enumerated() { close(theirs["loss"]!, ours.total, 1e-3, "loss of step \(step + 1)") }
        XCTAssertLessThan(curve.last!.total, curve.first!.total, "the steps train", file: file, line: line)
    }

    /// The sampler's cached decoding (left-padded prompts of different lengths, then one token a
    /// step) scores fixed continuations as this engine's full passes do.
    func testSamplerLogProbabilitiesOfFixedContinuationsEqualTheSwiftScores() throws {
        let python = try python()
        let folder = try scratch("score")
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        let config = LlamaConfig(
            vocabularySize: tokenizer.vocabulary.count, hiddenSize: 32, intermediateSize: 64, layers: 2, attentionHeads: 4, keyValueHeads: 2,
            maxPositions: 128, rmsNormEpsilon: 1e-5, ropeTheta: 10_000, tiedEmbeddings: true)
        let models: [(String, any CausalLanguageModel)] = [
            ("gpt2", try CALRecFixtures.model(tokenizer)), ("llama", try LlamaModel.initialized(config: config, seed: 9)),
        ]
        let pairs: [(prompt: [Int32], continuation: [Int32])] = [
            (builder.prompt(history: [0, 1, 2]), builder.target(3)), (builder.prompt(history: [5]), builder.target(6)),
            (builder.prompt(history: [7, 8, 9, 10, 11]), builder.target(0)),
        ]
        try write(pairs.map { ["prompt": $0.prompt.map(Int.init), "continuation": $0.continuation.map(Int.init)] }, to: folder + "/pairs.json")
        for (name, model) in models {
            try model.save(to: folder + "/" + name)
            let result = try run(python, ["-m", "calrec_torch", "score", "--model", folder + "/" + name, "--pairs", folder + "/pairs.json"])
            XCTAssertEqual(result.status, 0, result.err)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.out) as? [String: Any])
            let theirs = try XCTUnwrap(object["logprobs"] as? [Double])
            for (index, pair) in pairs.enumerated() {
                let ours = model.logProbability(of: pair.prompt + pair.continuation) - model.logProbability(of: pair.prompt)
                XCTAssertEqual(theirs[index], ours, accuracy: 1e-4 * max(1, abs(ours)), "\(name), pair \(index)")
            }
        }
    }

    /// `accelerate launch` with two CPU processes (gloo), each with half the micro-batch, trains as
    /// one process with the whole micro-batch: the same losses for 20 steps.
    func testTwoProcessesTrainAsOneWithTheSameGlobalBatch() throws {
        let python = try python()
        let folder = try scratch("ddp")
        let tokenizer = CALRecFixtures.tokenizer()
        let builder = try CALRecFixtures.builder(tokenizer)
        let dataset = CALRecFixtures.dataset()
        let exportPath = try writeExport(builder: builder, dataset: dataset, to: folder)
        try CALRecFixtures.model(tokenizer).save(to: folder + "/m0")
        try tokenizer.save(to: folder + "/m0")
        let common = [
            "train", "--export", exportPath, "--init", folder + "/m0", "--steps", "20", "--lr", "1e-3", "--validation-users", "8", "--threads", "1",
            "--cpu", "--seed", "4",
        ]
        let one = try run(python, ["-m", "calrec_torch"] + common + ["--out", folder + "/one", "--batch", "4"])
        XCTAssertEqual(one.status, 0, one.err)
        let accelerate = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("accelerate").path
        let port = String(29_500 + Int.random(in: 100..<2_000))
        let two = try run(accelerate, [
            "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
            "--main_process_port", port, "-m", "calrec_torch",
        ] + common + ["--out", folder + "/two", "--batch", "2"])
        XCTAssertEqual(two.status, 0, two.err)
        func curve(_ run: String) throws -> [[String: Any]] {
            try String(contentsOfFile: folder + "/" + run + "/train.jsonl", encoding: .utf8).split(separator: "\n").map {
                try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
        let (a, b) = (try curve("one"), try curve("two"))
        XCTAssertEqual(a.count, 20)
        XCTAssertEqual(b.count, 20)
        for (step, (x, y)) in zip(a, b).enumerated() {
            for key in ["loss", "nig", "tt", "ut"] {
                let (u, v) = ((x[key] as! NSNumber).doubleValue, (y[key] as! NSNumber).doubleValue)
                XCTAssertEqual(u, v, accuracy: 1e-5, "step \(step + 1) \(key)")
            }
        }
        let settings = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/two/calrec_torch.json"))) as? [String: Any])
        XCTAssertEqual((settings["environment"] as? [String: Any])?["world_size"] as? Int, 2)
    }
}

