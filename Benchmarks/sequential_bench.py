#!/usr/bin/env python3
"""SASRec epoch time: our engine vs the same model in PyTorch eager, side by side in one run, on the
Amazon Office leave-one-out split (each engine in its own process; this machine is noisy: read the
ratios). Both train the same model with the same settings for the same number of epochs, then rank
every user's test target against the whole catalogue, so their test NDCG@10 shows they learn the
same thing (different random streams: expect agreement within noise, not equality).

Model and settings (RecBole's SASRec layout; `Sources/SequentialRecommenders`):
  item + learned position embeddings (length 50) -> LayerNorm -> dropout 0.5
  2 post-LN blocks: 2-head causal attention (dropout 0.5 on the weights) -> Linear -> dropout ->
  residual -> LayerNorm; Linear 64->256 -> GELU (tanh) -> Linear -> dropout -> residual -> LayerNorm
  hidden 64, sequences right-padded to 50, every position predicts the next item (last 51 training
  items per user), softmax cross-entropy over all items through the tied item embeddings,
  Adam lr 1e-3, batch 128 users, N(0, 0.02) init, fp32, every core (torch.set_num_threads).
The split (all but each user's last two purchases for training; the last for test) is exported by
our loader, so both read exactly the same sequences.

Padding: our engine packs each batch's sequences end to end and attends within each one (no padding
at all); PyTorch runs twice, padding every batch to 50 as RecBole does ("pad 50") and to the batch's
longest sequence ("pad longest", the most a padded implementation can skip). The ratio is taken
against the faster of the two.

Usage: sequential_bench.py <SequentialBenchmark binary> <RecBole folder> [--epochs N]
       sequential_bench.py --torch-worker <split.json> --epochs N [--pad max|longest]   (one PyTorch measurement)
"""
import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

MAX_LEN, HIDDEN, LAYERS, HEADS, INNER, DROPOUT, BATCH, LR = 50, 64, 2, 2, 256, 0.5, 128, 1e-3


