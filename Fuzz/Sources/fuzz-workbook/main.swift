// Fuzz target: the workbook parser. Each input is a workbook file (bytes decoded as `Workbook(path:)`
// decodes them); a parsed workbook's command blocks then go through the substitution a run applies
// (`calrecCommands` for calrec blocks, `ShellPlaceholders.rewrite` for sh blocks) and the attribute accessors.
// Parse errors are the expected outcome for most inputs; a crash is a finding.
import FuzzSupport
import Workbench

runFuzzer { input in
    let text = String(decoding: input, as: UTF8.self)
    guard let workbook = try? Workbook(text: text, path: "fuzz.md") else { return }
    var values = Dictionary(workbook.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    if workbook.referenceJSON != nil { values[Workbook.referenceParameter] = "reference.json" }
    for block in workbook.blocks {
        _ = (block.timeout, block.cacheable, block.declaredInputs, block.declaredOutputs)
        switch block.kind {
        case .calrec: _ = try? ParameterSubstitution.calrecCommands(block.text, values)
        case .sh: _ = try? ShellPlaceholders.rewrite(block.text)
        }
    }
}
