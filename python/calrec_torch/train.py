"""CALRec's two-stage fine-tuning on PyTorch + Accelerate, the Swift trainer's loop
(``Sources/CALRec/CALRecTraining.swift``) on any number of processes:

- each micro-batch draws ``batch × world`` users from one random stream that every process shares
  (stage 1: each user's dataset from the mixture ∝ n^exponent; the augmentation drops the last k
  items), and process r takes the r-th slice, so the global batch does not depend on the world size;
- one pass per dataset present in the micro-batch, weighted by its share; L_NIG normalised by the
  dataset's target tokens over all processes, and the contrastive terms over the pooled vectors of
  all processes (gathered with their gradients), so W processes compute one process's objective;
- AdamW (matrices decay, as the Swift engine groups them), linear warmup then cosine to 10% of the
  peak, global-norm clipping, accumulation of k micro-batches, bf16 autocast on a GPU;
- validation L_NIG every ``validate_every`` steps and at the end; the best weights are kept;
- checkpoints (weights that train, optimiser, step, random state, curve, best) every N steps and
  ``--resume``; ``train.jsonl`` in the Swift trainer's schema.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import shutil
import sys
import time

import torch
import torch.nn as nn

import torch.nn.functional as F

from .export import Batch, Export, PromptAssembler, draw, mixture_weights
from .models import decay_groups, load_model, sha256
from .objective import Collectives, causal_lm, dataset_losses, hidden_states, predicted_logits


def learning_rate(step: int, peak: float, warmup: int, total: int, minimum_fraction: float = 0.1) -> float:
    """``WarmupCosineSchedule.rate(step:)`` of the Swift engine (1-based step)."""
    if step <= warmup:
        return peak * step / max(warmup, 1)
    progress = min(1.0, (step - warmup) / max(total - warmup, 1))
    return peak * (minimum_fraction + (1 - minimum_fraction) * 0.5 * (1 + math.cos(math.pi * progress)))


def without_model_dropout(model):
    """The Swift engine's models have no dropout but LoRA's: switch the others off."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Dropout) and "lora_dropout" not in name:
            module.p = 0.0


@torch.no_grad()
def validation_loss(model, export, assemblers, users, batch_size, device) -> float:
    """Mean L_NIG over the first ``users`` validation examples of every dataset (each batch weighted
    by its users), as the Swift trainer's ``validationLoss``."""
    total, count = 0.0, 0
    for dataset, assembler in zip(export.datasets, assemblers):
        examples = dataset.validation[:users]
        for start in range(0, len(examples), batch_size):
            chunk = examples[start: start + batch_size]
            batch = Batch.assemble(chunk, assembler).to(device)
            logits = predicted_logits(model, hidden_states(model, batch.joint), batch)
            total += float(F.cross_entropy(logits, batch.predicted_targets)) * len(chunk)
            count += len(chunk)
    return total / count if count else float("nan")


def environment(accelerator) -> dict:
    import accelerate
    import transformers

    devices = []
    if torch.cuda.is_available():
        devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return dict(
        python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
        accelerate=accelerate.__version__, cuda=torch.version.cuda, device=str(accelerator.device), devices=devices,
        world_size=accelerator.num_processes, mixed_precision=accelerator.mixed_precision)


def trainable_state(model) -> dict:
    return {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model, state: dict):
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state.items():
            parameters[name].copy_(value)


def atomic_save(obj, path: str):
    temporary = path + ".tmp-" + str(os.getpid())
    torch.save(obj, temporary)
    os.replace(temporary, path)


