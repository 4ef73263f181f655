import Foundation
import Support

/// CPU time (user + system, all threads) this process has used, in seconds: recorded beside wall
/// time in training settings and metrics, since on a shared 2-core machine wall time varies with load.
enum CPUTime {
    static func now() -> Double { Platform.processCPUSeconds() }
}

/// JSON of a record as the CLI writes it: keys sorted, slashes unescaped; pretty-printed for files.
func encodedJSON<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value) + (pretty ? Data("\n".utf8) : Data())
}

/// Prints a record as one JSON line on standard output.
func printJSONLine<T: Encodable>(_ value: T) throws {
    print(String(decoding: try encodedJSON(value), as: UTF8.self))
}
