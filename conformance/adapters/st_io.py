"""Safetensors read/write with NumPy only (the format: 8-byte little-endian
header length, a JSON header {name: {dtype, shape, data_offsets}}, raw
little-endian data). Shared by the adapters; no muon code involved."""
import json
import struct

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def load(path):
    """{name: array} of a safetensors file (F32, F64, I64, I32)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    n = struct.unpack("<Q", raw[:8])[0]
    if 8 + n > len(raw):
        raise ValueError(f"{path}: truncated header")
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data, out = raw[8 + n:], {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        if info["dtype"] not in DTYPES or e > len(data):
            raise ValueError(f"{path}: tensor {name}: dtype {info['dtype']} or offsets beyond the file")
        dt = np.dtype(DTYPES[info["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data[b:e], dtype=dt).reshape(info["shape"]).astype(DTYPES[info["dtype"]])
    return out


def save(path, tensors, metadata=None):
    """Writes {name: float32 array} as F32 tensors."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.array(tensors[name], dtype="<f4", order="C")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = dict(metadata)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
