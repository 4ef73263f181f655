import ArgumentParser
import Foundation
import RecData
import Support
import TextEncoders
import Workbench

/// `calrec features`: item-text vectors from a frozen BERT encoder (all-MiniLM-L6-v2 by default),
/// one per catalogue item, for the text-aware baselines (UniSRec, FDSA with text features).
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Encode every item's text with a frozen BERT encoder into item_features.f32 + item_features.json.",
        discussion: """
            The text is the item's title, categories and brand (a RecBole item's text field as it is). The folder --out gets the
            float32 matrix (items × width, the dataset's item order, UniSRec's .feat1CLS layout) and a header naming the encoder's
            weights, tokenizer, pooling and truncation; when --out already holds features of the same inputs, nothing is computed.
            """)

    @OptionGroup var source: DataSourceOptions
    @Option(help: "A Hugging Face BERT folder (config.json, model.safetensors, tokenizer.json or vocab.txt).")
    var encoder = TextFeatureOptions.defaultEncoder
    @Option(help: "Output folder.") var out: String
    @Option(help: "mean (over every token; all-MiniLM-L6-v2's pooling) or cls (the [CLS] state; UniSRec's).")
    var pooling: FeaturePooling = .mean
    @Flag(help: "Scale each vector to unit length (sentence-transformers' last step).") var normalize = false
    @Option(name: .customLong("max-tokens"), help: "Tokens per item at most, [CLS] and [SEP] included.") var maxTokens = 128

    func validate() throws {
        guard maxTokens >= 2 else { throw ValidationError("--max-tokens must be at least 2") }
    }

    func run() throws {
        var datasets: [SequenceDataset] = []
        try source.forEachDataset { datasets.append($0) }
        guard datasets.count == 1 else {
            throw ValidationError("features are computed for one dataset at a time; the source has \(datasets.count) (pick one with --category or --name)")
        }
        let dataset = datasets[0]
        let model = try BertEncoder(folder: try TextFeatureOptions.checkedEncoderFolder(encoder))
        let name = URL(fileURLWithPath: encoder).standardizedFileURL.lastPathComponent
        let started = Platform.processCPUSeconds()
        let progress = ProgressDisplay(total: dataset.items.count, label: "features")
        let (features, computed) = try model.cachedItemFeatures(
            dataset: dataset, encoderName: name, pooling: pooling, normalized: normalize, maxTokens: maxTokens, folder: out,
            progress: { progress.update($0, detail: "items") })
        let h = features.header
        guard computed else {
            print("features → \(out): up to date (\(h.itemCount) × \(h.dimension), key \(h.cacheKey.prefix(12)))")
            return
        }
        print(
            "features → \(out): \(h.itemCount) items × \(h.dimension) from \(name) (\(pooling.rawValue)\(normalize ? ", unit length" : "")), "
                + "\(h.tokens) tokens, \(h.truncatedItems) items cut at \(maxTokens), \(String(format: "%.1f", Platform.processCPUSeconds() - started)) CPU s")
    }
}

extension FeaturePooling: ExpressibleByArgument {}

extension FeaturesCommand: DeclaresFiles {
    /// The data and the encoder it reads, the feature folder it writes.
    var files: CommandFiles { source.files + CommandFiles(reading: [encoder], writing: [out]) }
}
