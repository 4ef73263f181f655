import Foundation
import Support

/// A seeded latent model that writes a category in the real Amazon Reviews 2018 schema
/// (`<Category>_5.json.gz` + `meta_<Category>.json.gz`), so every reader and method runs on it
/// exactly as on the real dump.
///
/// The model: topics, each with its own product nouns and modifiers, arranged on a ring where
/// neighbours are related; brands per topic; items per brand whose titles use their topic's words and
/// a product-line ("series") word shared with a complementary item in the neighbouring topic. A user
/// has a home topic and a favourite brand and moves: to the complement of the last item, within the
/// topic (often the same brand), to a related topic, or back to an item bought before (a rebuy at
/// another time). A small share of records is written twice, byte for byte (the dump's exact
/// duplicates). Finally the data is reduced to its 5-core (every user and item has ≥ 5 reviews).
///
/// Because the next item usually shares words with the last one, a method that reads item text
/// beats popularity on this data — which is what makes it a useful test bed.
public struct SyntheticAmazon: Sendable {
    public struct Options: Sendable {
        public var category = "Synthetic"
        public var users = 2000
        public var brandsPerTopic = 4
        public var itemsPerBrand = 8
        /// Share of records duplicated exactly.
        public var duplicateRate = 0.02
        public var seed: UInt64 = 42

        public init(users: Int = 2000, seed: UInt64 = 42) {
            self.users = users
            self.seed = seed
        }
    }

    /// One generated catalogue entry.
    struct Item {
        var asin: String
        var topic: Int
        var brand: Int
        var title: String
        var categories: [String]
        var brandName: String?
        var price: String?
        var complement = 0
    }

    struct Review {
        var user: Int
        var item: Int
        var time: Int64
        var rating: Int
        var text: String
        var summary: String
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// Writes `<folder>/<category>_5.json.gz` and `<folder>/meta_<category>.json.gz` atomically and
    /// returns their paths.
    @discardableResult
    public func write(to folder: String) throws -> Amazon2018Files {
        guard options.users >= 10 else { throw RecDataError.invalidArgument("--users must be at least 10") }
        var random = SeededRandom(seed: options.seed)
        let (items, brandNames) = makeCatalogue(&random)
        var reviews = makeReviews(items: items, &random)
        reviews = fiveCore(reviews)
        let userIDs = (0..<options.users).map { _ in identifier(prefix: "A", length: 13, &random) }
        // The dump groups reviews by item; within an item, newest first.
        reviews.sort { a, b in
            items[a.item].asin != items[b.item].asin
                ? items[a.item].asin < items[b.item].asin : (a.time != b.time ? a.time > b.time : a.user < b.user)
        }
        var reviewLines = ""
        for review in reviews {
            reviewLines += reviewJSON(review, userID: userIDs[review.user], item: items[review.item]) + "\n"
        }
        let used = Set(reviews.map(\.item))
        var metaLines = ""
        for (index, item) in items.enumerated() where used.contains(index) {
            metaLines += metaJSON(item, brandNames: brandNames) + "\n"
        }
        let files = Amazon2018Files(
            category: options.category,
            reviews: (folder as NSString).appendingPathComponent("\(options.category)_5.json.gz"),
            meta: (folder as NSString).appendingPathComponent("meta_\(options.category).json.gz"))
        try GzipFile.write(reviewLines, to: files.reviews)
        try GzipFile.write(metaLines, to: files.meta)
        return files
    }

    // MARK: - Catalogue

    func makeCatalogue(_ random: inout SeededRandom) -> ([Item], [String]) {
        var items: [Item] = []
        var brandNames: [String] = []
        var asins = Set<String>()
        for (t, topic) in SyntheticVocabulary.topics.enumerated() {
            for _ in 0..<options.brandsPerTopic {
                let brand = brandNames.count
                brandNames.append(SyntheticVocabulary.brandName(&random))
                for _ in 0..<options.itemsPerBrand {
                    var asin: String
                    repeat { asin = identifier(prefix: "B0", length: 8, &random) } while !asins.insert(asin).inserted
                    let noun = topic.nouns[random.below(topic.nouns.count)]
                    let modifier = topic.modifiers[random.below(topic.modifiers.count)]
                    let series = SyntheticVocabulary.series[random.below(SyntheticVocabulary.series.count)]
                    let variant = SyntheticVocabulary.variants[random.below(SyntheticVocabulary.variants.count)]
                    let title = "\(brandNames[brand]) \(series) \(modifier) \(topic.name.lowercased()) \(noun), \(variant)"
                    let cents = [99, 49, 95, 0][random.below(4)]
                    let price = random.unit() < 0.1 ? nil : String(format: "$%d.%02d", 5 + random.below(60), cents)
                    items.append(
                        Item(
                            asin: asin, topic: t, brand: brand, title: title,
                            categories: ["Synthetic", topic.name, noun.capitalized],
                            brandName: random.unit() < 0.05 ? nil : brandNames[brand], price: price))
                }
            }
        }
        // Complements: an item of the next topic on the ring, which takes this item's series word.
        let perTopic = options.brandsPerTopic * options.itemsPerBrand
        let topicCount = SyntheticVocabulary.topics.count
        for index in items.indices {
            let next = (items[index].topic + 1) % topicCount
            items[index].complement = next * perTopic + random.below(perTopic)
        }
        for index in items.indices {
            let series = items[index].title.split(separator: " ")[1]
            var words = items[items[index].complement].title.split(separator: " ").map(String.init)
            words[1] = String(series)
            items[items[index].complement].title = words.joined(separator: " ")
        }
        return (items, brandNames)
    }

