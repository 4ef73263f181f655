import Foundation

/// Writes that never leave a half-written file behind: content goes to a temporary file in the
/// destination's folder, which is then renamed over the destination (atomic on POSIX file systems).
public enum AtomicWrite {
    /// Writes `text` (UTF-8) to `path` atomically, creating the parent folder if needed.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Writes `data` to `path` atomically, creating the parent folder if needed.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
            do {
                try data.write(to: temporary)
                try replace(path, with: temporary.path)
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                throw error
            }
        } catch let error as RecDataError {
            throw error
        } catch {
            throw RecDataError.io(path: path, detail: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Fills a new folder through `body`, then moves it to `path` in one rename. If `body` throws,
    /// nothing appears at `path`. An existing folder at `path` is replaced only after `body` succeeds.
    public static func folder(_ path: String, _ body: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let parent = url.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw RecDataError.io(path: path, detail: "cannot create the output folder: \(error.localizedDescription)")
        }
        do {
            try body(staging.path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    throw RecDataError.invalidArgument("\(path) exists and is not a folder; choose another output path")
                }
                let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(UUID().uuidString)")
                try FileManager.default.moveItem(at: url, to: old)
                try replace(url.path, with: staging.path)
                try? FileManager.default.removeItem(at: old)
            } else {
                try replace(url.path, with: staging.path)
            }
        } catch {
            try? FileManager.default.removeItem(at: staging)
            if let error = error as? RecDataError { throw error }
            throw RecDataError.io(path: path, detail: error.localizedDescription)
        }
    }

    private static func replace(_ destination: String, with source: String) throws {
        guard rename(source, destination) == 0 else {
            throw RecDataError.io(path: destination, detail: "rename failed: \(String(cString: strerror(errno)))")
        }
    }
}
