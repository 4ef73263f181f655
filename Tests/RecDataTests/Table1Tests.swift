import Foundation
import XCTest
@testable import RecData

final class Table1Tests: XCTestCase {
    /// A fixture small enough to count by hand:
    /// users A (4 records, one exact duplicate), B (2), C (1); items I1, I2, I3.
    /// Kept: A: I1@1, I2@2, I1@5 (rebuy) ; B: I2@1, I3@3 ; C: I3@4  → 6 purchases, 3 users, 3 items.
    /// Duplicates: 1 of 7 records = 14.2857…%.
    /// Item plain texts (title, category path, brand, price):
    ///   I1 "Red Pen" + "Office > Pens" + "Acme" + "$1.50" → red pen office pens acme 1 50   (7 words)
    ///   I2 "Blue Pen" (no category, brand or valid price)  → blue pen                        (2 words)
    ///   I3 "Pen & Ink" → "Pen & Ink" + brand "Acme"        → pen ink acme                    (3 words)
    /// Total 12 words; vocabulary {red, pen, office, pens, acme, 1, 50, blue, ink} = 9.
    func testStatsOfHandBuiltFixture() throws {
        let folder = try TestSupport.scratchFolder(self)
        let reviews = [
            TestSupport.review("A", "I1", 5, text: "again"),
            TestSupport.review("A", "I1", 1),
            TestSupport.review("A", "I2", 2),
            TestSupport.review("A", "I2", 2),
            TestSupport.review("B", "I3", 3),
            TestSupport.review("B", "I2", 1),
            TestSupport.review("C", "I3", 4),
        ]
        let metas = [
            TestSupport.meta("I1", title: "Red Pen", brand: "Acme", categories: ["Office", "Pens"], price: "$1.50"),
            TestSupport.meta("I2", title: "Blue <b>Pen</b>", price: "var x = 1;"),
            TestSupport.meta("I3", title: "Pen &amp; Ink", brand: "Acme"),
            TestSupport.meta("I9", title: "Never reviewed"),
        ]
        _ = try TestSupport.write(reviews.joined(separator: "\n") + "\n", folder, "Pens_5.json")
        _ = try TestSupport.write(metas.joined(separator: "\n") + "\n", folder, "meta_Pens.json")
        let dataset = try SequenceDataset.loadAmazon2018(try Amazon2018Files.locate(category: "Pens", in: folder))
        let row = Table1Row(dataset: dataset)
        XCTAssertEqual(row.users, 3)
        XCTAssertEqual(row.items, 3)
        XCTAssertEqual(row.purchases, 6)
        XCTAssertEqual(row.duplicatePercent!, 100.0 / 7.0, accuracy: 1e-12)
        XCTAssertEqual(row.itemsPerUser, 2.0, accuracy: 1e-12)
        XCTAssertEqual(row.purchasesPerItem, 2.0, accuracy: 1e-12)
        XCTAssertEqual(row.density, 6.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(row.wordsPerItem, 4.0, accuracy: 1e-12)
        XCTAssertEqual(row.vocabularySize, 9)
        XCTAssertEqual(row.averageWordFrequency, 12.0 / 9.0, accuracy: 1e-12)
        // Chronological order with the rebuy kept.
        let a = dataset.sequences[dataset.userIDs.firstIndex(of: "A")!].map { dataset.itemIDs[Int($0.item)] }
        XCTAssertEqual(a, ["I1", "I2", "I1"])
    }

    func testGiftCardsMatchIndependentReference() throws {
        let folder = TestSupport.data.appendingPathComponent("amazon2018-gift-cards").path
        let dataset = try SequenceDataset.loadAmazon2018(try Amazon2018Files.locate(category: "Gift_Cards", in: folder))
        let row = Table1Row(dataset: dataset)
        let expectedData = try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("gift_cards_table1.expected.json"))
        let expected = try JSONSerialization.jsonObject(with: expectedData) as! [String: Any]
        XCTAssertEqual(row.users, expected["users"] as? Int)
        XCTAssertEqual(row.items, expected["items"] as? Int)
        XCTAssertEqual(row.purchases, expected["purchases"] as? Int)
        XCTAssertEqual(row.vocabularySize, expected["vocab_size"] as? Int)
        XCTAssertEqual(row.duplicatePercent!, expected["duplicate_pct"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(row.wordsPerItem, expected["words_per_item"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(row.averageWordFrequency, expected["avg_word_freq"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(row.density, expected["density"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(row.itemsPerUser, expected["items_per_user"] as! Double, accuracy: 1e-9)
        XCTAssertEqual(row.purchasesPerItem, expected["purchases_per_item"] as! Double, accuracy: 1e-9)
    }

    func testWordSplittingRule() {
        XCTAssertEqual(WordAnalyzer.words("Post-it® Notes, 3x3 (12 PADS)"), ["post", "it", "notes", "3x3", "12", "pads"])
        XCTAssertEqual(WordAnalyzer.words("Café_au-lait ½"), ["café", "au", "lait", "½"])
        XCTAssertEqual(WordAnalyzer.words("  "), [])
    }
}
