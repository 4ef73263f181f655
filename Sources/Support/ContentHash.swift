import Crypto
import Foundation

/// SHA-256 of files and folders, hex-encoded. A folder's hash covers the relative path and content
/// hash of every file below it, in sorted order (temporary `*.tmp-*` files excluded), so renaming,
/// adding, removing or changing any file changes it. A missing path hashes to nil.
public enum ContentHash {
    public static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    public static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }

    /// The hash of a file's bytes, streamed in 1 MiB pieces.
    public static func file(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ContentHashError.unreadable(path: path) }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The hash of a file or folder, or nil when nothing is at `path`.
    public static func path(_ path: String) throws -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard isDirectory.boolValue else { return try file(path) }
        var listing = ""
        for relative in try files(under: path) {
            listing += "\(relative)\t\(try file((path as NSString).appendingPathComponent(relative)))\n"
        }
        return sha256("folder\n" + listing)
    }

    /// Files below `folder` (relative paths, sorted), temporary files of atomic writes excluded.
    static func files(under folder: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var result: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = (folder as NSString).appendingPathComponent(relative)
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            if (relative as NSString).lastPathComponent.contains(".tmp-") { continue }
            result.append(relative)
        }
        return result.sorted()
    }
}

/// A file that cannot be hashed.
public enum ContentHashError: LocalizedError, Equatable {
    case unreadable(path: String)

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path): return "\(path): cannot be read; check that it exists and is readable"
        }
    }
}
