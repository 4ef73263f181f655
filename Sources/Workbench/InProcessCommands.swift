/// Runs `calrec` subcommands in-process for the workbench; the CLI provides it, so the workbench
/// needs no knowledge of the commands themselves.
public protocol InProcessCommands: Sendable {
    /// Runs one `calrec` command (arguments without the program name); output goes to stdout.
    func run(_ arguments: [String]) throws
    /// Checks one command's arguments without running it (a dry run reports mistakes up front).
    func validate(_ arguments: [String]) throws
}

extension InProcessCommands {
    public func validate(_ arguments: [String]) throws {}
}
