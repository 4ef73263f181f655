import ArgumentParser
import Foundation
import RecData
import SequentialRecommenders
import Support
import TextEncoders
import Workbench

/// Where a text-aware baseline gets its item-text vectors: a folder `calrec features` wrote, or
/// computed here with a BERT encoder (cached in `<out>/features`, recomputed only when the encoder,
/// the settings or a text changes).
struct TextFeatureOptions: ParsableArguments {
    @Option(help: "Item features written by calrec features (default: computed with --encoder into <out>/features).")
    var features: String?
    @Option(help: "BERT folder that encodes the item texts when --features is not given.")
    var encoder = Self.defaultEncoder
    @Option(help: "With --encoder: mean or cls pooling.")
    var pooling: FeaturePooling = .mean
    @Option(name: .customLong("max-tokens"), help: "With --encoder: tokens per item at most.")
    var maxTokens = 128

    /// The features of `dataset`'s items, checked against its catalogue.
    func features(for dataset: SequenceDataset, out: String) throws -> ItemFeatures {
        if let features {
            let loaded = try ItemFeatures.read(folder: features)
            try loaded.checkItems(dataset.itemIDs, path: features)
            return loaded
        }
        return try encode(dataset, with: try loadEncoder(), folder: (out as NSString).appendingPathComponent("features"))
    }

    /// Where `make models` puts all-MiniLM-L6-v2, the default encoder.
    static let defaultEncoder = ".cache/models/all-MiniLM-L6-v2"

    /// `--encoder`, checked to be a model folder (a missing one says how to get it).
    func checkedEncoderFolder() throws -> String {
        try Self.checkedEncoderFolder(encoder, alternative: " (or pass --features where it applies)")
    }

    /// `folder`, checked to be a model folder; the error names it, says how to get the default one,
    /// and adds `alternative`.
    static func checkedEncoderFolder(_ folder: String, alternative: String = "") throws -> String {
        guard FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("config.json")) else {
            throw ValidationError("--encoder \(folder): no config.json there; `make models` fetches all-MiniLM-L6-v2 into .cache/models\(alternative)")
        }
        return folder
    }

    /// The BERT of `--encoder` and the name its features record.
    func loadEncoder() throws -> (model: BertEncoder, name: String) {
        let folder = try checkedEncoderFolder()
        return (try BertEncoder(folder: folder), URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent)
    }

    /// `dataset`'s item vectors under `encoder`, cached in `folder` (recomputed only when the
    /// encoder, the settings or a text changed).
    func encode(_ dataset: SequenceDataset, with encoder: (model: BertEncoder, name: String), folder: String, label: String? = nil) throws -> ItemFeatures {
        let progress = ProgressDisplay(total: dataset.items.count, label: "features \(label ?? dataset.name)")
        return try encoder.model.cachedItemFeatures(
            dataset: dataset, encoderName: encoder.name, pooling: pooling, normalized: false, maxTokens: maxTokens, folder: folder,
            progress: { progress.update($0, detail: "items") }
        ).features
    }
}

extension TextFeatureOptions {
    /// `dataset` as a UniSRec pre-training domain: its training sequences, its item vectors under
    /// `encoder` and the vectors of its texts with each word dropped with probability
    /// `wordDropRatio` (seeded), both cached under `folder`.
    func pretrainingDomain(
        _ dataset: SequenceDataset, encoder: (model: BertEncoder, name: String), folder: String, wordDropRatio: Double, seed: UInt64
    ) throws -> UniSRecPretrainingDomain {
        var random = SeededRandom(seed: seed ^ 0x3D20_9D20)
        var dropped = dataset
        dropped.items = dataset.items.map { item in
            let words = ItemTextFormat.encoderText(of: item).split(separator: " ", omittingEmptySubsequences: false)
            return ItemAttributes(text: words.filter { _ in random.unit() > wordDropRatio }.joined(separator: " "))
        }
        func encoded(_ data: SequenceDataset, _ subfolder: String) throws -> ItemFeatures {
            try encode(data, with: encoder, folder: (folder as NSString).appendingPathComponent(subfolder), label: "\(data.name) (\(subfolder))")
        }
        return UniSRecPretrainingDomain(
            name: dataset.name, sequences: SequenceDatasetSequences(dataset).trainingSequences, features: try encoded(dataset, "features"),
            wordDropped: try encoded(dropped, "features-word-drop"))
    }
}

extension TextFeatureOptions: DeclaresFiles {
    var files: CommandFiles { CommandFiles(reading: [features ?? encoder]) }
}
