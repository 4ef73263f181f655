/// Runs `calrec` subcommands in-process for the workbench; the CLI provides it, so the workbench
/// needs no knowledge of the commands themselves.
public protocol InProcessCommands: Sendable {
    /// Runs one `calrec` command (arguments without the program name); output goes to stdout.
    func run(_ arguments: [String]) throws

    /// The files and folders one command (arguments without the program name) reads and writes, as
    /// the command itself declares them. A run asks for every block's commands before anything
    /// runs, so this is also where arguments are checked: it throws when they do not parse or when
    /// the command declares nothing (the workbench never guesses files from arguments).
    func files(for arguments: [String]) throws -> CommandFiles
}

/// The files and folders a command reads (`inputs`) and writes (`outputs`), as paths given on its
/// command line. Inputs enter the block's cache key (their content hashes, and the keys of the
/// blocks that wrote them); outputs are hashed after the run, must still hash the same for the
/// cache to serve the block, and are the artifacts provenance records.
public struct CommandFiles: Sendable, Equatable {
    /// Files and folders the command reads.
    public var inputs: [String]
    /// Files and folders the command writes.
    public var outputs: [String]

    public init(inputs: [String] = [], outputs: [String] = []) {
        self.inputs = inputs
        self.outputs = outputs
    }
}
