import Foundation
import XCTest
import TestEnvironment

/// A number is only auditable if the same code, data, seed and thread count give it again. Each
/// `calrec` process hashes with its own random seed (Swift's `Dictionary` and `Set` order differs
/// from process to process), so running a chain twice in separate processes also catches any result
/// that depends on iteration order. A different seed must change the weights: the comparison can fail.
final class ReproducibilityCLITests: XCTestCase {
    private let cli = CLIRunner(extraEnvironment: ["CALREC_THREADS": "2"])

    private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Stage 0, stage 2 and inference on a synthetic category: weights, training curve losses,
    /// samples and ranks are byte-identical between two processes.
    func testSameSeedInTwoProcessesGivesByteIdenticalWeightsSamplesAndRanks() throws {
        let folder = try scratchFolder("calrec-reproducible")
        XCTAssertEqual(try cli.run(["synth", "--out", folder + "/data", "--budget", "tiny", "--seed", "3"]).status, 0)
        XCTAssertEqual(try cli.run(["prepare", "--amazon2018", folder + "/data", "--out", folder + "/prepared"]).status, 0)
        let recbole = folder + "/prepared/Synthetic"

        func chain(_ name: String, stageTwoSeed: String) throws -> String {
            let out = folder + "/" + name
            let stage0 = try cli.run([
                "train", "--stage", "0", "--recbole", recbole, "--out", out + "/m0", "--budget", "tiny", "--vocab", "400",
                "--channels", "32", "--context", "128", "--template", "compact", "--seed", "5",
            ])
            XCTAssertEqual(stage0.status, 0, stage0.err)
            let stage2 = try cli.run([
                "train", "--stage", "2", "--init", out + "/m0", "--recbole", recbole, "--out", out + "/m2", "--budget", "tiny",
                "--template", "compact", "--max-output", "32", "--seed", stageTwoSeed,
            ])
            XCTAssertEqual(stage2.status, 0, stage2.err)
            let recommend = try cli.run([
                "recommend", "--model", out + "/m2", "--recbole", recbole, "--out", out + "/rec", "--samples", "3", "--max-users", "12",
                "--seed", "7",
            ])
            XCTAssertEqual(recommend.status, 0, recommend.err)
            return out
        }
        let first = try chain("first", stageTwoSeed: "11"), second = try chain("second", stageTwoSeed: "11")
        for file in ["m0/model.safetensors", "m0/vocab.json", "m0/merges.txt", "m2/model.safetensors", "rec/samples.jsonl", "rec/ranks.tsv"] {
            XCTAssertEqual(try bytes(first + "/" + file), try bytes(second + "/" + file), file)
        }
        let curve = try losses(first + "/m2/train.jsonl")
        XCTAssertEqual(curve.count, 20)
        XCTAssertEqual(curve, try losses(second + "/m2/train.jsonl"))

        let reseeded = try chain("reseeded", stageTwoSeed: "12")
        XCTAssertEqual(try bytes(first + "/m0/model.safetensors"), try bytes(reseeded + "/m0/model.safetensors"), "stage 0 kept its seed")
        XCTAssertNotEqual(try bytes(first + "/m2/model.safetensors"), try bytes(reseeded + "/m2/model.safetensors"), "stage 2's seed changes its batches")
    }

    /// LoRA on the real SmolLM2 for two steps, then sampling: adapters and samples are byte-identical
    /// between two processes. Skipped when the model is not cached (`make test` fetches and requires it).
    func testSameSeedInTwoProcessesGivesByteIdenticalLoRAAdaptersAndSamples() throws {
        let gguf = try TestEnvironment.smolLM2()
        let folder = try scratchFolder("calrec-reproducible-lora")
        let recbole = CLITests.data.appendingPathComponent("office-2014-recbole").path
        func chain(_ name: String) throws -> String {
            let out = folder + "/" + name
            let train = try cli.run([
                "train", "--stage", "2", "--init", gguf, "--recbole", recbole, "--out", out + "/adapters", "--steps", "2", "--batch", "2",
                "--max-input", "48", "--max-output", "16", "--lora-rank", "2", "--lora-targets", "q_proj,down_proj",
                "--validation-users", "2", "--validate-every", "2", "--seed", "9",
            ])
            XCTAssertEqual(train.status, 0, train.err)
            let recommend = try cli.run([
                "recommend", "--model", out + "/adapters", "--recbole", recbole, "--split", "test", "--max-users", "2", "--samples", "2",
                "--max-input", "48", "--out", out + "/rec", "--seed", "1",
            ])
            XCTAssertEqual(recommend.status, 0, recommend.err)
            return out
        }
        let first = try chain("first"), second = try chain("second")
        for file in ["adapters/adapter_model.safetensors", "rec/samples.jsonl", "rec/ranks.tsv"] {
            XCTAssertEqual(try bytes(first + "/" + file), try bytes(second + "/" + file), file)
        }
        XCTAssertEqual(try losses(first + "/adapters/train.jsonl"), try losses(second + "/adapters/train.jsonl"))
    }

    /// The loss fields of a train.jsonl (its timing fields differ from run to run by nature).
    private func losses(_ path: String) throws -> [[Double]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return ["loss", "nig", "tt", "ut", "grad_norm"].compactMap { (record[$0] as? NSNumber)?.doubleValue }
        }
    }
}
