#!/usr/bin/env python3
"""Writes a JSON-lines file of synthetic reviews in the Amazon Reviews 2018 schema, for the reader
benchmark. Each line has the 2018 dump's fields in its order: overall, vote (some lines), verified,
reviewTime, reviewerID, asin, style (most lines), reviewerName, reviewText, summary, unixReviewTime.
Review words are drawn, with their frequencies, from a RecBole `.item` file's texts, so token lengths
look like real ones. Seeded: the same arguments write the same bytes.

Usage: make_reviews.py --out reviews.jsonl [--mb 100] --words Workbooks/data/office-2014-recbole/Office.item
"""
import argparse
import datetime
import json
import random
import string


def read_words(path):
    words = []
    with open(path, encoding="utf-8") as item_file:
        next(item_file)  # header
        for line in item_file:
            text = line.rstrip("\n").split("\t", 1)[-1]
            words += [w.strip('.,;:()"') for w in text.split()]
    filler = ["the", "a", "and", "it", "is", "this", "great", "works", "for", "to", "I", "was"]
    return [w for w in words if w] + filler * 5000


def identifier(rng, first, length):
    return first + "".join(rng.choices(string.digits + string.ascii_uppercase, k=length))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--mb", type=float, default=100, help="size in MiB")
    parser.add_argument("--words", required=True, help="a RecBole .item file whose texts give the words")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    words = read_words(args.words)
    items = [identifier(rng, "B", 9) for _ in range(20_000)]
    reviewers = [identifier(rng, "A", rng.randint(12, 13)) for _ in range(200_000)]
    names = ["Amazon Customer", "Kindle Customer", "Alex", "R. Jones", "Sam K.", "Office Pro", "Teacher"]
    styles = [{"Size:": " Pack of 1"}, {"Color:": " Blue"}, {"Size:": " 12 Count", "Color:": " Assorted"},
              {"Style:": " Standard"}]
    limit = int(args.mb * 1024 * 1024)
    written = lines = 0
    with open(args.out, "w", encoding="utf-8") as out:
        while written < limit:
            day = rng.randint(1_262_304_000, 1_538_352_000) // 86_400 * 86_400  # 2010–2018, midnight UTC
            date = datetime.datetime.fromtimestamp(day, datetime.timezone.utc)
            review = {"overall": float(rng.choice([5, 5, 5, 4, 4, 3, 2, 1]))}
            if rng.random() < 0.15:
                review["vote"] = str(rng.randint(2, 40))
            review["verified"] = rng.random() < 0.8
            review["reviewTime"] = f"{date.month:02d} {date.day}, {date.year}"
            review["reviewerID"] = rng.choice(reviewers)
            review["asin"] = rng.choice(items)
            if rng.random() < 0.6:
                review["style"] = rng.choice(styles)
            review["reviewerName"] = rng.choice(names)
            review["reviewText"] = " ".join(rng.choices(words, k=rng.randint(20, 80)))
            review["summary"] = " ".join(rng.choices(words, k=rng.randint(2, 8)))
            review["unixReviewTime"] = day
            line = json.dumps(review) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            lines += 1
    print(f"wrote {args.out}: {lines} lines, {written / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
