#!/usr/bin/env python3
"""Writes small.safetensors from the format's description (8-byte little-endian header length, JSON
header with dtype/shape/data_offsets and __metadata__, little-endian row-major data), independently of
the Swift code. Tensors: "a.weight" F32 [2, 3] = 0.5, 1.5, …, 5.5; "b" F16 [2] = 1, -2; "c" BF16 [1] = 3."""
import json
import struct

data_a = struct.pack("<6f", *[i + 0.5 for i in range(6)])
data_b = struct.pack("<2e", 1.0, -2.0)
data_c = struct.pack("<H", struct.unpack("<I", struct.pack("<f", 3.0))[0] >> 16)
header = {
    "__metadata__": {"format": "pt"},
    "a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
    "b": {"dtype": "F16", "shape": [2], "data_offsets": [24, 28]},
    "c": {"dtype": "BF16", "shape": [1], "data_offsets": [28, 30]},
}
text = json.dumps(header).encode()
with open("small.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data_a + data_b + data_c)
