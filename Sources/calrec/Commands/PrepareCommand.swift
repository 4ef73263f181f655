import ArgumentParser
import Foundation
import RecData
import Support
import Workbench

/// `calrec prepare`: any supported source → RecBole atomic files and `splits.json` per category.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Write processed RecBole files (<name>.inter, <name>.item) and splits.json under <out>/<name>/.")

    @OptionGroup var source: DataSourceOptions

    @Option(help: "Output folder; each dataset goes to <out>/<name>/ (replaced atomically).")
    var out: String

    func run() throws {
        try source.forEachDataset { dataset in
            let destination = (out as NSString).appendingPathComponent(dataset.name)
            try AtomicWrite.folder(destination) { staging in
                try RecBoleAtomic.write(dataset, folder: staging)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let split = LeaveOneOutSplit(dataset)
                try AtomicWrite.write(
                    try encoder.encode(split), to: (staging as NSString).appendingPathComponent("splits.json"))
            }
            log("wrote \(destination): \(dataset.userIDs.count) users, \(dataset.itemIDs.count) items, \(dataset.purchaseCount) purchases")
        }
    }
}

extension PrepareCommand: DeclaresFiles {
    var files: CommandFiles { source.files + CommandFiles(reading: [], writing: [out]) }
}
