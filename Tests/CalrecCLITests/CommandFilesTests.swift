import Workbench
import XCTest
@testable import calrec

/// What each calrec subcommand declares it reads and writes (`DeclaresFiles`).
final class CommandFilesTests: XCTestCase {
    private let commands = CalrecInProcess()

    func testEverySubcommandAWorkbookMayRunDeclaresItsFiles() {
        let subcommands = Calrec.workbookSubcommands
        // The list comes from the command tree, so a new subcommand is checked here too.
        XCTAssertEqual(
            Set(subcommands.map(\.name)),
            ["doctor", "lm train", "lm generate", "lm score", "train", "recommend", "synth", "prepare", "stats", "baseline", "evaluate",
             "compare", "results", "export", "features"])
        for (name, type) in subcommands {
            XCTAssertTrue(type is DeclaresFiles.Type, "calrec \(name) does not declare its files (a DeclaresFiles conformance beside the command)")
        }
    }

    private func assertFiles(
        _ arguments: String, inputs: [String], outputs: [String] = [], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let files = try commands.files(for: arguments.split(separator: " ").map(String.init))
        XCTAssertEqual(files, CommandFiles(inputs: inputs, outputs: outputs), arguments, file: file, line: line)
    }

    func testDataAndModelFoldersAreInputsAndOutFoldersOutputs() throws {
        try assertFiles("synth --out raw --budget tiny", inputs: [], outputs: ["raw"])
        try assertFiles("prepare --amazon2018 raw --out prepared", inputs: ["raw"], outputs: ["prepared"])
        try assertFiles("features --recbole data --encoder enc --out feats", inputs: ["data", "enc"], outputs: ["feats"])
        try assertFiles("baseline unisrec-t --recbole data --features feats --out runs/u", inputs: ["data", "feats"], outputs: ["runs/u"])
        try assertFiles("baseline fdsa --recbole data --encoder enc --out runs/f", inputs: ["data", "enc"], outputs: ["runs/f"])
        try assertFiles("baseline s3rec --amazon2018 raw --out runs/s", inputs: ["raw"], outputs: ["runs/s"])
        try assertFiles("train --stage 0 --recbole a --recbole b --out s0", inputs: ["a", "b"], outputs: ["s0"])
        try assertFiles("train --stage 2 --init s0 --amazon2018 raw --out s2", inputs: ["raw", "s0"], outputs: ["s2"])
        try assertFiles("lm train --text-file docs.txt --out lm", inputs: ["docs.txt"], outputs: ["lm"])
        try assertFiles("lm train --recbole prepared --out lm", inputs: ["prepared"], outputs: ["lm"])
        try assertFiles("lm score --model lm --text hello", inputs: ["lm"])
        try assertFiles("export --model s2 --recbole prepared --out export.json", inputs: ["prepared", "s2"], outputs: ["export.json"])
        try assertFiles(
            "recommend --model s2 --recbole prepared --out runs/calrec --metrics-file metrics/calrec.json", inputs: ["s2", "prepared"],
            outputs: ["runs/calrec", "metrics/calrec.json"])
        try assertFiles("baseline pop --recbole prepared --out runs/pop", inputs: ["prepared"], outputs: ["runs/pop"])
        try assertFiles(
            "baseline sasrec --amazon2018 raw --load saved --out runs/sasrec --metrics-file m.json", inputs: ["raw", "saved"],
            outputs: ["runs/sasrec", "m.json"])
        try assertFiles("doctor", inputs: [])
    }

    func testSampleFilesMetricsFilesAndReferencesAreInputs() throws {
        try assertFiles(
            "evaluate runs/calrec/samples.jsonl --recbole prepared --out runs/mean --pooling mean", inputs: ["runs/calrec/samples.jsonl", "prepared"],
            outputs: ["runs/mean"])
        try assertFiles("compare runs/a/ranks.tsv runs/b/ranks.tsv --name-a A", inputs: ["runs/a/ranks.tsv", "runs/b/ranks.tsv"])
        try assertFiles("stats --amazon2018 raw --reference ref.json --format markdown", inputs: ["raw", "ref.json"])
        try assertFiles("results Pop=m/pop.json BM25=m/bm25.json --reference ref.json", inputs: ["m/pop.json", "m/bm25.json", "ref.json"])
    }

    func testTextOptionsAreNotFilesWhateverLiesOnDisk() throws {
        // Package.swift exists in the working directory of `swift test`; as a prompt it is text.
        try assertFiles("lm generate --model lm --prompt Package.swift --samples 2", inputs: ["lm"])
        try assertFiles("stats --recbole prepared --format text --category-format path", inputs: ["prepared"])
    }

    func testBadArgumentsAndWorkbookCommandsAreRefused() {
        XCTAssertThrowsError(try commands.files(for: ["train", "--stage", "2", "--recbole", "x", "--out", "y", "--init", "z", "--alpah", "0.1"])) {
            XCTAssertTrue("\($0)".contains("alpah"), "\($0)")
        }
        for name in ["run", "status", "runs", "audit", "diff"] {
            XCTAssertThrowsError(try commands.files(for: [name, "w.md"])) {
                XCTAssertTrue("\($0)".contains("cannot run another workbook"), "\($0)")
            }
        }
    }

    func testTheUndeclaredErrorSaysWhatToDo() {
        XCTAssertEqual(
            CommandFilesError.undeclared(command: "lm generate").errorDescription,
            "calrec lm generate does not declare the files it reads and writes, so a workbook cannot cache or record it; "
                + "run it from an sh block with deps= and outs=, or give the command a DeclaresFiles conformance beside its definition")
    }
}
