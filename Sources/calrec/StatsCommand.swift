import ArgumentParser
import Foundation
import RecData
import Reporting

/// `calrec stats`: the paper's Table 1 for one or more categories.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print Table 1 statistics (users, duplicates, items, density, words, …).")

    @OptionGroup var source: DataSourceOptions

    @Option(help: "Output format: text, markdown, html or json (one JSON object per category per line).")
    var format: OutputFormat = .text

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, markdown, html, json
    }

    func run() throws {
        try reportingErrors {
            var rows: [Table1Row] = []
            var fractions: [String: Double] = [:]
            try source.forEachDataset { dataset in
                rows.append(Table1Row(dataset: dataset, format: source.itemTextFormat))
                fractions[dataset.name] = source.amazon2018 == nil ? 1 : source.userFraction(for: dataset.name)
            }
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                for row in rows { print(String(decoding: try encoder.encode(row), as: UTF8.self)) }
            case .text, .markdown, .html:
                let table = Table1Report.table(rows, userFractions: fractions, caption: "Table 1: dataset statistics")
                ResultCollector.current?.add(table)
                print(table.rendered(as: TableFormat(rawValue: format.rawValue)!), terminator: "")
            }
        }
    }
}
