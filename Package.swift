// swift-tools-version:6.0
import PackageDescription

/// Module layout: see ../shared/ARCHITECTURE.md. Dependencies point down the module list only.
let package = Package(
    name: "calrec-workbench",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "calrec", targets: ["calrec"]),
        .library(name: "RecData", targets: ["RecData"]),
        .library(name: "Tokenization", targets: ["Tokenization"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "LanguageModel", targets: ["LanguageModel"]),
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
            cxxSettings: [.unsafeFlags(["-O3", "-mavx2", "-mbmi", "-mpclmul", "-mlzcnt"])],
            linkerSettings: [.linkedLibrary("simdjson")]),

        // Runs sh blocks under a supervisor that kills their process group when calrec dies.
        .target(name: "CSupervisedSpawn"),

        .target(name: "RecData", dependencies: ["CZlib", "CJSONLines"]),
        .target(name: "Tokenization", dependencies: [.product(name: "HeapModule", package: "swift-collections")]),
        .target(
            name: "Tensors", dependencies: ["COpenBLAS"],
            // AVX2 + FMA code for the vector loops (the JSON reader already requires AVX2).
            swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(name: "Training", dependencies: ["Tensors", "RecData"]),
        .target(name: "LanguageModel", dependencies: ["Tensors", "Training", "Tokenization", "RecData"]),
        .target(
            name: "CALRec", dependencies: ["LanguageModel", "Tensors", "Training", "Tokenization", "RecData", "Retrieval", "Evaluation"]),
        .target(name: "Retrieval", dependencies: ["RecData"]),
        .target(name: "Evaluation", dependencies: ["RecData"]),
        .target(name: "Baselines", dependencies: ["RecData", "Retrieval", "Evaluation"]),
        .target(name: "SequentialRecommenders", dependencies: ["Tensors", "Training", "RecData", "Evaluation"]),
        .target(
            name: "Provenance",
            dependencies: ["CGit2", "COpenBLAS", "RecData", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Reporting", dependencies: ["RecData"]),
        .target(
            name: "Workbench",
            dependencies: [
                "CCmark", "CSupervisedSpawn", "RecData", "Reporting", "Provenance",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .executableTarget(
            name: "calrec",
            dependencies: [
                "RecData", "Retrieval", "Evaluation", "Baselines", "Reporting", "Provenance", "Workbench", "LanguageModel", "Tokenization", "Tensors", "Training", "CALRec", "SequentialRecommenders",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "ReaderBenchmark", dependencies: ["RecData"], path: "Benchmarks/ReaderBenchmark"),
        .executableTarget(
            name: "LMBenchmark", dependencies: ["LanguageModel", "Tensors"], path: "Benchmarks/LMBenchmark"),
        .executableTarget(
            name: "SequentialBenchmark", dependencies: ["SequentialRecommenders", "RecData", "Evaluation"],
            path: "Benchmarks/SequentialBenchmark"),
        .executableTarget(
            name: "RetrievalBenchmark", dependencies: ["RecData", "Retrieval", "Evaluation"],
            path: "Benchmarks/RetrievalBenchmark"),

        .testTarget(name: "RecDataTests", dependencies: ["RecData", "CJSONLines"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Tensors"]),
        .testTarget(name: "LanguageModelTests", dependencies: ["LanguageModel", "Tensors", "Training"]),
        .testTarget(
            name: "CALRecTests",
            dependencies: ["CALRec", "LanguageModel", "Tensors", "Training", "Tokenization", "RecData", "Evaluation", "Retrieval"]),
        .testTarget(name: "RetrievalTests", dependencies: ["Retrieval"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation"]),
        .testTarget(name: "BaselinesTests", dependencies: ["Baselines", "Evaluation"]),
        .testTarget(
            name: "SequentialRecommendersTests", dependencies: ["SequentialRecommenders", "Tensors", "Training", "RecData", "Evaluation"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench"]),
        .testTarget(name: "ProvenanceTests", dependencies: ["Provenance"]),
        .testTarget(name: "CalrecCLITests", dependencies: ["calrec"]),
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
