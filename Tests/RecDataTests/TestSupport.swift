import Foundation
import XCTest

/// Paths and scratch folders shared by the RecData tests.
enum TestSupport {
    /// The repository root (two levels above this file's folder).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The real data sets the repository carries (`Workbooks/data`).
    static let data = repository.appendingPathComponent("Workbooks/data")
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")

    /// A new empty folder, removed when the test ends.
    static func scratchFolder(_ test: XCTestCase) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    static func write(_ text: String, _ folder: String, _ name: String) throws -> String {
        let path = (folder as NSString).appendingPathComponent(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// One review line in the 2018 schema.
    static func review(_ user: String, _ item: String, _ time: Int, rating: Double = 5, text: String = "ok", summary: String = "s") -> String {
        "{\"overall\": \(rating), \"reviewerID\": \"\(user)\", \"asin\": \"\(item)\", \"reviewText\": \"\(text)\", \"summary\": \"\(summary)\", \"unixReviewTime\": \(time)}"
    }

    /// One meta line in the 2018 schema.
    static func meta(_ item: String, title: String, brand: String = "", categories: [String] = [], price: String = "") -> String {
        let cats = categories.map { "\"\($0)\"" }.joined(separator: ", ")
        return "{\"category\": [\(cats)], \"title\": \"\(title)\", \"brand\": \"\(brand)\", \"price\": \"\(price)\", \"asin\": \"\(item)\"}"
    }
}
