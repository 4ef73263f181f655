import Foundation
import Support
import XCTest
@testable import RecData

final class SamplingAndSynthTests: XCTestCase {
    func testUserSamplingIsDeterministicAndIgnoresOrder() throws {
        let users = (0..<1000).map { "U\($0)" }
        let a = try UserSampling.sample(users, fraction: 0.5, seed: 7)
        let b = try UserSampling.sample(users.reversed(), fraction: 0.5, seed: 7)
        let c = try UserSampling.sample(users, fraction: 0.5, seed: 8)
        XCTAssertEqual(a.count, 500)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(try UserSampling.sample(users, fraction: 0.2, seed: 7).count, 200)
        XCTAssertThrowsError(try UserSampling.sample(users, fraction: 0, seed: 1))
        XCTAssertThrowsError(try UserSampling.sample(users, fraction: 1.5, seed: 1))
    }

    func testSeededRandomFirstValuesMatchSplitMix64Reference() {
        // Reference values of SplitMix64 with seed 1234567 (from the published C implementation).
        var r = SeededRandom(seed: 1_234_567)
        XCTAssertEqual(r.next(), 6_457_827_717_110_365_317)
        XCTAssertEqual(r.next(), 3_203_168_211_198_807_973)
        XCTAssertEqual(r.next(), 9_817_491_932_198_370_423)
    }

    private func synth(seed: UInt64, users: Int = 400) throws -> (Amazon2018Files, Data, Data) {
        let folder = try TestSupport.scratchFolder(self)
        let files = try SyntheticAmazon(options: .init(users: users, seed: seed)).write(to: folder)
        return (files, try Data(contentsOf: URL(fileURLWithPath: files.reviews)), try Data(contentsOf: URL(fileURLWithPath: files.meta)))
    }

    func testSynthIsDeterministicForASeed() throws {
        let (_, reviewsA, metaA) = try synth(seed: 3)
        let (_, reviewsB, metaB) = try synth(seed: 3)
        let (_, reviewsC, _) = try synth(seed: 4)
        XCTAssertEqual(reviewsA, reviewsB)
        XCTAssertEqual(metaA, metaB)
        XCTAssertNotEqual(reviewsA, reviewsC)
    }

    func testSynthIsFiveCoreWithSomeExactDuplicates() throws {
        let (files, _, _) = try synth(seed: 5)
        let log = try Amazon2018ReviewReader.read(path: files.reviews)
        var userCounts: [Int32: Int] = [:]
        var itemCounts: [Int32: Int] = [:]
        for r in log.records {
            userCounts[r.user, default: 0] += 1
            itemCounts[r.item, default: 0] += 1
        }
        XCTAssertGreaterThanOrEqual(userCounts.values.min()!, 5)
        XCTAssertGreaterThanOrEqual(itemCounts.values.min()!, 5)
        let dataset = try SequenceDataset.loadAmazon2018(files)
        let dupShare = Double(dataset.duplicatesDropped) / Double(dataset.recordsBeforeDeduplication!)
        XCTAssertGreaterThan(dupShare, 0.005)
        XCTAssertLessThan(dupShare, 0.05)
        XCTAssertEqual(dataset.items.filter { $0.title == nil }.count, 0)
    }

    /// Learnability: a method that reads item text (rank items by how many words they share with the
    /// last history item; no training) must beat training-set popularity on the test targets.
    /// Both are written here independently of any ranking code of the project.
    func testTextMethodBeatsPopularityOnSynth() throws {
        let (files, _, _) = try synth(seed: 11, users: 1500)
        let d = try SequenceDataset.loadAmazon2018(files)
        let format = ItemTextFormat()
        let words = d.items.map { Set(WordAnalyzer.words(format.plainText(of: $0))) }
        var popularity = [Int](repeating: 0, count: d.itemIDs.count)
        for s in d.sequences where s.count >= 3 { for p in s.dropLast(2) { popularity[Int(p.item)] += 1 } }
        func hit(_ scores: [Double], _ target: Int) -> Bool {
            // Pessimistic rank: items scored at or above the target, the target included.
            scores.filter { $0 >= scores[target] }.count <= 10
        }
        var textHits = 0
        var popHits = 0
        var users = 0
        for s in d.sequences where s.count >= 3 {
            users += 1
            let target = Int(s[s.count - 1].item)
            let last = words[Int(s[s.count - 2].item)]
            let textScores = words.enumerated().map { Double($0.element.intersection(last).count) + Double(popularity[$0.offset]) * 1e-6 }
            if hit(textScores, target) { textHits += 1 }
            if hit(popularity.map(Double.init), target) { popHits += 1 }
        }
        XCTAssertGreaterThan(users, 1000)
        XCTAssertGreaterThan(Double(textHits), 1.5 * Double(popHits), "text hits \(textHits), popularity hits \(popHits) of \(users)")
    }

    func testLeaveOneOutSplitAndExclusion() {
        let d = SequenceDataset(
            name: "S", userIDs: ["a", "b"], itemIDs: ["x", "y", "z"], items: [.init(), .init(), .init()],
            sequences: [
                [Purchase(item: 0, time: 1), Purchase(item: 1, time: 2), Purchase(item: 2, time: 3), Purchase(item: 0, time: 4)],
                [Purchase(item: 0, time: 1), Purchase(item: 1, time: 2)],
            ], recordsBeforeDeduplication: 6, duplicatesDropped: 0)
        let split = LeaveOneOutSplit(d)
        XCTAssertEqual(split.users, [.init(user: "a", train: ["x", "y"], valid: "z", test: "x")])
        XCTAssertEqual(split.excludedUsers, 1)
    }
}
