"""The engine-equality harness the Swift tests drive: on the same weights and the same exported
examples, the objective's parts, chosen gradients, and the losses of a fixed run of AdamW steps
(constant rate, global-norm clipping), printed as one JSON object; and the prompts and targets this
package assembles for given draws, for comparison with the Swift engine's token ids."""

from __future__ import annotations

import json

import torch

from .export import Batch, Example, Export, PromptAssembler
from .models import decay_groups, load_model
from .objective import calrec_losses


def find_parameter(model, name: str):
    for candidate, parameter in model.named_parameters():
        if candidate == name or candidate.endswith("." + name):
            return parameter
    raise KeyError(f"no parameter named {name}")


def run(args) -> dict:
    torch.manual_seed(0)
    torch.set_num_threads(max(1, args.threads))
    export = Export.read(args.export)
    assembler = PromptAssembler(export, export.datasets[0])
    result: dict = {}
    if args.draws:
        with open(args.draws) as f:
            draws = [Example(tuple(d["history"]), d["target"]) for d in json.load(f)]
        result["prompts"] = [assembler.prompt(e.history) for e in draws]
        result["targets"] = [assembler.target(e.target) for e in draws]
        result["decoded"] = [export.decode(p + t) for p, t in zip(result["prompts"], result["targets"])]
    if args.model:
        with open(args.batches) as f:
            batches = [Batch.assemble([Example(tuple(e["history"]), e["target"]) for e in b], assembler) for b in json.load(f)]
        model = load_model(args.model)
        model.eval()  # no dropout: the Swift engine's GPT-2 and Llama have none outside LoRA
        terms = dict(alpha=args.alpha, beta=args.beta, temperature=args.tau)
        losses = calrec_losses(model, batches[0], **terms)
        losses.total.backward()
        result["initial"] = losses.floats()
        result["gradients"] = {n: find_parameter(model, n).grad.flatten().tolist() for n in args.gradients}
        model.zero_grad(set_to_none=True)
        optimizer = torch.optim.AdamW(decay_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
        curve = []
        for step in range(args.steps):
            optimizer.zero_grad(set_to_none=True)
            losses = calrec_losses(model, batches[step % len(batches)], **terms)
            losses.total.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], args.clip)
            optimizer.step()
            curve.append(losses.floats())
        result["steps"] = curve
    return result
