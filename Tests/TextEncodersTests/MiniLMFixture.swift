import Foundation
import XCTest

/// Where the tests find the cached all-MiniLM-L6-v2 folder and the Hugging Face fixtures computed
/// from it (`Tests/Fixtures/minilm/make_reference.py`).
enum MiniLMFixture {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/minilm")
    static let repository = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) is missing; `make models` fetches it" }
    }

    /// The model folder (`CALREC_MINILM` overrides the path). Missing, the test is skipped — or fails
    /// under `make test`, which fetches it first and sets `CALREC_REQUIRE_MODELS=1`.
    static func folder() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["CALREC_MINILM"] ?? repository.appendingPathComponent(".cache/models/all-MiniLM-L6-v2").path
        guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model.safetensors")) else {
            if environment["CALREC_REQUIRE_MODELS"] == "1" { throw Missing(path: path) }
            throw XCTSkip("\(path) is missing; `make models` fetches it (make test does)")
        }
        return path
    }

    static func expected(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent(name))) as! [String: Any]
    }

    /// The item texts of the embedded Office catalogue, in file order.
    static func officeTexts() throws -> [String] {
        let text = try String(contentsOf: repository.appendingPathComponent("Workbooks/data/office-2014-recbole/Office.item"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let column = lines[0].split(separator: "\t").firstIndex(of: "text:token_seq")!
        return lines.dropFirst().map { String($0.split(separator: "\t", omittingEmptySubsequences: false)[column]) }
    }
}
