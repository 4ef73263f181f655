import CGit2
import Foundation

/// Problems with provenance: no repository, libgit2 failures, unknown runs.
public enum ProvenanceError: Error, LocalizedError, Equatable {
    case notARepository(String)
    case git(operation: String, message: String)
    case unknownRun(String)

    public var errorDescription: String? {
        switch self {
        case .notARepository(let path):
            return "\(path) is not inside a git repository, where runs are recorded; run calrec inside a git checkout (or git init one)"
        case .git(let operation, let message): return "git: \(operation) failed: \(message)"
        case .unknownRun(let id): return "no run '\(id)' under refs/calrec/runs/; `calrec runs` lists the recorded runs"
        }
    }
}

/// A git object id (SHA-1 in the repositories libgit2 1.5 handles).
public struct ObjectID: Hashable, Sendable, CustomStringConvertible, Codable {
    public let hex: String

    init(_ oid: git_oid) {
        var copy = oid
        hex = String(cString: git_oid_tostr_s(&copy))
    }

    public init?(hex: String) {
        var oid = git_oid()
        guard git_oid_fromstr(&oid, hex) == 0 else { return nil }
        self.hex = hex
    }

    var raw: git_oid {
        var oid = git_oid()
        git_oid_fromstr(&oid, hex)
        return oid
    }

    public var description: String { hex }

    public init(from decoder: Decoder) throws { hex = try decoder.singleValueContainer().decode(String.self) }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// A libgit2 repository handle with the few operations provenance needs.
public final class GitRepository {
    let handle: OpaquePointer
    /// The working directory (with a trailing slash), or nil for a bare repository.
    public let workdir: String?

    /// Opens the repository containing `path` (searching upwards).
    public init(discoveringFrom path: String) throws {
        git_libgit2_init()
        var repository: OpaquePointer?
        guard git_repository_open_ext(&repository, path, 0, nil) == 0, let repository else {
            throw ProvenanceError.notARepository(path)
        }
        handle = repository
        workdir = git_repository_workdir(repository).map { String(cString: $0) }
    }

    deinit {
        git_repository_free(handle)
        git_libgit2_shutdown()
    }

    /// Throws with libgit2's last error message when `code` is negative.
    func check(_ code: Int32, _ operation: String) throws {
        guard code < 0 else { return }
        let message = git_error_last().map { String(cString: $0.pointee.message) } ?? "error \(code)"
        throw ProvenanceError.git(operation: operation, message: message)
    }

    /// The commit HEAD points at (nil on an unborn branch) and the branch name (nil when detached).
    public func head() throws -> (commit: ObjectID?, branch: String?) {
        var reference: OpaquePointer?
        let code = git_repository_head(&reference, handle)
        if code == GIT_EUNBORNBRANCH.rawValue || code == GIT_ENOTFOUND.rawValue {
            return (nil, currentBranchName())
        }
        try check(code, "read HEAD")
        defer { git_reference_free(reference) }
        guard let target = git_reference_target(reference) else { return (nil, nil) }
        let branch = git_reference_is_branch(reference) != 0 ? git_reference_shorthand(reference).map { String(cString: $0) } : nil
        return (ObjectID(target.pointee), branch)
    }

    private func currentBranchName() -> String? {
        var reference: OpaquePointer?
        guard git_reference_lookup(&reference, handle, "HEAD") == 0 else { return nil }
        defer { git_reference_free(reference) }
        guard let target = git_reference_symbolic_target(reference) else { return nil }
        let name = String(cString: target)
        return name.hasPrefix("refs/heads/") ? String(name.dropFirst("refs/heads/".count)) : name
    }

