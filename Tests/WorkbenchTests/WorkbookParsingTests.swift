import XCTest
@testable import Workbench

final class WorkbookParsingTests: XCTestCase {
    private let header = """
        ---
        title: Test workbook
        params:
          data: artifacts/x
          budget: tiny
        reference:
          Office: {users: 44736}
        ---

        """

    private func parse(_ body: String) throws -> Workbook {
        try Workbook(text: header + body, path: "Workbooks/t.md")
    }

    func testFrontMatterAndSegments() throws {
        let w = try parse("""
            # Intro

            Some prose.

            ```calrec {#stats}
            stats --amazon2018 {{data}}
            ```

            More prose.
            """)
        XCTAssertEqual(w.title, "Test workbook")
        XCTAssertEqual(w.parameters.map(\.name), ["budget", "data"])
        XCTAssertEqual(w.parameters.map(\.value), ["tiny", "artifacts/x"])
        XCTAssertNotNil(w.referenceJSON)
        XCTAssertEqual(w.blocks.map(\.id), ["stats"])
        XCTAssertEqual(w.blocks[0].line, 13)
        XCTAssertEqual(w.blocks[0].text, "stats --amazon2018 {{data}}")
        guard case .prose(let first) = w.segments[0], case .prose(let last) = w.segments[2] else { return XCTFail() }
        XCTAssertTrue(first.contains("Some prose."))
        XCTAssertEqual(last.trimmingCharacters(in: .whitespacesAndNewlines), "More prose.")
        XCTAssertEqual(w.name, "t")
    }

    func testTildeFencesNestedBackticksListsAndExtraSpaces() throws {
        let w = try parse("""
            ~~~sh {#tilde}
            echo one
            ~~~

            ````sh   {#nested   timeout=5 }
            echo "```"
            ````

            1. A step in a list:

               ```calrec {#in-list}
               stats --recbole {{data}}
               ```

            > ```sh {#quoted}
            > echo quoted
            > ```

            ```swift
            let notACommand = 1
            ```

            ```
            plain fence
            ```
            """)
        XCTAssertEqual(w.blocks.map(\.id), ["tilde", "nested", "in-list", "quoted"])
        XCTAssertEqual(w.blocks[1].text, "echo \"```\"")
        XCTAssertEqual(w.blocks[1].timeout, 5)
        XCTAssertEqual(w.blocks[2].text, "stats --recbole {{data}}")
        XCTAssertEqual(w.blocks[3].text, "echo quoted")
        // The swift and plain fences stay in the prose.
        let prose = w.segments.compactMap { if case .prose(let p) = $0 { return p } else { return nil } }.joined()
        XCTAssertTrue(prose.contains("let notACommand = 1"))
        XCTAssertTrue(prose.contains("plain fence"))
    }

    private func assertParseError(_ body: String, line: Int, contains text: String, file: StaticString = #filePath, sourceLine: UInt = #line) {
        XCTAssertThrowsError(try parse(body), file: file, line: sourceLine) { error in
            guard case .parse(let f, let l, let message) = error as? WorkbenchError else {
                return XCTFail("\(error)", file: file, line: sourceLine)
            }
            XCTAssertEqual(f, "Workbooks/t.md", file: file, line: sourceLine)
            XCTAssertEqual(l, line, message, file: file, line: sourceLine)
            XCTAssertTrue(message.contains(text), message, file: file, line: sourceLine)
        }
    }

    func testErrorsNameTheLineBeforeAnythingRuns() {
        // The header has 8 lines; the body starts on line 9.
        assertParseError("```sh {#a}\necho\n```\n\n```sh {#a}\necho\n```", line: 13, contains: "duplicate block id")
        assertParseError("```sh {#a}\necho {{nope}}\n```", line: 10, contains: "unknown parameter '{{nope}}'")
        assertParseError("```sh {#a timeout}\necho\n```", line: 9, contains: "malformed attribute 'timeout'")
        assertParseError("```sh {#a colour=red}\necho\n```", line: 9, contains: "unknown attribute 'colour'")
        assertParseError("```sh\necho\n```", line: 9, contains: "needs an id")
        assertParseError("```calrec {#a} trailing\nstats\n```", line: 9, contains: "one {…} group")
        assertParseError("```sh {#a #b}\necho\n```", line: 9, contains: "second")
        assertParseError("```sh {#a timeout=-1}\necho\n```", line: 9, contains: "timeout")
        assertParseError("```calrec {#a deps=x}\nstats\n```", line: 9, contains: "deps= is for sh blocks; a calrec subcommand declares")
        assertParseError("```calrec {#a outs=x}\nstats\n```", line: 9, contains: "outs= is for sh blocks")
        XCTAssertThrowsError(try Workbook(text: "---\ntitle: x\n", path: "w.md"))
    }

