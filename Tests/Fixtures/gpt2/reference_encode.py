#!/usr/bin/env python3
"""Independent reference for the GPT-2 tokenizer test: GPT-2's byte-level BPE algorithm (as
published in openai/gpt-2 src/encoder.py, written out here from its description) over the GPT-2
vocab.json/merges.txt beside this script. Prints {"text": ids} for the test strings as JSON.
Usage: python3 reference_encode.py > expected_ids.json   (needs the `regex` module)"""
import json
import os
import regex

here = os.path.dirname(os.path.abspath(__file__))
encoder = json.load(open(os.path.join(here, "vocab.json"), encoding="utf-8"))
merges = [tuple(line.split()) for line in open(os.path.join(here, "merges.txt"), encoding="utf-8").read().split("\n")[1:-1]]
ranks = {pair: i for i, pair in enumerate(merges)}


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


byte_encoder = bytes_to_unicode()
pattern = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bpe(token):
    word = list(token)
    while len(word) > 1:
        pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        merged, i = [], 0
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                merged.append(word[i] + word[i + 1])
                i += 2
            else:
                merged.append(word[i])
                i += 1
        word = merged
    return word


def encode(text):
    ids = []
    for piece in regex.findall(pattern, text):
        ids += [encoder[t] for t in bpe("".join(byte_encoder[b] for b in piece.encode("utf-8")))]
    return ids


texts = [
    "Hello world",
    "This is the summary of a user's purchase history.",
    "Title: HP 78 Tri-Color Printer Cartridge (C6578DN), Category: Office Products > Ink, Brand: HP, Price: $29.99",
    "The first purchased item is as follows:\n\nTitle: unknown, Price: unknown",
    "Café naïve — 東京 2024年 😀 résumé",
    "I'm   spacing\t\ttabs and 'quotes' don't",
    "<|endoftext|>",
]
print(json.dumps({t: encode(t) for t in texts}, ensure_ascii=False, indent=1))
