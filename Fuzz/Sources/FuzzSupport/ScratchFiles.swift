import CZlib
import Foundation

/// Files a fuzz target writes each input to, for readers that take a path: one folder per process
/// (libFuzzer's `-fork` and `-jobs` run several), removed at exit.
public enum ScratchFiles {
    nonisolated(unsafe) private static var folder: String?

    /// The path of scratch file `name` (the same path on every call, so each input overwrites the last).
    public static func path(_ name: String) -> String {
        if folder == nil {
            let made = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-fuzz-\(getpid())").path
            try! FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
            folder = made
            atexit { ScratchFiles.removeFolder() }
        }
        return (folder! as NSString).appendingPathComponent(name)
    }

    private static func removeFolder() {
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// Replaces the file at `path` with `bytes`.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        expect(descriptor >= 0, "cannot create \(path)")
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            expect(written > 0, "cannot write \(path)")
            offset += written
        }
    }

    /// Replaces the file at `path` with `bytes` compressed by zlib (a gzip stream, any bytes: the
    /// project's `GzipFile` takes text).
    public static func writeGzip(_ bytes: UnsafeRawBufferPointer, to path: String) {
        guard let file = gzopen(path, "wb1") else { fatalError("cannot create \(path)") }
        let written = bytes.isEmpty ? 0 : gzwrite(file, bytes.baseAddress, UInt32(bytes.count))
        expect(written == bytes.count && gzclose(file) == Z_OK, "cannot write \(path)")
    }
}
