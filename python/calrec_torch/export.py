"""The training export ``calrec export`` writes, and prompts, targets and batches assembled from it
exactly as the Swift engine's ``PromptBuilder`` and ``CALRecBatch`` assemble them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import torch

FORMAT = "calrec-training-export"
VERSION = 1


class ExportError(ValueError):
    """An export this package cannot use; the message says what to do."""


@dataclass(frozen=True)
class Example:
    """A history (item indices, oldest first) and its target item."""

    history: tuple[int, ...]
    target: int


@dataclass
class Dataset:
    name: str
    item_ids: list[str]
    item_tokens: list[list[int]]
    sequences: list[list[int]]
    validation: list[Example]
    evaluation: list[tuple[str, list[int]]]
    evaluation_split: str


@dataclass
class Export:
    template: str
    history_prefix: list[int]
    first_prefix: list[int]
    next_prefix: list[int]
    tokenizer_sha256: str
    vocabulary_size: int
    end_of_text: int
    max_input_tokens: int
    max_output_tokens: int
    maximum_dropped: int
    mixture_exponent: float
    datasets: list[Dataset]
    tokens: list[str]
    special_tokens: list[str]

    def decode(self, ids) -> str:
        """Text of token ids, as the Swift tokenizer decodes them: byte-level tokens to their bytes,
        special tokens as their text, invalid UTF-8 replaced."""
        table = _byte_decoder()
        data = bytearray()
        for i in ids:
            if not 0 <= i < len(self.tokens):
                continue
            token = self.tokens[i]
            if token in self.special_tokens:
                data += token.encode("utf-8")
            else:
                data += bytes(table[c] for c in token if c in table)
        return data.decode("utf-8", errors="replace")

    @staticmethod
    def read(path: str) -> "Export":
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, json.JSONDecodeError) as error:
            raise ExportError(f"{path}: cannot read a training export ({error}); write it with calrec export") from error
        if raw.get("format") != FORMAT or int(raw.get("version", 0)) > VERSION:
            raise ExportError(
                f"{path}: format {raw.get('format')!r} version {raw.get('version')}; this package reads {FORMAT!r} up to version {VERSION}")
        t, k = raw["template"], raw["tokenizer"]
        datasets = [
            Dataset(
                name=d["name"], item_ids=d["item_ids"], item_tokens=d["item_tokens"], sequences=d["sequences"],
                validation=[Example(tuple(e["history"]), e["target"]) for e in d["validation"]],
                evaluation=[(u["user"], u["history"]) for u in d["evaluation"]], evaluation_split=d["evaluation_split"])
            for d in raw["datasets"]
        ]
        return Export(
            template=t["name"], history_prefix=t["history_prefix"], first_prefix=t["first_prefix"], next_prefix=t["next_prefix"],
            tokenizer_sha256=k["sha256"], vocabulary_size=k["vocabulary_size"], end_of_text=k["end_of_text"],
            max_input_tokens=raw["max_input_tokens"], max_output_tokens=raw["max_output_tokens"],
            maximum_dropped=raw["maximum_dropped"], mixture_exponent=raw["mixture_exponent"], datasets=datasets,
            tokens=k["tokens"], special_tokens=k["special_tokens"])


def _byte_decoder() -> dict:
    """GPT-2's byte-level alphabet, inverted: printable bytes stand for themselves, the others for
    the characters from U+0100 on, in byte order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, codes)}


