import Foundation
import Tensors
import XCTest
import TestEnvironment
@testable import LanguageModel

/// A tiny Llama-family model: its training and decoding paths agree, the KV cache reproduces full
/// passes, gradients match finite differences, and LoRA behaves as PEFT defines it.
final class LlamaModelTests: XCTestCase {

    static let config = LlamaConfig(
        vocabularySize: 40, hiddenSize: 16, intermediateSize: 24, layers: 2, attentionHeads: 4, keyValueHeads: 2, maxPositions: 64,
        rmsNormEpsilon: 1e-5, ropeTheta: 10_000, tiedEmbeddings: true)

    static func model(seed: UInt64 = 3, config: LlamaConfig = config) throws -> LlamaModel {
        // Larger weights than the 0.02 of initialisation, so the blocks do more than pass the embedding through.
        let model = try LlamaModel.initialized(config: config, seed: seed)
        let scaled = model.parameters.mapValues { t in SafeTensors.Tensor(shape: t.shape, values: t.shape.count == 2 ? t.values.map { $0 * 15 } : t.values) }
        return try LlamaModel(config: config, parameters: scaled)
    }

    func trainingLogits(_ trainer: LlamaTrainer, _ tokens: [[Int32]]) -> [Float] {
        let tape = Tape()
        defer { tape.reset() }
        return trainer.outputLogits(tape, trainer.hidden(tape, tokens: tokens)).value.array
    }

    func testTrainingForwardEqualsTheDecodingPass() throws {
        for tied in [true, false] {
            var config = Self.config
            config.tiedEmbeddings = tied
            let model = try Self.model(config: config)
            let tokens: [[Int32]] = [[1, 5, 9, 2, 33, 7], [4, 4, 12, 39, 0, 8]]
            let trainer = try LlamaTrainer(model: model, fineTuning: .full)
            let training = trainingLogits(trainer, tokens)
            let decoding = model.logits(tokens)
            XCTAssertEqual(training.count, decoding.count)
            for (a, b) in zip(training, decoding) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
        }
    }

    /// Greedy generation with the cache picks, at each step, the argmax of a full pass over the
    /// prompt and the tokens so far, and its log-probabilities are those of the full pass.
    func testKVCacheGenerationEqualsFullForwardPasses() throws {
        _ = assertGreedyGenerationEqualsFullPasses(try Self.model(), prompts: [[3, 17, 8], [22, 1, 30, 5, 11]], newTokens: 6, tolerance: 1e-4)
    }

    /// d(loss)/d(parameter) of the whole model (cross-entropy of next tokens) against central
    /// differences for entries of an adapter's A and B, a norm gain and a base matrix.
    func testModelGradientsMatchFiniteDifferences() throws {
        let model = try Self.model()
        let tokens: [[Int32]] = [[1, 5, 9, 2, 33, 7]]
        let targets: [[Int32]] = [[5, 9, 2, 33, 7, 3]]
        let mask: [[Float]] = [[1, 1, 0, 1, 1, 1]]
        for fineTuning in [FineTuningOptions(lora: LoRAOptions(rank: 2, alpha: 4, dropout: 0, targets: [.query, .down])), .full] {
            let trainer = try LlamaTrainer(model: model, fineTuning: fineTuning)
            // Non-zero B, so that A has a gradient too.
            for (tensor, variable) in zip(trainer.parameterSet.tensors, trainer.parameterSet.variables) where tensor.name.contains("lora_B") {
                variable.value.assign((0..<tensor.count).map { Float(($0 % 7) - 3) * 0.2 })
            }
            func loss() -> Double {
                let tape = Tape()
                defer { tape.reset() }
                let logits = trainer.outputLogits(tape, trainer.hidden(tape, tokens: tokens))
                let v = logits.shape.last!
                return Double(CrossEntropy.forwardBackward(
                    logits: logits.value.base, targets: targets.flatMap { $0 }, mask: mask.flatMap { $0 }, dlogits: nil, rows: logits.count / v, vocabulary: v))
            }
            trainer.parameterSet.zeroGradients()
            let tape = Tape()
            let logits = trainer.outputLogits(tape, trainer.hidden(tape, tokens: tokens))
            _ = Ops.crossEntropy(tape, logits: logits, targets: targets.flatMap { $0 }, mask: mask.flatMap { $0 })
            tape.backward()
            let names = fineTuning.lora != nil
                ? ["model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.1.mlp.down_proj.lora_B.weight", "model.layers.1.mlp.down_proj.lora_A.weight"]
                : ["model.layers.0.input_layernorm.weight", "model.layers.1.self_attn.k_proj.weight", "model.embed_tokens.weight", "model.norm.weight"]
            for name in names {
                let variable = trainer.parameterSet.required(name)
                for index in [0, 3, variable.count / 2, variable.count - 1] {
                    let saved = variable.value.base[index]
                    let h: Float = 1e-2
                    variable.value.base[index] = saved + h
                    let up = loss()
                    variable.value.base[index] = saved - h
                    let down = loss()
                    variable.value.base[index] = saved
                    let numeric = (up - down) / Double(2 * h)
                    let analytic = Double(variable.gradient.base[index])
                    XCTAssertEqual(analytic, numeric, accuracy: 2e-3 + 2e-2 * abs(numeric), "\(name)[\(index)]")
                }
            }
        }
    }