    /// Whether the working tree differs from HEAD (tracked changes or untracked files, ignored ones
    /// excluded), not counting paths under `excluded` (root-relative folders or files).
    public func isDirty(excluding excluded: [String] = []) throws -> Bool {
        var options = git_status_options()
        try check(git_status_options_init(&options, UInt32(GIT_STATUS_OPTIONS_VERSION)), "status options")
        options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
        var list: OpaquePointer?
        try check(git_status_list_new(&list, handle, &options), "status")
        defer { git_status_list_free(list) }
        for i in 0..<git_status_list_entrycount(list) {
            guard let entry = git_status_byindex(list, i) else { continue }
            let delta = entry.pointee.index_to_workdir ?? entry.pointee.head_to_index
            let path = delta.flatMap { $0.pointee.new_file.path ?? $0.pointee.old_file.path }.map { String(cString: $0) } ?? ""
            if !Self.isUnder(path, anyOf: excluded) { return true }
        }
        return false
    }

    /// Whether root-relative `path` is one of `prefixes` or inside one of them.
    public static func isUnder(_ path: String, anyOf prefixes: [String]) -> Bool {
        prefixes.contains { prefix in
            let folder = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
            return !folder.isEmpty && (path == folder || path.hasPrefix(folder + "/"))
        }
    }

    /// A tree of the working directory as it is now: tracked files with their current content,
    /// untracked files that are not ignored, deleted files left out. Paths under `excluded`
    /// (root-relative) keep their version in the index, normally HEAD's. The repository's index on
    /// disk is not changed (the in-memory index is re-read afterwards).
    public func snapshotWorkingTree(excluding excluded: [String] = []) throws -> ObjectID {
        var index: OpaquePointer?
        try check(git_repository_index(&index, handle), "open the index")
        defer {
            git_index_read(index, 1)
            git_index_free(index)
        }
        var star = strdup("*")
        defer { free(star) }
        // libgit2 calls back for every path it would add or update; a positive answer skips it.
        let skipExcluded: git_index_matched_path_cb = { path, _, payload in
            guard let path, let payload else { return 0 }
            let prefixes = payload.assumingMemoryBound(to: [String].self).pointee
            return GitRepository.isUnder(String(cString: path), anyOf: prefixes) ? 1 : 0
        }
        var prefixes = excluded
        try withUnsafeMutablePointer(to: &star) { pointer in
            try withUnsafeMutablePointer(to: &prefixes) { payload in
                var paths = git_strarray(strings: pointer, count: 1)
                try check(git_index_add_all(index, &paths, GIT_INDEX_ADD_DEFAULT.rawValue, skipExcluded, payload), "add the working tree")
                try check(git_index_update_all(index, &paths, skipExcluded, payload), "update the working tree")
            }
        }
        var oid = git_oid()
        try check(git_index_write_tree(&oid, index), "write the snapshot tree")
        return ObjectID(oid)
    }

    /// `path` (absolute, or relative to the working directory of this process) relative to the
    /// repository's root, or nil when it lies outside the repository. A path inside the working
    /// tree as written stays so even when a folder on the way is a symbolic link out of it (an
    /// artifacts folder on another disk); otherwise symbolic links are resolved.
    public func rootRelative(_ path: String) -> String? {
        guard let workdir else { return nil }
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        for (root, full) in [(Self.lexical(workdir), Self.lexical(absolute)), (Self.resolved(workdir), Self.resolved(path))] {
            if full == root { return "" }
            if full.hasPrefix(root + "/") { return String(full.dropFirst(root.count + 1)) }
        }
        return nil
    }

    /// An absolute path with `.`, `..` and empty components removed as text (no link is followed,
    /// unlike Foundation's `standardizingPath`).
    static func lexical(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The repository's root without a trailing slash, symbolic links resolved.
    public var root: String? { workdir.map(Self.resolved) }

    /// An absolute, standardised path with symbolic links resolved as far as the path exists.
    static func resolved(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        var existing = (absolute as NSString).standardizingPath
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing) && existing != "/" {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
        }
        var result = URL(fileURLWithPath: existing).resolvingSymlinksInPath().path
        for part in rest { result = (result as NSString).appendingPathComponent(part) }
        return result.count > 1 && result.hasSuffix("/") ? String(result.dropLast()) : result
    }

