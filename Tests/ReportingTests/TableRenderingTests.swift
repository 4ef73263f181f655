import XCTest
@testable import Reporting

final class TableRenderingTests: XCTestCase {
    private var table: Table {
        var t = Table(columns: [.init("Dataset", alignment: .left), .init("NDCG@10")])
        t.append(["Office", .init("0.0976/0.0966", bold: true)])
        t.append(["A|B <x>", "0.05"])
        return t
    }

    func testTextTableIsAligned() {
        XCTAssertEqual(
            table.renderedText(),
            """
            Dataset          NDCG@10
            -------  ---------------
            Office   *0.0976/0.0966*
            A|B <x>             0.05

            """)
    }

    func testMarkdownTableEscapesPipesAndBoldsCells() {
        XCTAssertEqual(
            table.renderedMarkdown(),
            """
            | Dataset | NDCG@10 |
            |:---|---:|
            | Office | **0.0976/0.0966** |
            | A\\|B <x> | 0.05 |

            """)
    }

    func testHTMLTableEscapesText() {
        let html = table.renderedHTML()
        XCTAssertTrue(html.contains("<td>A|B &lt;x&gt;</td>"), html)
        XCTAssertTrue(html.contains("<td style=\"text-align:right\"><strong>0.0976/0.0966</strong></td>"), html)
        XCTAssertTrue(html.hasPrefix("<table>\n  <thead><tr><th>Dataset</th><th style=\"text-align:right\">NDCG@10</th></tr></thead>"))
    }

    func testNumbersFormattedAsThePaperPrintsThem() {
        // Values from the paper's Table 1 row for Office and Instruments (docs/method.md §2).
        XCTAssertEqual(PaperNumberFormat.count(44736), "44736")
        XCTAssertEqual(PaperNumberFormat.percent(6.3), "6.3%")
        XCTAssertEqual(PaperNumberFormat.ratio(352151.0 / 44736.0), "7.87")
        XCTAssertEqual(PaperNumberFormat.significant(352151.0 / (44736.0 * 27482.0)), "0.00029")
        XCTAssertEqual(PaperNumberFormat.significant(214526.0 / (25577.0 * 10599.0)), "0.00079")
        XCTAssertEqual(PaperNumberFormat.significant(66644.0 / (9461.0 * 5282.0)), "0.0013")
        XCTAssertEqual(PaperNumberFormat.frequency(27482.0 * 21.74 / 56687.0), "10.5")
        XCTAssertEqual(PaperNumberFormat.optimisticPessimistic(0.08114, 0.07904), "0.0811/0.0790")
        XCTAssertEqual(PaperNumberFormat.optimisticPessimistic(0.0550, 0.0550), "0.0550")
    }
}