def torch_worker(split_path, epochs, pad, seed=0):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(seed)
    split = json.load(open(split_path))
    n_items = split["item_count"]
    train = [s for s in split["train"] if len(s) >= 2]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.out = nn.Linear(HIDDEN, 3 * HIDDEN), nn.Linear(HIDDEN, HIDDEN)
            self.up, self.down = nn.Linear(HIDDEN, INNER), nn.Linear(INNER, HIDDEN)
            self.ln1, self.ln2 = nn.LayerNorm(HIDDEN), nn.LayerNorm(HIDDEN)
            self.drop = nn.Dropout(DROPOUT)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(x).split(HIDDEN, dim=2)
            q, k, v = (z.view(b, t, HEADS, HIDDEN // HEADS).transpose(1, 2) for z in (q, k, v))
            a = F.scaled_dot_product_attention(q, k, v, dropout_p=DROPOUT if self.training else 0.0, is_causal=True)
            a = a.transpose(1, 2).reshape(b, t, HIDDEN)
            x = self.ln1(x + self.drop(self.out(a)))
            return self.ln2(x + self.drop(self.down(F.gelu(self.up(x), approximate="tanh"))))

    class SASRec(nn.Module):
        def __init__(self):
            super().__init__()
            self.items = nn.Embedding(n_items + 1, HIDDEN)
            self.positions = nn.Embedding(MAX_LEN, HIDDEN)
            self.ln, self.drop = nn.LayerNorm(HIDDEN), nn.Dropout(DROPOUT)
            self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(module.weight, std=0.02)
                if isinstance(module, nn.Linear):
                    nn.init.zeros_(module.bias)

        def forward(self, tokens):
            x = self.items(tokens) + self.positions.weight[: tokens.shape[1]]
            x = self.drop(self.ln(x))
            for block in self.blocks:
                x = block(x)
            return x

    def padded(rows):
        length = MAX_LEN if pad == "max" else max(len(r) for r in rows)
        return torch.tensor([r + [0] * (length - len(r)) for r in rows], dtype=torch.long)

    model = SASRec()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(seed)
    seconds, losses = [], []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(train), generator=generator).tolist()
        total, batches = 0.0, 0
        for i in range(0, len(order), BATCH):
            windows = [[item + 1 for item in train[j][-(MAX_LEN + 1):]] for j in order[i:i + BATCH]]
            tokens = padded([w[:-1] for w in windows])
            length = tokens.shape[1]
            rows = torch.tensor([b * length + p for b, w in enumerate(windows) for p in range(len(w) - 1)])
            targets = torch.tensor([w[p + 1] for w in windows for p in range(len(w) - 1)])
            hidden = model(tokens).reshape(-1, HIDDEN)[rows]
            loss = F.cross_entropy(hidden @ model.items.weight.T, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        seconds.append(time.perf_counter() - start)
        losses.append(total / batches)

    model.eval()
    ndcg_opt = ndcg_pes = 0.0
    histories, targets = split["test_history"], split["test_target"]
    with torch.no_grad():
        for i in range(0, len(histories), 256):
            queries = [[item + 1 for item in h[-MAX_LEN:]] for h in histories[i:i + 256]]
            hidden = model(padded(queries))
            last = hidden[torch.arange(len(queries)), torch.tensor([len(q) - 1 for q in queries])]
            scores = (last @ model.items.weight.T)[:, 1:]
            target = torch.tensor(targets[i:i + 256])
            own = scores[torch.arange(len(queries)), target].unsqueeze(1)
            above = (scores > own).sum(1) + 1
            at_or_above = (scores >= own).sum(1)
            for r_opt, r_pes in zip(above.tolist(), at_or_above.tolist()):
                ndcg_opt += 1 / math.log2(r_opt + 1) if r_opt <= 10 else 0
                ndcg_pes += 1 / math.log2(r_pes + 1) if r_pes <= 10 else 0
    users = len(histories)
    print(json.dumps({
        "engine": f"pytorch pad {'50' if pad == 'max' else 'longest'}", "torch": torch.__version__, "model": "sasrec", "epoch_seconds": seconds, "losses": losses,
        "test_ndcg10_opt": ndcg_opt / users, "test_ndcg10_pes": ndcg_pes / users, "users": users,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }, sort_keys=True))


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary", nargs="?")
    parser.add_argument("folder", nargs="?")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--torch-worker", metavar="SPLIT_JSON")
    parser.add_argument("--pad", choices=["max", "longest"], default="max")
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker, args.epochs, args.pad)
    ours = run([args.binary, "train", "sasrec", args.folder, "--epochs", str(args.epochs)])
    try:
        import torch  # noqa: F401
    except ImportError:
        print(f"SASRec ours: median epoch {statistics.median(ours['epoch_seconds']):.2f} s; "
              "PyTorch is not installed (pip install torch), so the side-by-side comparison is skipped")
        return
    with tempfile.TemporaryDirectory() as folder:
        split = os.path.join(folder, "split.json")
        subprocess.run([args.binary, "export", args.folder, split], check=True)
        theirs = [run([sys.executable, __file__, "--torch-worker", split, "--epochs", str(args.epochs), "--pad", pad])
                  for pad in ("max", "longest")]
    print(f"SASRec on {os.path.basename(os.path.normpath(args.folder))}, {args.epochs} epochs each, "
          f"{ours['users']} test users ({os.cpu_count()} threads; torch {theirs[0]['torch']})")
    print(f"{'engine':<22}{'median epoch s':>16}{'first epoch s':>15}{'last loss':>11}{'test NDCG@10 opt/pes':>23}{'peak MiB':>10}")
    for r in [ours] + theirs:
        print(f"{r['engine']:<22}{statistics.median(r['epoch_seconds']):>16.2f}{r['epoch_seconds'][0]:>15.2f}{r['losses'][-1]:>11.4f}"
              f"{r['test_ndcg10_opt']:>14.4f}/{r['test_ndcg10_pes']:.4f}{r['peak_mib']:>10.0f}")
    fastest = min(theirs, key=lambda r: statistics.median(r["epoch_seconds"]))
    ratio = statistics.median(fastest["epoch_seconds"]) / statistics.median(ours["epoch_seconds"])
    print(f"epoch time ratio ({fastest['engine']} / ours): {ratio:.2f}x  (target >= 1.5x)")


if __name__ == "__main__":
    main()