    /// Writes a blob.
    public func blob(_ data: Data) throws -> ObjectID {
        var oid = git_oid()
        try data.withUnsafeBytes { bytes in
            try check(git_blob_create_from_buffer(&oid, handle, bytes.baseAddress, data.count), "write a blob")
        }
        return ObjectID(oid)
    }

    /// The blob id a file would have, without writing it.
    public static func blobID(ofFile path: String) throws -> ObjectID {
        git_libgit2_init()
        defer { git_libgit2_shutdown() }
        var oid = git_oid()
        guard git_odb_hashfile(&oid, path, GIT_OBJECT_BLOB) == 0 else {
            throw ProvenanceError.git(operation: "hash \(path)", message: git_error_last().map { String(cString: $0.pointee.message) } ?? "")
        }
        return ObjectID(oid)
    }

    /// Writes a tree holding `files` (path → blob) and `subtrees` (path → existing tree), nesting folders.
    public func tree(files: [String: ObjectID], subtrees: [String: ObjectID] = [:]) throws -> ObjectID {
        var here: [String: (ObjectID, Bool)] = [:]  // name → (id, isTree)
        var nestedFiles: [String: [String: ObjectID]] = [:]
        var nestedTrees: [String: [String: ObjectID]] = [:]
        for (path, id) in files {
            let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 1 { here[parts[0]] = (id, false) } else { nestedFiles[parts[0], default: [:]][parts[1]] = id }
        }
        for (path, id) in subtrees {
            let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 1 { here[parts[0]] = (id, true) } else { nestedTrees[parts[0], default: [:]][parts[1]] = id }
        }
        for folder in Set(nestedFiles.keys).union(nestedTrees.keys) {
            here[folder] = (try tree(files: nestedFiles[folder] ?? [:], subtrees: nestedTrees[folder] ?? [:]), true)
        }
        var builder: OpaquePointer?
        try check(git_treebuilder_new(&builder, handle, nil), "start a tree")
        defer { git_treebuilder_free(builder) }
        for (name, entry) in here.sorted(by: { $0.key < $1.key }) {
            var oid = entry.0.raw
            try check(
                git_treebuilder_insert(nil, builder, name, &oid, entry.1 ? GIT_FILEMODE_TREE : GIT_FILEMODE_BLOB),
                "add \(name) to a tree")
        }
        var oid = git_oid()
        try check(git_treebuilder_write(&oid, builder), "write a tree")
        return ObjectID(oid)
    }

    /// The signature of commits calrec writes: the repository's user, else `calrec <calrec@localhost>`.
    func signature() throws -> UnsafeMutablePointer<git_signature> {
        var signature: UnsafeMutablePointer<git_signature>?
        if git_signature_default(&signature, handle) == 0, let signature { return signature }
        try check(git_signature_now(&signature, "calrec", "calrec@localhost"), "make a signature")
        return signature!
    }

    /// Writes a commit of `tree` with `parents` and points `reference` at it.
    public func commit(tree: ObjectID, parents: [ObjectID], message: String, reference: String) throws -> ObjectID {
        let signature = try signature()
        defer { git_signature_free(signature) }
        var treeOid = tree.raw
        var treeObject: OpaquePointer?
        try check(git_tree_lookup(&treeObject, handle, &treeOid), "find the tree")
        defer { git_tree_free(treeObject) }
        var parentObjects: [OpaquePointer?] = []
        defer { parentObjects.forEach { git_commit_free($0) } }
        for parent in parents {
            var oid = parent.raw
            var object: OpaquePointer?
            try check(git_commit_lookup(&object, handle, &oid), "find the parent commit")
            parentObjects.append(object)
        }
        var oid = git_oid()
        try parentObjects.withUnsafeMutableBufferPointer { buffer in
            try check(
                git_commit_create(&oid, handle, nil, signature, signature, "UTF-8", message, treeObject, parents.count, buffer.baseAddress),
                "write the commit")
        }
        var created: OpaquePointer?
        try check(git_reference_create(&created, handle, reference, &oid, 1, "calrec run"), "create \(reference)")
        git_reference_free(created)
        return ObjectID(oid)
    }