    func testZeroInitialisedAdaptersLeaveLogitsUnchanged() throws {
        let model = try Self.model()
        let tokens: [[Int32]] = [[1, 5, 9, 2, 33, 7]]
        let trainer = try LlamaTrainer(model: model, fineTuning: FineTuningOptions(lora: LoRAOptions(rank: 4)))
        XCTAssertEqual(trainer.adapterTensors().count, 2 * 7 * Self.config.layers)
        XCTAssertEqual(try trainer.model().logits(tokens), model.logits(tokens))
        let full = try LlamaTrainer(model: model, fineTuning: .full)
        XCTAssertEqual(trainingLogits(trainer, tokens), trainingLogits(full, tokens))
    }

    /// Training steps change the adapters only (LoRA), or only the top block and final norm (top-1).
    func testOnlyTrainableTensorsChangeDuringTraining() throws {
        let model = try Self.model()
        let tokens: [[Int32]] = [[1, 5, 9, 2, 33, 7], [4, 4, 12, 39, 0, 8]]
        let mask = [[Float]](repeating: [1, 1, 1, 1, 1, 0], count: 2)
        let targets = tokens.map { Array($0.dropFirst()) + [0] }
        for fineTuning in [FineTuningOptions(lora: LoRAOptions(rank: 2, dropout: 0.1)), FineTuningOptions(trainableTopBlocks: 1)] {
            let trainer = try LlamaTrainer(model: model, fineTuning: fineTuning)
            let before = trainer.parameterSet.weightTensors()
            for step in 1...3 {
                trainer.reseedDropout(UInt64(step))
                trainer.parameterSet.zeroGradients()
                let tape = Tape()
                let logits = trainer.outputLogits(tape, trainer.hidden(tape, tokens: tokens))
                _ = Ops.crossEntropy(tape, logits: logits, targets: targets.flatMap { $0 }, mask: mask.flatMap { $0 })
                tape.backward()
                trainer.optimizer.update(trainer.parameterSet, step: step, lr: 1e-2)
            }
            let after = trainer.parameterSet.weightTensors()
            for tensor in trainer.parameterSet.tensors {
                let changed = before[tensor.name]!.values != after[tensor.name]!.values
                let shouldChange = fineTuning.lora != nil
                    ? tensor.name.contains("lora_B")
                    : tensor.name.hasPrefix("model.layers.1.") || tensor.name == "model.norm.weight"
                // A LoRA A gets gradient only once its B is non-zero (after the first step), so it may or may not move in 3 steps.
                if fineTuning.lora != nil && tensor.name.contains("lora_A") { continue }
                XCTAssertEqual(changed, shouldChange, "\(tensor.name) (\(fineTuning))")
            }
        }
    }

    /// A user's samples share one prompt pass: greedy continuations of [A, A, B] are those of [A, B].
    func testIdenticalPromptsShareOnePromptPass() throws {
        let model = try Self.model()
        let a: [Int32] = [3, 17, 8], b: [Int32] = [22, 1, 30, 5, 11]
        let options = SamplingOptions(temperature: 0, maxNewTokens: 5)
        let shared = model.generate(prompts: [a, a, b], options: options)
        let separate = model.generate(prompts: [a, b], options: options)
        XCTAssertEqual(shared.map(\.tokens), [separate[0].tokens, separate[0].tokens, separate[1].tokens])
        for (x, y) in zip(shared.map(\.logprob), [separate[0].logprob, separate[0].logprob, separate[1].logprob]) {
            XCTAssertEqual(x, y, accuracy: 1e-5)
        }
    }

    /// LoRA adapters written in PEFT's format — key names, shapes, config fields — load back with
    /// their base (checked by SHA-256) to the same logits; a changed base file is refused.
    func testAdaptersRoundTripThroughPEFTFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-peft-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let basePath = folder + "/base", adapterPath = folder + "/adapter"
        let (base, reference, adapted) = try Self.writeAdaptedModel(base: basePath, adapter: adapterPath)

