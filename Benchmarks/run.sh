#!/bin/sh
# Runs the benchmarks of Benchmarks/ with one command: `make bench` or `Benchmarks/run.sh`.
# Each prints the anchor measured in the same run and the ratio to it.
set -eu
cd "$(dirname "$0")/.."
data=artifacts/bench
mkdir -p "$data"
CALREC_TUNE=${CALREC_TUNE-$(Scripts/host-tuning.sh)}; export CALREC_TUNE
echo "build tuning: ${CALREC_TUNE:-portable}"
swift build -c release --product ReaderBenchmark
swift build -c release --product RetrievalBenchmark

echo "== Amazon 2018 review reader vs Python json / orjson"
if [ ! -f "$data/reviews_100mb.jsonl" ]; then
  # Synthetic reviews in the 2018 schema, with the words of the Office item texts.
  python3 Benchmarks/make_reviews.py --out "$data/reviews_100mb.jsonl" --mb 100 \
    --words Workbooks/data/office-2014-recbole/Office.item
fi
ceiling=""
if g++ -O3 -march=native Benchmarks/SimdjsonCeiling/simdjson_ceiling.cpp -lsimdjson -o "$data/simdjson_ceiling"; then
  ceiling="--ceiling $data/simdjson_ceiling"
else
  echo "could not build Benchmarks/SimdjsonCeiling with g++: the simdjson ceiling row is skipped"
fi
# shellcheck disable=SC2086
python3 Benchmarks/reader_bench.py "$data/reviews_100mb.jsonl" .build/release/ReaderBenchmark --rounds 5 $ceiling

echo "== BM25 full score vectors vs bm25s / rank_bm25; evaluation time"
python3 -c "import bm25s, rank_bm25" 2>/dev/null || python3 -m pip install -q bm25s rank_bm25 \
  || echo "could not install bm25s/rank_bm25 from PyPI; the BM25 comparison will be skipped"
python3 Benchmarks/bm25_bench.py Workbooks/data/office-2014-recbole/Office.item .build/release/RetrievalBenchmark

echo "== Language-model engine vs PyTorch eager: training (tiny, small), generation, peak memory"
swift build -c release --product LMBenchmark
python3 Benchmarks/lm_bench.py .build/release/LMBenchmark --rounds 2

echo "== SASRec epoch time vs PyTorch eager (same model, settings and split), test NDCG@10 of both"
swift build -c release --product SequentialBenchmark
python3 Benchmarks/sequential_bench.py .build/release/SequentialBenchmark Workbooks/data/office-2014-recbole --epochs 20

echo "== SmolLM2-135M: training (full, LoRA), generation, peak memory vs transformers + PyTorch eager"
swift build -c release --product SmolLM2Benchmark
python3 Benchmarks/smollm2_bench.py --swift .build/release/SmolLM2Benchmark --rounds 2

echo "== Item-text features (all-MiniLM-L6-v2 on the Office catalogue) vs transformers + PyTorch eager"
swift build -c release --product calrec
python3 Benchmarks/text_encoder_bench.py --calrec .build/release/calrec --rounds 3

echo "== CALRec training, SmolLM2-135M: the Swift engine vs the PyTorch engine on this CPU"
python3 Benchmarks/engine_bench.py --calrec .build/release/calrec --steps 4
