#!/usr/bin/env python3
"""Independent reference for Table 1 statistics of an Amazon Reviews 2018 category.

Written from the rules in docs/method.md §2 and the doc comments of RecData (TextCleaning,
PriceFormat, WordAnalyzer, Table1Row), without reading the Swift code's logic. Its output is
committed next to it and the Swift tests compare against it.

Usage: python3 reference_table1.py <reviews.json[.gz]> <meta.json[.gz]> <category>  > expected.json
"""
import gzip
import html.entities
import json
import re
import sys


def open_lines(path):
    return gzip.open(path, "rt", encoding="utf-8") if path.endswith(".gz") else open(path, encoding="utf-8")


ENTITIES = dict(html.entities.name2codepoint)
ENTITIES["apos"] = 0x27
TAG = re.compile(r"<[A-Za-z/!][^>]*>")
REF = re.compile(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z0-9]+);")
PRICE = re.compile(r"^\$[0-9][0-9,]*(\.[0-9]+)?( - \$[0-9][0-9,]*(\.[0-9]+)?)?$")
WORD = re.compile(r"[^\W_]+")


def decode_reference(m):
    body = m.group(1)
    if body.startswith("#"):
        value = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
        if value == 0 or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            return "\ufffd"
        return chr(value)
    if body in ENTITIES:
        return chr(ENTITIES[body])
    return m.group(0)


def clean(text):
    text = TAG.sub(" ", text)
    text = REF.sub(decode_reference, text)
    return " ".join(text.split())


def main():
    reviews_path, meta_path, category = sys.argv[1:4]
    per_user = {}
    for line in open_lines(reviews_path):
        if not line.strip():
            continue
        r = json.loads(line)
        key = (r["asin"], int(r["unixReviewTime"]), float(r["overall"]), r.get("reviewText", ""), r.get("summary", ""))
        per_user.setdefault(r["reviewerID"], []).append((int(r["unixReviewTime"]), key))
    before = dropped = 0
    sequences = {}
    for user, records in per_user.items():
        records.sort(key=lambda t: t[0])  # Python's sort is stable: file order among equal times
        kept = []
        previous = None
        for _, key in records:
            before += 1
            if previous is not None and key == previous:
                dropped += 1
            else:
                kept.append(key[0])
            previous = key
        sequences[user] = kept

    items = {asin for seq in sequences.values() for asin in seq}
    meta = {}
    for line in open_lines(meta_path):
        if not line.strip():
            continue
        m = json.loads(line)
        if m["asin"] in items and m["asin"] not in meta:
            meta[m["asin"]] = m

    total_words = 0
    vocab = set()
    for asin in items:
        m = meta[asin]
        values = []
        title = clean(m["title"]) if isinstance(m.get("title"), str) else ""
        if title:
            values.append(title)
        cats = []
        for c in m.get("category", []) if isinstance(m.get("category"), list) else []:
            if not isinstance(c, str):
                continue
            c = clean(c)
            if c and (not cats or cats[-1] != c):
                cats.append(c)
        if cats:
            values.append(" > ".join(cats))
        brand = clean(m["brand"]) if isinstance(m.get("brand"), str) else ""
        if brand:
            values.append(brand)
        price = clean(m["price"]) if isinstance(m.get("price"), str) else ""
        if price and PRICE.match(price):
            values.append(price)
        words = WORD.findall(" ".join(values).lower())
        total_words += len(words)
        vocab.update(words)

    users = len(sequences)
    purchases = sum(len(s) for s in sequences.values())
    n_items = len(items)
    print(json.dumps({
        "category": category,
        "users": users,
        "duplicate_pct": 100.0 * dropped / before,
        "items": n_items,
        "purchases": purchases,
        "items_per_user": purchases / users,
        "purchases_per_item": purchases / n_items,
        "density": purchases / (users * n_items),
        "words_per_item": total_words / n_items,
        "vocab_size": len(vocab),
        "avg_word_freq": total_words / len(vocab),
    }, sort_keys=True))


if __name__ == "__main__":
    main()