def save_model(model, args, out: str, export: Export):
    """The output folder: a Hugging Face folder (full fine-tuning) or PEFT adapters with
    ``base_model.json`` (LoRA), the tokenizer files of ``--init`` when it has them."""
    staging = out + ".staging-" + str(os.getpid())
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    inner = model
    if hasattr(inner, "peft_config"):
        inner.save_pretrained(staging, safe_serialization=True)
        inherited = os.path.join(args.init, "base_model.json")
        if os.path.isfile(inherited):  # adapters trained further: the same base
            with open(inherited) as f:
                reference = json.load(f)
        else:
            base = args.init
            is_gguf = os.path.isfile(base)
            hashed = base if is_gguf else os.path.join(base, "model.safetensors")
            reference = dict(format="gguf" if is_gguf else "huggingface", path=os.path.abspath(base), sha256=sha256(hashed),
                             bytes=os.path.getsize(hashed))
        with open(os.path.join(staging, "base_model.json"), "w") as f:
            json.dump(reference, f, indent=2, sort_keys=True)
    else:
        inner.save_pretrained(staging, safe_serialization=True)
    if os.path.isdir(args.init):
        for name in ("tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
            if os.path.isfile(os.path.join(args.init, name)):
                shutil.copy(os.path.join(args.init, name), staging)
    return staging


def run(args) -> int:
    from accelerate import Accelerator

    use_bf16 = args.bf16 == "on" or (args.bf16 == "auto" and torch.cuda.is_available())
    accelerator = Accelerator(mixed_precision="bf16" if use_bf16 else "no", cpu=args.cpu)
    device, rank, world = accelerator.device, accelerator.process_index, accelerator.num_processes
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    export = Export.read(args.export)
    if args.stage == 2 and len(export.datasets) != 1:
        raise SystemExit(f"stage 2 fine-tunes on one dataset; {args.export} has {len(export.datasets)} (export one)")
    assemblers = [PromptAssembler(export, d) for d in export.datasets]
    lora = None
    if args.lora_rank > 0:
        lora = dict(rank=args.lora_rank, alpha=args.lora_alpha, dropout=args.lora_dropout, targets=args.lora_targets.split(","))
    model = load_model(args.init, lora=lora)
    without_model_dropout(model)
    lm = causal_lm(model)
    hidden_size = getattr(lm.config, "hidden_size", None) or lm.config.n_embd
    optimizer = torch.optim.AdamW(decay_groups(model, args.weight_decay), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    # The objective runs the model's body and output head separately (logits only at the rows L_NIG
    # reads), which a DistributedDataParallel wrapper would not see; the gradients are averaged over
    # the processes explicitly after each step's backward pass instead (one coalesced all-reduce).
    model = model.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    collectives = Collectives(world)
    weights = mixture_weights(export)
    sizes = [len(d.sequences) for d in export.datasets]
    stream = random.Random(args.seed ^ 0xCA12EC)
    warmup = args.warmup if args.warmup is not None else max(1, args.steps // 10)
    validate_every = args.validate_every or max(1, args.steps // 5)
    checkpoint_folder = args.out + ".checkpoint"
    curve, best, start = [], None, 1
    if args.resume and os.path.isfile(os.path.join(checkpoint_folder, "state.pt")):
        state = torch.load(os.path.join(checkpoint_folder, "state.pt"), weights_only=False)
        load_trainable_state(model, state["trainable"])
        optimizer.load_state_dict(state["optimizer"])
        stream.setstate(state["stream"])
        curve, best, start = state["curve"], state["best"], state["step"] + 1
        accelerator.print(f"resuming at step {start} from {checkpoint_folder}")
    model.train()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats(device)
    run_started = time.perf_counter()
    per_process = args.batch
    for step in range(start, args.steps + 1):
        began = time.perf_counter()
        rate = learning_rate(step, args.lr, warmup, args.steps)
        for group in optimizer.param_groups:
            group["lr"] = rate
        optimizer.zero_grad(set_to_none=True)
        parts = dict(loss=0.0, nig=0.0, tt=0.0, ut=0.0)
        tokens = 0.0
        for micro in range(args.accumulate):
            examples = []
            for _ in range(per_process * world):
                d = 0 if len(sizes) == 1 else stream.choices(range(len(sizes)), weights)[0]
                user = stream.randrange(sizes[d])
                examples.append((d, draw(export.datasets[d].sequences[user], export.maximum_dropped, stream)))
            mine = set(range(rank * per_process, (rank + 1) * per_process))
            with accelerator.autocast():
                total_loss = 0.0
                for d in sorted({d for d, _ in examples}):
                    everyone = [(i, e) for i, (dd, e) in enumerate(examples) if dd == d]
                    local = [e for i, e in everyone if i in mine]
                    share = len(everyone) / len(examples)
                    batch = Batch.assemble(local, assemblers[d]).to(device) if local else None
                    loss, values, local_tokens = dataset_losses(
                        model, batch, collectives, len(everyone), args.alpha, args.beta, args.tau, hidden_size, device)
                    total_loss = total_loss + loss * share / args.accumulate
                    for key in parts:
                        parts[key] += values[key] * share / args.accumulate
                    tokens += local_tokens
                accelerator.backward(total_loss)
        collectives.average_gradients(trainable)
        norm = float(torch.nn.utils.clip_grad_norm_(trainable, args.clip))
        optimizer.step()
        seconds = time.perf_counter() - began
        point = dict(step=step, loss=parts["loss"], nig=parts["nig"], tt=parts["tt"], ut=parts["ut"], lr=rate, grad_norm=norm,
                     tokens_per_second=collectives.sum(tokens, device) / seconds)
        if step % validate_every == 0 or step == args.steps:
            model.eval()
            value = validation_loss(model, export, assemblers, args.validation_users, per_process, device)
            model.train()
            point["valid_nig"] = value
            if best is None or value < best["value"]:
                best = dict(value=value, step=step, trainable=trainable_state(model))
        curve.append(point)
        if accelerator.is_main_process:
            valid = f"  valid nig {point['valid_nig']:.4f}" if "valid_nig" in point else ""
            print(f"calrec_torch: stage {args.stage} step {step}/{args.steps} loss {point['loss']:.4f} (nig {point['nig']:.4f} "
                  f"tt {point['tt']:.3f} ut {point['ut']:.3f})  {point['tokens_per_second']:.0f} tok/s{valid}", file=sys.stderr, flush=True)
        if accelerator.is_main_process and args.checkpoint_every and step % args.checkpoint_every == 0 and step < args.steps:
            os.makedirs(checkpoint_folder, exist_ok=True)
            atomic_save(dict(trainable=trainable_state(model), optimizer=optimizer.state_dict(),
                             stream=stream.getstate(), curve=curve, best=best, step=step), os.path.join(checkpoint_folder, "state.pt"))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        final = model
        if best is not None:
            load_trainable_state(final, best["trainable"])
        staging = save_model(final, args, args.out, export)
        with open(os.path.join(staging, "train.jsonl"), "w") as f:
            for point in curve:
                f.write(json.dumps(point, sort_keys=True) + "\n")
        settings = dict(engine="torch", stage=args.stage, init=args.init, export=args.export, tokenizer_sha256=export.tokenizer_sha256,
                        template=export.template, max_input_tokens=export.max_input_tokens, max_output_tokens=export.max_output_tokens,
                        alpha=args.alpha, beta=args.beta, tau=args.tau, steps=args.steps, batch_per_process=per_process,
                        accumulate=args.accumulate, lr=args.lr, seed=args.seed, lora=lora, best_step=best["step"] if best else None,
                        best_valid_nig=best["value"] if best else None, environment=environment(accelerator),
                        parameters=sum(p.numel() for p in final.parameters()),
                        trainable_parameters=sum(p.numel() for p in final.parameters() if p.requires_grad),
                        seconds=time.perf_counter() - run_started,
                        peak_gpu_memory_bytes=torch.cuda.max_memory_allocated(device) if torch.cuda.is_available() else None)
        with open(os.path.join(staging, "calrec_torch.json"), "w") as f:
            json.dump(settings, f, indent=2, sort_keys=True)
        shutil.rmtree(args.out, ignore_errors=True)
        os.replace(staging, args.out)
        shutil.rmtree(checkpoint_folder, ignore_errors=True)
        kept = f"; kept step {best['step']} (validation L_NIG {best['value']:.4f})" if best else ""
        print(f"stage {args.stage} → {args.out}: L_NIG {curve[0]['nig']:.4f} → {curve[-1]['nig']:.4f}{kept}")
    accelerator.end_training()
    return 0
