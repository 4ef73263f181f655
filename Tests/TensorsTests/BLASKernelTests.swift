import XCTest
@testable import Tensors

final class BLASKernelTests: XCTestCase {
    func testGenericKernelOnCapableCPUAsksForABetterOne() {
        let avx512: Set<String> = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl"]
        XCTAssertEqual(BLASKernel.better(than: "Prescott", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernel.better(than: "Prescott", cpuFlags: ["avx2", "fma"]), "Haswell")
        XCTAssertNil(BLASKernel.better(than: "Prescott", cpuFlags: ["sse4_2"]))
        XCTAssertNil(BLASKernel.better(than: "SkylakeX", cpuFlags: avx512))
        XCTAssertNil(BLASKernel.better(than: "Zen", cpuFlags: ["avx2", "fma"]))
    }
}
