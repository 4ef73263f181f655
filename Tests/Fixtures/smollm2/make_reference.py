#!/usr/bin/env python3
"""Independent Hugging Face reference fixtures for the Swift SmolLM2-135M port.

What it computes
----------------
1. ``tokenizer.expected.json`` (next to this script): token ids produced by a
   Hugging Face ``tokenizers`` BPE tokenizer that is built exactly the way
   SmolLM2's published ``tokenizer.json`` is configured, but with vocabulary and
   merges read from the GGUF file:

     * model: BPE(vocab = ``tokenizer.ggml.tokens``, merges =
       ``tokenizer.ggml.merges``, no unk token, no dropout, no byte fallback,
       ignore_merges = False, no subword prefix/suffix)
     * normalizer: none
     * pre_tokenizer: Sequence[Digits(individual_digits=True),
       ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)]
     * decoder: ByteLevel
     * post-processor: none (no BOS/EOS is added)
     * added special tokens: every GGUF token with token_type 3 (control).

   Strings: (a) every line of ``office-item-texts.jsonl`` in order, (b) the
   CALRec prompt pieces and two full prompts, (c) stress strings (digits,
   contractions, whitespace runs, unicode, special tokens inside text, empty).
   The same strings are also tokenized by ``transformers.AutoTokenizer``
   loaded from the GGUF (transformers converts the GGUF tokenizer itself); the
   agreement is reported on stdout and summarised in the JSON
   (``transformers_gguf_tokenizer_agreement``), but the stored ids are always
   those of the ``tokenizers`` build.

   The built tokenizer is also saved (about 1.6 MB, so not under Tests/) as
   ``.cache/smollm2-tokenizer.json``.

2. ``logprobs.expected.json``: for 20 short texts (8 Office item texts, 4
   CALRec-style prompts, plain English, digits, unicode, special tokens; each
   <= 120 tokens, ids from the tokenizer above, no BOS) the per-token natural
   log-probabilities log p(ids[t] | ids[<t]) for t >= 1 and their sum,
   computed in float64 (log_softmax in float64) from the float32 logits of
   ``transformers.AutoModelForCausalLM.from_pretrained(dir, gguf_file=name,
   dtype=torch.float32)`` in eval mode (transformers dequantizes the Q4_1 /
   Q8_0 tensors to float32 and undoes llama.cpp's Q/K row permutation), plus
   the top-5 logits at the last position.  It also records the model config
   as transformers read it and cross-checks transformers' dequantized weights
   against the ``gguf`` package's own dequantization (``token_embd.weight`` row
   0 and ``blk.0.attn_q.weight`` / ``attn_k`` after undoing the permutation:
   within each head, HF row j*(head_dim/2)+i == GGUF row 2i+j).

Package versions used to produce the committed fixtures
-------------------------------------------------------
    python 3.11.7, torch 2.15.0 (CPU run; PyPI wheel 2.15.0+cu132),
    transformers 5.24.0, tokenizers 0.23.3, gguf 0.19.0, numpy 2.4.6,
    safetensors 0.8.0, accelerate 1.15.0 (transformers needs it to load GGUF)
The versions actually used are written into both JSON files.

How to rerun
------------
    make venv      # .venv with the versions above (python/pyproject.toml)
    HF_HUB_OFFLINE=1 .venv/bin/python \
        Tests/Fixtures/smollm2/make_reference.py \
        .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf

(If download.pytorch.org is reachable, ``pip install torch
--index-url https://download.pytorch.org/whl/cpu`` gives a much smaller CPU
wheel.)  Options: ``--skip-model`` writes only the tokenizer fixture.
Output is deterministic for a given machine and package set (CPU, 2 threads);
float values may differ in the last bits on other CPUs / library versions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf import GGUFReader  # noqa: E402
import tokenizers  # noqa: E402
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
ITEMS_PATH = HERE / "office-item-texts.jsonl"
TOKENIZER_OUT = HERE / "tokenizer.expected.json"
LOGPROBS_OUT = HERE / "logprobs.expected.json"
SAVED_TOKENIZER = REPO / ".cache" / "smollm2-tokenizer.json"

HEADER = "This is the summary of a user's purchase history."
FIRST = " The first purchased item is as follows:"
NEXT = " The next purchased item is as follows:"

PROMPT_STRINGS = [
    HEADER,
    FIRST,
    NEXT,
    "Purchases:",
    " First:",
    " Next:",
    "This is the summary of a user's purchase history. The first purchased item is as follows:"
    " Title: HP 78 Tri-Color Printer Cartridge (C6578DN) Laser Printer Toner HP,"
    " Category: unknown, Brand: unknown, Price: unknown The next purchased item is as follows:",
    "Title: Pens, Price: $12.99<|endoftext|>",
]

STRESS_STRINGS = [
    "2014",
    "1234567",
    " 3.14",
    "$1,299.00",
    "ID: 00042, v2.0.1 (x86_64) 10x20cm",
    "don't",
    "I'LL",
    "we've",
    "They're here, aren't they? It's John's.",
    "a  b\n\n c\t d   ",
    "   leading and trailing   ",
    "   ",
    "\n",
    "Caf\u00e9 cr\u00e8me",
    "na\u00efve fa\u00e7ade \u00c6r\u00f8sk\u00f8bing",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "\U0001F44D\U0001F3FD ok",
    "e\u0301le\u0300ve co\u0308operate",
    "non\u00a0breaking\u00a0space",
    # Unicode numerics that are not ASCII digits: Digits() splits on every
    # Unicode numeric char (Nd, Nl, No), e.g. U+00BD, U+00B2, U+216B, U+0663.
    " \u00bd x 23', x\u00b2 + \u00b3",
    "\u216b \u0663\u0664 \u2460 \uff11\uff12",
    "!!!???",
    "--->",
    "<|im_start|>user\nHi<|im_end|>",
    "<|endoftext|>",
    "x<|endoftext|>y <|im_end|> z",
    "",
]

# Indices into office-item-texts.jsonl used for the log-prob fixture.
LOGPROB_ITEM_INDICES = [0, 1, 2, 3, 100, 500, 1000, 2419]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def field(reader: GGUFReader, key: str):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def versions() -> dict:
    out = {
        "python": platform.python_version(),
        "tokenizers": tokenizers.__version__,
        "gguf": _dist_version("gguf"),
        "numpy": np.__version__,
    }
    for name in ("torch", "transformers", "safetensors", "accelerate"):
        out[name] = _dist_version(name)
    return out


def _dist_version(name: str):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


def build_tokenizer(reader: GGUFReader) -> tuple[Tokenizer, list[tuple[str, int]]]:
    tokens = field(reader, "tokenizer.ggml.tokens")
    merges = field(reader, "tokenizer.ggml.merges")
    token_type = field(reader, "tokenizer.ggml.token_type")
    assert field(reader, "tokenizer.ggml.model") == "gpt2"
    vocab = {tok: i for i, tok in enumerate(tokens)}
    assert len(vocab) == len(tokens), "duplicate tokens in GGUF vocabulary"
    merge_pairs = []
    for m in merges:
        a, b = m.split(" ")  # byte-level tokens never contain a plain space
        merge_pairs.append((a, b))
    bpe = models.BPE(
        vocab=vocab,
        merges=merge_pairs,
        dropout=None,
        unk_token=None,
        continuing_subword_prefix="",
        end_of_word_suffix="",
        fuse_unk=False,
        byte_fallback=False,
        ignore_merges=False,
    )
    tok = Tokenizer(bpe)
    tok.normalizer = None
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.post_processor = None
    specials = [(tokens[i], i) for i, t in enumerate(token_type) if int(t) == 3]
    tok.add_special_tokens(
        [
            AddedToken(s, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
            for s, _ in specials
        ]
    )
    for s, i in specials:
        assert tok.token_to_id(s) == i, (s, i, tok.token_to_id(s))
    assert tok.get_vocab_size(with_added_tokens=True) == len(tokens)
    return tok, specials


def encode(tok: Tokenizer, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False).ids


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=True, separators=(", ", ": "))


def write_compact_json(path: Path, header: dict, lists: dict[str, list]) -> None:
    """Top-level scalars/dicts on one line each, list entries one per line."""
    lines = ["{"]
    parts = []
    for k, v in header.items():
        parts.append(f"  {dumps(k)}: {dumps(v)}")
    for k, entries in lists.items():
        if not entries:
            parts.append(f"  {dumps(k)}: []")
            continue
        body = ",\n".join(f"    {dumps(e)}" for e in entries)
        parts.append(f"  {dumps(k)}: [\n{body}\n  ]")
    lines.append(",\n".join(parts))
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    json.loads(path.read_text(encoding="utf-8"))  # sanity: valid JSON


def transformers_tokenizer_agreement(gguf_path: Path, tok: Tokenizer, groups: dict[str, list[str]]):
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    backend = json.loads(hf.backend_tokenizer.to_str())
    summary = {
        "class": type(hf).__name__,
        "pre_tokenizer": backend.get("pre_tokenizer"),
        "normalizer": backend.get("normalizer"),
        "adds_special_tokens_by_default": None,
        "strings_compared": 0,
        "mismatches": [],
    }
    probe = "Hello"
    summary["adds_special_tokens_by_default"] = hf(probe)["input_ids"] != encode(tok, probe)
    for group, texts in groups.items():
        for i, text in enumerate(texts):
            ours = encode(tok, text)
            theirs = hf(text, add_special_tokens=False)["input_ids"]
            summary["strings_compared"] += 1
            if ours != theirs:
                summary["mismatches"].append(
                    {"group": group, "index": i, "text": text, "tokenizers": ours, "transformers": theirs}
                )
    return summary


def write_tokenizer_fixture(gguf_path, reader, tok, specials, items, meta):
    groups = {"items": items, "prompts": PROMPT_STRINGS, "stress": STRESS_STRINGS}
    t0 = time.time()
    agreement = transformers_tokenizer_agreement(gguf_path, tok, groups)
    print(
        f"transformers GGUF tokenizer: {agreement['strings_compared']} strings compared, "
        f"{len(agreement['mismatches'])} mismatches ({time.time() - t0:.1f}s)"
    )
    for m in agreement["mismatches"][:20]:
        print("  MISMATCH", m["group"], m["index"], repr(m["text"]), m["tokenizers"], m["transformers"])
    header = dict(meta)
    header["tokenizer"] = {
        "library": "tokenizers",
        "model": "BPE(vocab=tokenizer.ggml.tokens, merges=tokenizer.ggml.merges, unk=None, dropout=None, byte_fallback=False, ignore_merges=False)",
        "normalizer": None,
        "pre_tokenizer": "Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)]",
        "decoder": "ByteLevel",
        "post_processor": None,
        "add_special_tokens": False,
        "vocab_size": tok.get_vocab_size(with_added_tokens=True),
        "merges": len(field(reader, "tokenizer.ggml.merges")),
    }
    header["special_tokens"] = [{"token": s, "id": i} for s, i in specials]
    header["transformers_gguf_tokenizer_agreement"] = {
        k: v for k, v in agreement.items() if k != "mismatches"
    } | {"mismatch_count": len(agreement["mismatches"]), "mismatches": agreement["mismatches"]}
    lists = {
        name: [{"text": t, "ids": encode(tok, t)} for t in texts] for name, texts in groups.items()
    }
    write_compact_json(TOKENIZER_OUT, header, lists)
    return agreement


def calrec_prompts(items: list[str]) -> list[tuple[str, str]]:
    """Four CALRec-style prompts (2-3 items each), kept <= 120 tokens."""
    a, b, c, d = items[0], items[3], items[100], items[500]
    return [
        ("calrec_2_items_open", HEADER + FIRST + a + NEXT + b + NEXT),
        ("calrec_2_items_scored", HEADER + FIRST + b + NEXT + c),
        ("calrec_short_3_items", "Purchases:" + " First:" + a + " Next:" + c + " Next:" + d),
        ("calrec_short_2_items_eot", "Purchases:" + " First:" + d + " Next:" + b + "<|endoftext|>"),
    ]


def logprob_texts(items: list[str]) -> list[tuple[str, str]]:
    texts = [(f"item_{i}", items[i]) for i in LOGPROB_ITEM_INDICES]
    texts += calrec_prompts(items)
    texts += [
        ("english_1", "The quick brown fox jumps over the lazy dog."),
        ("english_2", "Once upon a time, there was a little girl who lived in a village near the forest."),
        ("english_3", "Paris is the capital of France, and Berlin is the capital of Germany."),
        ("english_4", "I'm not sure we'll make it to the store before it closes, but let's try."),
        ("digits", "In 2014, the price rose from $1,299.00 to $1,499.99, a 15.4% increase over 12 months."),
        ("unicode", "Caf\u00e9 cr\u00e8me \u2014 na\u00efve fa\u00e7ade, \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 \U0001F44D\U0001F3FD ok"),
        ("chat_template", "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"),
        ("item_pens_eot", "Title: Pens, Price: $12.99<|endoftext|>"),
    ]
    assert len(texts) == 20
    return texts


def load_gguf_rows(reader: GGUFReader, name: str) -> np.ndarray:
    from gguf.quants import dequantize

    t = next(t for t in reader.tensors if t.name == name)
    arr = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32)
    # GGUF shapes are listed fastest-dimension first: [cols, rows] -> numpy (rows, cols).
    return arr.reshape([int(d) for d in reversed(t.shape)])


def unpermute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """Undo llama.cpp's Q/K permutation: HF row h*hd + j*(hd/2)+i = GGUF row h*hd + 2i+j."""
    rows = w.shape[0]
    hd = rows // n_head
    out = np.empty_like(w)
    for h in range(n_head):
        for j in range(2):
            for i in range(hd // 2):
                out[h * hd + j * (hd // 2) + i] = w[h * hd + 2 * i + j]
    return out


def write_logprob_fixture(gguf_path, reader, tok, items, meta, token_agreement):
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(2)
    torch.manual_seed(0)
    t0 = time.time()
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32
    )
    model.eval()
    load_s = time.time() - t0
    cfg = model.config
    rope_theta = getattr(cfg, "rope_theta", None)
    if rope_theta is None:
        rope_theta = (getattr(cfg, "rope_parameters", None) or {}).get("rope_theta")
    config = {
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": getattr(cfg, "head_dim", cfg.hidden_size // cfg.num_attention_heads),
        "rope_theta": rope_theta,
        "rms_norm_eps": cfg.rms_norm_eps,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "vocab_size": cfg.vocab_size,
        "max_position_embeddings": cfg.max_position_embeddings,
        "hidden_act": cfg.hidden_act,
        "lm_head_shares_embed_tokens": model.lm_head.weight.data_ptr()
        == model.model.embed_tokens.weight.data_ptr(),
    }

    # Independent check of transformers' dequantization against the gguf package.
    n_head = cfg.num_attention_heads
    n_kv = cfg.num_key_value_heads
    emb_g = load_gguf_rows(reader, "token_embd.weight")
    q_g = load_gguf_rows(reader, "blk.0.attn_q.weight")
    k_g = load_gguf_rows(reader, "blk.0.attn_k.weight")
    emb_hf = model.model.embed_tokens.weight.detach().numpy()
    q_hf = model.model.layers[0].self_attn.q_proj.weight.detach().numpy()
    k_hf = model.model.layers[0].self_attn.k_proj.weight.detach().numpy()
    assert emb_g.shape == emb_hf.shape and q_g.shape == q_hf.shape and k_g.shape == k_hf.shape
    q_un = unpermute_rows(q_g, n_head)
    k_un = unpermute_rows(k_g, n_kv)
    checks = {
        "embed_tokens_max_abs_diff": float(np.abs(emb_hf - emb_g).max()),
        "q_proj_max_abs_diff_unpermuted": float(np.abs(q_hf - q_un).max()),
        "k_proj_max_abs_diff_unpermuted": float(np.abs(k_hf - k_un).max()),
        "q_proj_max_abs_diff_if_not_unpermuted": float(np.abs(q_hf - q_g).max()),
    }
    assert checks["embed_tokens_max_abs_diff"] == 0.0, checks
    assert checks["q_proj_max_abs_diff_unpermuted"] == 0.0, checks
    assert checks["k_proj_max_abs_diff_unpermuted"] == 0.0, checks
    assert checks["q_proj_max_abs_diff_if_not_unpermuted"] > 0.0, checks
    print("dequantization cross-check:", checks)

    entries = []
    t1 = time.time()
    with torch.no_grad():
        for name, text in logprob_texts(items):
            ids = encode(tok, text)
            assert 2 <= len(ids) <= 120, (name, len(ids))
            ts = time.time()
            x = torch.tensor([ids], dtype=torch.long)
            logits = model(input_ids=x, use_cache=False).logits[0]  # [T, V] float32
            assert logits.dtype == torch.float32
            lp = torch.log_softmax(logits.to(torch.float64), dim=-1)
            target = torch.tensor(ids[1:], dtype=torch.long)
            per_tok = lp[:-1].gather(1, target[:, None])[:, 0]
            last = logits[-1]
            top_v, top_i = torch.topk(last, 5)
            print(f"  {name}: {len(ids)} tokens, {time.time() - ts:.2f}s", flush=True)
            entries.append(
                {
                    "name": name,
                    "text": text,
                    "ids": ids,
                    "total_logprob": float(per_tok.sum().item()),
                    "token_logprobs": [float(v) for v in per_tok.tolist()],
                    "last_top5_ids": [int(i) for i in top_i.tolist()],
                    "last_top5_logits": [float(v) for v in top_v.tolist()],
                }
            )
    fwd_s = time.time() - t1
    print(f"model load {load_s:.1f}s, {len(entries)} forward passes {fwd_s:.1f}s")

    first = entries[0]
    header = dict(meta)
    header["model_loader"] = (
        "transformers.AutoModelForCausalLM.from_pretrained(dir, gguf_file=name, dtype=torch.float32), eval(), "
        "torch.set_num_threads(2), CPU, use_cache=False, no BOS"
    )
    header["logprob_definition"] = (
        "token_logprobs[t-1] = log_softmax(float64(logits_float32[t-1]))[ids[t]] for t = 1..len(ids)-1; "
        "total_logprob = sum(token_logprobs) (natural log)"
    )
    header["config"] = config
    header["dequantization_checks"] = checks
    header["embed_tokens_row0_first8"] = [float(v) for v in emb_hf[0, :8]]
    header["embed_tokens_row0_first8_gguf"] = [float(v) for v in emb_g[0, :8]]
    header["q_proj_row0_first8"] = [float(v) for v in q_hf[0, :8]]
    header["q_proj_row0_first8_gguf"] = [float(v) for v in q_un[0, :8]]
    # Row 0 maps to GGUF row 0; row 1 (HF) = GGUF row 2 exercises the permutation.
    header["q_proj_row1_first8"] = [float(v) for v in q_hf[1, :8]]
    header["gguf_attn_q_row1_first8"] = [float(v) for v in q_g[1, :8]]
    header["gguf_attn_q_row2_first8"] = [float(v) for v in q_g[2, :8]]
    header["first_text_last_top5"] = {"ids": first["last_top5_ids"], "logits": first["last_top5_logits"]}
    header["tokenizer_agreement_mismatch_count"] = len(token_agreement["mismatches"]) if token_agreement else None
    write_compact_json(LOGPROBS_OUT, header, {"texts": entries})
    return entries


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gguf", type=Path, help="path to SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--skip-model", action="store_true", help="only write tokenizer.expected.json")
    args = ap.parse_args()
    gguf_path = args.gguf.resolve()
    t_start = time.time()

    reader = GGUFReader(str(gguf_path))
    items = [json.loads(line) for line in ITEMS_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    tok, specials = build_tokenizer(reader)
    SAVED_TOKENIZER.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(SAVED_TOKENIZER), pretty=False)

    meta = {
        "generator": "Tests/Fixtures/smollm2/make_reference.py",
        "versions": versions(),
        "gguf_file": gguf_path.name,
        "gguf_sha256": sha256(gguf_path),
        "bos_token_id": field(reader, "tokenizer.ggml.bos_token_id"),
        "eos_token_id": field(reader, "tokenizer.ggml.eos_token_id"),
        "pad_token_id": field(reader, "tokenizer.ggml.padding_token_id"),
        "unk_token_id": field(reader, "tokenizer.ggml.unknown_token_id"),
        "add_bos_token": field(reader, "tokenizer.ggml.add_bos_token"),
        "tokenizer_pre": field(reader, "tokenizer.ggml.pre"),
    }
    meta = {k: (int(v) if isinstance(v, (np.integer,)) else v) for k, v in meta.items()}

    agreement = write_tokenizer_fixture(gguf_path, reader, tok, specials, items, meta)
    print(f"wrote {TOKENIZER_OUT} ({TOKENIZER_OUT.stat().st_size} bytes)")
    if not args.skip_model:
        write_logprob_fixture(gguf_path, reader, tok, items, meta, agreement)
        print(f"wrote {LOGPROBS_OUT} ({LOGPROBS_OUT.stat().st_size} bytes)")
    print(f"saved tokenizer to {SAVED_TOKENIZER}")
    print(f"total {time.time() - t_start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
