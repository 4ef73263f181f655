#!/usr/bin/env python3
"""SmolLM2-135M on this CPU: the Swift engine (`SmolLM2Benchmark`) against transformers + PyTorch eager,
side by side in one run (read the ratios: this machine is noisy). Each measurement runs in its own
process, so its peak resident memory is its own; the engines alternate round by round.

Both engines load the same GGUF file (Q4_1, dequantized to float32 by each) and read the same token
ids: the Swift tokenizer encodes the lines of the Office item texts, joined into one stream and cut
into the training batch (8 windows of 250 tokens) and, after it, 16 generation prompts of 256 tokens
(`SmolLM2Benchmark tokens`); the PyTorch worker checks that transformers' tokenizer gives the same ids.

  train full : every weight trains; cross-entropy over the next token (the last position of each
               window has none), global-norm clipping at 1.0, AdamW lr 1e-4 (decay 0.01 on matrices,
               none on norm gains, as the engine groups them), float32; one untimed warm-up step,
               then --steps timed steps on the same batch; tokens/s = 8·250 / median step time
  train lora : LoRA rank 16, α 32, dropout 0.05 on q, k, v, o, gate, up, down of every block (peft);
               the base frozen; otherwise the same
  generate   : 16 × (256-token prompt + exactly 40 tokens sampled at T = 1 from the full distribution),
               batched, KV cache (transformers' `generate`, do_sample, min_new_tokens = max_new_tokens,
               top_k 0); one untimed warm-up run, then --runs timed runs; then the prompt pass alone
               (one new token) to split prompt pass and decode step
  peak MiB   : getrusage peak resident set of the measuring process (loading included); "loaded"
               is the resident set right after loading, before the measurement

PyTorch runs eager (no torch.compile) with transformers' default attention (sdpa), torch.set_num_threads
= --threads, like CALREC_THREADS for the engine. When torch/transformers are not importable by the
worker's Python the PyTorch rows are skipped with a message; without peft, the PyTorch LoRA row.

Each measurement also records how many cores' worth of CPU other processes (and the hypervisor's
steal) took while it ran, from /proc/stat less the measuring process's own time; above 0.2 the table
says the numbers are not clean. --quiet-wait S waits up to S seconds before each measurement for the
machine to go idle.

Usage: smollm2_bench.py --swift <SmolLM2Benchmark binary> [--rounds N] [--steps 3] [--runs 2]
                        [--only train-full,train-lora,generate] [--threads 2] [--torch-python PY]
                        [--quiet-wait S] [--json-out F]
       smollm2_bench.py --torch-worker train full|lora|generate --model M --tokens F [--steps N] [--runs N]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(ROOT, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_TEXTS = os.path.join(ROOT, "Tests/Fixtures/smollm2/office-item-texts.jsonl")
DEFAULT_VENV = os.path.join(ROOT, ".venv/bin/python")
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resident_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576


# ---------------------------------------------------------------- PyTorch worker (one measurement)

def load_model(path):
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(os.path.dirname(os.path.abspath(path)), gguf_file=os.path.basename(path),
                                                dtype=torch.float32)


def torch_train(args, variant):
    import torch

    batch = json.load(open(args.tokens))["train"]
    t0 = time.perf_counter()
    model = load_model(args.model)
    if variant == "lora":
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(0)
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=LORA_TARGETS,
                                                 bias="none", task_type="CAUSAL_LM"))
    load_seconds = time.perf_counter() - t0
    loaded = resident_mib()
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.01},
                             {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}], lr=1e-4)
    x = torch.tensor(batch, dtype=torch.long)
    times, losses, norms = [], [], []
    for step in range(args.steps + 1):  # step 0 warms up and is not timed
        torch.manual_seed(step + 1)  # LoRA dropout
        t0 = time.perf_counter()
        loss = model(input_ids=x, labels=x, use_cache=False).loss  # shifts the labels: B·(T−1) targets
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        norms.append(norm.item())
        if step > 0:
            times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    b, t = x.shape
    return dict(engine="pytorch", mode="train", variant=variant, threads=torch.get_num_threads(),
                batch=b, length=t, steps=args.steps, trainable_parameters=sum(p.numel() for p in params),
                tokens_per_second=b * t / seconds, step_seconds=seconds, step_times=times,
                load_seconds=load_seconds, loaded_mib=loaded, peak_mib=peak_mib(), losses=losses, grad_norms=norms)


def torch_generate(args):
    import torch

    prompts = json.load(open(args.tokens))["prompts"]
    t0 = time.perf_counter()
    model = load_model(args.model)
    load_seconds = time.perf_counter() - t0
    loaded = resident_mib()
    model.eval()
    x = torch.tensor(prompts, dtype=torch.long)
    mask = torch.ones_like(x)

    def generate(new, seed):
        torch.manual_seed(seed)
        return model.generate(input_ids=x, attention_mask=mask, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                              max_new_tokens=new, min_new_tokens=new, use_cache=True, pad_token_id=model.config.eos_token_id)

    totals, prefills, generated = [], [], 0
    with torch.no_grad():
        for run in range(args.runs + 1):  # run 0 warms up
            t0 = time.perf_counter()
            out = generate(args.new, run)
            if run > 0:
                totals.append(time.perf_counter() - t0)
            generated = (out.shape[1] - x.shape[1]) * x.shape[0]
        for run in range(args.runs):  # the prompt pass alone
            t0 = time.perf_counter()
            generate(1, run)
            prefills.append(time.perf_counter() - t0)
    seconds, prefill = statistics.median(totals), statistics.median(prefills)
    return dict(engine="pytorch", mode="generate", threads=torch.get_num_threads(), batch=x.shape[0],
                prompt_length=x.shape[1], runs=args.runs, new_tokens_per_second=generated / seconds,
                total_seconds=seconds, run_times=totals, new_tokens=generated, prefill_seconds=prefill,
                decode_step_ms=(seconds - prefill) / (args.new - 1) * 1000, load_seconds=load_seconds,
                loaded_mib=loaded, peak_mib=peak_mib())


def tokenizer_check(args):
    """Whether transformers' tokenizer (from the same GGUF) gives the ids the Swift tokenizer wrote."""
    from transformers import AutoTokenizer

    path = os.path.abspath(args.model)
    tok = AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path))
    batch = json.load(open(args.tokens))
    swift = [i for w in batch["train"] + batch["prompts"] for i in w]
    stream = []
    with open(args.texts) as f:
        for line in f:
            if len(stream) >= len(swift):
                break
            stream += tok(json.loads(line), add_special_tokens=False)["input_ids"]
    stream = stream[:len(swift)]
    first = next((i for i, (a, b) in enumerate(zip(stream, swift)) if a != b), None)
    return dict(tokens=len(swift), agree=first is None, first_difference=first)


