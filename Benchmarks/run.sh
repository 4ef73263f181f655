#!/bin/sh
# Runs the benchmarks of Benchmarks/ with one command: `make bench` or `Benchmarks/run.sh`.
set -eu
cd "$(dirname "$0")/.."
data=artifacts/bench
mkdir -p "$data"
if [ ! -f "$data/reviews_100mb.jsonl" ]; then
  # The anchor's generator (../shared/perf/gen_reviews.py), with real item text for its vocabulary.
  python3 ../shared/perf/gen_reviews.py --out "$data/reviews_100mb.jsonl" --mb 100 \
    --vocab_src ../shared/data/office-2014-recbole/Office.item
fi
swift build -c release --product ReaderBenchmark
python3 Benchmarks/reader_bench.py "$data/reviews_100mb.jsonl" .build/release/ReaderBenchmark --rounds 5
