import Foundation

/// Options for turning an Amazon 2018 category into a `SequenceDataset`.
public struct Amazon2018LoadOptions: Sendable {
    /// Fraction of users to keep (1 keeps all); the paper keeps 50% of Office and 20% of Pet.
    public var userFraction: Double = 1
    /// Seed of the user sample.
    public var seed: UInt64 = 0
    /// Count and skip malformed lines (and reviews of items without metadata) instead of failing.
    public var skipBadLines = false

    public init(userFraction: Double = 1, seed: UInt64 = 0, skipBadLines: Bool = false) {
        self.userFraction = userFraction
        self.seed = seed
        self.skipBadLines = skipBadLines
    }
}

/// The review and metadata files of one category in an Amazon Reviews 2018 folder.
public struct Amazon2018Files: Sendable, Equatable {
    /// The file stem, e.g. `Office_Products`.
    public var category: String
    public var reviews: String
    public var meta: String

    /// Categories present in `folder`: every `<Stem>_5.json[.gz]`, each with its `meta_<Stem>.json[.gz]`
    /// (a missing one is an error naming it).
    public static func discover(in folder: String) throws -> [Amazon2018Files] {
        let names = try folderContents(folder, holding: "<Category>_5.json[.gz] files")
        return try reviewStems(names).map { try files(of: $0, in: folder, names: names)! }
    }

    /// The files of one category, or a clear error naming the missing file or listing what the
    /// folder holds.
    public static func locate(category: String, in folder: String) throws -> Amazon2018Files {
        let names = try folderContents(folder, holding: "<Category>_5.json[.gz] files")
        if let found = try files(of: category, in: folder, names: names) { return found }
        let available = reviewStems(names).filter { (try? files(of: $0, in: folder, names: names)) != nil }
        throw RecDataError.unknownCategory(folder: folder, category: category, available: available)
    }

    /// The stems of the 5-core review files among `names`, sorted.
    private static func reviewStems(_ names: [String]) -> [String] {
        var stems = Set<String>()
        for name in names {
            for suffix in ["_5.json.gz", "_5.json"] where name.hasSuffix(suffix) {
                stems.insert(String(name.dropLast(suffix.count)))
            }
        }
        return stems.sorted()
    }

    /// The files of `stem` among `names` (the folder's entries): nil when none of them is there, an
    /// error naming what is missing when only some are. The full review file `<Stem>.json[.gz]`
    /// counts as found (it is not read: the 5-core file is).
    private static func files(of stem: String, in folder: String, names: [String]) throws -> Amazon2018Files? {
        let reviews = ["\(stem)_5.json.gz", "\(stem)_5.json"].first(where: names.contains)
        let meta = ["meta_\(stem).json.gz", "meta_\(stem).json"].first(where: names.contains)
        if let reviews, let meta {
            return Amazon2018Files(
                category: stem, reviews: (folder as NSString).appendingPathComponent(reviews), meta: (folder as NSString).appendingPathComponent(meta))
        }
        let allReviews = ["\(stem).json.gz", "\(stem).json"].first(where: names.contains)
        let found = [reviews ?? allReviews, meta].compactMap { $0 }
        guard !found.isEmpty else { return nil }
        var missing: [String] = []
        if reviews == nil { missing.append("\(stem)_5.json.gz (or \(stem)_5.json)") }
        if meta == nil { missing.append("meta_\(stem).json.gz (or meta_\(stem).json)") }
        throw RecDataError.incompleteCategory(folder: folder, category: stem, found: found, missing: missing)
    }
}

/// The names in `folder`, or a clear error when it is missing or not a folder.
func folderContents(_ folder: String, holding expected: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else {
        throw RecDataError.missingPath(folder)
    }
    guard isDirectory.boolValue else {
        throw RecDataError.invalidArgument("\(folder): expected a folder holding \(expected)")
    }
    do {
        return try FileManager.default.contentsOfDirectory(atPath: folder)
    } catch {
        throw RecDataError.io(path: folder, detail: "cannot list the folder: \(error.localizedDescription)")
    }
}

extension SequenceDataset {
    /// Reads one Amazon 2018 category: reviews (streamed), the metadata of the items they name,
    /// optional user sampling, chronological order and de-duplication.
    ///
    /// A review whose item has no metadata is an error naming its line; with `skipBadLines` such
    /// reviews are dropped and counted.
    public static func loadAmazon2018(_ files: Amazon2018Files, options: Amazon2018LoadOptions = .init()) throws
        -> SequenceDataset
    {
        let log = try Amazon2018ReviewReader.read(path: files.reviews, skipBadLines: options.skipBadLines)
        let wanted = Set(log.itemIDs)
        let (meta, metaSkipped) = try Amazon2018MetaReader.read(
            path: files.meta, wanted: wanted, skipBadLines: options.skipBadLines)
        var skipped = log.skipped
        skipped.merge(metaSkipped)

        var described = [Bool](repeating: true, count: log.itemIDs.count)
        for (index, asin) in log.itemIDs.enumerated() where meta[asin] == nil {
            let error = RecDataError.itemWithoutMeta(
                file: files.reviews, line: log.itemFirstLine[index], item: asin, metaFile: files.meta)
            guard options.skipBadLines else { throw error }
            described[index] = false
        }
        if described.contains(false) {
            for record in log.records where !described[Int(record.item)] {
                skipped.record(
                    .itemWithoutMeta(
                        file: files.reviews, line: log.itemFirstLine[Int(record.item)],
                        item: log.itemIDs[Int(record.item)], metaFile: files.meta))
            }
        }
        let keepUsers: Set<String>? =
            options.userFraction == 1
            ? nil : try UserSampling.sample(log.userIDs, fraction: options.userFraction, seed: options.seed)
        return build(
            name: files.category, log: log, attributes: { meta[log.itemIDs[Int($0)]]! },
            keepRecord: { described[Int($0.item)] }, keepUser: keepUsers, applyDeduplication: true,
            skipped: skipped)
    }
}
