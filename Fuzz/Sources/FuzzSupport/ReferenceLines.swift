/// One line as the project's LineReader promises to hand it out.
public struct ReferenceLine: Equatable, CustomStringConvertible {
    public var number: Int
    public var bytes: [UInt8]

    public init(number: Int, bytes: [UInt8]) {
        self.number = number
        self.bytes = bytes
    }

    public var description: String { "\(number): \(bytes)" }
}

/// The lines of a file, written independently of LineReader from its documented contract: split at
/// `\n`, one trailing `\r` removed, numbered from 1, lines of only spaces and tabs (and empty ones)
/// left out but counted; no line after a final `\n`.
public func referenceLines<Bytes: Collection>(_ bytes: Bytes) -> [ReferenceLine] where Bytes.Element == UInt8 {
    var lines: [ReferenceLine] = []
    var pieces = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
    if pieces.last == [] { pieces.removeLast() }
    for (index, piece) in pieces.enumerated() {
        let line = piece.last == UInt8(ascii: "\r") ? Array(piece.dropLast()) : piece
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
        lines.append(ReferenceLine(number: index + 1, bytes: line))
    }
    return lines
}

/// Whether `bytes` start with the gzip magic number (LineReader then decompresses the file).
public func hasGzipMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
}
