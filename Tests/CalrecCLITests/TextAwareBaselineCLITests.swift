import Foundation
import XCTest
import TestEnvironment

/// End-to-end: `calrec features`, then UniSRec and FDSA over those features through `calrec baseline`.
final class TextAwareBaselineCLITests: XCTestCase {
    private let cli = CLIRunner()

    private func tinyDataset(_ folder: String) throws -> String {
        let data = folder + "/tiny"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var inter = "user_id:token\titem_id:token\ttimestamp:float\n"
        for (user, items) in [("u0", "abcd"), ("u1", "bac"), ("u2", "cdba"), ("u3", "dabc")] {
            for (t, item) in items.enumerated() { inter += "\(user)\t\(item)\t\(t)\n" }
        }
        try inter.write(toFile: data + "/T.inter", atomically: true, encoding: .utf8)
        try "item_id:token\ttext:token_seq\na\tred pen\nb\tblue pen\nc\tred ink\nd\tpaper pad\n"
            .write(toFile: data + "/T.item", atomically: true, encoding: .utf8)
        return data
    }

    func testS3RecAndAttributeFDSATrainOnGiftCardsAndS3RecRefusesAFileWithoutAttributes() throws {
        let folder = try scratchFolder("calrec-s3rec")
        let giftCards = CLITests.data.appendingPathComponent("amazon2018-gift-cards").path
        let out = folder + "/s3rec"
        let trained = try cli.run([
            "baseline", "s3rec", "--amazon2018", giftCards, "--out", out, "--max-epochs", "2", "--pretrain-epochs", "2", "--hidden", "8", "--layers", "1",
            "--max-users", "40",
        ])
        XCTAssertEqual(trained.status, 0, trained.err)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(metrics["method"] as? String, "s3rec")
        let settings = metrics["settings"] as! [String: Any]
        let attributes = (settings["config"] as! [String: Any])["attributes"] as! [String]
        XCTAssertTrue(attributes.contains { $0.hasPrefix("brand:") } && attributes.contains { $0.hasPrefix("category:") })
        XCTAssertEqual((settings["pretraining"] as! [String: Any])["epochs"] as? Int, 2)
        let stages = (metrics["cpu_seconds"] as! [String: Any])["training_stages"] as! [String: Double]
        XCTAssertEqual(Set(stages.keys), ["pre-training", "fine-tuning"])
        let reloaded = try cli.run(["baseline", "s3rec", "--amazon2018", giftCards, "--out", out + "-loaded", "--load", out + "/model", "--max-users", "40"])
        XCTAssertEqual(reloaded.status, 0, reloaded.err)
        XCTAssertEqual(try String(contentsOfFile: out + "/ranks.tsv", encoding: .utf8), try String(contentsOfFile: out + "-loaded/ranks.tsv", encoding: .utf8))
        let fdsa = try cli.run([
            "baseline", "fdsa", "--fdsa-features", "attributes", "--amazon2018", giftCards, "--out", folder + "/fdsa", "--max-epochs", "2", "--hidden", "8",
            "--layers", "1", "--max-users", "40",
        ])
        XCTAssertEqual(fdsa.status, 0, fdsa.err)
        let fdsaConfig = ((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/fdsa/metrics.json"))) as! [String: Any])[
            "settings"] as! [String: Any])["config"] as! [String: Any]
        XCTAssertEqual(fdsaConfig["feature_source"] as? String, "attributes")
        XCTAssertFalse((fdsaConfig["brands"] as! [String]).isEmpty)
        let refused = try cli.run(["baseline", "s3rec", "--recbole", try tinyDataset(folder), "--out", folder + "/x"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("item attributes"), refused.err)
    }

    func testUniSRecPreTrainsOnTheGivenFoldersThenFineTunesWithTheEncoderFixed() throws {
        let encoder = try TestEnvironment.miniLM()
        let folder = try scratchFolder("calrec-unisrec-pretraining")
        let data = try tinyDataset(folder)
        let giftCards = CLITests.data.appendingPathComponent("amazon2018-gift-cards").path
        let out = folder + "/unisrec"
        let run = try cli.run([
            "baseline", "unisrec-t", "--recbole", data, "--encoder", encoder, "--pretrain-amazon2018", giftCards, "--pretrain-epochs", "2",
            "--pretrain-batch", "512", "--out", out, "--max-epochs", "2", "--hidden", "16", "--layers", "1",
        ])
        XCTAssertEqual(run.status, 0, run.err)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        let settings = metrics["settings"] as! [String: Any]
        let pretraining = settings["pretraining"] as! String
        XCTAssertTrue(pretraining.hasPrefix("cross-domain pre-training on Gift_Cards"), pretraining)
        XCTAssertTrue(pretraining.contains("2 epochs, batch 512") && pretraining.contains("encoder fixed"), pretraining)
        XCTAssertEqual((settings["config"] as! [String: Any])["fixed_encoder"] as? Bool, true)
        let stages = (metrics["cpu_seconds"] as! [String: Any])["training_stages"] as! [String: Double]
        XCTAssertEqual(Set(stages.keys), ["pre-training", "fine-tuning"])
        for sub in ["features", "features-word-drop"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/pretraining/0-Gift_Cards/\(sub)/item_features.json"), sub)
        }
    }

    func testRecformerFineTunesFromTheEncoderRecordsItsSettingsAndReloadsToTheSameRanks() throws {
        let encoder = try TestEnvironment.miniLM()
        let folder = try scratchFolder("calrec-recformer")
        let giftCards = CLITests.data.appendingPathComponent("amazon2018-gift-cards").path
        let out = folder + "/recformer"
        let trained = try cli.run([
            "baseline", "recformer", "--amazon2018", giftCards, "--encoder", encoder, "--out", out, "--max-epochs", "1", "--max-length", "5",
            "--sequence-tokens", "96", "--max-users", "30", "--validation-users", "30",
        ])
        XCTAssertEqual(trained.status, 0, trained.err)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        XCTAssertEqual(metrics["method"] as? String, "recformer")
        let settings = metrics["settings"] as! [String: Any]
        let config = settings["config"] as! [String: Any]
        XCTAssertEqual(config["encoder_name"] as? String, "all-MiniLM-L6-v2")
        let recformer = config["settings"] as! [String: Any]
        XCTAssertEqual(recformer["max_items"] as? Int, 5)
        XCTAssertEqual(recformer["max_tokens"] as? Int, 96)
        XCTAssertEqual(recformer["temperature"] as? Double ?? 0, 0.05, accuracy: 1e-6)
        let training = settings["training"] as! [String: Any]
        XCTAssertEqual(training["lr"] as? Double ?? 0, 5e-5, accuracy: 1e-9, "the authors' rate by default")
        XCTAssertEqual(training["warmup_steps"] as? Int, 100, "the authors' warmup")
        XCTAssertEqual(training["lr_decay"] as? String, "linear", "the authors' decay")
        XCTAssertTrue((settings["pretraining"] as! String).contains("no Recformer pre-training"))
        XCTAssertTrue((settings["scale"] as! String).contains("CPU scale"))
        for name in ["config.json", "model.safetensors", "vocab.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/model/" + name), name)
        }
        let reloaded = try cli.run(["baseline", "recformer", "--amazon2018", giftCards, "--out", out + "-loaded", "--load", out + "/model", "--max-users", "30"])
        XCTAssertEqual(reloaded.status, 0, reloaded.err)
        XCTAssertEqual(try String(contentsOfFile: out + "/ranks.tsv", encoding: .utf8), try String(contentsOfFile: out + "-loaded/ranks.tsv", encoding: .utf8))
    }

    func testFeaturesAreComputedOnceAndTheTextAwareBaselinesTrainReloadAndRecordThem() throws {
        let encoder = try TestEnvironment.miniLM()
        let folder = try scratchFolder("calrec-text-aware")
        let data = try tinyDataset(folder)
        let features = try cli.run(["features", "--recbole", data, "--encoder", encoder, "--out", folder + "/features"])
        XCTAssertEqual(features.status, 0, features.err)
        XCTAssertTrue(features.out.contains("4 items × 384"), features.out)
        let again = try cli.run(["features", "--recbole", data, "--encoder", encoder, "--out", folder + "/features"])
        XCTAssertTrue(again.out.contains("up to date"), again.out)
        let header = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/features/item_features.json"))) as! [String: Any]
        let key = header["cache_key"] as! String
        XCTAssertEqual(header["item_ids"] as? [String], ["a", "b", "c", "d"])

        for method in ["unisrec-t", "unisrec-idt", "fdsa"] {
            let out = folder + "/" + method
            let trained = try cli.run([
                "baseline", method, "--recbole", data, "--features", folder + "/features", "--out", out, "--max-epochs", "2", "--hidden", "8",
                "--layers", "1", "--seed", "3",
            ])
            XCTAssertEqual(trained.status, 0, trained.err)
            let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
            XCTAssertEqual(metrics["method"] as? String, method)
            let settings = metrics["settings"] as! [String: Any]
            XCTAssertEqual((settings["features"] as! [String: Any])["cache_key"] as? String, key)
            XCTAssertEqual((settings["features"] as! [String: Any])["encoder"] as? String, "all-MiniLM-L6-v2")
            XCTAssertEqual(settings["pretraining"] as? String, "none (no cross-domain pre-training)")
            XCTAssertEqual((settings["config"] as! [String: Any])["hidden"] as? Int, 8)
            let reloaded = try cli.run([
                "baseline", method, "--recbole", data, "--features", folder + "/features", "--out", out + "-loaded", "--load", out + "/model",
            ])
            XCTAssertEqual(reloaded.status, 0, reloaded.err)
            XCTAssertEqual(
                try String(contentsOfFile: out + "/ranks.tsv", encoding: .utf8), try String(contentsOfFile: out + "-loaded/ranks.tsv", encoding: .utf8))
        }
        // Without --features the encoder computes them into <out>/features: the same vectors.
        let computed = try cli.run([
            "baseline", "fdsa", "--recbole", data, "--encoder", encoder, "--out", folder + "/fdsa-own", "--max-epochs", "2", "--hidden", "8",
            "--layers", "1", "--seed", "3",
        ])
        XCTAssertEqual(computed.status, 0, computed.err)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: folder + "/fdsa-own/features/item_features.f32")),
            try Data(contentsOf: URL(fileURLWithPath: folder + "/features/item_features.f32")))
        XCTAssertEqual(
            try String(contentsOfFile: folder + "/fdsa/ranks.tsv", encoding: .utf8), try String(contentsOfFile: folder + "/fdsa-own/ranks.tsv", encoding: .utf8))
        // Features of another catalogue are refused, naming the first item that differs.
        try "item_id:token\ttext:token_seq\na\tred pen\nx\tblue pen\nc\tred ink\nd\tpaper pad\n".write(toFile: data + "/T.item", atomically: true, encoding: .utf8)
        var inter = try String(contentsOfFile: data + "/T.inter", encoding: .utf8)
        inter = inter.replacingOccurrences(of: "\tb\t", with: "\tx\t")
        try inter.write(toFile: data + "/T.inter", atomically: true, encoding: .utf8)
        let refused = try cli.run(["baseline", "fdsa", "--recbole", data, "--features", folder + "/features", "--out", folder + "/x"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("features"), refused.err)
    }
}
