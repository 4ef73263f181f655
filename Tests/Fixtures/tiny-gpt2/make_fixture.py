#!/usr/bin/env python3
"""A tiny GPT-2 with random weights in Hugging Face's layout, and reference logits computed here with
NumPy from the GPT-2 architecture (learned positions, pre-LN blocks, tanh GELU, causal attention,
tied embeddings) — independently of the Swift engine, which must reproduce them to 1e-4.
Writes config.json, model.safetensors (F32, keys as GPT2Model saves them) and expected.json."""
import json
import struct

import numpy as np

rng = np.random.default_rng(7)
V, T, C, L, H = 37, 16, 12, 2, 3
p = {}
p["wte.weight"] = rng.normal(0, 0.3, (V, C))
p["wpe.weight"] = rng.normal(0, 0.1, (T, C))
for i in range(L):
    for ln in ("ln_1", "ln_2"):
        p[f"h.{i}.{ln}.weight"] = 1 + rng.normal(0, 0.1, C)
        p[f"h.{i}.{ln}.bias"] = rng.normal(0, 0.1, C)
    p[f"h.{i}.attn.c_attn.weight"] = rng.normal(0, 0.3, (C, 3 * C))
    p[f"h.{i}.attn.c_attn.bias"] = rng.normal(0, 0.1, 3 * C)
    p[f"h.{i}.attn.c_proj.weight"] = rng.normal(0, 0.3, (C, C))
    p[f"h.{i}.attn.c_proj.bias"] = rng.normal(0, 0.1, C)
    p[f"h.{i}.mlp.c_fc.weight"] = rng.normal(0, 0.3, (C, 4 * C))
    p[f"h.{i}.mlp.c_fc.bias"] = rng.normal(0, 0.1, 4 * C)
    p[f"h.{i}.mlp.c_proj.weight"] = rng.normal(0, 0.3, (4 * C, C))
    p[f"h.{i}.mlp.c_proj.bias"] = rng.normal(0, 0.1, C)
p["ln_f.weight"] = 1 + rng.normal(0, 0.1, C)
p["ln_f.bias"] = rng.normal(0, 0.1, C)
p = {k: v.astype(np.float32) for k, v in p.items()}


def layer_norm(x, w, b):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * w + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def forward(tokens):
    P = {k: v.astype(np.float64) for k, v in p.items()}
    t = len(tokens)
    x = P["wte.weight"][tokens] + P["wpe.weight"][:t]
    hs = C // H
    for i in range(L):
        h = layer_norm(x, P[f"h.{i}.ln_1.weight"], P[f"h.{i}.ln_1.bias"])
        qkv = h @ P[f"h.{i}.attn.c_attn.weight"] + P[f"h.{i}.attn.c_attn.bias"]
        q, k, v = np.split(qkv, 3, axis=-1)
        out = np.zeros((t, C))
        for head in range(H):
            s = slice(head * hs, (head + 1) * hs)
            att = q[:, s] @ k[:, s].T / np.sqrt(hs)
            att = att + np.triu(np.full((t, t), -np.inf), 1)
            att = np.exp(att - att.max(-1, keepdims=True))
            att = att / att.sum(-1, keepdims=True)
            out[:, s] = att @ v[:, s]
        x = x + out @ P[f"h.{i}.attn.c_proj.weight"] + P[f"h.{i}.attn.c_proj.bias"]
        h = layer_norm(x, P[f"h.{i}.ln_2.weight"], P[f"h.{i}.ln_2.bias"])
        x = x + gelu(h @ P[f"h.{i}.mlp.c_fc.weight"] + P[f"h.{i}.mlp.c_fc.bias"]) @ P[f"h.{i}.mlp.c_proj.weight"] + P[f"h.{i}.mlp.c_proj.bias"]
    x = layer_norm(x, P["ln_f.weight"], P["ln_f.bias"])
    return x @ P["wte.weight"].T


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        raw = tensors[name].astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


write_safetensors("model.safetensors", p)
json.dump({"model_type": "gpt2", "vocab_size": V, "n_positions": T, "n_embd": C, "n_layer": L, "n_head": H,
           "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}, open("config.json", "w"), indent=1)
sequences = [[3, 14, 15, 9, 26, 5, 35], [0, 36, 1, 2, 2, 2, 10, 11, 12, 13, 4, 8, 16, 20, 30, 31]]
json.dump({"sequences": sequences, "logits": [forward(np.array(s)).tolist() for s in sequences]}, open("expected.json", "w"))
print("wrote config.json, model.safetensors, expected.json")

# --- A second tiny model with a byte-level BPE tokenizer, for `calrec lm score` -------------------
import os
import regex

os.makedirs("bpe", exist_ok=True)
bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
cs, n = bs[:], 0
for b in range(256):
    if b not in bs:
        bs.append(b)
        cs.append(256 + n)
        n += 1
byte_encoder = dict(zip(bs, map(chr, cs)))
vocab = {byte_encoder[b]: i for i, b in enumerate(bs)}  # GPT-2 order: printable bytes first
merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he")]
for a, b2 in merges:
    vocab[a + b2] = len(vocab)
vocab["<|endoftext|>"] = len(vocab)
ranks = {m: i for i, m in enumerate(merges)}
pattern = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bpe(word):
    word = list(word)
    while len(word) > 1:
        pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        best = min(pairs, key=lambda q: ranks.get(q, float("inf")))
        if best not in ranks:
            break
        out, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                out.append(word[i] + word[i + 1])
                i += 2
            else:
                out.append(word[i])
                i += 1
        word = out
    return word


def encode(text):
    return [vocab[t] for piece in regex.findall(pattern, text) for t in bpe("".join(byte_encoder[b] for b in piece.encode()))]


V2, T2 = len(vocab), 32
rng = np.random.default_rng(11)
p["wte.weight"] = rng.normal(0, 0.3, (V2, C)).astype(np.float32)
p["wpe.weight"] = rng.normal(0, 0.1, (T2, C)).astype(np.float32)
V, T = V2, T2
write_safetensors("bpe/model.safetensors", p)
json.dump({"model_type": "gpt2", "vocab_size": V, "n_positions": T, "n_embd": C, "n_layer": L, "n_head": H,
           "layer_norm_epsilon": 1e-5}, open("bpe/config.json", "w"), indent=1)
json.dump(vocab, open("bpe/vocab.json", "w"), ensure_ascii=False)
open("bpe/merges.txt", "w").write("#version: 0.2\n" + "".join(f"{a} {b2}\n" for a, b2 in merges))
sample = "Title: the thing, Price: $5"
ids = encode(sample)
logits = forward(np.array(ids))
logp = logits - logits.max(-1, keepdims=True)
logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
score = float(sum(logp[i - 1, ids[i]] for i in range(1, len(ids))))
json.dump({"text": sample, "ids": ids, "tokens": len(ids), "logprob": score}, open("bpe/expected_score.json", "w"))
print("wrote bpe/ (model, tokenizer, expected_score.json)")
