import Foundation
import RecData
import XCTest
@testable import Reporting

final class PaperLayoutTests: XCTestCase {
    func testResultsTableBoldsTheBestAndAddsPaperColumnsWithDeltas() {
        let methods = [
            ResultsReport.Method(name: "Pop", values: ["ndcg@10": (0.02, 0.01), "mrr": (0.03, 0.03)]),
            ResultsReport.Method(name: "CALRec", values: ["ndcg@10": (0.09, 0.08), "mrr": (0.02, 0.02)]),
        ]
        let table = ResultsReport.table(
            methods, metrics: ["ndcg@10", "mrr"], paper: ["CALRec": ["ndcg@10": (0.0976, 0.0966)]], caption: "R")
        XCTAssertEqual(table.columns.map(\.title), ["Metric", "Pop", "CALRec", "CALRec (paper)", "Δ CALRec (opt)"])
        XCTAssertEqual(table.rows[0].map(\.text), ["NDCG@10", "0.0200/0.0100", "0.0900/0.0800", "0.0976/0.0966", "-0.0076"])
        XCTAssertEqual(table.rows[0].map(\.bold), [false, false, true, false, false])
        XCTAssertEqual(table.rows[1].map(\.text), ["MRR", "0.0300", "0.0200", "–", "–"])
        XCTAssertEqual(table.rows[1].map(\.bold), [false, true, false, false, false])
    }

    func testResultsTableAddsACPUTimeRowWhenMetricsRecordIt() {
        let methods = [
            ResultsReport.Method(name: "Pop", values: ["mrr": (0.03, 0.03)], cost: .init(training: 0, inference: 0.25)),
            ResultsReport.Method(name: "CALRec", values: ["mrr": (0.02, 0.02)], cost: .init(training: 3012.4, inference: 143.6)),
            ResultsReport.Method(name: "Loaded", values: ["mrr": (0.01, 0.01)], cost: .init(training: nil, inference: 12)),
            ResultsReport.Method(name: "Old", values: ["mrr": (0.01, 0.01)]),
        ]
        let table = ResultsReport.table(methods, metrics: ["mrr"], paper: ["CALRec": ["mrr": (0.1, 0.1)]], caption: "R")
        XCTAssertEqual(table.rows.count, 2)
        XCTAssertEqual(table.rows[1].map(\.text), ["CPU s (training + inference)", "0.0 + 0.2", "3012 + 144", "– + 12", "–", "–", "–"])
        XCTAssertEqual(table.rows[1].map(\.bold), Array(repeating: false, count: 7), "cost is shown, not ranked")

        let rows = ResultsReport.rowsTable(methods, metrics: ["mrr"], caption: "A")
        XCTAssertEqual(rows.columns.map(\.title), ["Variant", "MRR", "CPU s (training + inference)"])
        XCTAssertEqual(rows.rows[1].map(\.text), ["CALRec", "0.0200", "3012 + 144"])
        XCTAssertEqual(ResultsReport.rowsTable([methods[3]], metrics: ["mrr"], caption: "A").columns.count, 2, "no cost column when nothing recorded one")
    }

    func testTable1ComparisonShowsRelativeDifferences() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("reference.json").path
        try #"{"table1": {"Office": {"users": 40, "duplicate_pct": 5.0, "density": 0.0025}}, "results": {"Office": {"CALRec": {"mrr": [0.5, 0.4]}}}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let reference = try ReferenceNumbers(path: path)
        XCTAssertEqual(reference.results["Office"]?["CALRec"]?["mrr"]?.1, 0.4)
        // 2 users, 2 items, 2 purchases: density 0.5; no duplicate share.
        let dataset = SequenceDataset(
            name: "Office_Products", userIDs: ["a", "b"], itemIDs: ["x", "y"], items: [.init(title: "x"), .init(title: "y")],
            sequences: [[Purchase(item: 0, time: 0)], [Purchase(item: 1, time: 0)]], recordsBeforeDeduplication: 4,
            duplicatesDropped: 2)
        let table = Table1Report.comparison(Table1Row(dataset: dataset), paper: reference.table1["Office"]!, dataset: "Office")
        XCTAssertEqual(table.rows[0].map(\.text), ["Users", "2", "40", "-95.0%"])
        XCTAssertEqual(table.rows[1].map(\.text), ["% dup", "50.0%", "5.0%", "+900.0%"])
        XCTAssertEqual(table.rows[2].map(\.text), ["Items", "2", "–", "–"])
        XCTAssertEqual(table.rows[6].map(\.text), ["Density", "0.50", "0.0025", "+19900.0%"])
        XCTAssertEqual(Table1Report.paperTable(reference).rows[0].map(\.text).prefix(3), ["Office", "40", "5.0%"])
        try "[1]".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReferenceNumbers(path: path))
    }
}

final class SVGChartTests: XCTestCase {
    func testLineChartHasAxisTicksAndOnePolylinePerSeries() {
        let chart = LineChart(
            title: "Training <loss>", xLabel: "step", yLabel: "loss",
            series: [.init(name: "train", points: [[1, 4], [2, 3], [3, 2.5]]), .init(name: "valid", points: [[1, 4.2], [3, 3]])])
        let svg = SVGCharts.lines(chart)
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertTrue(svg.contains("<title>Training &lt;loss&gt;</title>"))
        XCTAssertTrue(svg.contains(">1.00</text>") && svg.contains(">3.00</text>"), "x ticks from 1 to 3")
        XCTAssertTrue(svg.contains(">4.20</text>"), "y axis up to the largest value")
    }

    func testBarChartHasOneBarPerGroupAndSeries() {
        let svg = SVGCharts.bars(BarChart(title: "NDCG@10", groups: ["Pop", "BM25"], series: ["opt", "pes"], values: [[0.02, 0.01], [0.09, 0.08]]))
        XCTAssertEqual(svg.components(separatedBy: "<rect").count - 1, 4 + 2, "four bars and two legend swatches")
        XCTAssertTrue(svg.contains(">0.0900</text>"))
    }
}