    func testCalrecBlocksSplitWithoutAShell() throws {
        let commands = try ParameterSubstitution.calrecCommands(
            """
            # a comment
            calrec stats --amazon2018 {{data}} --format json
            baseline pop \\
              --recbole "a folder" --out '{{data}}/x y'

            """, ["data": "\"; rm -rf x; \""])
        XCTAssertEqual(
            commands,
            [
                ["stats", "--amazon2018", "\"; rm -rf x; \"", "--format", "json"],
                ["baseline", "pop", "--recbole", "a folder", "--out", "\"; rm -rf x; \"/x y"],
            ])
        XCTAssertThrowsError(try ParameterSubstitution.calrecCommands("stats 'open", [:]))
    }

    /// Found by the workbook fuzz target (Fuzz/regressions/workbook/crash-crlf-line-endings.md and
    /// crash-cr-line-endings.md): CRLF and CR files crashed the parser.
    func testCRLFAndCRLineEndingsParseLikeLF() throws {
        let lf = "---\ntitle: Endings\nparams:\n  p: 1\n---\nProse.\n\n```calrec {#a}\nstats {{p}}\n```\n\nMore.\n"
        let reference = try Workbook(text: lf, path: "w.md")
        for ending in ["\r\n", "\r"] {
            let other = try Workbook(text: lf.replacingOccurrences(of: "\n", with: ending), path: "w.md")
            XCTAssertEqual(other.title, "Endings")
            XCTAssertEqual(other.parameters.map(\.name), ["p"])
            XCTAssertEqual(other.blocks, reference.blocks, ending.debugDescription)
            XCTAssertEqual(other.blocks.first?.line, 8)
        }
    }

    /// Found by the workbook fuzz target (crash-yaml-non-scalar-key.md, crash-yaml-set-non-scalar-key.md):
    /// Yams crashed on front-matter keys that are not plain scalars.
    func testFrontMatterKeysThatAreNotPlainNamesAreAParseError() {
        for yaml in ["[a]: 1", "x: !!set {? [a]}", "params:\n  {a: 1}: 2", "x:\n  - {[1]: 2}"] {
            XCTAssertThrowsError(try Workbook(text: "---\n\(yaml)\n---\n", path: "w.md"), yaml) { error in
                guard case .parse(let file, _, let message) = error as? WorkbenchError else { return XCTFail("\(yaml): \(error)") }
                XCTAssertEqual(file, "w.md")
                XCTAssertTrue(message.contains("plain names"), message)
            }
        }
    }

    /// Found by the calrec-commands fuzz target: placeholders were found on Characters by the
    /// validation and on Unicode scalars by the sh lexer, so a brace carrying a combining mark was a
    /// placeholder to one and not to the other.
    func testEveryReaderSeesThePlaceholdersOnUnicodeScalars() throws {
        XCTAssertEqual(ParameterSubstitution.references(in: "a {{\u{301}p}} b {{ q }}"), ["\u{301}p", "q"])
        XCTAssertEqual(ParameterSubstitution.references(in: "{\u{301}{p}} {{p}\u{301}}"), [])
        XCTAssertEqual(try ShellPlaceholders.rewrite("echo {\u{301}{p}} {{p}\u{301}}"), "echo {\u{301}{p}} {{p}\u{301}}")
        XCTAssertThrowsError(try Workbook(text: "---\nparams:\n  p: 1\n---\n```sh {#a}\necho {{\u{301}p}}\n```\n", path: "w.md")) { error in
            XCTAssertTrue(((error as? LocalizedError)?.errorDescription ?? "").contains("unknown parameter"), "\(error)")
        }
        XCTAssertEqual(
            try ParameterSubstitution.calrecCommands("stats {{p}}\u{301} x{{p}}", ["p": "v"]), [["stats", "v\u{301}", "xv"]])
    }
}
