"""``python -m calrec_torch <command>``: ``check`` (the engine-equality harness of the tests)."""

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

    args = parser.parse_args(argv)
    if args.command == "check":
        from . import check as harness

        if args.model and not args.batches:
            parser.error("check --model needs --batches")
        json.dump(harness.run(args), sys.stdout)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
