import Foundation
import XCTest
import TestEnvironment

/// `calrec train --init <gguf> --lora-rank r` and `calrec recommend` on the real SmolLM2-135M, at
/// the smallest size that runs every step: the adapter folder, its records, and inference from it
/// and from the GGUF file itself (zero-shot). Skipped when the model is not cached (`make test`
/// fetches and requires it).
final class SmolLM2CLITests: XCTestCase {
    func testLoRAFineTuningFromTheGGUFFileWritesPEFTAdaptersAndRecommends() throws {
        let gguf = try TestEnvironment.smolLM2()
        let folder = try scratchFolder("calrec-smollm2")
        let recbole = CLITests.data.appendingPathComponent("office-2014-recbole").path
        let out = folder + "/stage2"
        let train = try CLIRunner().run([
            "train", "--stage", "2", "--init", gguf, "--recbole", recbole, "--out", out, "--steps", "2", "--batch", "2",
            "--max-input", "64", "--max-output", "24", "--lora-rank", "4", "--lora-targets", "q_proj,v_proj", "--validation-users", "2",
            "--validate-every", "2",
        ])
        XCTAssertEqual(train.status, 0, train.err)
        XCTAssertTrue(train.err.contains("stage 2 from a llama model: LoRA rank 4"), train.err)
        for file in ["adapter_config.json", "adapter_model.safetensors", "base_model.json", "tokenizer.json", "config.json", "calrec.json", "train.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/model.safetensors"), "a LoRA folder holds adapters, not the weights")
        let base = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/base_model.json"))) as! [String: Any]
        XCTAssertEqual(base["sha256"] as? String, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/calrec.json"))) as! [String: Any]
        let fineTuning = settings["fine_tuning"] as! [String: Any]
        XCTAssertEqual(fineTuning["backbone"] as? String, "llama")
        XCTAssertEqual(((fineTuning["adaptation"] as! [String: Any])["lora"] as! [String: Any])["rank"] as? Int, 4)
        // The chain of training costs starts at this stage: SmolLM2's pretraining is not ours to count.
        let chain = try XCTUnwrap(settings["training_chain"] as? [[String: Any]], "\(settings)")
        XCTAssertEqual(chain.map { $0["stage"] as? String }, ["stage 2"])
        // The checkpoint holds the adapters and their moments only, not the frozen 135 M weights.
        let checkpointBytes = try FileManager.default.attributesOfItem(atPath: out + ".checkpoint/model.safetensors")[.size] as! NSNumber
        XCTAssertLessThan(checkpointBytes.intValue, 2_000_000)

        for (model, name) in [(out, "fine-tuned"), (gguf, "zero-shot")] {
            let recommend = try CLIRunner().run([
                "recommend", "--model", model, "--recbole", recbole, "--split", "test", "--max-users", "2", "--samples", "2", "--max-input", "64",
                "--out", folder + "/" + name, "--seed", "1",
            ])
            XCTAssertEqual(recommend.status, 0, recommend.err)
            let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/" + name + "/metrics.json"))) as! [String: Any]
            XCTAssertEqual(metrics["users"] as? Int, 2, "\(metrics)")
        }
    }
}