def worker(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["train", "generate", "tokenizer"])
    ap.add_argument("variant", nargs="?", default="full", choices=["full", "lora"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--new", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    if a.mode == "tokenizer":
        result = tokenizer_check(a)
    else:
        import torch

        torch.set_num_threads(a.threads)
        result = torch_train(a, a.variant) if a.mode == "train" else torch_generate(a)
    print(json.dumps(result))


# ---------------------------------------------------------------- driver

def cpu_seconds():
    """(seconds of CPU time the whole machine spent busy, hypervisor steal included; those of our children)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user nice system [idle iowait] irq softirq steal
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return busy / os.sysconf("SC_CLK_TCK"), children.ru_utime + children.ru_stime


def wait_quiet(limit):
    """Waits (at most `limit` seconds) until other processes take under 0.3 cores over 5 s."""
    deadline = time.perf_counter() + limit
    while True:
        busy0, _ = cpu_seconds()
        time.sleep(5)
        busy1, _ = cpu_seconds()
        if (busy1 - busy0) / 5 < 0.3 or time.perf_counter() > deadline:
            return


def run_json(command, env, label, quiet_wait=0):
    if quiet_wait > 0:
        wait_quiet(quiet_wait)
    t0 = time.perf_counter()
    busy0, ours0 = cpu_seconds()
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{label} failed (exit {proc.returncode}): {' '.join(command)}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    wall = time.perf_counter() - t0
    busy1, ours1 = cpu_seconds()
    result["wall_seconds"] = wall
    # Cores' worth of CPU that other processes (and the hypervisor) took while this measurement ran.
    result["other_cores"] = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / wall
    print(f"  {label}: {wall:5.0f} s, other processes {result['other_cores']:.2f} cores", file=sys.stderr, flush=True)
    return result


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        worker(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--swift", default=os.path.join(ROOT, ".build/release/SmolLM2Benchmark"))
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--texts", default=DEFAULT_TEXTS)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="train-full,train-lora,generate")
    ap.add_argument("--torch-python", default=DEFAULT_VENV if os.path.exists(DEFAULT_VENV) else sys.executable)
    ap.add_argument("--json-out", help="also write every measurement's JSON here")
    ap.add_argument("--quiet-wait", type=float, default=0,
                    help="before each measurement wait up to this many seconds for other processes to go idle")
    a = ap.parse_args()
    if not os.path.exists(a.model):
        print(f"{a.model} not found: the SmolLM2-135M benchmark is skipped")
        return
    if not os.access(a.swift, os.X_OK):
        raise SystemExit(f"{a.swift} not found: build it with `swift build -c release --product SmolLM2Benchmark`")
    env = dict(os.environ, CALREC_THREADS=str(a.threads), OMP_NUM_THREADS=str(a.threads), HF_HUB_OFFLINE="1",
               TRANSFORMERS_VERBOSITY="error", TQDM_DISABLE="1", TOKENIZERS_PARALLELISM="false")
    probe = lambda mods: subprocess.run([a.torch_python, "-c", f"import {mods}"], capture_output=True, env=env).returncode == 0
    have_torch = probe("torch, transformers, gguf")
    have_peft = have_torch and probe("peft")
    versions = "PyTorch not measured"
    if have_torch:
        versions = subprocess.run([a.torch_python, "-c", "import torch, transformers; print(f'torch {torch.__version__}, "
                                   "transformers {transformers.__version__}', end='')"], capture_output=True, text=True,
                                  env=env).stdout
        if have_peft:
            versions += subprocess.run([a.torch_python, "-c", "import peft; print(f', peft {peft.__version__}', end='')"],
                                       capture_output=True, text=True, env=env).stdout
    else:
        print(f"torch/transformers/gguf not importable by {a.torch_python}: PyTorch rows skipped, calrec measured alone")
    if have_torch and not have_peft:
        print(f"peft not importable by {a.torch_python} (pip install peft==0.21.2): the PyTorch LoRA row is skipped")

    work = tempfile.mkdtemp(prefix="smollm2-bench-")
    tokens = os.path.join(work, "batch.json")
    subprocess.run([a.swift, "tokens", "--model", a.model, "--texts", a.texts, "--out", tokens], check=True,
                   capture_output=True, env=env)
    common = ["--model", a.model, "--tokens", tokens]
    worker_cmd = [a.torch_python, os.path.abspath(__file__), "--torch-worker"]
    if have_torch:
        check = run_json(worker_cmd + ["tokenizer"] + common + ["--texts", a.texts], env, "tokenizer check")
        print(f"tokenizer: transformers' ids {'agree with' if check['agree'] else 'DIFFER from'} the engine's on all "
              f"{check['tokens']} tokens" + ("" if check["agree"] else f" (first difference at {check['first_difference']})"))
    print(f"SmolLM2-135M, {a.threads} threads, batch 8 × 250 tokens, {a.steps} timed steps after 1 warm-up; "
          f"generation 16 × (256 + 40), {a.runs} timed runs after 1 warm-up; {a.rounds} alternating round(s), medians; "
          f"{versions}", flush=True)

    cases = {"train-full": ("train", "full"), "train-lora": ("train", "lora"), "generate": ("generate", None)}
    everything, summary = [], {}
    for name in a.only.split(","):
        mode, variant = cases[name]
        swift = [a.swift, mode] + ([variant] if variant else []) + common
        torch_cmd = worker_cmd + [mode] + ([variant] if variant else []) + common + ["--threads", str(a.threads)]
        if mode == "train":
            swift += ["--steps", str(a.steps)]
            torch_cmd += ["--steps", str(a.steps)]
        else:
            swift += ["--runs", str(a.runs)]
            torch_cmd += ["--runs", str(a.runs)]
        use_torch = have_torch and (variant != "lora" or have_peft)
        results = {"calrec": [], "pytorch": []}
        for r in range(a.rounds):
            order = ["calrec", "pytorch"] if r % 2 == 0 else ["pytorch", "calrec"]
            for engine in order:
                if engine == "calrec":
                    results["calrec"].append(run_json(swift, env, f"{name} calrec, round {r + 1}", a.quiet_wait))
                elif use_torch:
                    results["pytorch"].append(run_json(torch_cmd, env, f"{name} pytorch, round {r + 1}", a.quiet_wait))
        everything += results["calrec"] + results["pytorch"]
        summary[name] = results
        print(f"== {name}")
        key = "tokens_per_second" if mode == "train" else "new_tokens_per_second"
        rates = {}
        for engine, runs in results.items():
            if not runs:
                continue
            rates[engine] = statistics.median(r[key] for r in runs)
            if mode == "train":
                losses = runs[0]["losses"]
                extra = (f"step {statistics.median(r['step_seconds'] for r in runs):6.2f} s, "
                         f"loss {losses[0]:.4f} -> {losses[-1]:.4f} ({' '.join(f'{v:.4f}' for v in losses)}), "
                         f"{runs[0]['trainable_parameters']:,} trained")
            else:
                extra = (f"{statistics.median(r['total_seconds'] for r in runs):6.2f} s for {runs[0]['new_tokens']} tokens, "
                         f"prompt pass {statistics.median(r['prefill_seconds'] for r in runs):6.2f} s, "
                         f"decode step {statistics.median(r['decode_step_ms'] for r in runs):6.1f} ms")
            per_round = " ".join(f"{r[key]:.1f}" for r in runs)
            others = " ".join(f"{r['other_cores']:.2f}" for r in runs)
            print(f"  {engine:8s} {rates[engine]:8.1f} {'tok/s' if mode == 'train' else 'new tok/s'}  {extra}  "
                  f"peak {max(r['peak_mib'] for r in runs):7.0f} MiB (loaded {max(r['loaded_mib'] for r in runs):5.0f}); "
                  f"rounds {per_round}, others took {others} cores", flush=True)
            if max(r["other_cores"] for r in runs) > 0.2:
                print(f"  WARNING: other processes took up to {max(r['other_cores'] for r in runs):.2f} of the "
                      f"{os.cpu_count()} cores during a {engine} measurement: its numbers are not clean", flush=True)
        if "pytorch" in rates:
            target = 1.5 if mode == "train" else 2.0
            ratio = rates["calrec"] / rates["pytorch"]
            mem = {e: max(r["peak_mib"] for r in results[e]) for e in results}
            share = mem["calrec"] / mem["pytorch"]
            verdict = "less" if share < 0.95 else "MORE" if share > 1.05 else "level, within 5%: not clearly less"
            print(f"  ratio calrec / pytorch: {ratio:.2f}x (target >= {target}x: {'met' if ratio >= target else 'MISSED'}); "
                  f"peak memory calrec / pytorch: {share:.2f} ({verdict})")
            if mode == "generate":
                step = {e: statistics.median(r["decode_step_ms"] for r in results[e]) for e in results}
                pre = {e: statistics.median(r["prefill_seconds"] for r in results[e]) for e in results}
                print(f"  prompt pass ratio (pytorch s / calrec s): {pre['pytorch'] / pre['calrec']:.2f}x; "
                      f"decode step ratio (pytorch ms / calrec ms): {step['pytorch'] / step['calrec']:.2f}x")
            else:
                first = {e: results[e][0]["losses"][0] for e in results}
                print(f"  first-step loss calrec {first['calrec']:.5f}, pytorch {first['pytorch']:.5f} "
                      f"(difference {abs(first['calrec'] - first['pytorch']):.1e})")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(everything, f, indent=1)


if __name__ == "__main__":
    main()
