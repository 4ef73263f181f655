/// A training curve's start and end as means over its first and last tenth of steps: one
/// micro-batch's loss is too noisy to say whether training helped (a batch of 8 users can swing
/// L_NIG by ±50%).
struct CurveSummary {
    let first: Double
    let last: Double
    /// Steps in each mean.
    let window: Int

    init(_ values: [Float]) {
        precondition(!values.isEmpty, "an empty training curve")
        window = max(1, values.count / 10)
        first = values.prefix(window).reduce(0) { $0 + Double($1) } / Double(window)
        last = values.suffix(window).reduce(0) { $0 + Double($1) } / Double(window)
    }

    /// `8.3401 → 2.5249` for one step, `6.1234 → 2.5311 (means of the first/last 40 steps)` otherwise.
    var text: String {
        let range = String(format: "%.4f → %.4f", first, last)
        return window == 1 ? range : "\(range) (means of the first/last \(window) steps)"
    }
}
