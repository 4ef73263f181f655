import CLibFuzzer
import Foundation

/// The input handler `runFuzzer` hands to libFuzzer (a C callback cannot capture it).
nonisolated(unsafe) private var handler: ((UnsafeRawBufferPointer) -> Void)?

/// Runs libFuzzer with this process's command line (`-max_total_time=30 corpus/ …`, or input files to
/// replay), calling `body` with every input; exits with libFuzzer's status. A crash, a failed
/// `expect` or a sanitizer report inside `body` is what libFuzzer records as a finding.
public func runFuzzer(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    handler = body
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(
        LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            handler!(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
}

/// Stops the process with `message` when `condition` is false: a property the code under test must
/// keep, checked on every input (`fatalError` prints its message in optimised builds too).
public func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
