// swift-tools-version:6.0
import PackageDescription

/// Module layout: see docs/architecture.md. Dependencies point down the module list only.
/// Linux only: the engine links OpenBLAS, the workbench reads /proc and runs blocks under a Linux
/// supervisor (parent-death signal, subreaper).

/// Host tuning, opt-in. A plain `swift build` compiles portable code (any x86-64 or arm64 CPU; the
/// package can be used as a dependency). The Makefile sets `CALREC_TUNE=haswell` on x86-64 hosts
/// that have AVX2, FMA and the rest of that CPU's features (`Scripts/host-tuning.sh`): the engine's
/// vector loops and the JSON reader are then compiled for them (Benchmarks/README.md measures both).
let tuning = Context.environment["CALREC_TUNE"] ?? ""
let tuned = tuning == "haswell"
let jsonTuning: [CXXSetting] = tuned ? [.unsafeFlags(["-O3", "-mavx2", "-mbmi", "-mpclmul", "-mlzcnt"])] : []
let engineTuning: [SwiftSetting] = tuned ? [.unsafeFlags(["-target-cpu", "haswell"]), .define("CALREC_TUNED_HASWELL")] : []

let package = Package(
    name: "calrec-workbench",
    products: [
        .executable(name: "calrec", targets: ["calrec"]),
        .library(name: "Support", targets: ["Support"]),
        .library(name: "RecData", targets: ["RecData"]),
        .library(name: "Tokenization", targets: ["Tokenization"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "LanguageModel", targets: ["LanguageModel"]),
        .library(name: "TextEncoders", targets: ["TextEncoders"]),
        .library(name: "CALRec", targets: ["CALRec"]),
        .library(name: "Retrieval", targets: ["Retrieval"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Baselines", targets: ["Baselines"]),
        .library(name: "SequentialRecommenders", targets: ["SequentialRecommenders"]),
        .library(name: "Reporting", targets: ["Reporting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
    ],
    targets: [
        // System-library shims (module maps only). Each names its pkg-config file and Debian package.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CCmark", pkgConfig: "libcmark-gfm",
            providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]),

        // simdjson (Debian libsimdjson-dev) behind a C interface for JSON-lines scanning.
        .target(
            name: "CJSONLines",
            cxxSettings: jsonTuning,
            linkerSettings: [.linkedLibrary("simdjson")]),

        // Runs sh blocks under a supervisor that kills their process group when calrec dies.
        .target(name: "CSupervisedSpawn"),

        // What every stage uses: atomic writes, the seeded generator, hashing, platform probes.
        .target(name: "Support", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "RecData", dependencies: ["Support", "CZlib", "CJSONLines"]),
        .target(name: "Tokenization", dependencies: ["Support", .product(name: "HeapModule", package: "swift-collections")]),
        .target(
            name: "Tensors", dependencies: ["Support", "COpenBLAS"],
            swiftSettings: engineTuning),
        .target(name: "Training", dependencies: ["Support", "Tensors"]),
        .target(name: "LanguageModel", dependencies: ["Support", "Tensors", "Training", "Tokenization"]),
        .target(name: "TextEncoders", dependencies: ["Support", "Tensors", "Tokenization", "RecData"]),
        .target(
            name: "CALRec", dependencies: ["Support", "LanguageModel", "Tensors", "Training", "Tokenization", "RecData", "Retrieval", "Evaluation"]),
        .target(name: "Retrieval", dependencies: ["RecData"]),
        .target(name: "Evaluation", dependencies: ["Support", "RecData"]),
        .target(name: "Baselines", dependencies: ["RecData", "Retrieval", "Evaluation"]),
        .target(name: "SequentialRecommenders", dependencies: ["Support", "Tensors", "Training", "RecData", "Evaluation", "TextEncoders", "Tokenization"]),
        .target(
            name: "Provenance",
            dependencies: ["Support", "CGit2", "RecData"]),
        .target(name: "Reporting", dependencies: ["RecData"]),
        .target(
            name: "Workbench",
            dependencies: [
                "Support", "CCmark", "CSupervisedSpawn", "RecData", "Reporting", "Provenance",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]),
        .executableTarget(
            name: "calrec",
            dependencies: [
                "Support", "RecData", "Retrieval", "Evaluation", "Baselines", "Reporting", "Provenance", "Workbench", "LanguageModel", "Tokenization", "Tensors", "Training", "CALRec", "SequentialRecommenders", "TextEncoders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "ReaderBenchmark", dependencies: ["RecData"], path: "Benchmarks/ReaderBenchmark"),
        .executableTarget(
            name: "LMBenchmark", dependencies: ["Support", "LanguageModel", "Tensors"], path: "Benchmarks/LMBenchmark"),
        .executableTarget(
            name: "SmolLM2Benchmark", dependencies: ["Support", "LanguageModel", "Tensors", "Tokenization"], path: "Benchmarks/SmolLM2Benchmark"),
        .executableTarget(
            name: "SequentialBenchmark", dependencies: ["SequentialRecommenders", "RecData", "Evaluation"],
            path: "Benchmarks/SequentialBenchmark"),
        .executableTarget(
            name: "RetrievalBenchmark", dependencies: ["Support", "RecData", "Retrieval", "Evaluation"],
            path: "Benchmarks/RetrievalBenchmark"),

        // The cached models and Python environment the tests look for (`make models`, `make venv`).
        .target(name: "TestEnvironment", path: "Tests/TestEnvironment"),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .testTarget(name: "RecDataTests", dependencies: ["RecData", "Support", "CJSONLines"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "Support"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Tensors", "Support"]),
        .testTarget(name: "LanguageModelTests", dependencies: ["LanguageModel", "Tensors", "Training", "Tokenization", "Support", "TestEnvironment"]),
        .testTarget(name: "TextEncodersTests", dependencies: ["TextEncoders", "Tensors", "Tokenization", "RecData", "Support", "TestEnvironment"]),
        .testTarget(
            name: "CALRecTests",
            dependencies: ["CALRec", "Support", "LanguageModel", "Tensors", "Training", "Tokenization", "RecData", "Evaluation", "Retrieval", "TestEnvironment"]),
        .testTarget(name: "RetrievalTests", dependencies: ["Retrieval"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "RecData"]),
        .testTarget(name: "BaselinesTests", dependencies: ["Baselines", "Evaluation"]),
        .testTarget(
            name: "SequentialRecommendersTests", dependencies: ["SequentialRecommenders", "Support", "Tensors", "Training", "RecData", "Evaluation", "TextEncoders", "Tokenization", "TestEnvironment"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "Support"]),
        .testTarget(name: "ProvenanceTests", dependencies: ["Provenance"]),
        .testTarget(name: "CalrecCLITests", dependencies: ["calrec", "TestEnvironment"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)

// libFuzzer targets (Fuzz/README.md). They are in the manifest only when CALREC_FUZZ is set, which
// `make fuzz` does, building them in .build/fuzz with coverage and AddressSanitizer flags for Swift
// code; normal builds and tests never see them. Of the C and C++ code, only the JSON shim is
// instrumented (flags here rather than -Xcxx, which would also reach swift-crypto's BoringSSL).
if Context.environment["CALREC_FUZZ"] != nil {
    for target in package.targets where target.name == "CJSONLines" {
        target.cxxSettings = (target.cxxSettings ?? []) + [.unsafeFlags(["-fsanitize=address,fuzzer-no-link"])]
    }
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/Sources/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer", "CZlib"], path: "Fuzz/Sources/FuzzSupport"),
        .executableTarget(name: "fuzz-workbook", dependencies: ["FuzzSupport", "Workbench"], path: "Fuzz/Sources/fuzz-workbook"),
        .executableTarget(
            name: "fuzz-calrec-commands", dependencies: ["FuzzSupport", "Workbench"], path: "Fuzz/Sources/fuzz-calrec-commands"),
        .executableTarget(
            name: "fuzz-jsonlines", dependencies: ["FuzzSupport", "RecData", "CJSONLines"], path: "Fuzz/Sources/fuzz-jsonlines"),
        .executableTarget(name: "fuzz-line-reader", dependencies: ["FuzzSupport", "RecData"], path: "Fuzz/Sources/fuzz-line-reader"),
    ]
}
