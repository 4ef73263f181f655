import Foundation

/// Everything that can go wrong while reading or writing datasets. Each message names the file (and
/// line and field where there is one) and says what to do next.
public enum RecDataError: Error, LocalizedError, Equatable {
    /// The path does not exist.
    case missingPath(String)
    /// The file exists but holds no records.
    case emptyFile(String)
    /// A line is not valid JSON (or not a JSON object).
    case malformedLine(file: String, line: Int, detail: String)
    /// A required field is absent from a record.
    case missingField(file: String, line: Int, field: String)
    /// A field holds a value of the wrong type or form.
    case invalidField(file: String, line: Int, field: String, detail: String)
    /// The compressed stream ends early or is corrupt.
    case corruptCompressedFile(file: String, detail: String)
    /// A review names an item that the metadata file does not describe.
    case itemWithoutMeta(file: String, line: Int, item: String, metaFile: String)
    /// No review/meta file pair for the requested category stem.
    case unknownCategory(folder: String, category: String, available: [String])
    /// Some of a category's files are in the folder (`found`, file names) but not all (`missing`).
    case incompleteCategory(folder: String, category: String, found: [String], missing: [String])
    /// The folder holds no recognised dataset files.
    case noDataset(folder: String, expected: String)
    /// A parameter is out of range.
    case invalidArgument(String)
    /// Reading or writing failed at the operating-system level.
    case io(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .missingPath(let path):
            return "\(path): no such file or folder; check the path (the data sets the repository carries are under Workbooks/data)"
        case .emptyFile(let file):
            return "\(file): the file holds no records; re-download or regenerate it"
        case .malformedLine(let file, let line, let detail):
            return "\(file):\(line): malformed JSON (\(detail)); fix the line or pass --skip-bad-lines to skip it"
        case .missingField(let file, let line, let field):
            return "\(file):\(line): field '\(field)' missing; fix the record or pass --skip-bad-lines to skip it"
        case .invalidField(let file, let line, let field, let detail):
            return "\(file):\(line): field '\(field)' \(detail); fix the record or pass --skip-bad-lines to skip it"
        case .corruptCompressedFile(let file, let detail):
            return "\(file): compressed data is damaged (\(detail)); the download is probably truncated, fetch it again"
        case .itemWithoutMeta(let file, let line, let item, let metaFile):
            return "\(file):\(line): field 'asin' names item \(item), which \(metaFile) does not describe; "
                + "use the matching meta file or pass --skip-bad-lines to drop reviews of undescribed items"
        case .unknownCategory(let folder, let category, let available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(folder): no category '\(category)' (need \(category)_5.json[.gz] and meta_\(category).json[.gz]); available: \(list)"
        case .incompleteCategory(let folder, let category, let found, let missing):
            return "\(folder): category '\(category)' has \(found.joined(separator: " and ")) but no \(missing.joined(separator: " and ")); "
                + "put the missing file in that folder (a category needs its 5-core reviews \(category)_5.json[.gz] and its item metadata meta_\(category).json[.gz])"
        case .noDataset(let folder, let expected):
            return "\(folder): no dataset found; expected \(expected)"
        case .invalidArgument(let message):
            return message
        case .io(let path, let detail):
            return "\(path): \(detail)"
        }
    }
}

extension RecDataError {
    /// The same error with its line number moved by `offset` (for files read in parts).
    func shiftingLine(by offset: Int) -> RecDataError {
        switch self {
        case .malformedLine(let file, let line, let detail): return .malformedLine(file: file, line: line + offset, detail: detail)
        case .missingField(let file, let line, let field): return .missingField(file: file, line: line + offset, field: field)
        case .invalidField(let file, let line, let field, let detail):
            return .invalidField(file: file, line: line + offset, field: field, detail: detail)
        case .itemWithoutMeta(let file, let line, let item, let metaFile):
            return .itemWithoutMeta(file: file, line: line + offset, item: item, metaFile: metaFile)
        default: return self
        }
    }
}

/// Lines a reader skipped because of `--skip-bad-lines`, with the first few reasons kept for the log.
public struct SkippedLines: Sendable, Equatable {
    /// How many lines were skipped.
    public private(set) var count = 0
    /// Up to `keep` of the errors, in file order.
    public private(set) var examples: [RecDataError] = []
    let keep = 5

    public init() {}

    mutating func record(_ error: RecDataError) {
        count += 1
        if examples.count < keep { examples.append(error) }
    }

    /// The same record with every line number moved by `offset`.
    func shiftingLines(by offset: Int) -> SkippedLines {
        var shifted = self
        shifted.examples = examples.map { $0.shiftingLine(by: offset) }
        return shifted
    }

    mutating func merge(_ other: SkippedLines) {
        count += other.count
        for example in other.examples where examples.count < keep { examples.append(example) }
    }
}
