#!/usr/bin/env python3
"""Independent Hugging Face reference fixtures for the Swift BERT text encoder (all-MiniLM-L6-v2).

What it computes
----------------
1. ``tokenizer.expected.json`` (next to this script): the token ids that Hugging Face
   ``tokenizers`` gives with the model's own ``tokenizer.json`` (BertNormalizer with lowercasing and
   accent stripping, BertPreTokenizer, WordPiece, the [CLS] … [SEP] template), with its padding and
   truncation switched off, for (a) every item text of
   ``Workbooks/data/office-2014-recbole/Office.item`` in file order and (b) stress strings
   (punctuation, accents, CJK, control characters, long words, empty). ``transformers``'
   ``BertTokenizer`` (the Python WordPiece of ``vocab.txt``) is run on the same strings and its
   agreement is written into the JSON; the stored ids are those of ``tokenizers``.

2. ``encoder.expected.json``: for 20 texts (12 Office item texts, 8 others), the last hidden states'
   mean over the tokens and the [CLS] row (each 384 values), computed by
   ``transformers.BertModel`` in float32, eval mode, one text at a time (no padding), plus the first
   four values of every token's last hidden state of the first text.

Package versions used to produce the committed fixtures: python 3.11.7, torch 2.15.0 (CPU),
transformers 5.24.0, tokenizers 0.23.3, numpy 2.4.6, safetensors 0.8.0 (python/pyproject.toml);
the versions actually used are written into both JSON files.

How to rerun
------------
    make models venv
    .venv/bin/python Tests/Fixtures/minilm/make_reference.py .cache/models/all-MiniLM-L6-v2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import BertModel, BertTokenizer  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
OFFICE_ITEMS = REPO / "Workbooks" / "data" / "office-2014-recbole" / "Office.item"

STRESS_STRINGS = [
    "",
    "   ",
    "Hello, World!",
    "don't stop-believing... (really) [ok] {x} <y> a/b\\c",
    "$1,299.00 & 50% off #1 @home ~tilde `tick` ^caret _under_ |pipe| =eq +plus *star",
    "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e na\u00efve fa\u00e7ade \u00c6r\u00f8sk\u00f8bing",
    "e\u0301le\u0300ve co\u0308operate",
    "\u00c9COLE \u00dcBER \u0130stanbul \u03a3\u0399\u03a3\u03a5\u03a6\u039f\u03a3",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \u4e2d\u6587 \ud55c\uad6d\uc5b4",
    "tab\there\nnew line\r\ncarriage\u000bvt\u000cff",
    "ctrl\u0000null\u0001soh\u0007bell\u200bzero-width\u00adsoft\ufffdreplacement",
    "non\u00a0breaking\u2003em\u3000ideographic space",
    "\u201cquotes\u201d \u2018single\u2019 \u2014dash\u2013 \u2026 \u00bfqu\u00e9? \u00a1s\u00ed!",
    "\U0001F44D\U0001F3FD ok \u2764\ufe0f",
    "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "x" * 101,
    "x" * 100,
    "1234567890 3.14159 10x20cm 2nd 4K HD1080p",
    "[CLS] [SEP] [MASK] [PAD] [UNK] inside text",
    "\u00bd \u00b2 \u2160 \u2460 \uff11\uff12 \uff21\uff22\uff23",
]

# Indices into Office.item's items (file order) for the encoder fixture.
ENCODER_ITEM_INDICES = [0, 1, 2, 3, 10, 100, 500, 1000, 1500, 2000, 2418, 2419]
ENCODER_OTHER = [
    "Hello, World!",
    "A stapler, a box of pens and printer paper.",
    "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e na\u00efve fa\u00e7ade",
    "This is the summary of a user's purchase history.",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "1234567890 3.14159 10x20cm",
    "word " * 60,
    "",
]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def office_texts() -> list[str]:
    lines = OFFICE_ITEMS.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    column = header.index("text:token_seq")
    return [line.split("\t")[column] for line in lines[1:] if line]


def versions() -> dict:
    import safetensors

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
    }


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=True, separators=(", ", ": "))


def write_compact_json(path: Path, header: dict, lists: dict[str, list]) -> None:
    """Top-level scalars and dicts one line each, list entries one a line."""
    parts = [f"  {dumps(k)}: {dumps(v)}" for k, v in header.items()]
    for k, entries in lists.items():
        body = ",\n".join(f"    {dumps(e)}" for e in entries)
        parts.append(f"  {dumps(k)}: [\n{body}\n  ]" if entries else f"  {dumps(k)}: []")
    path.write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")
    json.loads(path.read_text(encoding="utf-8"))


def rounded(values) -> list[float]:
    return [float(f"{float(v):.8e}") for v in values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path, help="the all-MiniLM-L6-v2 folder (config.json, model.safetensors, tokenizer.json, vocab.txt)")
    args = parser.parse_args()
    folder: Path = args.model
    torch.set_num_threads(2)

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    slow = BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True)
    items = office_texts()
    groups = {"office_items": items, "stress": STRESS_STRINGS}
    agreement = {}
    for name, strings in groups.items():
        same = 0
        for s in strings:
            fast_ids = tok.encode(s).ids
            slow_ids = slow.encode(s, add_special_tokens=True)
            same += fast_ids == slow_ids
        agreement[name] = f"{same}/{len(strings)}"
        print(f"tokenizers vs transformers BertTokenizer on {name}: {same}/{len(strings)} identical")
    write_compact_json(
        HERE / "tokenizer.expected.json",
        {
            "generator": "Tests/Fixtures/minilm/make_reference.py",
            "versions": versions(),
            "tokenizer_json_sha256": sha256(folder / "tokenizer.json"),
            "bert_tokenizer_agreement": agreement,
        },
        {
            "office_items": [tok.encode(s).ids for s in items],
            "stress": [{"text": s, "ids": tok.encode(s).ids} for s in STRESS_STRINGS],
        },
    )

    model = BertModel.from_pretrained(str(folder), dtype=torch.float32, add_pooling_layer=False)
    model.eval()
    texts = [items[i] for i in ENCODER_ITEM_INDICES] + ENCODER_OTHER
    entries = []
    first_tokens = []
    with torch.no_grad():
        for n, text in enumerate(texts):
            ids = tok.encode(text).ids
            hidden = model(input_ids=torch.tensor([ids])).last_hidden_state[0].double().numpy()
            entries.append({"text": text, "ids": ids, "mean": rounded(hidden.mean(axis=0)), "cls": rounded(hidden[0])})
            if n == 0:
                first_tokens = [rounded(row[:4]) for row in hidden]
    write_compact_json(
        HERE / "encoder.expected.json",
        {
            "generator": "Tests/Fixtures/minilm/make_reference.py",
            "versions": versions(),
            "model_safetensors_sha256": sha256(folder / "model.safetensors"),
            "first_text_token_rows_first4": first_tokens,
        },
        {"texts": entries},
    )
    print(f"wrote {HERE / 'tokenizer.expected.json'} and {HERE / 'encoder.expected.json'}")


if __name__ == "__main__":
    main()
