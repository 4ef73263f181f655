"""``python -m calrec_torch <command>`` (or ``accelerate launch -m calrec_torch <command>``):
``train`` (CALRec's stage 1 or 2), ``sample`` (continuations for the evaluation users), ``score``
(log-probabilities of given continuations), ``check`` (the engine-equality harness of the tests)."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="calrec_torch", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="objective, gradients and AdamW steps on exported examples, as JSON")
    check.add_argument("--export", required=True, help="export.json from calrec export")
    check.add_argument("--model", help="model folder or GGUF file")
    check.add_argument("--batches", help="JSON list of batches, each a list of {history, target}")
    check.add_argument("--draws", help="JSON list of {history, target}: print the prompts and targets assembled for them")
    check.add_argument("--gradients", nargs="*", default=[], help="parameter names whose gradients to print")
    check.add_argument("--alpha", type=float, default=0.125)
    check.add_argument("--beta", type=float, default=-0.025)
    check.add_argument("--tau", type=float, default=0.5)
    check.add_argument("--steps", type=int, default=0)
    check.add_argument("--lr", type=float, default=1e-3)
    check.add_argument("--weight-decay", type=float, default=0.01)
    check.add_argument("--clip", type=float, default=1.0)
    check.add_argument("--threads", type=int, default=1)

    train = commands.add_parser("train", help="CALRec stage 1 (a mixture) or stage 2 (one dataset) on an export")
    train.add_argument("--export", required=True, help="export.json from calrec export")
    train.add_argument("--init", required=True, help="model to start from: a GGUF file, a Hugging Face folder, or a LoRA folder")
    train.add_argument("--out", required=True, help="output model folder")
    train.add_argument("--stage", type=int, choices=(1, 2), default=2)
    train.add_argument("--steps", type=int, default=300)
    train.add_argument("--batch", type=int, default=8, help="users per micro-batch per process (global: batch × processes)")
    train.add_argument("--accumulate", type=int, default=1, help="micro-batches per optimiser step")
    train.add_argument("--lr", type=float, default=1e-4)
    train.add_argument("--warmup", type=int, help="warmup steps (default: steps / 10)")
    train.add_argument("--weight-decay", type=float, default=0.01)
    train.add_argument("--clip", type=float, default=1.0)
    train.add_argument("--alpha", type=float, default=0.125)
    train.add_argument("--beta", type=float, default=-0.025)
    train.add_argument("--tau", type=float, default=0.5)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--lora-rank", type=int, default=0, help="LoRA adapters of this rank on the frozen base (0: train every weight)")
    train.add_argument("--lora-alpha", type=float, default=32)
    train.add_argument("--lora-dropout", type=float, default=0.05)
    train.add_argument("--lora-targets", default="q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
    train.add_argument("--validate-every", type=int, help="steps between validations (default: steps / 5)")
    train.add_argument("--validation-users", type=int, default=256, help="validation users per dataset")
    train.add_argument("--checkpoint-every", type=int, default=0, help="save <out>.checkpoint every N steps")
    train.add_argument("--resume", action="store_true", help="continue from <out>.checkpoint")
    train.add_argument("--bf16", choices=("auto", "on", "off"), default="auto", help="bf16 autocast (auto: on a GPU)")
    train.add_argument("--cpu", action="store_true", help="stay on the CPU even where a GPU is present")
    train.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")

    sampler = commands.add_parser("sample", help="samples.jsonl for the export's evaluation users")
    sampler.add_argument("--export", required=True)
    sampler.add_argument("--model", required=True, help="model folder (from train) or GGUF file")
    sampler.add_argument("--out", required=True, help="output folder for samples.jsonl and sampling.json")
    sampler.add_argument("--dataset", help="dataset of the export (default: its only one)")
    sampler.add_argument("--samples", type=int, default=10)
    sampler.add_argument("--temperature", type=float, default=0.5)
    sampler.add_argument("--seed", type=int, default=0)
    sampler.add_argument("--users-per-batch", type=int, default=4)
    sampler.add_argument("--max-users", type=int, help="only the first N evaluation users")
    sampler.add_argument("--bf16", choices=("auto", "on", "off"), default="auto")
    sampler.add_argument("--cpu", action="store_true")
    sampler.add_argument("--threads", type=int, default=0)

    scorer = commands.add_parser("score", help="Σ log p(continuation | prompt) for JSON pairs, through the sampler's cached decoding")
    scorer.add_argument("--model", required=True)
    scorer.add_argument("--pairs", required=True, help="JSON list of {prompt: [ids], continuation: [ids]}")
    scorer.add_argument("--threads", type=int, default=1)

    seeded = commands.add_parser("seed-model", help="a Llama-architecture model with seeded random weights (a GPU check without the weights)")
    seeded.add_argument("--like", default="smollm2-135m", choices=("smollm2-135m",), help="the architecture")
    seeded.add_argument("--vocabulary", type=int, required=True, help="vocabulary size (the export's tokenizer)")
    seeded.add_argument("--out", required=True)
    seeded.add_argument("--seed", type=int, default=0)

    args = parser.parse_args(argv)
    if args.command == "seed-model":
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        torch.manual_seed(args.seed)
        # SmolLM2-135M: 30 blocks, width 576, 9 query / 3 key-value heads, SwiGLU 1536, RoPE 100000, tied head.
        config = LlamaConfig(vocab_size=args.vocabulary, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                             num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=2048, rms_norm_eps=1e-5,
                             rope_theta=100000.0, tie_word_embeddings=True, bos_token_id=None, eos_token_id=None)
        LlamaForCausalLM(config).save_pretrained(args.out, safe_serialization=True)
        print(f"seeded {args.like} architecture → {args.out}")
        return 0
    if args.command == "train":
        from . import train as trainer

        return trainer.run(args)
    if args.command == "sample":
        from . import sample as sampling

        return sampling.run(args)
    if args.command == "score":
        import torch

        from .models import load_model
        from .sample import score

        torch.set_num_threads(max(1, args.threads))
        with open(args.pairs) as f:
            pairs = json.load(f)
        model = load_model(args.model)
        model.eval()
        totals = score(model, [p["prompt"] for p in pairs], [p["continuation"] for p in pairs], torch.device("cpu"), pad=0)
        json.dump(dict(logprobs=totals), sys.stdout)
        sys.stdout.write("\n")
        return 0
    if args.command == "check":
        from . import check as harness

        if args.model and not args.batches:
            parser.error("check --model needs --batches")
        json.dump(harness.run(args), sys.stdout)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
