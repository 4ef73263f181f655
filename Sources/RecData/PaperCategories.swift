/// The six Amazon 2018 categories of the paper (docs/method.md §2): short name, file stem, user fraction kept.
public enum PaperCategories {
    public struct Category: Sendable, Equatable {
        public var name: String
        public var stem: String
        public var userFraction: Double
    }

    public static let all: [Category] = [
        Category(name: "Scientific", stem: "Industrial_and_Scientific", userFraction: 1),
        Category(name: "Instruments", stem: "Musical_Instruments", userFraction: 1),
        Category(name: "Arts", stem: "Arts_Crafts_and_Sewing", userFraction: 1),
        Category(name: "Office", stem: "Office_Products", userFraction: 0.5),
        Category(name: "Games", stem: "Video_Games", userFraction: 1),
        Category(name: "Pet", stem: "Pet_Supplies", userFraction: 0.2),
    ]

    /// The paper's short name for a file stem, or the stem itself.
    public static func displayName(_ stem: String) -> String {
        all.first { $0.stem == stem }?.name ?? stem
    }
}
