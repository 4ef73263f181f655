import Foundation
import XCTest

/// `--epoch-cap` bounds a trained baseline's epochs whatever the budget or `--max-epochs` says (a
/// workbook parameter bounds its costliest block with it), and only bounds: below the cap the
/// budget's or the explicit limit stands.
final class EpochCapCLITests: XCTestCase {
    private func trainingSettings(_ extra: [String], folder: String, name: String) throws -> [String: Any] {
        let out = folder + "/" + name
        let result = try CLIRunner().run(
            [
                "baseline", "sasrec", "--recbole", folder + "/prepared/Synthetic", "--split", "test", "--patience", "50", "--hidden", "8",
                "--layers", "1", "--max-length", "10", "--batch", "32", "--seed", "3", "--out", out, "--metrics-file", out + "/metrics.json",
            ] + extra)
        XCTAssertEqual(result.status, 0, result.err)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        return (metrics["settings"] as! [String: Any])["training"] as! [String: Any]
    }

    func testTheCapBoundsTheBudgetAndAnExplicitLimitButNeverRaisesThem() throws {
        let folder = try scratchFolder("calrec-epoch-cap")
        XCTAssertEqual(try CLIRunner().run(["synth", "--out", folder + "/data", "--budget", "tiny", "--seed", "5"]).status, 0)
        XCTAssertEqual(try CLIRunner().run(["prepare", "--amazon2018", folder + "/data", "--out", folder + "/prepared"]).status, 0)

        let capped = try trainingSettings(["--max-epochs", "6", "--epoch-cap", "3"], folder: folder, name: "capped")
        XCTAssertEqual(capped["max_epochs"] as? Int, 3)
        XCTAssertEqual(capped["epochs_run"] as? Int, 3)

        let budget = try trainingSettings(["--budget", "tiny", "--epoch-cap", "1"], folder: folder, name: "budget")
        XCTAssertEqual(budget["max_epochs"] as? Int, 1, "tiny's 2 epochs, capped at 1")

        let above = try trainingSettings(["--max-epochs", "2", "--epoch-cap", "16"], folder: folder, name: "above")
        XCTAssertEqual(above["max_epochs"] as? Int, 2, "a cap above the limit changes nothing")
        XCTAssertEqual(above["epochs_run"] as? Int, 2)

        let refused = try CLIRunner().run(["baseline", "sasrec", "--recbole", folder + "/prepared/Synthetic", "--out", folder + "/refused", "--epoch-cap", "0"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.err.contains("--epoch-cap must be at least 1"), refused.err)
    }
}
