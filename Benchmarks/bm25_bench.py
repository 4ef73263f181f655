#!/usr/bin/env python3
"""BM25 full-score-vector throughput: calrec's BM25Index against bm25s (method 'lucene') and rank_bm25
(BM25Okapi), in the same run, on the Office item corpus (Workbooks/data/office-2014-recbole/Office.item).

Queries: 10,000 random items (numpy seed 0, with replacement), text truncated to 30 whitespace words
(as the anchor's BM25 benchmark does). k1 = 1.2, b = 0.75, English stop words removed by each
library's own list and tokenizer (bm25s: (?u)\\b\\w\\w+\\b; calrec: runs of letters/digits, Lucene's 33
stop words). "full" = the score of every document per query, written into a (queries x docs) float32
matrix; the bm25s anchor is get_scores_from_ids (pre-tokenized ids), calrec's is BM25Index.score(terms:)
from term ids, reported on one thread and on every core, plus calrec from raw text.

Usage: bm25_bench.py <corpus.item> <RetrievalBenchmark binary> [--runs 3] [--nq 10000] [--nq-rank 200]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("corpus")
ap.add_argument("binary")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--nq", type=int, default=10000)
ap.add_argument("--nq-rank", type=int, default=200)
a = ap.parse_args()

try:
    import numpy as np
    import bm25s
except ImportError as e:
    sys.exit(f"skipped: {e.name} is not installed (pip install numpy bm25s rank_bm25)")

texts = []
with open(a.corpus, encoding="utf-8") as f:
    next(f)
    for line in f:
        texts.append(line.rstrip("\n").split("\t", 1)[1])
N = len(texts)
rng = np.random.default_rng(0)
queries = [" ".join(texts[i].split()[:30]) for i in rng.integers(0, N, size=a.nq)]
qfile = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8")
qfile.write("".join(q + "\n" for q in queries))
qfile.close()


def median_time(fn):
    ts = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


corpus_tok = bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)
q_tok = [q if q else [""] for q in bm25s.tokenize(queries, stopwords="en", return_ids=False, show_progress=False)]
retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
retriever.index(corpus_tok, show_progress=False)
vocab = retriever.vocab_dict
q_ids = [[vocab[t] for t in q if t in vocab] or [vocab[""]] for q in q_tok]
S = np.zeros((len(queries), N), dtype=np.float32)


def bm25s_full():
    for i, q in enumerate(q_ids):
        S[i] = retriever.get_scores_from_ids(q)


bm25s_qps = len(queries) / median_time(bm25s_full)

results = {"bm25s get_scores_from_ids": bm25s_qps}
try:
    from rank_bm25 import BM25Okapi
    okapi = BM25Okapi(corpus_tok, k1=1.2, b=0.75)
    R = np.empty((a.nq_rank, N))

    def rank_full():
        for i in range(a.nq_rank):
            R[i] = okapi.get_scores(q_tok[i])
    results["rank_bm25 BM25Okapi.get_scores"] = a.nq_rank / median_time(rank_full)
except ImportError:
    print("rank_bm25 not installed: skipped")

out = subprocess.run([a.binary, a.corpus, qfile.name, "--runs", str(a.runs)], check=True, capture_output=True, text=True).stdout
os.unlink(qfile.name)
ours = dict(line.split(" ", 1) for line in out.strip().splitlines())
results["calrec BM25Index, 1 thread (term ids)"] = float(ours["full_scores_qps_1thread"])
results[f"calrec BM25Index, {os.cpu_count()} threads (term ids)"] = float(ours["full_scores_qps_all_threads"])
results["calrec BM25Index, 1 thread (from text)"] = float(ours["full_scores_from_text_qps_1thread"])

print(f"corpus {a.corpus}: {N} docs; {len(queries)} queries; bm25s {bm25s.__version__}; calrec avg query terms "
      f"{float(ours['avg_query_terms']):.1f}, bm25s {np.mean([len(q) for q in q_ids]):.1f}")
for name, qps in results.items():
    print(f"  {name:42s} {qps:12,.0f} queries/s  {qps / bm25s_qps:7.2f}x bm25s")
print(f"calrec index build {float(ours['index_build_ms']):.1f} ms; query tokenization {float(ours['tokenize_qps']):,.0f} queries/s")
print(f"evaluation, 10,000 users x 5,000 items: tie-aware ranks {float(ours['evaluate_10k_users_5k_items_rank_ms']):.0f} ms, "
      f"metrics + 1,000-resample bootstrap {float(ours['evaluate_10k_users_summary_1000_bootstrap_ms']):.0f} ms")
