"""Loads a base model folder and a LoRA adapter folder written by calrec with Hugging Face's
`transformers` and `peft`, and prints the logits of the given token ids as JSON, so a Swift test can
compare them with calrec's own (Tests/LanguageModelTests/LlamaModelTests.swift).

    python Tests/Fixtures/peft/check_adapter.py <base folder> <adapter folder> <comma-separated ids>

Needs torch, transformers and peft (the project environment: make venv).
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM


def main():
    base, adapter, ids = sys.argv[1], sys.argv[2], [int(t) for t in sys.argv[3].split(",")]
    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0]
    print(json.dumps({"logits": logits.flatten().tolist()}))


if __name__ == "__main__":
    main()
