import RecData

/// Table 1 of the paper as a `Table`: one row per category, columns and number formats as printed.
public enum Table1Report {
    /// Builds the table. `userFractions` maps a category to the share of users kept, shown as
    /// `44736 (50%)` the way the paper marks sampled categories.
    public static func table(_ rows: [Table1Row], userFractions: [String: Double] = [:], caption: String? = nil) -> Table {
        var table = Table(caption: caption, columns: [.init("Dataset", alignment: .left)] + statistics.map { .init($0.label) })
        for row in rows {
            let values = Table1Row.values(row)
            var cells: [Table.Cell] = [.init(PaperCategories.displayName(row.category))]
            for statistic in statistics {
                var text = (values[statistic.key] ?? nil).map(statistic.format) ?? PaperNumberFormat.missing
                if statistic.key == "users", let fraction = userFractions[row.category], fraction < 1 {
                    text += " (\(PaperNumberFormat.significant(fraction * 100, digits: 2))%)"
                }
                cells.append(.init(text))
            }
            table.append(cells)
        }
        return table
    }
}

extension Table1Report {
    /// The statistics of Table 1 in column order: JSON key, label, and how the paper prints it.
    static let statistics: [(key: String, label: String, format: @Sendable (Double) -> String)] = [
        ("users", "Users", { PaperNumberFormat.count(Int($0.rounded())) }),
        ("duplicate_pct", "% dup", PaperNumberFormat.percent),
        ("items", "Items", { PaperNumberFormat.count(Int($0.rounded())) }),
        ("purchases", "Purchases", { PaperNumberFormat.count(Int($0.rounded())) }),
        ("items_per_user", "Items/User", PaperNumberFormat.ratio),
        ("purchases_per_item", "Purch/Item", PaperNumberFormat.ratio),
        ("density", "Density", { PaperNumberFormat.significant($0) }),
        ("words_per_item", "Words/Item", PaperNumberFormat.ratio),
        ("vocab_size", "Vocab", { PaperNumberFormat.count(Int($0.rounded())) }),
        ("avg_word_freq", "Avg word freq", PaperNumberFormat.frequency),
    ]

    /// The paper's Table 1 as given in the reference numbers, in the same layout as ours.
    public static func paperTable(_ reference: ReferenceNumbers) -> Table {
        var table = Table(
            caption: "Table 1 as printed in the paper",
            columns: [.init("Dataset", alignment: .left)] + statistics.map { .init($0.label) })
        let order = PaperCategories.all.map(\.name)
        for dataset in reference.table1.keys.sorted(by: { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }) {
            let row = reference.table1[dataset]!
            table.append([.init(dataset)] + statistics.map { .init(row[$0.key].map($0.format) ?? PaperNumberFormat.missing) })
        }
        return table
    }

    /// Ours beside the paper for one dataset: a row per statistic with the relative difference.
    public static func comparison(_ row: Table1Row, paper: [String: Double], dataset: String) -> Table {
        var table = Table(
            caption: "Table 1, \(dataset): ours vs the paper",
            columns: [.init("Statistic", alignment: .left), .init("Ours"), .init("Paper"), .init("Δ")])
        let ours = Table1Row.values(row)
        for statistic in statistics {
            let mine = ours[statistic.key] ?? nil
            let theirs = paper[statistic.key]
            var delta = PaperNumberFormat.missing
            if let mine, let theirs, theirs != 0 { delta = String(format: "%+.1f%%", 100 * (mine - theirs) / theirs) }
            table.append([
                .init(statistic.label), .init(mine.map(statistic.format) ?? PaperNumberFormat.missing),
                .init(theirs.map(statistic.format) ?? PaperNumberFormat.missing), .init(delta),
            ])
        }
        return table
    }
}

extension Table1Row {
    /// The row's values by JSON key (nil for an unmeasurable duplicate share).
    static func values(_ row: Table1Row) -> [String: Double?] {
        [
            "users": Double(row.users), "duplicate_pct": row.duplicatePercent, "items": Double(row.items),
            "purchases": Double(row.purchases), "items_per_user": row.itemsPerUser, "purchases_per_item": row.purchasesPerItem,
            "density": row.density, "words_per_item": row.wordsPerItem, "vocab_size": Double(row.vocabularySize),
            "avg_word_freq": row.averageWordFrequency,
        ]
    }
}
