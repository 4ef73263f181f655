import Foundation
import XCTest
@testable import RecData

final class BadInputTests: XCTestCase {
    private func category(_ reviews: [String], _ metas: [String], gzipReviews: Bool = false) throws -> Amazon2018Files {
        let folder = try TestSupport.scratchFolder(self)
        if gzipReviews {
            try GzipFile.write(reviews.joined(separator: "\n") + "\n", to: folder + "/Bad_5.json.gz")
        } else {
            _ = try TestSupport.write(reviews.joined(separator: "\n") + "\n", folder, "Bad_5.json")
        }
        _ = try TestSupport.write(metas.joined(separator: "\n") + "\n", folder, "meta_Bad.json")
        return try Amazon2018Files.locate(category: "Bad", in: folder)
    }

    private let goodMeta = [TestSupport.meta("I1", title: "One"), TestSupport.meta("I2", title: "Two")]

    private func assertError(_ expected: RecDataError, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? RecDataError, expected, file: file, line: line)
            XCTAssertFalse((error as? LocalizedError)?.errorDescription?.isEmpty ?? true, file: file, line: line)
        }
    }

    func testMalformedJSONLineNamesFileAndLine() throws {
        let files = try category([TestSupport.review("U", "I1", 1), "{\"reviewerID\": \"U\", \"asin\": ", TestSupport.review("U", "I2", 2)], goodMeta)
        XCTAssertThrowsError(try SequenceDataset.loadAmazon2018(files)) { error in
            guard case .malformedLine(let file, let line, _) = error as? RecDataError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, files.reviews)
            XCTAssertEqual(line, 2)
            XCTAssertTrue(error.localizedDescription.contains("Bad_5.json:2:"), error.localizedDescription)
        }
    }

    func testTrailingGarbageIsMalformed() throws {
        let files = try category([TestSupport.review("U", "I1", 1) + " x"], goodMeta)
        XCTAssertThrowsError(try SequenceDataset.loadAmazon2018(files)) { error in
            guard case .malformedLine(_, 1, _) = error as? RecDataError else { return XCTFail("\(error)") }
        }
    }

    func testSkippedLineLeavesNoTraceInTheIdentifierTables() throws {
        let folder = try TestSupport.scratchFolder(self)
        let lines = [TestSupport.review("U1", "I1", 1), TestSupport.review("GHOST", "I9", 2) + " trailing", TestSupport.review("U1", "I2", 3)]
        let path = try TestSupport.write(lines.joined(separator: "\n"), folder, "G_5.json")
        let log = try Amazon2018ReviewReader.read(path: path, skipBadLines: true)
        XCTAssertEqual(log.userIDs, ["U1"])
        XCTAssertEqual(log.itemIDs, ["I1", "I2"])
        XCTAssertEqual(log.itemFirstLine, [1, 3])
        XCTAssertEqual(log.skipped.count, 1)
    }

    func testMissingRequiredFieldIsNamed() throws {
        let files = try category([TestSupport.review("U", "I1", 1), "{\"reviewerID\": \"U\", \"asin\": \"I2\", \"overall\": 5.0}"], goodMeta)
        assertError(.missingField(file: files.reviews, line: 2, field: "unixReviewTime")) {
            _ = try SequenceDataset.loadAmazon2018(files)
        }
    }

    func testFieldOfWrongTypeIsNamed() throws {
        let files = try category(["{\"reviewerID\": \"U\", \"asin\": 17, \"overall\": 5.0, \"unixReviewTime\": 1}"], goodMeta)
        XCTAssertThrowsError(try SequenceDataset.loadAmazon2018(files)) { error in
            guard case .invalidField(_, 1, "asin", _) = error as? RecDataError else { return XCTFail("\(error)") }
        }
    }

    func testReviewWhoseItemHasNoMetaNamesTheReviewLine() throws {
        let files = try category([TestSupport.review("U", "I1", 1), TestSupport.review("U", "I7", 2)], goodMeta)
        assertError(.itemWithoutMeta(file: files.reviews, line: 2, item: "I7", metaFile: files.meta)) {
            _ = try SequenceDataset.loadAmazon2018(files)
        }
    }

    func testTruncatedGzipIsReported() throws {
        let folder = try TestSupport.scratchFolder(self)
        let lines = (0..<2000).map { TestSupport.review("U\($0 % 50)", "I\($0 % 7)", $0, text: "some words \($0)") }
        try GzipFile.write(lines.joined(separator: "\n"), to: folder + "/T_5.json.gz")
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/T_5.json.gz"))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: folder + "/T_5.json.gz"))
        XCTAssertThrowsError(try Amazon2018ReviewReader.read(path: folder + "/T_5.json.gz")) { error in
            guard case .corruptCompressedFile(let file, _) = error as? RecDataError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, folder + "/T_5.json.gz")
        }
    }

    func testEmptyFileIsAnError() throws {
        let folder = try TestSupport.scratchFolder(self)
        let path = try TestSupport.write("\n\n", folder, "E_5.json")
        assertError(.emptyFile(path)) { _ = try Amazon2018ReviewReader.read(path: path) }
    }

    func testMissingPathIsAnError() {
        assertError(.missingPath("/nonexistent/calrec/X_5.json")) {
            _ = try Amazon2018ReviewReader.read(path: "/nonexistent/calrec/X_5.json")
        }
        assertError(.missingPath("/nonexistent/calrec")) { _ = try Amazon2018Files.discover(in: "/nonexistent/calrec") }
    }

    func testUnknownCategoryListsWhatIsAvailable() throws {
        let files = try category([TestSupport.review("U", "I1", 1)], goodMeta)
        let folder = (files.reviews as NSString).deletingLastPathComponent
        assertError(.unknownCategory(folder: folder, category: "Office_Products", available: ["Bad"])) {
            _ = try Amazon2018Files.locate(category: "Office_Products", in: folder)
        }
    }

    func testACategoryWithoutItsMetadataFileNamesTheMissingFile() throws {
        let folder = try TestSupport.scratchFolder(self)
        try GzipFile.write(TestSupport.review("U", "I1", 1) + "\n", to: folder + "/Office_Products_5.json.gz")
        let expected = RecDataError.incompleteCategory(
            folder: folder, category: "Office_Products", found: ["Office_Products_5.json.gz"],
            missing: ["meta_Office_Products.json.gz (or meta_Office_Products.json)"])
        assertError(expected) { _ = try Amazon2018Files.locate(category: "Office_Products", in: folder) }
        assertError(expected) { _ = try Amazon2018Files.discover(in: folder) }
        XCTAssertEqual(
            expected.localizedDescription,
            "\(folder): category 'Office_Products' has Office_Products_5.json.gz but no meta_Office_Products.json.gz (or meta_Office_Products.json); "
                + "put the missing file in that folder (a category needs its 5-core reviews Office_Products_5.json[.gz] and its item metadata meta_Office_Products.json[.gz])")
        // Only the full review file: both files the reader takes are named.
        try FileManager.default.moveItem(atPath: folder + "/Office_Products_5.json.gz", toPath: folder + "/Office_Products.json.gz")
        assertError(
            .incompleteCategory(
                folder: folder, category: "Office_Products", found: ["Office_Products.json.gz"],
                missing: ["Office_Products_5.json.gz (or Office_Products_5.json)", "meta_Office_Products.json.gz (or meta_Office_Products.json)"])
        ) { _ = try Amazon2018Files.locate(category: "Office_Products", in: folder) }
        // Metadata alone: the missing reviews are named.
        _ = try TestSupport.write(TestSupport.meta("I1", title: "One") + "\n", folder, "meta_Pens.json")
        assertError(
            .incompleteCategory(folder: folder, category: "Pens", found: ["meta_Pens.json"], missing: ["Pens_5.json.gz (or Pens_5.json)"])
        ) { _ = try Amazon2018Files.locate(category: "Pens", in: folder) }
    }

    func testSkipBadLinesCountsWhatItSkips() throws {
        let files = try category(
            [
                TestSupport.review("U", "I1", 1), "not json", "{\"asin\": \"I1\"}", TestSupport.review("U", "I2", 2),
                TestSupport.review("U", "I7", 3), TestSupport.review("V", "I7", 3),
            ], goodMeta + ["{broken"], gzipReviews: true)
        let dataset = try SequenceDataset.loadAmazon2018(files, options: .init(skipBadLines: true))
        // 2 bad review lines + 1 bad meta line + 2 reviews of the undescribed item I7.
        XCTAssertEqual(dataset.skipped.count, 5)
        XCTAssertEqual(dataset.purchaseCount, 2)
        XCTAssertEqual(dataset.userIDs, ["U"])
        XCTAssertTrue(dataset.skipped.examples[0].localizedDescription.contains("Bad_5.json.gz:2:"), "\(dataset.skipped.examples[0])")
    }
}
