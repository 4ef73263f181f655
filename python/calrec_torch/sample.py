"""CALRec's inference on the accelerator: for every evaluation user of the export, N continuations
of the prompt sampled at temperature T with the KV cache (prompts left-padded and batched), each
with its log-probability under the untempered model (natural log, end-of-text included, as the
Swift sampler counts it); ``samples.jsonl`` lines ``{"logprob", "text", "user"}``, which
``calrec evaluate`` maps to the catalogue by quasi-round-robin BM25 and ranks."""

from __future__ import annotations

import json
import os

import torch
import torch.nn.functional as F

from .export import Export, PromptAssembler


class CachedDecoder:
    """Left-padded prompts through the model once, then one token per step with the cache."""

    def __init__(self, model, prompts: list[list[int]], device, pad: int):
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt):] = torch.tensor(prompt)
            mask[row, width - len(prompt):] = 1
        self.model, self.device = model, device
        self.mask = mask.to(device)
        self.positions = (self.mask.cumsum(1) - 1).clamp(min=0)
        out = model(input_ids=ids.to(device), attention_mask=self.mask, position_ids=self.positions, use_cache=True)
        self.past = out.cache
        self.next_position = self.positions[:, -1] + 1
        self.logits = out.logits[:, -1].float()

    def advance(self, tokens: torch.Tensor):
        self.mask = torch.cat([self.mask, torch.ones_like(self.mask[:, :1])], dim=1)
        out = self.model(input_ids=tokens[:, None], attention_mask=self.mask, position_ids=self.next_position[:, None],
                         cache=self.past, use_cache=True)
        self.past = out.cache
        self.next_position = self.next_position + 1
        self.logits = out.logits[:, -1].float()


@torch.no_grad()
def sample(model, prompts, temperature: float, max_new: int, end_of_text: int, generator, device):
    """(tokens without end-of-text, log-probability) of one continuation per prompt."""
    decoder = CachedDecoder(model, prompts, device, pad=end_of_text)
    b = len(prompts)
    tokens = [[] for _ in range(b)]
    logprob = torch.zeros(b, dtype=torch.float64, device=device)
    done = torch.zeros(b, dtype=torch.bool, device=device)
    for _ in range(max_new):
        log_p = F.log_softmax(decoder.logits, dim=-1)
        if temperature == 0:
            chosen = decoder.logits.argmax(-1)
        else:
            probabilities = F.softmax(decoder.logits / temperature, dim=-1)
            chosen = torch.multinomial(probabilities, 1, generator=generator).squeeze(1)
        live = ~done
        logprob += torch.where(live, log_p.gather(1, chosen[:, None]).squeeze(1).double(), torch.zeros_like(logprob))
        for row in torch.nonzero(live).flatten().tolist():
            if int(chosen[row]) != end_of_text:
                tokens[row].append(int(chosen[row]))
        done |= chosen == end_of_text
        if bool(done.all()):
            break
        decoder.advance(torch.where(done, torch.full_like(chosen, end_of_text), chosen))
    return [(t, float(lp)) for t, lp in zip(tokens, logprob.tolist())]


@torch.no_grad()
def score(model, prompts, continuations, device, pad: int) -> list[float]:
    """Σ log p(continuation | prompt) through the same cached decoding the sampler uses."""
    decoder = CachedDecoder(model, prompts, device, pad=pad)
    totals = [0.0] * len(prompts)
    for step in range(max(len(c) for c in continuations)):
        log_p = F.log_softmax(decoder.logits, dim=-1)
        forced = torch.tensor([c[step] if step < len(c) else pad for c in continuations], device=device)
        for row, c in enumerate(continuations):
            if step < len(c):
                totals[row] += float(log_p[row, c[step]])
        decoder.advance(forced)
    return totals


def strip_spaces(text: str) -> str:
    """Spaces and tabs off both ends, as the Swift engine trims samples (newlines stay)."""
    import unicodedata

    space = lambda c: c == "\t" or unicodedata.category(c) == "Zs"
    start, end = 0, len(text)
    while start < end and space(text[start]):
        start += 1
    while end > start and space(text[end - 1]):
        end -= 1
    return text[start:end]


def run(args) -> int:
    from accelerate import Accelerator

    from .models import load_model
    from .train import environment

    accelerator = Accelerator(cpu=args.cpu, mixed_precision="bf16" if (args.bf16 == "on" or (args.bf16 == "auto" and torch.cuda.is_available())) else "no")
    device, rank, world = accelerator.device, accelerator.process_index, accelerator.num_processes
    if args.threads:
        torch.set_num_threads(args.threads)
    export = Export.read(args.export)
    names = [d.name for d in export.datasets]
    if args.dataset is None and len(names) != 1:
        raise SystemExit(f"{args.export} has datasets {names}; choose one with --dataset")
    dataset = export.datasets[names.index(args.dataset) if args.dataset else 0]
    assembler = PromptAssembler(export, dataset)
    users = dataset.evaluation[: args.max_users] if args.max_users else dataset.evaluation
    model = load_model(args.model).to(device)
    model.eval()
    max_new = export.max_output_tokens - 1
    lines = []
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats(device)
    import time

    began, new_tokens = time.perf_counter(), 0
    mine = list(range(rank, len(users), world))
    for start in range(0, len(mine), args.users_per_batch):
        group = [users[i] for i in mine[start: start + args.users_per_batch]]
        prompts = [assembler.prompt(history) for _, history in group for _ in range(args.samples)]
        # One seed per batch from the run's seed and the batch's first user: a user's samples do not
        # depend on how many processes share the work.
        generator = torch.Generator(device=device).manual_seed(args.seed * 1_000_003 + mine[start])
        with accelerator.autocast():
            results = sample(model, prompts, args.temperature, max_new, export.end_of_text, generator, device)
        new_tokens += sum(len(t) + 1 for t, _ in results)
        for index, (tokens, logprob) in enumerate(results):
            user = group[index // args.samples][0]
            text = strip_spaces(export.decode(tokens))
            lines.append((mine[start + index // args.samples], json.dumps(dict(logprob=logprob, text=text, user=user), sort_keys=True)))
    if world > 1:
        gathered = [None] * world
        torch.distributed.all_gather_object(gathered, lines)
        lines = [line for part in gathered for line in part]
    if accelerator.is_main_process:
        lines.sort(key=lambda pair: pair[0])
        os.makedirs(args.out, exist_ok=True)
        temporary = os.path.join(args.out, "samples.jsonl.tmp")
        with open(temporary, "w") as f:
            f.writelines(line + "\n" for _, line in lines)
        os.replace(temporary, os.path.join(args.out, "samples.jsonl"))
        settings = dict(engine="torch", model=args.model, samples=args.samples, temperature=args.temperature, seed=args.seed,
                        users=len(users), split=dataset.evaluation_split, environment=environment(accelerator),
                        seconds=time.perf_counter() - began, new_tokens_process0=new_tokens,
                        peak_gpu_memory_bytes=torch.cuda.max_memory_allocated(device) if torch.cuda.is_available() else None)
        with open(os.path.join(args.out, "sampling.json"), "w") as f:
            json.dump(settings, f, indent=2, sort_keys=True)
        print(f"{len(users)} users × {args.samples} samples → {os.path.join(args.out, 'samples.jsonl')}")
    accelerator.end_training()
    return 0
