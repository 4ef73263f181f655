import Foundation
import XCTest
@testable import Workbench

/// A parameter can never become shell code: hostile values × every place a placeholder can stand.
final class ShellInjectionTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("calrec-inject-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// Each value tries to run `touch PWNED…` (or to break out of its quoting) and must arrive literally.
    static let hostileValues = [
        "a; touch PWNED1",
        "a && touch PWNED2",
        "a | touch PWNED3",
        "$(touch PWNED4)",
        "`touch PWNED5`",
        "it's'; touch PWNED6; '",
        "\"; touch PWNED7; \"",
        "line1\ntouch PWNED8\nline3",
        "back\\slash\\",
        "*",
        "-n",
        "ünïcødé ✓ 日本語",
        "${HOME} $HOME $0",
        "x\nEOF\ntouch PWNED9\nEOF",
        "~root",
        "",
        "a\"b'c`d$e\\f{g}h(i)j<k>l|m&n;o#p",
    ]

    /// Placements that accept a placeholder: the line of script, and what the file `<name>` must
    /// then hold for value `v`.
    nonisolated(unsafe) static let acceptedPlacements: [(name: String, line: String, expected: (String) -> String)] = [
        ("bare", "printf '%s' {{v}} > bare", { $0 }),
        ("double-quoted", "printf '%s' \"<{{v}}>\" > double-quoted", { "<\($0)>" }),
        ("command-substitution", "r=$(printf '%s.' {{v}}); printf '%s' \"$r\" > command-substitution", { $0 + "." }),
        ("quoted-command-substitution", "printf '%s' \"$(printf '%s.' \"[{{v}}]\")\" > quoted-command-substitution", { "[\($0)]." }),
        ("assignment", "x={{v}}; printf '%s' \"$x\" > assignment", { $0 }),
        ("path-argument", "printf '%s' dir/{{v}}.txt > path-argument", { "dir/\($0).txt" }),
        ("option-value", "printf '%s' --name={{v}} > option-value", { "--name=\($0)" }),
        ("continued-line", "printf '%s' \\\n  {{v}} > continued-line", { $0 }),
        ("escaped-hash", "printf '%s' \\ #\"{{v}}\" > escaped-hash", { " #\($0)" }),
        ("case-word", "case {{v}} in \"$CALREC_P_v\") printf ok > case-word;; *) printf no > case-word;; esac", { _ in "ok" }),
        ("for-list", "for x in {{v}}; do printf '%s' \"$x\" > for-list; done", { $0 }),
        ("after-redirection", "printf '%s' 2>/dev/null {{v}} > after-redirection", { $0 }),
        ("declared", "export X={{v}}; printf '%s' \"$X\" > declared", { $0 }),
        ("condition", "if [ -n {{v}}x ]; then printf '%s' {{v}} > condition; fi", { $0 }),
        ("environment", "printf '%s' \"$CALREC_P_v\" > environment", { $0 }),
    ]

    /// Scripts whose placeholder must be refused: where no expansion is literal, where the value
    /// would be evaluated, and constructs the lexer cannot place exactly (each was once a way past it).
    static let refusedScripts: [(line: String, reason: String)] = [
        ("printf '%s' '<{{v}}>' > out", "inside '…'"),
        ("sh -c 'echo {{v}}'", "inside '…'"),
        ("cat > out <<'EOF'\n{{v}}\nEOF", "quoted delimiter"),
        ("cat > out <<\"EOF\"\n{{v}}\nEOF", "quoted delimiter"),
        ("cat > out <<\\EOF\n{{v}}\nEOF", "quoted delimiter"),
        ("cat > out <<EOF\n{{v}}\nEOF", "here-document"),
        ("cat > out <<-EOF\n\t{{v}}\n\tEOF", "here-document"),
        ("cat <<A; cat <<B\na\nA\n{{v}}\nB", "here-document"),
        ("cat <<EOF\nx\\\nEOF\n{{v}}\nEOF", "here-document"),
        ("cat <<{{v}}\nx\n", "delimiter"),
        ("echo $(( {{v}} + 1 ))", "arithmetic"),
        ("echo \"$\\\n(( {{v}} ))\"", "arithmetic"),
        ("(( {{v}} ))", "arithmetic"),
        ("for ((i = 0; i < {{v}}; i++)); do :; done", "arithmetic"),
        ("[[ {{v}} -eq 1 ]]", "arithmetic"),
        ("[[ a && {{v}} -eq 1 ]]", "arithmetic"),
        ("echo $[ {{v}} + 1 ]", "arithmetic"),
        ("x[{{v}}]=1", "subscript"),
        ("echo ${x:-{{v}}}", "inside ${…}"),
        ("echo \"${x:-\"{{v}}\"}\"", "${…}"),
        ("echo \\{{v}}", "after '\\'"),
        ("echo \"\\{{v}}\"", "after '\\'"),
        ("echo ${{v}}", "after '$'"),
        ("echo `printf '%s' {{v}}`", "inside `…`"),
        ("echo \"`echo \\\"{{v}}\\\"`\"", "inside `…`"),
        ("echo \"$(case x in x) printf \"[%s]\\n\" {{v}};; esac)\"", "'case' inside $(…)"),
        ("printf '[%s]\\n' $'\\''\"'{{v}}'\"'", "$'…'"),
        ("echo $\"{{v}}\"", "$\"…\""),
        ("eval echo {{v}}", "'eval'"),
        ("\"eval\" echo {{v}}", "'eval'"),
        ("command eval echo {{v}}", "'eval'"),
        ("eval x 2>&1 {{v}}", "'eval'"),
        ("trap \"echo {{v}}\" EXIT", "'trap'"),
        ("let x={{v}}", "'let'"),
        ("eval \"$(echo a; printf '%s' {{v}})\"", "'eval'"),
        ("{{v}} --help", "name of the command"),
        ("\"{{v}}\" --help", "name of the command"),
        ("if {{v}}; then :; fi", "name of the command"),
        ("> out {{v}}", "name of the command"),
        ("$(printf '%s' {{v}})", "output runs as a command"),
        ("$(echo eval) {{v}}", "computed"),
        ("echo $(( $(printf '%s' {{v}}) + 1 ))", "inside arithmetic"),
        ("echo ${x:-$(printf '%s' {{v}})}", "inside arithmetic or ${…}"),
        ("alias x=\"echo {{v}}\"", "alias"),
        (". <(printf '%s' {{v}})", "'.'"),
        ("unset {{v}}", "'unset'"),
        ("x=$(cat <<EOF\n{{v}}\nEOF\n)", "here-document"),
        ("sh <<EOF; x=$(\nEOF\necho y)\necho {{v}}\nEOF", "here-document whose line goes on"),
        ("echo hi > $(eval : {{v}})", "'eval'"),
        ("echo hi >$({{v}} PX)", "name of the command"),
        ("cat < <({{v}} PX)", "name of the command"),
        ("for((i=0;i<{{v}};i++)); do :; done", "arithmetic"),
        ("[[\n1 -eq {{v}} ]]", "arithmetic"),
        ("printf -v {{v}} %s x", "variable's name"),
        ("test -v {{v}}", "variable's name"),
        ("[ -v {{v}} ]", "variable's name"),
        ("export {{v}}", "variable's name"),
        ("a=(x [{{v}}]=1)", "array assignment"),
        ("declare -i n\nn={{v}}", "'declare -i'"),
        ("alias e=eval\ne : {{v}}", "alias definition"),
        ("time -p {{v}} PX", "name of the command"),
        ("command -p {{v}} PX", "name of the command"),
        ("exec -a foo {{v}} PX", "name of the command"),
        ("coproc {{v}} PX", "name of the command"),
    ]

    private func workbook(_ script: String) throws -> Workbook {
        try Workbook(
            text: "---\ntitle: hostile\nparams:\n  v: safe\n---\n```sh {#block}\ncd '\(folder)' || exit 1\n\(script)\n```\n",
            path: folder + "/hostile.md")
    }

    private func run(_ workbook: Workbook, value: String) throws -> RunReport {
        var options = RunOptions(toolVersion: "test")
        options.artifactsRoot = folder + "/artifacts"
        options.overrides = ["v": value]
        return try WorkbookRunner(workbook: workbook, options: options, commands: FakeCommands()).run()
    }

    private func sideEffects() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("PWNED") }
            + (try FileManager.default.contentsOfDirectory(atPath: FileManager.default.currentDirectoryPath).filter { $0.hasPrefix("PWNED") })
    }

    func testEveryHostileValueArrivesLiterallyWherePlaceholdersAreAccepted() throws {
        XCTAssertGreaterThanOrEqual(Self.hostileValues.count, 12)
        let script = Self.acceptedPlacements.map(\.line).joined(separator: "\n")
            + "\nprintf x > file_{{v}}.out"  // a placeholder as part of a file name the shell creates
        let book = try workbook(script)
        for value in Self.hostileValues {
            let report = try run(book, value: value)
            XCTAssertEqual(report.status, .succeeded, "value \(value.debugDescription): \(report.outcomes.first?.error ?? "")")
            for placement in Self.acceptedPlacements {
                let written = try? String(contentsOfFile: "\(folder)/\(placement.name)", encoding: .utf8)
                XCTAssertEqual(written, placement.expected(value), "value \(value.debugDescription) in placement \(placement.name)")
            }
            if !value.contains("/") {
                XCTAssertTrue(
                    FileManager.default.fileExists(atPath: "\(folder)/file_\(value).out"), "file name with value \(value.debugDescription)")
                try? FileManager.default.removeItem(atPath: "\(folder)/file_\(value).out")
            }
            XCTAssertEqual(try sideEffects(), [], "value \(value.debugDescription) ran a command")
        }
    }

    func testPlacementsWhereNoExpansionIsLiteralOrSafeAreRefusedBeforeAnythingRuns() throws {
        XCTAssertGreaterThanOrEqual(Self.refusedScripts.count, 12)
        for (script, reason) in Self.refusedScripts {
            XCTAssertThrowsError(try workbook("echo first\n" + script), script) { error in
                guard case .parse(_, let line, let message) = error as? WorkbenchError else {
                    return XCTFail("\(script): \(error)")
                }
                // Front matter 5 lines, fence line 6, `cd` line 7, `echo first` line 8: the placeholder is on line 9 or later.
                XCTAssertGreaterThanOrEqual(line, 9, script)
                XCTAssertTrue(message.contains(reason), "\(script): \(message)")
                XCTAssertTrue(message.contains("block #block"), message)
            }
        }
    }

    /// The rewritten placements give the literal value under every POSIX shell here (dash, bash,
    /// bash in POSIX mode: /bin/sh is bash on some systems), not only under /bin/sh.
    func testEveryHostileValueArrivesLiterallyUnderEachShell() throws {
        let shells = [["/bin/dash"], ["/bin/bash"], ["/bin/bash", "--posix"]].filter { FileManager.default.isExecutableFile(atPath: $0[0]) }
        XCTAssertFalse(shells.isEmpty)
        let script = try ShellPlaceholders.rewrite(Self.acceptedPlacements.map(\.line).joined(separator: "\n"))
        XCTAssertFalse(script.contains("{{"), script)
        for shell in shells {
            for value in Self.hostileValues {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: shell[0])
                process.arguments = Array(shell.dropFirst()) + ["-c", script]
                process.currentDirectoryURL = URL(fileURLWithPath: folder)
                process.environment = ["PATH": "/usr/bin:/bin", "CALREC_P_v": value]
                try process.run()
                process.waitUntilExit()
                XCTAssertEqual(process.terminationStatus, 0, "\(shell) value \(value.debugDescription)")
                for placement in Self.acceptedPlacements {
                    let written = try? String(contentsOfFile: "\(folder)/\(placement.name)", encoding: .utf8)
                    XCTAssertEqual(written, placement.expected(value), "\(shell): value \(value.debugDescription) in placement \(placement.name)")
                }
                XCTAssertEqual(try sideEffects(), [], "\(shell): value \(value.debugDescription) ran a command")
            }
        }
    }

    func testRefusalNamesTheLineOfThePlaceholder() throws {
        XCTAssertThrowsError(try workbook("echo ok\necho ok\nawk '{ print \"{{v}}\" }'")) { error in
            guard case .parse(let file, let line, let message) = error as? WorkbenchError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, folder + "/hostile.md")
            XCTAssertEqual(line, 10)
            XCTAssertTrue(message.contains("CALREC_P_v"), message)
        }
    }

    func testAVariableNamedLikeAnotherIsNotTakenForIt() {
        XCTAssertEqual(ShellPlaceholders.parametersUsed(in: "echo $CALREC_P_v2 ${CALREC_P_w}", among: ["v", "v2", "w", "x"]), ["v2", "w"])
        XCTAssertEqual(ShellPlaceholders.parametersUsed(in: "echo {{x}} $XCALREC_P_v", among: ["v", "x"]), ["x"])
    }

    func testPlaceholdersBecomeExpansionsOfTheirVariableByContext() throws {
        XCTAssertEqual(try ShellPlaceholders.rewrite("ls {{a}} x/{{b}}.txt"), "ls \"${CALREC_P_a}\" x/\"${CALREC_P_b}\".txt")
        XCTAssertEqual(try ShellPlaceholders.rewrite("echo \"a {{a}} $(f {{b}}) c\""), "echo \"a ${CALREC_P_a} $(f \"${CALREC_P_b}\") c\"")
        XCTAssertEqual(try ShellPlaceholders.rewrite("cat <<E\n$a \"q\"\nE\necho {{b}}"), "cat <<E\n$a \"q\"\nE\necho \"${CALREC_P_b}\"")
        XCTAssertEqual(try ShellPlaceholders.rewrite("x=1 y={{a}} cmd {{b}}"), "x=1 y=\"${CALREC_P_a}\" cmd \"${CALREC_P_b}\"")
        XCTAssertEqual(try ShellPlaceholders.rewrite("echo '#' {{a}} # {{b}}"), "echo '#' \"${CALREC_P_a}\" # {{b}}")
        XCTAssertEqual(try ShellPlaceholders.rewrite("echo a#{{a}}"), "echo a#\"${CALREC_P_a}\"")
    }

    func testShellBlocksReceiveOnlyTheParametersTheyUse() throws {
        let book = try Workbook(
            text: "---\ntitle: env\nparams:\n  used: one\n  unused: two\n  named: three\n---\n```sh {#block}\ncd '\(folder)' || exit 1\n"
                + "env | grep '^CALREC_P_' | sort > env.txt\necho {{used}} \"$CALREC_P_named\"\n```\n",
            path: folder + "/env.md")
        var options = RunOptions(toolVersion: "test")
        options.artifactsRoot = folder + "/artifacts"
        setenv("CALREC_P_stale", "from outside", 1)
        defer { unsetenv("CALREC_P_stale") }
        let report = try WorkbookRunner(workbook: book, options: options, commands: FakeCommands()).run()
        XCTAssertEqual(report.status, .succeeded)
        XCTAssertEqual(try String(contentsOfFile: folder + "/env.txt", encoding: .utf8), "CALREC_P_named=three\nCALREC_P_used=one\n")
        XCTAssertEqual(report.outcomes[0].result?.stdout, "one three\n")
    }

    func testChangingAParameterAShellBlockUsesInvalidatesItsCacheOnlyThen() throws {
        let book = try Workbook(
            text: "---\ntitle: key\nparams:\n  used: one\n  other: two\n---\n```sh {#block}\necho {{used}}\n```\n",
            path: folder + "/key.md")
        func run(_ overrides: [String: String]) throws -> BlockOutcome.Status {
            var options = RunOptions(toolVersion: "test")
            options.artifactsRoot = folder + "/artifacts"
            options.overrides = overrides
            return try WorkbookRunner(workbook: book, options: options, commands: FakeCommands()).run().outcomes[0].status
        }
        XCTAssertEqual(try run([:]), .ran)
        XCTAssertEqual(try run([:]), .cached)
        XCTAssertEqual(try run(["other": "changed"]), .cached)
        XCTAssertEqual(try run(["used": "changed"]), .ran)
    }

    func testParameterNamesMustBeShellVariableNames() {
        for bad in ["a-b", "a.b", "1a", "ä"] {
            XCTAssertThrowsError(try Workbook(text: "---\nparams:\n  \(bad): x\n---\n", path: "w.md"), bad) { error in
                XCTAssertTrue(((error as? LocalizedError)?.errorDescription ?? "").contains("not valid"), "\(error)")
            }
        }
        XCTAssertNoThrow(try Workbook(text: "---\nparams:\n  _a1: x\n---\n", path: "w.md"))
    }
}
