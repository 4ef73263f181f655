#!/usr/bin/env python3
"""Item-text features on this CPU: `calrec features` (the Swift engine's BERT) against transformers +
PyTorch eager doing the same work, side by side in one run, rounds alternating.

The work: every item text of the embedded Office catalogue (2,420 items) through all-MiniLM-L6-v2,
mean-pooled over the tokens, float32. Both sides load the model folder, read Office.item, tokenize
(the Swift WordPiece tokenizer; Hugging Face's fast tokenizer from the folder's tokenizer.json, padding
and truncation as calrec's: none, 128 tokens), sort the texts by length and encode batches of at most
4,096 tokens — calrec packed without padding, PyTorch padded to each batch's longest text with an
attention mask, as feature-extraction scripts do. Each measurement is one process (calrec's includes
its start and the file write; PyTorch's its imports are excluded, loading included), timed by wall
clock. The PyTorch worker also compares its vectors with calrec's matrix and prints the largest
relative difference, so the two sides are shown to compute the same thing.

Each measurement records how many cores' worth of CPU other processes took while it ran (from
/proc/stat, less the measuring process's own time); above 0.2 the table says the numbers are not
clean.

Usage: text_encoder_bench.py --calrec .build/release/calrec [--rounds 3] [--threads 2] [--torch-python PY]
       text_encoder_bench.py --torch-worker --model DIR --items FILE --reference DIR --threads N
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(ROOT, ".cache/models/all-MiniLM-L6-v2")
DEFAULT_DATA = os.path.join(ROOT, "Workbooks/data/office-2014-recbole")
DEFAULT_VENV = os.path.join(ROOT, ".venv/bin/python")
BATCH_TOKENS = 4096
MAX_TOKENS = 128


def busy_jiffies():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields[:8]) - idle


def timed(command, env=None):
    """Runs `command`; returns (wall seconds, other processes' cores, stdout)."""
    hz = os.sysconf("SC_CLK_TCK")
    before_busy = busy_jiffies()
    before_children = os.times()
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after_children = os.times()
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    own = (after_children.children_user - before_children.children_user) + (after_children.children_system - before_children.children_system)
    others = max(0.0, (busy_jiffies() - before_busy) / hz - own) / wall
    return wall, others, result.stdout


def torch_worker(args):
    import numpy as np
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = BertModel.from_pretrained(args.model, dtype=torch.float32, add_pooling_layer=False)
    model.eval()
    tokenizer = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    lines = open(args.items, encoding="utf-8").read().splitlines()
    header = lines[0].split("\t")
    column, id_column = header.index("text:token_seq"), header.index("item_id:token")
    text_of = {fields[id_column]: fields[column] for fields in (line.split("\t") for line in lines[1:] if line)}
    # calrec's rows follow the dataset's item order (its header lists it), not the file's.
    item_ids = json.load(open(os.path.join(args.reference, "item_features.json")))["item_ids"]
    texts = [text_of[item] for item in item_ids]
    encoded = [tokenizer.encode(t).ids for t in texts]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.no_grad():
        i = 0
        while i < len(order):
            j, tokens = i, 0
            while j < len(order) and (j == i or tokens + len(encoded[order[j]]) <= BATCH_TOKENS):
                tokens += len(encoded[order[j]])
                j += 1
            batch = [encoded[k] for k in order[i:j]]
            longest = max(len(b) for b in batch)
            ids = torch.zeros((len(batch), longest), dtype=torch.long)
            mask = torch.zeros((len(batch), longest), dtype=torch.long)
            for r, b in enumerate(batch):
                ids[r, : len(b)] = torch.tensor(b)
                mask[r, : len(b)] = 1
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            pooled = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
            out[order[i:j]] = pooled.numpy()
            i = j
    seconds = time.perf_counter() - start
    # The check reads calrec's matrix after the clock stopped.
    reference = np.fromfile(os.path.join(args.reference, "item_features.f32"), dtype="<f4").reshape(out.shape)
    difference = float(np.max(np.linalg.norm(out - reference, axis=1) / np.linalg.norm(reference, axis=1)))
    print(json.dumps({"seconds": seconds, "items": len(texts), "tokens": sum(len(e) for e in encoded), "max_relative_difference": difference}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calrec")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--torch-python", default=DEFAULT_VENV)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--torch-worker", action="store_true")
    parser.add_argument("--items")
    parser.add_argument("--reference")
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args)
    if not args.calrec:
        sys.exit("--calrec <binary> is required")
    env = dict(os.environ, CALREC_NO_PROVENANCE="1", CALREC_THREADS=str(args.threads))
    items = os.path.join(args.data, "Office.item")
    ours, theirs, differences = [], [], []
    tokens = None
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            out = os.path.join(scratch, f"features-{round_}")
            wall, others, _ = timed([args.calrec, "features", "--recbole", args.data, "--encoder", args.model, "--out", out], env)
            header = json.load(open(os.path.join(out, "item_features.json")))
            tokens = header["tokens"]
            ours.append((wall, others))
            wall, others, stdout = timed(
                [args.torch_python, os.path.abspath(__file__), "--torch-worker", "--model", args.model, "--items", items, "--reference", out,
                 "--threads", str(args.threads)])
            record = json.loads(stdout.strip().splitlines()[-1])
            if record["tokens"] != tokens:
                sys.exit(f"the two tokenizers disagree: {record['tokens']} tokens vs calrec's {tokens}")
            theirs.append((wall, others))
            differences.append(record["max_relative_difference"])
    ours_median = statistics.median(w for w, _ in ours)
    theirs_median = statistics.median(w for w, _ in theirs)
    noisy = max(o for _, o in ours + theirs) > 0.2
    print(f"Office item features: 2,420 items, {tokens:,} tokens, all-MiniLM-L6-v2, {args.threads} threads, {args.rounds} rounds (median wall s)")
    print(f"| engine | seconds | items/s | tokens/s | other load (cores) |")
    print(f"|---|---:|---:|---:|---:|")
    for name, runs, median in [("calrec features (Swift engine, packed)", ours, ours_median), ("transformers + PyTorch eager (padded batches)", theirs, theirs_median)]:
        print(f"| {name} | {median:.2f} | {2420 / median:,.0f} | {tokens / median:,.0f} | {max(o for _, o in runs):.2f} |")
    print(f"ratio (PyTorch / calrec): {theirs_median / ours_median:.2f}x; largest relative difference of a vector: {max(differences):.1e}")
    if noisy:
        print("note: other processes took more than 0.2 cores during a measurement; the numbers are not clean")


if __name__ == "__main__":
    main()
