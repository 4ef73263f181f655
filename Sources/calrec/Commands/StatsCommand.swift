import ArgumentParser
import Foundation
import RecData
import Reporting
import Workbench

/// `calrec stats`: the paper's Table 1 for one or more categories.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print Table 1 statistics (users, duplicates, items, density, words, …).")

    @OptionGroup var source: DataSourceOptions

    @Option(help: "Output format: text, markdown, html or json (one JSON object per category per line).")
    var format: OutputFormat = .text

    @Option(help: "Reference numbers (JSON; a workbook's {{reference}}) to print the paper's Table 1 beside ours.")
    var reference: String?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, markdown, html, json
    }

    func run() throws {
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
            var tables = [Table1Report.table(rows, userFractions: fractions, caption: "Table 1: dataset statistics")]
            if let reference {
                let numbers = try ReferenceNumbers(path: reference)
                if !numbers.table1.isEmpty { tables.append(Table1Report.paperTable(numbers)) }
                for row in rows {
                    let names = [row.category, PaperCategories.displayName(row.category)]
                    if let paper = names.lazy.compactMap({ numbers.table1[$0] }).first {
                        tables.append(Table1Report.comparison(row, paper: paper, dataset: PaperCategories.displayName(row.category)))
                    }
                }
            }
            for table in tables {
                ResultCollector.current?.add(table)
                print(table.rendered(as: TableFormat(rawValue: format.rawValue)!))
            }
        }
    }
}

extension StatsCommand: DeclaresFiles {
    var files: CommandFiles { source.files + CommandFiles(reading: [reference]) }
}
