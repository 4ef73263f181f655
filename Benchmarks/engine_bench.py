#!/usr/bin/env python3
"""CALRec training on this CPU: the Swift engine against the PyTorch engine (python/calrec_torch), the
same `calrec train` run on the same model, data, batch and steps, side by side, rounds alternating.

Each run is `calrec train --stage 2 --init <SmolLM2-135M GGUF> --recbole Office --steps S --batch B
--template paper --max-input 192 --max-output 48 [--lora-rank 16] [--engine torch --processes 1
--device cpu]`, validation off (every step past the end); both write `train.jsonl` in one schema with
each step's `tokens_per_second` (tokens of the step's micro-batches over its wall time). The table
gives the median over the steps after the first (warm-up) and over rounds, for full fine-tuning and
for LoRA, and the ratio. Loss curves are printed too, as a sanity check only: each engine draws its
batches with its own generator, so the losses differ step by step (the objective itself is tested
equal on the same batches in `make test`).

Each measurement records how many cores' worth of CPU other processes took while it ran; above 0.2
the table says the numbers are not clean.

Usage: engine_bench.py --calrec .build/release/calrec [--rounds 1] [--steps 4] [--batch 4] [--threads 2]
                       [--model GGUF|folder] [--only full,lora] [--max-input 192] [--max-output 48]
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
DEFAULT_MODEL = os.path.join(ROOT, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_DATA = os.path.join(ROOT, "Workbooks/data/office-2014-recbole")


def busy_jiffies():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields[:8]) - fields[3] - fields[4]


def run(command, env):
    hz = os.sysconf("SC_CLK_TCK")
    before, children = busy_jiffies(), os.times()
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    own = (after.children_user - children.children_user) + (after.children_system - children.children_system)
    return wall, max(0.0, (busy_jiffies() - before) / hz - own) / wall


def curve(folder):
    with open(os.path.join(folder, "train.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calrec", required=True)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="full,lora")
    parser.add_argument("--max-input", type=int, default=192)
    parser.add_argument("--max-output", type=int, default=48)
    args = parser.parse_args()
    if not os.path.exists(args.model):
        sys.exit(f"{args.model} is missing; `make models` fetches it")
    env = dict(os.environ, CALREC_NO_PROVENANCE="1", CALREC_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    rows, noisy = [], False
    with tempfile.TemporaryDirectory() as scratch:
        for mode in args.only.split(","):
            speeds = {"swift": [], "torch": []}
            losses = {}
            for round_ in range(args.rounds):
                for engine in ["swift", "torch"]:
                    out = os.path.join(scratch, f"{mode}-{engine}-{round_}")
                    command = [
                        args.calrec, "train", "--stage", "2", "--init", args.model, "--recbole", args.data, "--out", out, "--steps", str(args.steps),
                        "--batch", str(args.batch), "--template", "paper", "--max-input", str(args.max_input), "--max-output", str(args.max_output), "--lr", "3e-4", "--seed", "1",
                        "--validate-every", str(args.steps + 1), "--validation-users", "8",
                    ]
                    if mode == "lora":
                        command += ["--lora-rank", "16"]
                    if engine == "torch":
                        command += ["--engine", "torch", "--processes", "1", "--device", "cpu"]
                    _, others = run(command, env)
                    noisy = noisy or others > 0.2
                    points = curve(out)
                    speeds[engine] += [p["tokens_per_second"] for p in points[1:]]
                    losses[engine] = [round(p["loss"], 4) for p in points]
            swift, torch = statistics.median(speeds["swift"]), statistics.median(speeds["torch"])
            rows.append((mode, swift, torch))
            print(f"{mode}: losses swift {losses['swift']}  torch {losses['torch']}", file=sys.stderr)
    print(f"CALRec stage-2 training, SmolLM2-135M, batch {args.batch} users, {args.steps} steps, {args.threads} threads (median tokens/s after the first step)")
    print("| fine-tuning | Swift engine | PyTorch engine (CPU) | Swift / PyTorch |")
    print("|---|---:|---:|---:|")
    for mode, swift, torch in rows:
        print(f"| {mode} | {swift:,.0f} | {torch:,.0f} | {swift / torch:.2f}x |")
    if noisy:
        print("note: other processes took more than 0.2 cores during a measurement; the numbers are not clean")


if __name__ == "__main__":
    main()
