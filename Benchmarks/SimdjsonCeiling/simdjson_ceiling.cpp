// The library ceiling on this machine: Debian's simdjson On-Demand `iterate_many` over the whole
// file (memory-mapped), extracting the anchor's three fields (reviewerID, asin, unixReviewTime)
// from every line on one thread, with no interning, no hashing and nothing kept beyond a checksum.
// The anchors (docs/performance.md) quote ≈1,500 MB/s for this on an AVX-512 machine; reader_bench.py runs it beside the
// calrec reader so the reader is compared with what the library itself reaches on the same CPU.
//
// Build: g++ -O3 -march=native simdjson_ceiling.cpp -lsimdjson -o simdjson_ceiling
// Usage: simdjson_ceiling <reviews.jsonl> [runs]
// Prints "median <seconds> s, <records> records, parse only <seconds> s" (the last without the file load).
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace simdjson;

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: simdjson_ceiling <reviews.jsonl> [runs]\n");
        return 2;
    }
    int runs = argc > 2 ? std::atoi(argv[2]) : 3;
    std::vector<double> seconds, parse_seconds;
    size_t records = 0;
    for (int run = 0; run < runs; run++) {
        auto start = std::chrono::steady_clock::now();
        // Reading the file is part of the measurement, as it is for every other contender.
        padded_string json;
        if (auto error = padded_string::load(argv[1]).get(json)) {
            std::fprintf(stderr, "%s: %s\n", argv[1], error_message(error));
            return 1;
        }
        auto loaded = std::chrono::steady_clock::now();
        ondemand::parser parser;
        ondemand::document_stream stream;
        if (auto error = parser.iterate_many(json, 1 << 20).get(stream)) {
            std::fprintf(stderr, "%s\n", error_message(error));
            return 1;
        }
        uint64_t checksum = 0;
        records = 0;
        for (auto doc : stream) {
            std::string_view user, asin;
            int64_t time = 0;
            for (auto field : doc.get_object()) {
                std::string_view key = field.unescaped_key();
                if (key == "reviewerID") user = field.value().get_string();
                else if (key == "asin") asin = field.value().get_string();
                else if (key == "unixReviewTime") time = field.value().get_int64();
            }
            checksum += user.size() + asin.size() + static_cast<uint64_t>(time);
            records++;
        }
        auto end = std::chrono::steady_clock::now();
        seconds.push_back(std::chrono::duration<double>(end - start).count());
        parse_seconds.push_back(std::chrono::duration<double>(end - loaded).count());
        if (checksum == 42) std::puts("");  // keeps the loop from being optimised away
    }
    std::sort(seconds.begin(), seconds.end());
    std::sort(parse_seconds.begin(), parse_seconds.end());
    std::printf("median %.4f s, %zu records, parse only %.4f s\n", seconds[seconds.size() / 2], records,
                parse_seconds[parse_seconds.size() / 2]);
    return 0;
}
