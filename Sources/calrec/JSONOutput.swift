import Foundation

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
