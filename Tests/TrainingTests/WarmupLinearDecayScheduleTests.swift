import XCTest
@testable import Training

/// Recformer's schedule (`optimization.py`): peak · k / W while k < W, then peak · max(0, 1 − k / T),
/// the values below worked out by hand.
final class WarmupLinearDecayScheduleTests: XCTestCase {
    func testTheRateRisesLinearlyDuringWarmupThenFallsFromStepZerosLine() {
        let schedule = WarmupLinearDecaySchedule(peak: 5e-5, warmupSteps: 100, totalSteps: 600)
        XCTAssertEqual(schedule.rate(step: 1), 5e-7, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(step: 50), 2.5e-5, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(step: 99), 4.95e-5, accuracy: 1e-10)
        // Past the warmup the line is 1 − k/T, so the rate drops to 5/6 of the peak at once.
        XCTAssertEqual(schedule.rate(step: 100), 5e-5 * 5 / 6, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(step: 300), 2.5e-5, accuracy: 1e-10)
        XCTAssertEqual(schedule.rate(step: 600), 0)
        XCTAssertEqual(schedule.rate(step: 700), 0, "never negative")
    }

    func testWithoutWarmupTheFirstStepIsAlreadyOnTheDecayingLine() {
        let schedule = WarmupLinearDecaySchedule(peak: 1e-2, warmupSteps: 0, totalSteps: 4)
        XCTAssertEqual((1...4).map { schedule.rate(step: $0) }, [7.5e-3, 5e-3, 2.5e-3, 0])
        XCTAssertEqual(LearningRateSchedule.warmupLinearDecay(schedule).rate(step: 2), 5e-3)
    }

    func testAWarmupLongerThanTheRunNeverReachesThePeak() {
        // Recformer's code on a small catalogue: 48 steps in all against 100 of warmup.
        let schedule = WarmupLinearDecaySchedule(peak: 5e-5, warmupSteps: 100, totalSteps: 48)
        XCTAssertEqual(schedule.rate(step: 48), 2.4e-5, accuracy: 1e-10)
    }
}
