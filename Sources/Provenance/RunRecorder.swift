import Support
import Foundation

/// Records runs as git objects through libgit2: a commit on `refs/calrec/runs/<run-id>` whose parent
/// is the source commit and whose tree holds `manifest.json`, the small artifacts (≤ 1 MiB, under
/// `artifacts/`) and, for a dirty working tree, the snapshot tree (under `source/`); plus a line in
/// the note under `refs/notes/calrec` on the source commit.
public struct RunRecorder {
    public static let runsPrefix = "refs/calrec/runs/"
    public static let notesRef = "refs/notes/calrec"
    /// Artifacts up to this size are stored in the run commit; larger ones are referenced by hash.
    public static let storedLimit = 1 << 20

    public let repository: GitRepository

    public init(repository: GitRepository) { self.repository = repository }

    /// The repository state at the start of a run (snapshotting the working tree when dirty).
    /// `outputs` are the workbench's own output folders (relative to the working directory or
    /// absolute: the reports folder, the artifacts folder); changes under them are not source.
    public func sourceState(excluding outputs: [String] = []) throws -> RunManifest.Source {
        let excluded = outputs.compactMap { repository.rootRelative($0) }.filter { !$0.isEmpty }
        let (commit, branch) = try repository.head()
        let dirty = try commit == nil || repository.isDirty(excluding: excluded)
        let snapshot = dirty ? try repository.snapshotWorkingTree(excluding: excluded) : nil
        return RunManifest.Source(commit: commit?.hex, branch: branch, dirty: dirty, snapshotTree: snapshot?.hex, excluded: excluded)
    }

    /// Describes the files at `paths` (files, or folders taken whole; relative to the working
    /// directory or absolute), each recorded relative to the repository's root.
    public func artifacts(_ paths: [String]) throws -> [RunManifest.Artifact] {
        try Self.artifacts(paths).map { artifact in
            var artifact = artifact
            artifact.path = repository.rootRelative(artifact.path) ?? GitRepository.resolved(artifact.path)
            return artifact
        }
    }

    /// Where an artifact recorded in `manifest` is now: root-relative paths are resolved against
    /// the repository root whatever the working directory (paths of calrec-run/1 manifests against
    /// the working directory, as they were recorded).
    public func location(of artifact: RunManifest.Artifact, in manifest: RunManifest) -> String {
        if artifact.path.hasPrefix("/") || !manifest.hasRootRelativePaths { return artifact.path }
        return ((repository.root ?? ".") as NSString).appendingPathComponent(artifact.path)
    }

    /// Describes the files at `paths` as the paths are given.
    static func artifacts(_ paths: [String]) throws -> [RunManifest.Artifact] {
        var files = Set<String>()
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                let enumerator = FileManager.default.enumerator(atPath: path)
                while let relative = enumerator?.nextObject() as? String {
                    let full = (path as NSString).appendingPathComponent(relative)
                    var isFolder: ObjCBool = false
                    if FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue,
                        !relative.contains(".tmp-")
                    {
                        files.insert(full)
                    }
                }
            } else {
                files.insert(path)
            }
        }
        return try files.sorted().map { path in
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            return RunManifest.Artifact(
                path: path, size: size, sha256: try sha256(file: path), gitBlob: try GitRepository.blobID(ofFile: path).hex,
                stored: size <= storedLimit)
        }
    }

    /// Writes the run commit, its reference and the note; returns the commit.
    @discardableResult
    public func record(_ manifest: RunManifest) throws -> ObjectID {
        var files: [String: ObjectID] = ["manifest.json": try repository.blob(try manifest.encoded())]
        for artifact in manifest.artifacts where artifact.stored {
            guard let data = FileManager.default.contents(atPath: location(of: artifact, in: manifest)) else { continue }
            files["artifacts/" + Self.treePath(artifact.path)] = try repository.blob(data)
        }
        var subtrees: [String: ObjectID] = [:]
        if let snapshot = manifest.source.snapshotTree, let id = ObjectID(hex: snapshot) { subtrees["source"] = id }
        let tree = try repository.tree(files: files, subtrees: subtrees)
        let parents = manifest.source.commit.flatMap(ObjectID.init(hex:)).map { [$0] } ?? []
        let message = "calrec run \(manifest.runID): \(manifest.what) (\(manifest.status))\n"
        let commit = try repository.commit(
            tree: tree, parents: parents, message: message, reference: Self.runsPrefix + manifest.runID)
        if let source = parents.first {
            let existing = repository.note(on: source, notesRef: Self.notesRef) ?? ""
            let line = "calrec run \(manifest.runID) \(manifest.status) \(manifest.what)\(manifest.source.dirty ? " (dirty)" : "")"
            try repository.setNote(existing.isEmpty ? line + "\n" : existing + (existing.hasSuffix("\n") ? "" : "\n") + line + "\n",
                                   on: source, notesRef: Self.notesRef)
        }
        return commit
    }

    /// Paths inside the run tree: relative, without `..` or leading `/`.
    static func treePath(_ path: String) -> String {
        (path as NSString).standardizingPath.split(separator: "/").filter { $0 != ".." && $0 != "." }.joined(separator: "/")
    }

    /// The manifest of a recorded run.
    public func manifest(run id: String) throws -> RunManifest {
        guard let commit = try repository.resolve(Self.runsPrefix + id) else { throw ProvenanceError.unknownRun(id) }
        guard let data = try repository.file("manifest.json", inCommit: commit) else { throw ProvenanceError.unknownRun(id) }
        return try RunManifest.decode(data)
    }

    /// Every recorded run id, oldest first (ids start with their UTC start time).
    public func runIDs() throws -> [String] {
        try repository.references(under: Self.runsPrefix).map { String($0.dropFirst(Self.runsPrefix.count)) }
    }

    public static func sha256(file path: String) throws -> String { try ContentHash.file(path) }
}

