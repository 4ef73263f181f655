import Support

/// Word banks of the synthetic category: topics with their nouns and modifiers, product-line words,
/// variants, and the phrases reviews are made of.
enum SyntheticVocabulary {
    struct Topic {
        var name: String
        var nouns: [String]
        var modifiers: [String]
    }

    /// Topics in ring order: neighbours are related (coffee → tea → baking → …).
    static let topics: [Topic] = [
        Topic(name: "Coffee", nouns: ["grinder", "beans", "filter", "press", "mug", "kettle"],
              modifiers: ["roasted", "burr", "espresso", "arabica", "pour-over", "insulated"]),
        Topic(name: "Tea", nouns: ["infuser", "teapot", "leaves", "sampler", "strainer", "caddy"],
              modifiers: ["green", "oolong", "loose-leaf", "ceramic", "herbal", "matcha"]),
        Topic(name: "Baking", nouns: ["pan", "mixer", "whisk", "sheet", "mold", "scale"],
              modifiers: ["nonstick", "silicone", "springform", "digital", "stainless", "fluted"]),
        Topic(name: "Garden", nouns: ["trowel", "planter", "seeds", "hose", "pruner", "gloves"],
              modifiers: ["heirloom", "ergonomic", "raised", "expandable", "organic", "terracotta"]),
        Topic(name: "Camping", nouns: ["tent", "lantern", "stove", "sleeping-bag", "cooler", "hammock"],
              modifiers: ["waterproof", "ultralight", "rechargeable", "backpacking", "collapsible", "thermal"]),
        Topic(name: "Cycling", nouns: ["helmet", "pump", "lock", "saddle", "bottle", "lights"],
              modifiers: ["aero", "carbon", "tubeless", "reflective", "padded", "mini"]),
        Topic(name: "Fitness", nouns: ["dumbbells", "mat", "bands", "kettlebell", "roller", "tracker"],
              modifiers: ["adjustable", "foam", "resistance", "cast-iron", "yoga", "wireless"]),
        Topic(name: "Audio", nouns: ["headphones", "speaker", "earbuds", "amplifier", "turntable", "cable"],
              modifiers: ["bluetooth", "noise-cancelling", "studio", "portable", "vinyl", "shielded"]),
        Topic(name: "Office", nouns: ["stapler", "notebook", "pens", "binder", "labels", "organizer"],
              modifiers: ["spiral", "gel", "heavy-duty", "adhesive", "ruled", "desktop"]),
        Topic(name: "Art", nouns: ["paints", "brushes", "canvas", "sketchbook", "easel", "pastels"],
              modifiers: ["acrylic", "watercolor", "charcoal", "primed", "sable", "oil"]),
        Topic(name: "Pets", nouns: ["leash", "bowl", "treats", "bed", "toy", "brush"],
              modifiers: ["chewable", "orthopedic", "grain-free", "retractable", "catnip", "deshedding"]),
        Topic(name: "Aquarium", nouns: ["heater", "gravel", "pump", "filter", "net", "food"],
              modifiers: ["submersible", "freshwater", "coral", "planted", "tropical", "led"]),
    ]

    /// Product-line words; an item and its complement share one.
    static let series = [
        "Aurora", "Basalt", "Cobalt", "Drift", "Ember", "Fjord", "Glacier", "Harbor", "Ivory", "Juniper", "Kestrel",
        "Lumen", "Mesa", "Nimbus", "Onyx", "Prairie", "Quartz", "Ridge", "Sierra", "Tundra", "Umber", "Vista",
        "Willow", "Zephyr",
    ]

    static let variants = ["Pack of 1", "Pack of 2", "Small", "Large", "Black", "Blue", "Classic", "Deluxe", "Pro", "Set of 3"]

    static let syllables = ["nor", "vex", "al", "tu", "ra", "ben", "ko", "li", "mar", "zen", "qui", "do", "sa", "pel", "tor", "ix"]

    static func brandName(_ random: inout SeededRandom) -> String {
        let parts = 2 + random.below(2)
        let name = (0..<parts).map { _ in syllables[random.below(syllables.count)] }.joined()
        return name.prefix(1).uppercased() + name.dropFirst()
    }

    static let praise = ["works great", "exactly as described", "good value", "would buy again", "solid build", "my family loves it"]
    static let complaints = ["broke after a week", "smaller than expected", "not worth the price", "stopped working", "poor quality"]

    static func reviewText(_ title: String, rating: Int, _ random: inout SeededRandom) -> String {
        let words = title.split(separator: " ")
        let subject = words.count > 4 ? words[3...4].joined(separator: " ") : title
        let phrase = rating >= 4 ? praise[random.below(praise.count)] : complaints[random.below(complaints.count)]
        return "The \(subject) \(phrase). Order #\(1000 + random.below(9000))."
    }

    static func summary(rating: Int, _ random: inout SeededRandom) -> String {
        rating >= 4 ? ["Five Stars", "Great", "Love it", "Recommended"][random.below(4)]
            : ["Disappointed", "Meh", "Not great"][random.below(3)]
    }
}
