import XCTest
@testable import RecData

final class TextCleaningTests: XCTestCase {
    func testEntitiesAndTagsAreCleaned() {
        let cases: [(String, String)] = [
            ("Maggiano&#39;s Gift Card", "Maggiano's Gift Card"),
            ("Noodles &amp; Company", "Noodles & Company"),
            ("Caf&eacute; &ndash; Bar", "Café – Bar"),
            ("B&rsquo;gosh &#x41;&#66;", "B’gosh AB"),
            ("</span></span></span>", ""),
            ("Blue<br>Pen", "Blue Pen"),
            ("a &lt;b&gt; c", "a <b> c"),  // decoded after tag stripping: stays as text
            ("AT&T and &unknown; &#0; &", "AT&T and &unknown; \u{FFFD} &"),
            ("  by\n    \n    Microsoft ", "by Microsoft"),
            ("1 < 2 > 0", "1 < 2 > 0"),
        ]
        for (raw, clean) in cases {
            XCTAssertEqual(TextCleaning.clean(raw), clean, raw)
        }
    }

    func testPricesKeepOnlyDollarAmounts() {
        XCTAssertEqual(PriceFormat.normalised("$12.99"), "$12.99")
        XCTAssertEqual(PriceFormat.normalised("$1,299.00"), "$1,299.00")
        XCTAssertEqual(PriceFormat.normalised("$5.00 - $9.00"), "$5.00 - $9.00")
        XCTAssertNil(PriceFormat.normalised(".a-box-inner{background-color:#fff}"))
        XCTAssertNil(PriceFormat.normalised("$"))
        XCTAssertNil(PriceFormat.normalised("$1."))
        XCTAssertNil(PriceFormat.normalised("12.99"))
    }

    func testItemBodyWritesUnknownForMissingValues() {
        let item = ItemAttributes(title: "Red Pen", brand: nil, categories: ["Office", "Pens"], price: "$1.50")
        XCTAssertEqual(ItemTextFormat().body(of: item), "Title: Red Pen, Category: Office > Pens, Brand: unknown, Price: $1.50")
        XCTAssertEqual(
            ItemTextFormat(categoryFormat: .leaf).body(of: item), "Title: Red Pen, Category: Pens, Brand: unknown, Price: $1.50")
        XCTAssertEqual(ItemTextFormat(categoryFormat: CategoryFormat(argument: "prefix:1")!).plainText(of: item), "Red Pen Office $1.50")
        XCTAssertEqual(ItemTextFormat().body(of: ItemAttributes()), "Title: unknown, Category: unknown, Brand: unknown, Price: unknown")
    }
}
