import Foundation

/// Numbers formatted the way the CALRec paper prints them in its tables.
public enum PaperNumberFormat {
    /// Counts: plain digits, no grouping (`44736`).
    public static func count(_ value: Int) -> String { String(value) }

    /// Percentages with one decimal (`6.3%`).
    public static func percent(_ value: Double) -> String { String(format: "%.1f%%", value) }

    /// Ratios such as Items/User with two decimals (`7.87`).
    public static func ratio(_ value: Double) -> String { String(format: "%.2f", value) }

    /// Frequencies such as average word frequency with one decimal (`10.5`).
    public static func frequency(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Small quantities such as density with two significant digits in plain decimal notation
    /// (`0.0013`, `0.00079`).
    public static func significant(_ value: Double, digits: Int = 2) -> String {
        guard value != 0, value.isFinite else { return value == 0 ? "0" : String(value) }
        let magnitude = Int(floor(log10(abs(value))))
        let decimals = max(0, digits - 1 - magnitude)
        return String(format: "%.\(decimals)f", value)
    }

    /// Ranking metrics with four decimals (`0.0811`).
    public static func metric(_ value: Double) -> String { String(format: "%.4f", value) }

    /// An optimistic/pessimistic pair as the paper prints it (`0.0811/0.0790`); one number when equal.
    public static func optimisticPessimistic(_ optimistic: Double, _ pessimistic: Double) -> String {
        let o = metric(optimistic)
        let p = metric(pessimistic)
        return o == p ? o : "\(o)/\(p)"
    }

    /// Seconds: whole seconds from 10 up (`3012`), one decimal below (`0.3`).
    public static func seconds(_ value: Double) -> String { String(format: value >= 10 ? "%.0f" : "%.1f", value) }

    /// A missing value.
    public static let missing = "–"
}
