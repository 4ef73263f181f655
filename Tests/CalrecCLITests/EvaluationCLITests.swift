import Foundation
import XCTest

/// End-to-end: `calrec baseline`, `calrec evaluate`, `calrec compare`.
final class EvaluationCLITests: XCTestCase {
    private let cli = CLIRunner()

    private func scratch() throws -> String { try scratchFolder("calrec-eval") }

    /// A RecBole dataset small enough to rank by hand: items a "red pen", b "blue pen", c "red ink", d "paper pad";
    /// u0: a b c d, u1: b a c, u2: c d b a (see BaselineTests for the counts).
    private func tinyDataset() throws -> String {
        let folder = try scratch() + "/tiny"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var inter = "user_id:token\titem_id:token\ttimestamp:float\n"
        for (user, items) in [("u0", "abcd"), ("u1", "bac"), ("u2", "cdba")] {
            for (t, item) in items.enumerated() { inter += "\(user)\t\(item)\t\(t)\n" }
        }
        try inter.write(toFile: folder + "/T.inter", atomically: true, encoding: .utf8)
        try "item_id:token\ttext:token_seq\na\tred pen\nb\tblue pen\nc\tred ink\nd\tpaper pad\n"
            .write(toFile: folder + "/T.item", atomically: true, encoding: .utf8)
        return folder
    }

