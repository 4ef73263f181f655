/// A batch of examples laid out for the two passes of the objective (docs/method.md §4), right-padded:
///
///     joint:       prompt tokens, then the target's tokens (body, end-of-text)   (B, T)
///     targets:     the next token at every joint position; lossMask marks the positions that
///                  predict a target token (L_NIG counts target tokens only)
///     targetMask:  the joint positions holding the target's body   → v^{T|U}
///     historyMask: the joint positions holding the prompt         → v^U
///     targetOnly:  the target's body alone (a separate pass)       (B, S), targetOnlyMask → v^T
///
/// Right padding needs no key mask: under the causal mask no real token sees a later padding token,
/// and padded positions are outside every loss and pooling mask.
public struct CALRecBatch: Sendable {
    public var joint: [[Int32]]
    public var targets: [[Int32]]
    public var lossMask: [[Float]]
    public var targetMask: [Float]
    public var historyMask: [Float]
    public var targetOnly: [[Int32]]
    public var targetOnlyMask: [Float]
    public var count: Int { joint.count }
    public var length: Int { joint.first?.count ?? 0 }
    public var targetLength: Int { targetOnly.first?.count ?? 0 }

    public init(examples: [SequenceExample], builder: PromptBuilder) {
        let prompts = examples.map { builder.prompt(history: $0.history) }
        let answers = examples.map { builder.target($0.target) }
        let t = zip(prompts, answers).map { $0.count + $1.count }.max() ?? 0
        let s = max(1, answers.map { $0.count - 1 }.max() ?? 1)
        joint = []
        targets = []
        lossMask = []
        targetMask = []
        historyMask = []
        targetOnly = []
        targetOnlyMask = []
        for (prompt, answer) in zip(prompts, answers) {
            let sequence = prompt + answer
            let padding = t - sequence.count
            joint.append(sequence + [Int32](repeating: 0, count: padding))
            targets.append(Array(sequence.dropFirst()) + [Int32](repeating: 0, count: padding + 1))
            // Position i predicts token i + 1: the target's tokens sit at prompt.count ..< sequence.count.
            lossMask.append((0..<t).map { $0 >= prompt.count - 1 && $0 < sequence.count - 1 ? 1 : 0 })
            let body = answer.count - 1
            targetMask += (0..<t).map { $0 >= prompt.count && $0 < prompt.count + body ? 1 : 0 }
            historyMask += (0..<t).map { $0 < prompt.count ? 1 : 0 }
            targetOnly.append(Array(answer.prefix(body)) + [Int32](repeating: 0, count: s - body))
            targetOnlyMask += (0..<s).map { $0 < body ? 1 : 0 }
        }
    }

    /// The joint positions (row-major over B × T) whose next token is a target token, with those
    /// tokens: the rows L_NIG scores.
    public func predictedRows() -> (rows: [Int32], targets: [Int32]) {
        var rows: [Int32] = [], next: [Int32] = []
        for (b, mask) in lossMask.enumerated() {
            for (t, marked) in mask.enumerated() where marked != 0 {
                rows.append(Int32(b * length + t))
                next.append(targets[b][t])
            }
        }
        return (rows, next)
    }
}
