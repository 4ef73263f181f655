import ArgumentParser
import Foundation
import RecData
import Workbench

/// `calrec synth`: a synthetic category in the Amazon 2018 schema.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write <Category>_5.json.gz and meta_<Category>.json.gz from a seeded latent model.")

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Number of simulated users before the 5-core filter (default: by --budget).")
    var users: Int?

    @Option(help: "Size preset: tiny (300 users, for tests), default (2,000), full (20,000).")
    var budget: Budget = .default

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    @Option(help: "Category file stem.")
    var category = "Synthetic"

    func run() throws {
        var options = SyntheticAmazon.Options(users: users ?? budget.synthesizedUsers, seed: seed)
        options.category = category
        let files = try SyntheticAmazon(options: options).write(to: out)
        log("wrote \(files.reviews) and \(files.meta)")
    }
}

extension SynthCommand: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [], writing: [out]) }
}
