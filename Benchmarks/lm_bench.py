#!/usr/bin/env python3
"""Language-model engine vs PyTorch eager on the anchors' configurations (docs/performance.md), side by
side in one run (this machine is noisy: read the ratios). Each measurement runs in its own process,
so its peak resident memory is its own.

  train tiny : 2 layers, d=128, 4 heads, context 256, vocabulary 8192, batch 8, AdamW, fp32
  train small: 4 layers, d=256, 4 heads, context 512, vocabulary 8192, batch 8
  generate   : small, batch 16, 256-token random prompts, 64 new tokens sampled at T=1, KV cache

The PyTorch model is GPT-2 as our engine implements it (learned positions, pre-LN blocks, fused qkv
with bias, tanh GELU, tied output projection, N(0, 0.02) init), trained with cross-entropy and
torch.optim.AdamW, PyTorch's default fused attention (scaled_dot_product_attention). Both engines
use every core (torch.set_num_threads = os.cpu_count()). GFLOP/s counts 6·N per trained token with N
the matmul parameters, for both. When torch is not installed its rows are skipped with a message.

Usage: lm_bench.py <LMBenchmark binary> [--rounds N] [--only train-tiny,train-small,generate]
       lm_bench.py --torch-worker train tiny|small | generate small   (one PyTorch measurement)
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {"tiny": (2, 128, 4, 256), "small": (4, 256, 4, 512)}
VOCAB = 8192


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def torch_worker(mode, size, steps=10, runs=3):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    layers, d, heads, ctx = CONFIGS[size]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x, cache=None, start=0):
            b, t, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
            if cache is not None:
                cache[0][:, :, start:start + t] = k
                cache[1][:, :, start:start + t] = v
                k, v = cache[0][:, :, :start + t], cache[1][:, :, :start + t]
            y = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
            x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, d))
            return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, d), nn.Embedding(ctx, d)
            self.h = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(d)
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(m.weight, std=0.02)
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

        def forward(self, idx, caches=None, start=0, last_only=False):
            x = self.wte(idx) + self.wpe(torch.arange(start, start + idx.shape[1]))
            for i, block in enumerate(self.h):
                x = block(x, None if caches is None else caches[i], start)
            if last_only:  # generation needs the last position's logits only
                x = x[:, -1:]
            return self.ln_f(x) @ self.wte.weight.t()

    model = GPT()
    matmul_params = layers * 12 * d * d + VOCAB * d
    if mode == "train":
        batch = 8
        opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
        x = torch.randint(0, VOCAB, (batch, ctx))
        times, losses = [], []
        for step in range(steps + 1):
            t0 = time.perf_counter()
            logits = model(x)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), x[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if step > 0:
                times.append(time.perf_counter() - t0)
        seconds = statistics.median(times)
        tokens = batch * ctx
        return dict(engine="pytorch", mode="train", config=size, threads=torch.get_num_threads(),
                    tokens_per_second=tokens / seconds, step_seconds=seconds,
                    gflops=6 * matmul_params * tokens / seconds / 1e9, peak_mib=peak_mib(),
                    first_loss=losses[0], last_loss=losses[-1])
    batch, prompt, new = 16, 256, 64
    prompts = torch.randint(0, VOCAB, (batch, prompt))
    totals, prefills = [], []
    with torch.no_grad():
        for run in range(runs + 1):
            torch.manual_seed(run)
            t0 = time.perf_counter()
            hd = d // heads
            caches = [(torch.zeros(batch, heads, prompt + new, hd), torch.zeros(batch, heads, prompt + new, hd))
                      for _ in range(layers)]
            logits = model(prompts, caches, 0, last_only=True)[:, -1]
            prefill = time.perf_counter() - t0
            position = prompt
            generated = 0
            for _ in range(new):
                token = torch.multinomial(torch.softmax(logits, -1), 1)
                generated += batch
                if position == prompt + new - 1:
                    break
                logits = model(token, caches, position, last_only=True)[:, -1]
                position += 1
            if run > 0:
                totals.append(time.perf_counter() - t0)
                prefills.append(prefill)
    seconds, prefill = statistics.median(totals), statistics.median(prefills)
    return dict(engine="pytorch", mode="generate", config=size, threads=torch.get_num_threads(),
                new_tokens_per_second=generated / seconds, total_seconds=seconds, new_tokens=generated,
                prefill_seconds=prefill, decode_step_ms=(seconds - prefill) / (new - 1) * 1000, peak_mib=peak_mib())


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        print(json.dumps(torch_worker(sys.argv[2], sys.argv[3])))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default="train-tiny,train-small,generate")
    a = ap.parse_args()
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("torch is not installed (pip install torch): PyTorch rows skipped, calrec measured alone")

    cases = {"train-tiny": ("train", "tiny"), "train-small": ("train", "small"), "generate": ("generate", "small")}
    for name in a.only.split(","):
        mode, size = cases[name]
        results = {"calrec": [], "pytorch": []}
        for _ in range(a.rounds):  # alternate the engines
            out = subprocess.run([a.binary, mode, size], check=True, capture_output=True, text=True).stdout
            results["calrec"].append(json.loads(out.strip().splitlines()[-1]))
            if have_torch:
                out = subprocess.run([sys.executable, __file__, "--torch-worker", mode, size], check=True,
                                     capture_output=True, text=True).stdout
                results["pytorch"].append(json.loads(out.strip().splitlines()[-1]))
        key = "tokens_per_second" if mode == "train" else "new_tokens_per_second"
        print(f"== {mode} {size} ({a.rounds} alternating rounds, medians)")
        rates = {}
        for engine, runs in results.items():
            if not runs:
                continue
            rate = statistics.median(r[key] for r in runs)
            rates[engine] = rate
            extra = (f"{statistics.median(r['gflops'] for r in runs):6.1f} GFLOP/s  loss {runs[0]['first_loss']:.3f} -> "
                     f"{runs[0]['last_loss']:.3f}" if mode == "train" else
                     f"{statistics.median(r['total_seconds'] for r in runs):6.3f} s for {runs[0]['new_tokens']} tokens, "
                     f"prompt pass {statistics.median(r['prefill_seconds'] for r in runs):6.3f} s, "
                     f"decode step {statistics.median(r['decode_step_ms'] for r in runs):5.1f} ms")
            print(f"  {engine:8s} {rate:9.0f} {'tok/s' if mode == 'train' else 'new tok/s'}  {extra}  "
                  f"peak {max(r['peak_mib'] for r in runs):7.1f} MiB")
        if "pytorch" in rates:
            print(f"  ratio calrec / pytorch: {rates['calrec'] / rates['pytorch']:.2f}x")
            if mode == "generate":
                step = {e: statistics.median(r["decode_step_ms"] for r in results[e]) for e in results}
                print(f"  decode step ratio (pytorch ms / calrec ms): {step['pytorch'] / step['calrec']:.2f}x")


if __name__ == "__main__":
    main()
