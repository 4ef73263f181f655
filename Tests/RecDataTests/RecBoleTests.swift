import Foundation
import XCTest
@testable import RecData

final class RecBoleTests: XCTestCase {
    func testOfficeRecBoleImportCounts() throws {
        let folder = TestSupport.data.appendingPathComponent("office-2014-recbole").path
        let dataset = try SequenceDataset.loadRecBole(folder: folder)
        XCTAssertEqual(dataset.name, "Office")
        XCTAssertEqual(dataset.userIDs.count, 4905)
        XCTAssertEqual(dataset.itemIDs.count, 2420)
        XCTAssertEqual(dataset.purchaseCount, 53258)
        XCTAssertNil(Table1Row(dataset: dataset).duplicatePercent)
        // U1's first purchases, from the head of Office.inter (already chronological there).
        let u1 = dataset.sequences[dataset.userIDs.firstIndex(of: "U1")!]
        XCTAssertEqual(u1.prefix(2).map { dataset.itemIDs[Int($0.item)] }, ["B0000AG93P", "B001IKKIVW"])
        XCTAssertEqual(u1.first?.time, 970_185_600)
        XCTAssertEqual(
            dataset.items[Int(u1[0].item)].text, "HP 78 Tri-Color Printer Cartridge (C6578DN) Laser Printer Toner HP")
    }

    func testRecBoleReaderSortsEachUserByTimestampStably() throws {
        let folder = try TestSupport.scratchFolder(self)
        _ = try TestSupport.write(
            "user_id:token\titem_id:token\ttimestamp:float\nu\tb\t20\nu\ta\t10\nv\tc\t5\nu\tc\t20\n", folder, "T.inter")
        _ = try TestSupport.write("item_id:token\ttext:token_seq\na\tA\nb\tB\nc\tC\n", folder, "T.item")
        let d = try RecBoleAtomic.read(folder: folder)
        XCTAssertEqual(d.userIDs, ["u", "v"])
        XCTAssertEqual(d.sequences[0].map { d.itemIDs[Int($0.item)] }, ["a", "b", "c"])
    }

    func testWriteThenReadRoundTripsAttributes() throws {
        let folder = try TestSupport.scratchFolder(self)
        let dataset = SequenceDataset(
            name: "RT", userIDs: ["u1", "u2"], itemIDs: ["i1", "i2"],
            items: [
                ItemAttributes(title: "Red\tPen", brand: "Acme", categories: ["Office", "Pens"], price: "$1.50"),
                ItemAttributes(title: "Ink", categories: []),
            ],
            sequences: [[Purchase(item: 0, time: 1), Purchase(item: 1, time: 2)], [Purchase(item: 1, time: 3)]],
            recordsBeforeDeduplication: 3, duplicatesDropped: 0)
        try RecBoleAtomic.write(dataset, folder: folder)
        let inter = try String(contentsOfFile: folder + "/RT.inter", encoding: .utf8)
        XCTAssertEqual(inter, "user_id:token\titem_id:token\ttimestamp:float\nu1\ti1\t1\nu1\ti2\t2\nu2\ti2\t3\n")
        let back = try RecBoleAtomic.read(folder: folder)
        XCTAssertEqual(back.userIDs, dataset.userIDs)
        XCTAssertEqual(back.itemIDs, dataset.itemIDs)
        XCTAssertEqual(back.sequences, dataset.sequences)
        XCTAssertEqual(back.items[0], ItemAttributes(title: "Red Pen", brand: "Acme", categories: ["Office", "Pens"], price: "$1.50"))
        XCTAssertEqual(back.items[1], ItemAttributes(title: "Ink"))
    }

    func testMalformedAtomicFilesNameLineAndField() throws {
        let folder = try TestSupport.scratchFolder(self)
        _ = try TestSupport.write("user_id:token\titem_id:token\ttimestamp:float\nu\ta\tsoon\n", folder, "M.inter")
        _ = try TestSupport.write("item_id:token\ttext:token_seq\na\tA\n", folder, "M.item")
        XCTAssertThrowsError(try RecBoleAtomic.read(folder: folder)) { error in
            XCTAssertEqual(
                error as? RecDataError,
                .invalidField(file: folder + "/M.inter", line: 2, field: "timestamp", detail: "is not a number: 'soon'"))
        }
        _ = try TestSupport.write("user_id:token\titem_id:token\nu\ta\textra\n", folder, "M.inter")
        XCTAssertThrowsError(try RecBoleAtomic.read(folder: folder)) { error in
            guard case .invalidField(_, 2, _, _) = error as? RecDataError else { return XCTFail("\(error)") }
        }
        _ = try TestSupport.write("user_id:token\titem_id:token\nu\tzz\n", folder, "M.inter")
        XCTAssertThrowsError(try RecBoleAtomic.read(folder: folder)) { error in
            guard case .invalidField(_, 2, "item_id", _) = error as? RecDataError else { return XCTFail("\(error)") }
        }
    }

    /// A UniSRec folder written by hand the way UniSRec's process_amazon.py writes it: user 0 has the
    /// sequence a b c d e (train a b c, valid d, test e); user 1 has c a b (train c).
    func testUniSRecVariantRebuildsFullSequences() throws {
        let folder = try TestSupport.scratchFolder(self)
        let header = "user_id:token\titem_id_list:token_seq\titem_id:token\n"
        _ = try TestSupport.write(header + "0\t0 1\t2\n0\t0\t1\n", folder, "S.train.inter")
        _ = try TestSupport.write(header + "0\t0 1 2\t3\n1\t2\t0\n", folder, "S.valid.inter")
        _ = try TestSupport.write(header + "0\t0 1 2 3\t4\n1\t2 0\t1\n", folder, "S.test.inter")
        _ = try TestSupport.write("a\t0\nb\t1\nc\t2\nd\t3\ne\t4\n", folder, "S.item2index")
        _ = try TestSupport.write("AX\t0\nBY\t1\n", folder, "S.user2index")
        _ = try TestSupport.write("a\tText A.\nb\tText B.\nc\tText C.\nd\tText D.\ne\tText E.\n", folder, "S.text")
        let d = try SequenceDataset.loadRecBole(folder: folder)
        XCTAssertEqual(d.userIDs, ["AX", "BY"])
        XCTAssertEqual(d.sequences[0].map { d.itemIDs[Int($0.item)] }, ["a", "b", "c", "d", "e"])
        XCTAssertEqual(d.sequences[1].map { d.itemIDs[Int($0.item)] }, ["c", "a", "b"])
        XCTAssertEqual(d.items[Int(d.sequences[0][2].item)].text, "Text C.")
        let split = LeaveOneOutSplit(d)
        XCTAssertEqual(split.users[0], .init(user: "AX", train: ["a", "b", "c"], valid: "d", test: "e"))
        XCTAssertEqual(split.users[1], .init(user: "BY", train: ["c"], valid: "a", test: "b"))
    }
}