    /// The note under `notesRef` on `commit`, if any.
    public func note(on commit: ObjectID, notesRef: String) -> String? {
        var oid = commit.raw
        var note: OpaquePointer?
        guard git_note_read(&note, handle, notesRef, &oid) == 0 else { return nil }
        defer { git_note_free(note) }
        return git_note_message(note).map { String(cString: $0) }
    }

    /// Sets (replaces) the note under `notesRef` on `commit`.
    public func setNote(_ text: String, on commit: ObjectID, notesRef: String) throws {
        let signature = try signature()
        defer { git_signature_free(signature) }
        var oid = commit.raw
        var noteOid = git_oid()
        try check(git_note_create(&noteOid, handle, notesRef, signature, signature, &oid, text, 1), "write the note")
    }

    /// Names of references under `prefix` (e.g. `refs/calrec/runs/`).
    public func references(under prefix: String) throws -> [String] {
        var array = git_strarray()
        try check(git_reference_list(&array, handle), "list references")
        defer { git_strarray_dispose(&array) }
        return (0..<array.count).compactMap { array.strings[$0].map { String(cString: $0) } }.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// The commit a reference points at.
    public func resolve(_ reference: String) throws -> ObjectID? {
        var oid = git_oid()
        guard git_reference_name_to_id(&oid, handle, reference) == 0 else { return nil }
        return ObjectID(oid)
    }

    /// The content of `path` in the tree of `commit`.
    public func file(_ path: String, inCommit commit: ObjectID) throws -> Data? {
        var oid = commit.raw
        var commitObject: OpaquePointer?
        try check(git_commit_lookup(&commitObject, handle, &oid), "find the commit")
        defer { git_commit_free(commitObject) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commitObject), "read the commit's tree")
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        guard git_tree_entry_bypath(&entry, tree, path) == 0 else { return nil }
        defer { git_tree_entry_free(entry) }
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, handle, git_tree_entry_id(entry)), "read \(path)")
        defer { git_blob_free(blob) }
        return Data(bytes: git_blob_rawcontent(blob), count: Int(git_blob_rawsize(blob)))
    }

    /// The parents of a commit.
    public func parents(of commit: ObjectID) throws -> [ObjectID] {
        var oid = commit.raw
        var object: OpaquePointer?
        try check(git_commit_lookup(&object, handle, &oid), "find the commit")
        defer { git_commit_free(object) }
        return (0..<git_commit_parentcount(object)).compactMap { git_commit_parent_id(object, $0).map { ObjectID($0.pointee) } }
    }

    /// Paths that differ between two trees (added, deleted or modified).
    public func changedPaths(from a: ObjectID, to b: ObjectID) throws -> [String] {
        var oidA = a.raw
        var oidB = b.raw
        var treeA: OpaquePointer?
        var treeB: OpaquePointer?
        try check(git_tree_lookup(&treeA, handle, &oidA), "find a tree")
        defer { git_tree_free(treeA) }
        try check(git_tree_lookup(&treeB, handle, &oidB), "find a tree")
        defer { git_tree_free(treeB) }
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, handle, treeA, treeB, nil), "diff two trees")
        defer { git_diff_free(diff) }
        return (0..<git_diff_num_deltas(diff)).compactMap { i in
            git_diff_get_delta(diff, i).flatMap { delta in
                (delta.pointee.new_file.path ?? delta.pointee.old_file.path).map { String(cString: $0) }
            }
        }
    }

    /// The tree of a commit.
    public func tree(ofCommit commit: ObjectID) throws -> ObjectID {
        var oid = commit.raw
        var object: OpaquePointer?
        try check(git_commit_lookup(&object, handle, &oid), "find the commit")
        defer { git_commit_free(object) }
        return ObjectID(git_commit_tree_id(object).pointee)
    }
}
