import CZlib
import Foundation
import Support

/// Writes gzip files through zlib, atomically (temporary file, then rename; staging named and
/// cleaned up as `AtomicWrite` does). zlib's gzip header carries no time stamp, so the same content
/// always gives the same bytes.
public enum GzipFile {
    public static func write(_ text: String, to path: String, level: Int32 = 6) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw RecDataError.io(path: path, detail: "cannot create the folder: \(error.localizedDescription)")
        }
        AtomicWrite.removeDebris(of: path)
        let temporary = AtomicWrite.stagingPath(for: path)
        guard let file = gzopen(temporary, "wb\(level)") else {
            throw RecDataError.io(path: path, detail: "cannot create: \(String(cString: strerror(errno)))")
        }
        var bytes = Array(text.utf8)
        var offset = 0
        var failed = false
        while offset < bytes.count && !failed {
            let count = min(1 << 20, bytes.count - offset)
            let written = bytes.withUnsafeMutableBytes { gzwrite(file, $0.baseAddress! + offset, UInt32(count)) }
            failed = written != count
            offset += count
        }
        bytes = []
        let closed = gzclose(file)
        guard !failed, closed == Z_OK, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw RecDataError.io(path: path, detail: "cannot write the compressed file")
        }
    }
}
