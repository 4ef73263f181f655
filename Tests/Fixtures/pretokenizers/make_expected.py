"""Expected token ids for Llama 3's and Qwen2's pre-tokenization, computed by Hugging Face's
``tokenizers`` (the library those models' ``tokenizer.json`` files are run by).

Both variants are byte-level BPE tokenizers with SmolLM2-135M's vocabulary and merges (read from its
GGUF file with the ``gguf`` package) and the pre-tokenizer, normalizer and merge rule of the family:

* ``llama3``: pre_tokenizer Sequence[Split(Regex(cl100k pattern, numbers in runs of up to three),
  Isolated), ByteLevel(add_prefix_space=False, use_regex=False)], no normalizer, BPE ignore_merges=True
  (as Meta-Llama-3's tokenizer.json);
* ``qwen2``: the same pattern with single numbers, normalizer NFC, ignore_merges=False (as Qwen2's).

The special tokens are SmolLM2's control tokens. Written to ``expected.json`` beside this script:
for each variant the exact ``pre_tokenizer``, ``normalizer`` and ``ignore_merges`` as the library
serialises them, the pieces (``pre_tokenize_str`` of the normalized text) and ids of the stress
strings and the prompt strings in full, and for every Office item text the first 12 hex digits of
SHA-256 of its ids joined by commas.

Run from the repository root with the reference environment (``make venv models``):

    .venv/bin/python Tests/Fixtures/pretokenizers/make_expected.py [--gguf .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import tokenizers
from gguf import GGUFReader
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
SMOLLM2_FIXTURE = REPO / "Tests" / "Fixtures" / "smollm2" / "tokenizer.expected.json"
OUT = HERE / "expected.json"

LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

# Strings that reach every alternative of the pattern and its edges.
STRESS = [
    "I'm", "YOU'RE here", "He'LL go", "it's", "'S", "don't", "rock'n'roll", "'sa", "'x",
    "1", "12", "123", "1234", "1234567", " 3.14159", "v2.0.1", "$1,299.00", "50%", "\u0663\u0664\u0665\u0666",
    " \u00bd x\u00b2 \u216b \u2460 \uff11\uff12",
    "a  b", "a   b", "a\tb", "a \t b", "trailing   ", "  leading", "   ", "\n", "a\nb", "a\n\nb", "a \n b",
    "a\r\nb", "x  \n  y", "end\n", "end \n\n", "\u00a0nbsp", "a\u3000b", "\t\tx", " \n", "\n\n\n x",
    "(hello)", "hello!!!", "!!!\n\nnext", " ...\r\n", "--flag", "e-mail", "a+b=c", " +x", "  !x", "#1 pick",
    "caf\u00e9", "cafe\u0301", "e\u0301le\u0300ve co\u0308operate", "na\u00efve fa\u00e7ade", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "emoji \U0001F44D\U0001F3FD ok", "\ufb01 ligature", "A\u030a ring", "x\u0301",
    "a\u3000!", "x\u00a0\u00a0y", "\u0085abc", "a\u2028b", "\r  x", " 's", "'Ll", "a \u0301b", "\n !", "!\n\n  x",
    "<|endoftext|>hello<|endoftext|>", "<|im_end|>\u0301 after", "\u0600<|im_start|>x", "<|im_start|>user\nHi<|im_end|>", "x<|endoftext|>y <|im_end|> z", "",
]


def field(reader: GGUFReader, key: str):
    return reader.fields[key].contents()


def build(reader: GGUFReader, variant: str) -> Tokenizer:
    tokens = field(reader, "tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ")) for m in field(reader, "tokenizer.ggml.merges")]
    token_type = field(reader, "tokenizer.ggml.token_type")
    vocab = {t: i for i, t in enumerate(tokens)}
    bpe = models.BPE(
        vocab=vocab, merges=merges, dropout=None, unk_token=None, continuing_subword_prefix="", end_of_word_suffix="",
        fuse_unk=False, byte_fallback=False, ignore_merges=(variant == "llama3"),
    )
    tok = Tokenizer(bpe)
    tok.normalizer = normalizers.NFC() if variant == "qwen2" else None
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3 if variant == "llama3" else QWEN2), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = [tokens[i] for i, t in enumerate(token_type) if int(t) == 3]
    tok.add_special_tokens([AddedToken(s, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True) for s in specials])
    return tok


def pieces(tok: Tokenizer, text: str) -> list[str]:
    normalized = tok.normalizer.normalize_str(text) if tok.normalizer else text
    # The Split step alone (ByteLevel would map the pieces to byte-level characters).
    split = pre_tokenizers.Split(Regex(LLAMA3 if tok.model.ignore_merges else QWEN2), behavior="isolated", invert=False)
    return [p for p, _ in split.pre_tokenize_str(normalized)]


def short_hash(ids: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:12]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gguf", type=Path, default=REPO / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")
    args = parser.parse_args()
    reader = GGUFReader(str(args.gguf))
    smollm2 = json.loads(SMOLLM2_FIXTURE.read_text())
    items = [e["text"] for e in smollm2["items"]]
    prompts = [e["text"] for e in smollm2["prompts"]]
    out = {"generator": "Tests/Fixtures/pretokenizers/make_expected.py", "tokenizers": tokenizers.__version__,
           "gguf_sha256": smollm2["gguf_sha256"], "variants": {}}
    for variant in ["llama3", "qwen2"]:
        tok = build(reader, variant)
        serialised = json.loads(tok.to_str())
        strings = STRESS + prompts
        out["variants"][variant] = {
            "pre_tokenizer": serialised["pre_tokenizer"],
            "normalizer": serialised["normalizer"],
            "ignore_merges": serialised["model"]["ignore_merges"],
            "strings": [
                {"text": s, "pieces": pieces(tok, s) if "<|" not in s else None, "ids": tok.encode(s, add_special_tokens=False).ids}
                for s in strings
            ],
            "item_id_hashes": [short_hash(tok.encode(t, add_special_tokens=False).ids) for t in items],
        }
    OUT.write_text(json.dumps(out, ensure_ascii=True, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
