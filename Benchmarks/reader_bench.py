#!/usr/bin/env python3
"""Amazon 2018 review reader throughput: calrec (simdjson + zlib, Swift) against Python's json and
orjson on the same file, in the same run, in alternating rounds (this machine is noisy: compare the
ratios, not the absolute numbers).

Each contender extracts at least (reviewerID, asin, unixReviewTime) from every line; calrec also
keeps overall and a hash of reviewText + summary and interns the identifiers.
MB/s = file bytes / 1e6 / seconds (warm page cache, reading the file included).

A fourth contender is the library ceiling: Debian's simdjson On-Demand `iterate_many` extracting the
three fields on one thread with nothing else (Benchmarks/SimdjsonCeiling, built here with g++), once
with the file load and once parsing an already loaded buffer. The anchors' ≈1,500 MB/s for simdjson (docs/performance.md)
was measured on an AVX-512 machine; this row says what the same library reaches on this CPU.

Usage: reader_bench.py <reviews.jsonl> <ReaderBenchmark binary> [--rounds N] [--ceiling <binary>]
"""
import argparse
import json
import os
import statistics
import subprocess
import time

ap = argparse.ArgumentParser()
ap.add_argument("path")
ap.add_argument("binary")
ap.add_argument("--rounds", type=int, default=5)
ap.add_argument("--ceiling", help="simdjson_ceiling binary (Benchmarks/SimdjsonCeiling)")
a = ap.parse_args()
size = os.path.getsize(a.path)


def py_json():
    out = []
    loads = json.loads
    with open(a.path, "rb") as f:
        for line in f:
            r = loads(line)
            out.append((r["reviewerID"], r["asin"], r["unixReviewTime"]))
    return len(out)


def py_orjson():
    import orjson
    out = []
    loads = orjson.loads
    with open(a.path, "rb") as f:
        for line in f:
            r = loads(line)
            out.append((r["reviewerID"], r["asin"], r["unixReviewTime"]))
    return len(out)


def timed(fn):
    t0 = time.perf_counter()
    n = fn()
    return time.perf_counter() - t0, n


def calrec(threads):
    def run():
        out = subprocess.run([a.binary, a.path, "--runs", "3", "--threads", str(threads)], check=True,
                             capture_output=True, text=True).stdout
        # "calrec Amazon2018ReviewReader: median 0.123 s -> ..." (median of 3 runs in one process)
        return float(out.split("median ")[1].split(" s")[0]), int(out.split(", ")[1].split(" records")[0])
    return run


ceiling_parse_only = []


def ceiling():
    out = subprocess.run([a.ceiling, a.path, "3"], check=True, capture_output=True, text=True).stdout
    # "median 0.1234 s, 208982 records, parse only 0.0567 s"
    ceiling_parse_only.append(float(out.split("parse only ")[1].split(" s")[0]))
    return float(out.split("median ")[1].split(" s")[0]), int(out.split(", ")[1].split(" records")[0])


contenders = [("Python json.loads loop", lambda: timed(py_json))]
try:
    import orjson  # noqa: F401
    contenders.append(("orjson.loads loop", lambda: timed(py_orjson)))
except ImportError:
    print("orjson not installed (pip install orjson): skipped")
if a.ceiling:
    contenders.append(("simdjson alone, 1 thread", ceiling))
contenders += [("calrec reader, 1 thread", calrec(1)), (f"calrec reader, {os.cpu_count()} threads", calrec(os.cpu_count()))]

times = {name: [] for name, _ in contenders}
counts = {}
for _ in range(a.rounds):
    for name, fn in contenders:
        seconds, n = fn()
        times[name].append(seconds)
        counts[name] = n
print(f"file {a.path}: {size / 1e6:.1f} MB, {counts[contenders[0][0]]} lines; {a.rounds} alternating rounds, medians")
medians = {name: statistics.median(ts) for name, ts in times.items()}
anchor = "orjson.loads loop" if "orjson.loads loop" in medians else "Python json.loads loop"
for name, m in medians.items():
    print(f"  {name:28s} {m:7.3f} s  {size / 1e6 / m:8.1f} MB/s  {medians[anchor] / m:5.2f}x {anchor.split()[0]}")
for name in times:
    if counts[name] != counts[contenders[0][0]]:
        raise SystemExit(f"{name} read {counts[name]} records, expected {counts[contenders[0][0]]}")
if ceiling_parse_only:
    m = statistics.median(ceiling_parse_only)
    print(f"  {'simdjson alone, parse only':28s} {m:7.3f} s  {size / 1e6 / m:8.1f} MB/s  (file already in memory)")
