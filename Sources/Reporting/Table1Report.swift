import RecData

/// Table 1 of the paper as a `Table`: one row per category, columns and number formats as printed.
public enum Table1Report {
    /// Builds the table. `userFractions` maps a category to the share of users kept, shown as
    /// `44736 (50%)` the way the paper marks sampled categories.
    public static func table(_ rows: [Table1Row], userFractions: [String: Double] = [:], caption: String? = nil) -> Table {
        var table = Table(
            caption: caption,
            columns: [
                .init("Dataset", alignment: .left), .init("Users"), .init("% dup"), .init("Items"),
                .init("Purchases"), .init("Items/User"), .init("Purch/Item"), .init("Density"),
                .init("Words/Item"), .init("Vocab"), .init("Avg word freq"),
            ])
        for row in rows {
            var users = PaperNumberFormat.count(row.users)
            if let fraction = userFractions[row.category], fraction < 1 {
                users += " (\(PaperNumberFormat.significant(fraction * 100, digits: 2))%)"
            }
            table.append([
                .init(PaperCategories.displayName(row.category)),
                .init(users),
                .init(row.duplicatePercent.map(PaperNumberFormat.percent) ?? PaperNumberFormat.missing),
                .init(PaperNumberFormat.count(row.items)),
                .init(PaperNumberFormat.count(row.purchases)),
                .init(PaperNumberFormat.ratio(row.itemsPerUser)),
                .init(PaperNumberFormat.ratio(row.purchasesPerItem)),
                .init(PaperNumberFormat.significant(row.density)),
                .init(PaperNumberFormat.ratio(row.wordsPerItem)),
                .init(PaperNumberFormat.count(row.vocabularySize)),
                .init(PaperNumberFormat.frequency(row.averageWordFrequency)),
            ])
        }
        return table
    }
}
