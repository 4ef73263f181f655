// Fuzz target: splitting a calrec block into commands and arguments, and `{{name}}` substitution.
// Each input is a block's text; the parameters it may name are fixed, one of them with quotes,
// backslashes, spaces and braces in its value, so substituted text that looks like syntax is exercised.
import FuzzSupport
import Workbench

let values = [
    "data": "shared/data",
    "tricky": "a 'b' \"c\" \\d {{data}} #e\\",
    "empty": "",
]

runFuzzer { input in
    let text = String(decoding: input, as: UTF8.self)
    // The sh rewrite never sees a value; it changes placeholders only, so a text without one stays as it is.
    let script = try? ShellPlaceholders.rewrite(text)
    if ParameterSubstitution.references(in: text).isEmpty {
        expect(script == text, "the sh rewrite changed a text without placeholders")
    }
    let substituted = Result { try ParameterSubstitution.calrecCommands(text, values) }
    let literal = Result { try ParameterSubstitution.calrecCommands(text, [:]) }
    // Values are substituted after the split: they never add commands or arguments. (A first word
    // that substitution turns into `calrec`, like `calr{{empty}}ec`, is dropped as a written one is.)
    switch (substituted, literal) {
    case (.success(let a), .success(let b)):
        let sameShape = a.count == b.count && zip(a, b).allSatisfy { value, name in
            value.count == name.count || (value.count + 1 == name.count && name.first?.contains("{{") == true)
        }
        expect(sameShape, "a substituted value changed the commands or arguments: \(a) vs \(b)")
    case (.failure, .failure): break
    default: expect(false, "substitution changed whether the text splits")
    }
}