    func testBaselineWritesMetricsWithOptPesAndRanks() throws {
        let data = try tinyDataset()
        let out = try scratch() + "/pop"
        let result = try cli.run(["baseline", "pop", "--recbole", data, "--split", "test", "--out", out])
        XCTAssertEqual(result.status, 0, result.err)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(metrics["version"] as? Int, 2)
        XCTAssertEqual(metrics["users"] as? Int, 3)
        let values = metrics["metrics"] as! [String: [String: Double]]
        for key in ["ndcg@10", "recall@1", "recall@10", "mrr"] {
            let cell = values[key]!
            XCTAssertNotNil(cell["opt"], key)
            XCTAssertNotNil(cell["pes"], key)
        }
        // Every target ranks opt 2 / pes 4 (see BaselineTests): Recall@1 0/0, MRR 1/2 and 1/4.
        XCTAssertEqual(values["mrr"]!["opt"]!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(values["mrr"]!["pes"]!, 0.25, accuracy: 1e-12)
        let cpu = metrics["cpu_seconds"] as! [String: Double]
        XCTAssertEqual(cpu["training"], 0, "popularity learns nothing beyond its counts")
        XCTAssertGreaterThanOrEqual(cpu["inference"] ?? -1, 0)
        let ranks = try String(contentsOfFile: out + "/ranks.tsv", encoding: .utf8)
        XCTAssertEqual(ranks, "user\ttarget\trank_opt\trank_pes\nu0\td\t2\t4\nu1\tc\t2\t4\nu2\ta\t2\t4\n")
    }

    func testSequentialBaselinesTrainSaveAndReloadToTheSameRanks() throws {
        let data = try tinyDataset()
        let folder = try scratch()
        for method in ["sasrec", "bert4rec"] {
            let trained = try cli.run([
                "baseline", method, "--recbole", data, "--out", folder + "/" + method, "--max-epochs", "3", "--hidden", "8", "--heads", "2",
                "--layers", "1", "--seed", "5",
            ])
            XCTAssertEqual(trained.status, 0, trained.err)
            let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/\(method)/metrics.json"))) as! [String: Any]
            XCTAssertEqual(metrics["method"] as? String, method)
            XCTAssertEqual(metrics["users"] as? Int, 3)
            let model = metrics["settings"] as! [String: Any]
            XCTAssertEqual((model["config"] as! [String: Any])["hidden"] as? Int, 8)
            XCTAssertEqual((model["training"] as! [String: Any])["epochs_run"] as? Int, 3)
            XCTAssertEqual((model["training"] as! [String: Any])["seed"] as? Int, 5, "the seed given is the one used")
            let cpu = metrics["cpu_seconds"] as! [String: Any]
            XCTAssertEqual(cpu["training"] as? Double, (model["training"] as! [String: Any])["cpu_seconds"] as? Double)
            let curve = try String(contentsOfFile: folder + "/\(method)/model/train.jsonl", encoding: .utf8)
            XCTAssertEqual(curve.split(separator: "\n").count, 3)
            let reloaded = try cli.run(["baseline", method, "--recbole", data, "--out", folder + "/\(method)-loaded", "--load", folder + "/\(method)/model"])
            XCTAssertEqual(reloaded.status, 0, reloaded.err)
            let reloadedMetrics = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: folder + "/\(method)-loaded/metrics.json"))) as! [String: Any]
            XCTAssertNil((reloadedMetrics["cpu_seconds"] as! [String: Any])["training"], "a loaded model's training cost is unknown")
            XCTAssertEqual((reloadedMetrics["settings"] as! [String: Any])["loaded_from"] as? String, folder + "/\(method)/model")
            XCTAssertEqual(
                try String(contentsOfFile: folder + "/\(method)/ranks.tsv", encoding: .utf8),
                try String(contentsOfFile: folder + "/\(method)-loaded/ranks.tsv", encoding: .utf8))
        }
        let mismatch = try cli.run(["baseline", "bert4rec", "--recbole", data, "--out", folder + "/x", "--load", folder + "/sasrec/model"])
        XCTAssertNotEqual(mismatch.status, 0)
        XCTAssertTrue(mismatch.err.contains("holds a sasrec model"), mismatch.err)
    }

    func testEvaluateRanksSamplesWithQuasiRoundRobinAndComparesRuns() throws {
        let data = try tinyDataset()
        let folder = try scratch()
        // u0 (target d) generates "paper pad": d alone matches → 1/1.
        // u1 (target c): "red" (−1.0) scales a and c to 1·e^(−0.01); "red ink" (−2.0) scales c to 1·e^(−0.02)
        // and a below it; max pooling leaves a and c tied at e^(−0.01) → 1/2.
        // u2 (target a) has no samples: all four items tie → 1/4.
        let samples = """
            {"user": "u0", "text": "paper pad", "logprob": -1.5}
            {"user": "u1", "text": "red ink", "logprob": -2.0}
            {"user": "u1", "text": "red", "logprob": -1.0}
            """
        try samples.write(toFile: folder + "/samples.jsonl", atomically: true, encoding: .utf8)
        let result = try cli.run(["evaluate", folder + "/samples.jsonl", "--recbole", data, "--split", "test", "--out", folder + "/calrec"])
        XCTAssertEqual(result.status, 0, result.err)
        let ranks = try String(contentsOfFile: folder + "/calrec/ranks.tsv", encoding: .utf8)
        XCTAssertEqual(ranks, "user\ttarget\trank_opt\trank_pes\nu0\td\t1\t1\nu1\tc\t1\t2\nu2\ta\t1\t4\n")

        XCTAssertEqual(try cli.run(["baseline", "pop", "--recbole", data, "--out", folder + "/pop"]).status, 0)
        let compare = try cli.run(["compare", folder + "/calrec/ranks.tsv", folder + "/pop/ranks.tsv", "--metric", "mrr", "--permutations", "100"])
        XCTAssertEqual(compare.status, 0, compare.err)
        let object = try JSONSerialization.jsonObject(with: Data(compare.out.utf8)) as! [String: Any]
        // MRR (opt) per user: calrec 1, 1, 1; pop 1/2 each → mean difference 1/2.
        XCTAssertEqual(object["mean_difference"] as! Double, 0.5, accuracy: 1e-12)
        XCTAssertEqual(object["users"] as? Int, 3)
    }

    func testMalformedSamplesNameLineAndField() throws {
        let data = try tinyDataset()
        let folder = try scratch()
        try "{\"user\": \"u0\", \"text\": \"x\", \"logprob\": -1}\n{\"user\": \"u1\", \"text\": \"y\"}\n"
            .write(toFile: folder + "/samples.jsonl", atomically: true, encoding: .utf8)
        let result = try cli.run(["evaluate", folder + "/samples.jsonl", "--recbole", data, "--out", folder + "/out"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("samples.jsonl:2: field 'logprob' missing"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out/metrics.json"))
        try "user\ttarget\trank_opt\trank_pes\nu0\td\t3\t1\n".write(toFile: folder + "/bad.tsv", atomically: true, encoding: .utf8)
        let compare = try cli.run(["compare", folder + "/bad.tsv", folder + "/bad.tsv"])
        XCTAssertNotEqual(compare.status, 0)
        XCTAssertTrue(compare.err.contains("bad.tsv:2:"), compare.err)
    }
}
