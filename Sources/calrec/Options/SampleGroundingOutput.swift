import CALRec
import Evaluation
import Foundation
import RecData
import Reporting
import Retrieval
import Support

extension EvaluationOptions {
    /// Writes `grounding.json` (what the samples name) into the output folder, prints it as a table
    /// and hands the table and its shares to the workbook's report. `itemTexts`: what a model
    /// generates for each item (`SampleGrounding`).
    func writeGrounding(
        cases: [EvaluationCase], samples: [[GeneratedSample]], dataset: SequenceDataset, itemTexts: [String], index: BM25Index, method: String
    ) throws {
        let grounding = SampleGrounding(cases: cases, samples: samples, itemTexts: itemTexts, index: index)
        try AtomicWrite.write(try grounding.encoded(), to: (out as NSString).appendingPathComponent("grounding.json"))
        let rows: [(String, String, Double)] = [
            ("a catalogue item's text, word for word", "catalogue_text", grounding.catalogueText),
            ("… of an item in the user's history", "history_text", grounding.historyText),
            ("… of the user's target", "target_text", grounding.targetText),
            ("best BM25 match in the user's history", "best_match_in_history", grounding.bestMatchInHistory),
            ("best BM25 match is the target", "best_match_is_target", grounding.bestMatchIsTarget),
            ("no term in the catalogue", "unmatched", grounding.unmatched),
        ]
        var table = Table(
            caption: "What \(method)'s samples name on \(dataset.name) (\(grounding.users) users, \(grounding.samples) samples; "
                + "\(PaperNumberFormat.frequency(grounding.distinctTextsPerUser)) different texts per user)",
            columns: [.init("Samples that are", alignment: .left), .init("Share")])
        for (label, _, share) in rows { table.append([.init(label), .init(PaperNumberFormat.percent(100 * share))]) }
        if let collector = ResultCollector.current {
            collector.add(table)
            for (_, key, share) in rows { collector.record(metric: "\(method) samples \(key)", share) }
        }
        print(table.renderedText())
        log("wrote \(out)/grounding.json")
    }
}
