import Foundation

/// Writes that never leave a half-written file behind: content goes to a temporary file in the
/// destination's folder, which is then renamed over the destination (atomic on POSIX file systems).
///
/// Staging names are `.<name>.tmp-<pid>-<uuid>` (and `.<name>.old-<pid>-<uuid>` for a folder being
/// replaced), with the writer's process id. A process killed mid-write leaves its staging behind;
/// the next write of the same destination removes it (`removeDebris`), but never the staging of a
/// writer that is still alive, and puts back a previous folder that a killed writer had moved aside.
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
            removeDebris(of: path)
            let temporary = URL(fileURLWithPath: stagingPath(for: path))
            do {
                try data.write(to: temporary)
                try replace(path, with: temporary.path)
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                throw error
            }
        } catch let error as FileWriteError {
            throw error
        } catch {
            throw FileWriteError.io(path: path, detail: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Fills a new folder through `body`, then moves it to `path` in one rename. If `body` throws,
    /// nothing appears at `path`. An existing folder at `path` is replaced only after `body` succeeds.
    public static func folder(_ path: String, _ body: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        removeDebris(of: url.path)
        let staging = URL(fileURLWithPath: stagingPath(for: url.path))
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError.io(path: path, detail: "cannot create the output folder: \(error.localizedDescription)")
        }
        do {
            try body(staging.path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    throw FileWriteError.notAFolder(path: path)
                }
                let old = stagingPath(for: url.path, kind: .old)
                try replace(old, with: url.path)
                do {
                    try replace(url.path, with: staging.path)
                } catch {
                    _ = rename(old, url.path)
                    throw error
                }
                // Renamed before the (not atomic) removal, so that a `.old-` entry always means a
                // previous version whole: the one to put back when the new one never arrived.
                let doomed = stagingPath(for: url.path)
                try? FileManager.default.removeItem(atPath: rename(old, doomed) == 0 ? doomed : old)
            } else {
                try replace(url.path, with: staging.path)
            }
        } catch {
            try? FileManager.default.removeItem(at: staging)
            if let error = error as? FileWriteError { throw error }
            throw FileWriteError.io(path: path, detail: error.localizedDescription)
        }
    }

    /// What a staging entry is for: the new content, or the previous folder moved aside.
    public enum StagingKind: String, Sendable {
        case temporary = "tmp"
        case old
    }

    /// A fresh staging path beside `path` for this process: `.<name>.<kind>-<pid>-<uuid>`. The
    /// `.tmp-` infix is what content hashes and interrupt clean-ups skip.
    public static func stagingPath(for path: String, kind: StagingKind = .temporary) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(kind.rawValue)-\(getpid())-\(UUID().uuidString)").path
    }

    /// Removes the staging files and folders that writers of `path` killed mid-write left beside it:
    /// those whose process is gone, and those named before staging names carried one. Staging of a
    /// live process (this one included) stays. When `path` itself is missing, a previous version that
    /// a killed writer had moved aside (`.old-`) is put back instead of removed. Failures to remove
    /// are ignored: debris takes room but does no harm.
    public static func removeDebris(of path: String) {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let folder = url.deletingLastPathComponent().path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        var missing = !FileManager.default.fileExists(atPath: url.path)
        for name in names.sorted() where isDebris(name, of: url.lastPathComponent) {
            let entry = (folder as NSString).appendingPathComponent(name)
            if missing, name.hasPrefix(".\(url.lastPathComponent).\(StagingKind.old.rawValue)-"), rename(entry, url.path) == 0 {
                missing = false
                continue
            }
            try? FileManager.default.removeItem(atPath: entry)
        }
    }

    /// Whether file name `entry` is the new content (`.<name>.tmp-…`) of a write that will never
    /// finish: its writer is gone, or its name carries no writer. A live writer's staging, and any
    /// folder moved aside (`.old-`, which the next write of its output puts back if needed), are not.
    public static func isAbandonedContent(_ entry: String) -> Bool {
        guard entry.hasPrefix("."), let range = entry.range(of: ".\(StagingKind.temporary.rawValue)-") else { return false }
        return writerIsGone(entry[range.upperBound...]) ?? false
    }

    /// Whether `entry` is the staging of a write of `name` whose writer is no longer running.
    static func isDebris(_ entry: String, of name: String) -> Bool {
        for kind in [StagingKind.temporary, .old] {
            let prefix = ".\(name).\(kind.rawValue)-"
            guard entry.hasPrefix(prefix) else { continue }
            return writerIsGone(entry.dropFirst(prefix.count)) ?? false
        }
        return false
    }

    /// For the part of a staging name after `.tmp-`/`.old-` (`<pid>-<uuid>`, or `<uuid>` in names
    /// from before they carried a writer): whether that writer is gone (true for no writer); nil if
    /// it is no staging name.
    private static func writerIsGone(_ rest: Substring) -> Bool? {
        if UUID(uuidString: String(rest)) != nil { return true }
        guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0,
            UUID(uuidString: String(rest[rest.index(after: dash)...])) != nil
        else { return nil }
        return !Platform.isAlive(pid)
    }

    private static func replace(_ destination: String, with source: String) throws {
        guard rename(source, destination) == 0 else {
            throw FileWriteError.io(path: destination, detail: "rename failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// A write that could not be made; the destination is left as it was.
public enum FileWriteError: LocalizedError, Equatable {
    /// `detail` says what failed (creating the folder, writing, renaming) and why.
    case io(path: String, detail: String)
    /// A folder was to be written where a file is.
    case notAFolder(path: String)

    public var errorDescription: String? {
        switch self {
        case .io(let path, let detail): return "\(path): \(detail)"
        case .notAFolder(let path): return "\(path) exists and is not a folder; choose another output path"
        }
    }
}