/// `calrec audit`: re-hash a run's artifacts.
public struct AuditResult: Sendable, Equatable {
    public enum State: String, Sendable { case ok = "OK", modified = "MODIFIED", missing = "MISSING" }

    public var path: String
    public var state: State
}

extension RunRecorder {
    /// Checks every artifact of run `id` (or only `path`, when given) against its recorded SHA-256;
    /// paths are resolved as `location(of:in:)` says.
    public func audit(run id: String, only path: String? = nil) throws -> [AuditResult] {
        let manifest = try manifest(run: id)
        return try manifest.artifacts.filter { path == nil || matches($0, path!, in: manifest) }.map { artifact in
            let location = location(of: artifact, in: manifest)
            guard FileManager.default.fileExists(atPath: location) else { return AuditResult(path: artifact.path, state: .missing) }
            return AuditResult(path: artifact.path, state: try Self.sha256(file: location) == artifact.sha256 ? .ok : .modified)
        }
    }

    /// Whether `path` (as a user types it: relative to the working directory, or absolute) names `artifact`.
    func matches(_ artifact: RunManifest.Artifact, _ path: String, in manifest: RunManifest) -> Bool {
        if !manifest.hasRootRelativePaths { return Self.treePath(artifact.path) == Self.treePath(path) }
        return artifact.path == (repository.rootRelative(path) ?? GitRepository.resolved(path))
    }

    /// The newest run whose manifest lists `path`.
    public func latestRun(with path: String) throws -> String? {
        for id in try runIDs().reversed() {
            let manifest = try manifest(run: id)
            if manifest.artifacts.contains(where: { matches($0, path, in: manifest) }) { return id }
        }
        return nil
    }

    /// What differs between two runs: parameters, metrics, code.
    public func diff(_ a: String, _ b: String) throws -> [String] {
        let x = try manifest(run: a)
        let y = try manifest(run: b)
        var lines: [String] = []
        for key in Set(x.parameters.keys).union(y.parameters.keys).sorted() where x.parameters[key] != y.parameters[key] {
            lines.append("param \(key): \(x.parameters[key] ?? "–") → \(y.parameters[key] ?? "–")")
        }
        let metricsX = Dictionary(x.blocks.flatMap { b in b.metrics.map { ("#\(b.id) \($0.key)", $0.value) } }, uniquingKeysWith: { $1 })
        let metricsY = Dictionary(y.blocks.flatMap { b in b.metrics.map { ("#\(b.id) \($0.key)", $0.value) } }, uniquingKeysWith: { $1 })
        for key in Set(metricsX.keys).union(metricsY.keys).sorted() where metricsX[key] != metricsY[key] {
            let format = { (v: Double?) in v.map { String(format: "%.4f", $0) } ?? "–" }
            lines.append("metric \(key): \(format(metricsX[key])) → \(format(metricsY[key]))")
        }
        // The workbench's own outputs are not code, also in records made before they were left out.
        let outputs = Array(Set((x.source.excluded ?? Self.defaultOutputs) + (y.source.excluded ?? Self.defaultOutputs))).sorted()
        if let treeX = try codeTree(x.source), let treeY = try codeTree(y.source) {
            let changed = try repository.changedPaths(from: treeX, to: treeY).filter { !GitRepository.isUnder($0, anyOf: outputs) }
            if !changed.isEmpty || x.source.commit != y.source.commit {
                lines.append("code: \(describe(x.source)) → \(describe(y.source))")
                for path in changed { lines.append("  changed: \(path)") }
            }
        } else if x.source.commit != y.source.commit || x.source.snapshotTree != y.source.snapshotTree {
            lines.append("code: \(describe(x.source)) → \(describe(y.source))")
        }
        if x.toolVersion != y.toolVersion { lines.append("calrec: \(x.toolVersion) → \(y.toolVersion)") }
        if x.machine.blasKernel != y.machine.blasKernel { lines.append("BLAS kernel: \(x.machine.blasKernel) → \(y.machine.blasKernel)") }
        if let a = x.machine.engineThreads, let b = y.machine.engineThreads, a != b { lines.append("engine threads: \(a) → \(b)") }
        return lines
    }

    /// The workbench's default output folders (reports, artifacts), which are not source: what
    /// direct subcommands exclude, and what records made before `Source.excluded` are taken to exclude.
    public static let defaultOutputs = ["Reports", "artifacts"]

    private func describe(_ source: RunManifest.Source) -> String {
        (source.commit ?? "none") + (source.dirty ? "+dirty" : "")
    }

    private func codeTree(_ source: RunManifest.Source) throws -> ObjectID? {
        if let snapshot = source.snapshotTree { return ObjectID(hex: snapshot) }
        return try source.commit.flatMap(ObjectID.init(hex:)).map { try repository.tree(ofCommit: $0) }
    }
}
