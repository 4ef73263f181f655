import XCTest
@testable import calrec

/// The one table of what `--budget` means per command (the numbers the workbooks' reports were made with).
final class BudgetTests: XCTestCase {
    func testEachBudgetMeansTheDocumentedSizeForEachCommand() {
        XCTAssertEqual(Budget.allCases.map(\.synthesizedUsers), [300, 2000, 20_000])
        XCTAssertEqual(Budget.allCases.map(\.languageModelSteps), [20, 600, 6000])
        XCTAssertEqual(Budget.allCases.map { $0.trainingSteps(stage: 0) }, [20, 400, 6000])
        XCTAssertEqual(Budget.allCases.map { $0.trainingSteps(stage: 1) }, [20, 300, 5000])
        XCTAssertEqual(Budget.allCases.map { $0.trainingSteps(stage: 2) }, [20, 300, 5000])
        XCTAssertEqual(Budget.allCases.map { $0.trainingSteps(stage: 1, pretrainedLlama: true) }, [20, 150, 2500])
        XCTAssertEqual(Budget.allCases.map(\.validationUsers), [32, 256, 1024])
        XCTAssertEqual(Budget.allCases.map(\.evaluatedUsers), [50, 500, nil])
        XCTAssertEqual(Budget.allCases.map(\.sequentialEpochs), [2, 50, 200])
    }
}