    // MARK: - Behaviour

    func makeReviews(items: [Item], _ random: inout SeededRandom) -> [Review] {
        let topicCount = SyntheticVocabulary.topics.count
        let perTopic = options.brandsPerTopic * options.itemsPerBrand
        // Item popularity within a topic follows a Zipf-like law.
        let weights = (0..<perTopic).map { 1 / pow(Double($0 + 1), 0.8) }
        func popularItem(in topic: Int, _ random: inout SeededRandom) -> Int {
            topic * perTopic + weightedIndex(weights, &random)
        }
        let topicWeights = (0..<topicCount).map { 1 / pow(Double($0 + 1), 0.5) }
        var reviews: [Review] = []
        for user in 0..<options.users {
            let home = weightedIndex(topicWeights, &random)
            let favouriteBrand = items[home * perTopic].brand + random.below(options.brandsPerTopic)
            let length = 5 + min(25, Int(-log(1 - random.unit()) * 4))
            var time = Int64(1_400_000_000 + random.below(60_000_000)) / 86_400 * 86_400
            var current = popularItem(in: home, &random)
            var history: [Int] = []
            for _ in 0..<length {
                history.append(current)
                let rating = [5, 5, 5, 4, 4, 3, 2, 1][random.below(8)]
                let review = Review(
                    user: user, item: current, time: time, rating: rating,
                    text: SyntheticVocabulary.reviewText(items[current].title, rating: rating, &random),
                    summary: SyntheticVocabulary.summary(rating: rating, &random))
                reviews.append(review)
                if random.unit() < options.duplicateRate { reviews.append(review) }
                time += Int64(1 + random.below(90)) * 86_400
                let move = random.unit()
                let topic = items[current].topic
                if move < 0.45 {
                    current = items[current].complement
                } else if move < 0.55, history.count > 1 {
                    current = history[random.below(history.count - 1)]
                } else if move < 0.85 {
                    let sameBrand = (0..<perTopic).map { topic * perTopic + $0 }.filter {
                        items[$0].brand == favouriteBrand || items[$0].brand == items[current].brand
                    }
                    current = random.unit() < 0.5 && !sameBrand.isEmpty
                        ? sameBrand[random.below(sameBrand.count)] : popularItem(in: topic, &random)
                } else {
                    let related = (topic + (random.unit() < 0.5 ? topicCount - 1 : 1)) % topicCount
                    current = popularItem(in: related, &random)
                }
            }
        }
        return reviews
    }

    /// Removes users and items with fewer than 5 reviews until none is left.
    func fiveCore(_ reviews: [Review]) -> [Review] {
        var kept = reviews
        while true {
            var userCount: [Int: Int] = [:]
            var itemCount: [Int: Int] = [:]
            for r in kept {
                userCount[r.user, default: 0] += 1
                itemCount[r.item, default: 0] += 1
            }
            let next = kept.filter { userCount[$0.user]! >= 5 && itemCount[$0.item]! >= 5 }
            if next.count == kept.count { return kept }
            kept = next
        }
    }

    // MARK: - Output in the 2018 schema

    func reviewJSON(_ r: Review, userID: String, item: Item) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(r.time))
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        let reviewTime = String(format: "%02d %d, %d", parts.month!, parts.day!, parts.year!)
        return "{\"overall\": \(r.rating).0, \"verified\": true, \"reviewTime\": \(jsonString(reviewTime)), "
            + "\"reviewerID\": \(jsonString(userID)), \"asin\": \(jsonString(item.asin)), "
            + "\"reviewerName\": \"Synthetic Shopper\", \"reviewText\": \(jsonString(r.text)), "
            + "\"summary\": \(jsonString(r.summary)), \"unixReviewTime\": \(r.time)}"
    }

    func metaJSON(_ item: Item, brandNames: [String]) -> String {
        let categories = "[" + item.categories.map(jsonString).joined(separator: ", ") + "]"
        return "{\"category\": \(categories), \"description\": [], \"title\": \(jsonString(item.title)), "
            + "\"also_buy\": [], \"brand\": \(jsonString(item.brandName ?? "")), \"feature\": [], "
            + "\"main_cat\": \"Synthetic\", \"price\": \(jsonString(item.price ?? "")), "
            + "\"asin\": \(jsonString(item.asin))}"
    }

    func identifier(prefix: String, length: Int, _ random: inout SeededRandom) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return prefix + String((0..<length).map { _ in alphabet[random.below(alphabet.count)] })
    }

    func weightedIndex(_ weights: [Double], _ random: inout SeededRandom) -> Int {
        let total = weights.reduce(0, +)
        var x = random.unit() * total
        for (i, w) in weights.enumerated() {
            x -= w
            if x < 0 { return i }
        }
        return weights.count - 1
    }
}

/// A JSON string literal (quotes, backslashes and control characters escaped).
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