class PromptAssembler:
    """Prompts and targets of one dataset at token level, as ``PromptBuilder`` makes them: the
    history prefix, each kept item's prefix and body, the next-item prefix; the most recent items
    that fit ``max_input_tokens`` (at least the last one, cut from its start if it alone is too long)."""

    def __init__(self, export: Export, dataset: Dataset):
        self.history_prefix = export.history_prefix
        self.first_prefix = export.first_prefix
        self.next_prefix = export.next_prefix
        self.item_tokens = dataset.item_tokens
        self.max_input = export.max_input_tokens
        self.max_output = export.max_output_tokens
        self.end_of_text = export.end_of_text

    def prompt(self, history) -> list[int]:
        fixed = len(self.history_prefix) + len(self.next_prefix)
        item_prefix = max(len(self.first_prefix), len(self.next_prefix))
        kept, used = [], fixed
        for item in reversed(history):
            cost = len(self.item_tokens[item]) + item_prefix
            if used + cost > self.max_input and kept:
                break
            kept.append(item)
            used += cost
        kept.reverse()
        tokens = list(self.history_prefix)
        for index, item in enumerate(kept):
            tokens += self.first_prefix if index == 0 else self.next_prefix
            tokens += self.item_tokens[item]
        tokens += self.next_prefix
        if len(tokens) > self.max_input:
            tokens = self.history_prefix + tokens[len(tokens) - (self.max_input - len(self.history_prefix)):]
        return tokens

    def target(self, item: int) -> list[int]:
        return self.item_tokens[item][: self.max_output - 1] + [self.end_of_text]


@dataclass
class Batch:
    """A batch laid out for the objective's two passes, right-padded (``CALRecBatch``):
    joint (B, T) prompt then target; predicted_rows / predicted_targets: the flat joint positions
    whose next token is a target token, and those tokens; target_mask / history_mask (B, T): the
    target's body and the prompt in the joint pass; target_only (B, S) with target_only_mask."""

    joint: torch.Tensor
    predicted_rows: torch.Tensor
    predicted_targets: torch.Tensor
    target_mask: torch.Tensor
    history_mask: torch.Tensor
    target_only: torch.Tensor
    target_only_mask: torch.Tensor

    @property
    def size(self) -> int:
        return self.joint.shape[0]

    @property
    def tokens(self) -> int:
        return int(self.joint.numel())

    def to(self, device) -> "Batch":
        return Batch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))

    @staticmethod
    def assemble(examples, assembler: PromptAssembler) -> "Batch":
        prompts = [assembler.prompt(e.history) for e in examples]
        answers = [assembler.target(e.target) for e in examples]
        t = max(len(p) + len(a) for p, a in zip(prompts, answers))
        s = max(1, max(len(a) - 1 for a in answers))
        joint, target_mask, history_mask, target_only, target_only_mask = [], [], [], [], []
        rows, nexts = [], []
        for b, (prompt, answer) in enumerate(zip(prompts, answers)):
            sequence = prompt + answer
            joint.append(sequence + [0] * (t - len(sequence)))
            for position in range(len(prompt) - 1, len(sequence) - 1):
                rows.append(b * t + position)
                nexts.append(sequence[position + 1])
            body = len(answer) - 1
            target_mask.append([1.0 if len(prompt) <= i < len(prompt) + body else 0.0 for i in range(t)])
            history_mask.append([1.0 if i < len(prompt) else 0.0 for i in range(t)])
            target_only.append(answer[:body] + [0] * (s - body))
            target_only_mask.append([1.0 if i < body else 0.0 for i in range(s)])
        return Batch(
            joint=torch.tensor(joint, dtype=torch.long), predicted_rows=torch.tensor(rows, dtype=torch.long),
            predicted_targets=torch.tensor(nexts, dtype=torch.long), target_mask=torch.tensor(target_mask),
            history_mask=torch.tensor(history_mask), target_only=torch.tensor(target_only, dtype=torch.long),
            target_only_mask=torch.tensor(target_only_mask))


def draw(sequence: list[int], maximum_dropped: int, rng: random.Random) -> Example:
    """The augmentation of the Swift trainer: drop the last k items (k uniform in 0…maximum_dropped,
    at least two items kept); the last remaining item is the target. (Same distribution; the
    random stream is this engine's own.)"""
    dropped = rng.randint(0, min(maximum_dropped, len(sequence) - 2))
    kept = sequence[: len(sequence) - dropped]
    return Example(tuple(kept[:-1]), kept[-1])


def mixture_weights(export: Export) -> list[float]:
    """Stage 1's P(dataset) ∝ n^exponent over the datasets' training sequences."""
    raw = [len(d.sequences) ** export.mixture_exponent if d.sequences else 0.0 for d in export.datasets]
    total = sum(raw)
    return [w / total if total else 0.0 for w in raw]
