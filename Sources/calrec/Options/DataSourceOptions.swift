import ArgumentParser
import Foundation
import RecData
import Workbench

/// Where a command reads its data: a folder of Amazon 2018 files, or a RecBole folder.
struct DataSourceOptions: ParsableArguments {
    @Option(name: .customLong("amazon2018"), help: "Folder of Amazon Reviews 2018 files (<Cat>_5.json[.gz] + meta_<Cat>.json[.gz]).")
    var amazon2018: String?

    @Option(name: .customLong("category"), help: "Category file stem to use (repeatable; default: every category in the folder).")
    var categories: [String] = []

    @Option(name: .customLong("sample-users"), help: "Keep this fraction of users, chosen with --sample-seed.")
    var sampleUsers: Double?

    @Flag(name: .customLong("paper-sampling"), help: "Keep the paper's share of users per category (Office 50%, Pet 20%).")
    var paperSampling = false

    // Its own name: commands that take this group also have a `--seed` of their own (training,
    // sampling), and two options of one name would leave one of them silently unset.
    @Option(name: .customLong("sample-seed"), help: "Seed of the user sample.")
    var sampleSeed: UInt64 = 0

    @Option(name: .customLong("recbole"), help: "Folder of RecBole atomic files (<name>.inter + <name>.item, or the UniSRec variant).")
    var recbole: String?

    @Option(help: "Dataset name inside the RecBole folder (default: the only one there).")
    var name: String?

    @Flag(name: .customLong("skip-bad-lines"), help: "Count and skip malformed lines instead of stopping.")
    var skipBadLines = false

    @Option(name: .customLong("category-format"), help: "How a category path becomes text: path, leaf or prefix:N.")
    var categoryFormat = "path"

    func validate() throws {
        if (amazon2018 == nil) == (recbole == nil) {
            throw ValidationError("give exactly one data source: --amazon2018 <folder> or --recbole <folder>")
        }
        if recbole != nil && (sampleUsers != nil || paperSampling || !categories.isEmpty) {
            throw ValidationError("--category, --sample-users and --paper-sampling apply to --amazon2018 sources only")
        }
        if let sampleUsers, !(sampleUsers > 0 && sampleUsers <= 1) {
            throw ValidationError("--sample-users must be in (0, 1]; got \(sampleUsers)")
        }
        if sampleUsers != nil && paperSampling {
            throw ValidationError("use either --sample-users or --paper-sampling, not both")
        }
        if CategoryFormat(argument: categoryFormat) == nil {
            throw ValidationError("--category-format must be path, leaf or prefix:N; got '\(categoryFormat)'")
        }
    }

    var itemTextFormat: ItemTextFormat { ItemTextFormat(categoryFormat: CategoryFormat(argument: categoryFormat)!) }

    /// The share of users kept for a category stem.
    func userFraction(for stem: String) -> Double {
        if let sampleUsers { return sampleUsers }
        if paperSampling { return PaperCategories.all.first { $0.stem == stem }?.userFraction ?? 1 }
        return 1
    }

    /// Loads every selected dataset, one after another, calling `body` with each.
    func forEachDataset(_ body: (SequenceDataset) throws -> Void) throws {
        if let folder = amazon2018 {
            let files =
                categories.isEmpty
                ? try Amazon2018Files.discover(in: folder)
                : try categories.map { try Amazon2018Files.locate(category: $0, in: folder) }
            if files.isEmpty {
                throw RecDataError.noDataset(folder: folder, expected: "<Category>_5.json[.gz] with meta_<Category>.json[.gz]")
            }
            for file in files {
                let options = Amazon2018LoadOptions(
                    userFraction: userFraction(for: file.category), seed: sampleSeed, skipBadLines: skipBadLines)
                log("reading \(file.reviews)")
                let dataset = try SequenceDataset.loadAmazon2018(file, options: options)
                reportSkipped(dataset.skipped)
                try body(dataset)
            }
        } else if let folder = recbole {
            try body(try SequenceDataset.loadRecBole(folder: folder, name: name))
        }
    }

    private func reportSkipped(_ skipped: SkippedLines) {
        guard skipped.count > 0 else { return }
        log("skipped \(skipped.count) bad line(s) or reviews (--skip-bad-lines); first ones:")
        for example in skipped.examples { log("  \(example.localizedDescription)") }
    }
}

extension DataSourceOptions: DeclaresFiles {
    /// The data folder, whole: with `--category` only some of its files are read, but which ones
    /// (`.json` or `.json.gz`) is known only once they exist.
    var files: CommandFiles { CommandFiles(reading: [amazon2018, recbole]) }
}
