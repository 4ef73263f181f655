import Foundation
import XCTest
import TestEnvironment

/// The Hugging Face fixtures computed from the cached all-MiniLM-L6-v2 folder (`Tests/Fixtures/minilm/make_reference.py`).
enum MiniLMFixture {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/minilm")

    static func expected(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent(name))) as! [String: Any]
    }

    /// The item texts of the embedded Office catalogue, in file order.
    static func officeTexts() throws -> [String] {
        let text = try String(contentsOf: TestEnvironment.repository.appendingPathComponent("Workbooks/data/office-2014-recbole/Office.item"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let column = lines[0].split(separator: "\t").firstIndex(of: "text:token_seq")!
        return lines.dropFirst().map { String($0.split(separator: "\t", omittingEmptySubsequences: false)[column]) }
    }
}