        // The bytes on disk: PEFT's keys and shapes, for the top block only.
        let (tensors, metadata) = try SafeTensors.read(adapterPath + "/adapter_model.safetensors")
        XCTAssertEqual(metadata["format"], "pt")
        XCTAssertEqual(
            Set(tensors.keys),
            Set(["self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj"].flatMap { m in
                ["lora_A", "lora_B"].map { "base_model.model.model.layers.1.\(m).\($0).weight" }
            }))
        XCTAssertEqual(tensors["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"]!.shape, [2, 16])
        XCTAssertEqual(tensors["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"]!.shape, [8, 2])
        XCTAssertEqual(tensors["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"]!.shape, [2, 24])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: adapterPath + "/adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(config["peft_type"] as? String, "LORA")
        XCTAssertEqual(config["r"] as? Int, 2)
        XCTAssertEqual(config["lora_alpha"] as? Double, 6)
        XCTAssertEqual(Set(config["target_modules"] as! [String]), ["q_proj", "v_proj", "down_proj"])
        XCTAssertEqual(config["layers_to_transform"] as? [Int], [1])
        XCTAssertEqual(config["bias"] as? String, "none")

        let tokens: [[Int32]] = [[1, 5, 9, 2, 33, 7]]
        let loaded = try LlamaModel.load(folder: adapterPath)
        XCTAssertEqual(loaded.adapters.count, 6)
        XCTAssertEqual(loaded.base, reference)
        for (x, y) in zip(loaded.logits(tokens), adapted.logits(tokens)) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        XCTAssertNotEqual(adapted.logits(tokens), base.logits(tokens))

        // A base file that changed since is refused, naming both hashes.
        var changed = base.parameters
        changed["model.norm.weight"] = SafeTensors.Tensor(shape: [16], values: [Float](repeating: 2, count: 16))
        try LlamaModel(config: base.config, parameters: changed).save(to: basePath)
        XCTAssertThrowsError(try LlamaModel.load(folder: adapterPath)) { error in
            XCTAssertTrue(error.localizedDescription.contains(reference.sha256), error.localizedDescription)
        }
    }

    /// A tiny base saved to `base` and LoRA adapters on its top block (rank 2, α 6; query, value,
    /// down projections; non-zero B matrices, so they change the logits) saved to `adapter`.
    static func writeAdaptedModel(base basePath: String, adapter adapterPath: String) throws -> (base: LlamaModel, reference: BaseModelReference, adapted: LlamaModel) {
        try model().save(to: basePath)
        let base = try LlamaModel.load(folder: basePath)
        let reference = try BaseModelReference(file: basePath, format: .huggingFace)
        let based = try LlamaModel(config: base.config, parameters: base.parameters, base: reference)
        let lora = LoRAOptions(rank: 2, alpha: 6, dropout: 0.1, targets: [.query, .value, .down])
        let trainer = try LlamaTrainer(model: based, fineTuning: FineTuningOptions(lora: lora, trainableTopBlocks: 1))
        for (tensor, variable) in zip(trainer.parameterSet.tensors, trainer.parameterSet.variables) where tensor.name.contains("lora_B") {
            variable.value.assign((0..<tensor.count).map { Float(($0 % 5) - 2) * 0.3 })
        }
        let adapted: LlamaModel = try trainer.model(weights: nil)
        try adapted.save(to: adapterPath)
        return (base, reference, adapted)
    }

    /// The adapter folder loads in Python with `PeftModel.from_pretrained` over its base and gives
    /// our logits (`Tests/Fixtures/peft/check_adapter.py`); skipped without `peft` in the
    /// environment, failed under `make test`.
    func testAdaptersLoadInPEFTWithTheSameLogits() throws {
        let python = try TestEnvironment.python(importing: ["peft", "transformers", "torch"])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-peft-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let basePath = folder + "/base", adapterPath = folder + "/adapter"
        let (_, _, adapted) = try Self.writeAdaptedModel(base: basePath, adapter: adapterPath)
        let tokens: [Int32] = [1, 5, 9, 2, 33, 7]
        let expected = adapted.logits([tokens])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            TestEnvironment.repository.appendingPathComponent("Tests/Fixtures/peft/check_adapter.py").path, basePath, adapterPath, tokens.map(String.init).joined(separator: ","),
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["HF_HUB_OFFLINE": "1"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "check_adapter.py failed")
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let logits = (object["logits"] as! [Double]).map(Float.init)
        XCTAssertEqual(logits.count, expected.count)
        for (x, y) in zip(logits, expected) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(y))) }
    }
}
