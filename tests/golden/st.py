"""Minimal safetensors writer/reader shared by the golden-data scripts.

Format: 8-byte little-endian header length N, N bytes of JSON header
({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}),
then the raw little-endian tensor bytes. We write it by hand so the scripts need
only NumPy (Debian has no python3-safetensors)."""
import json
import struct

import numpy as np

_DTYPES = {np.dtype('float32'): 'F32', np.dtype('float64'): 'F64',
           np.dtype('float16'): 'F16', np.dtype('int64'): 'I64',
           np.dtype('int32'): 'I32', np.dtype('int8'): 'I8', np.dtype('uint8'): 'U8'}
_NP = {v: k for k, v in _DTYPES.items()}


def save(path, tensors, metadata=None):
    """tensors: {name: array, or ("BF16", uint16 array of raw bfloat16 bits)};
    metadata: {str: str}. Names are written sorted."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name]
        if isinstance(a, tuple):
            dtype, a = a[0], np.array(a[1], dtype=np.uint16, order='C')
        else:
            a = np.array(a, order='C', copy=False)  # keeps 0-d (ascontiguousarray would not)
            if a.dtype not in _DTYPES:
                raise TypeError(f"{name}: unsupported dtype {a.dtype}")
            dtype = _DTYPES[a.dtype]
        b = a.astype(a.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns ({name: array}, metadata)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=_NP[info["dtype"]]).reshape(info["shape"]).copy()
    return out, meta


def versions():
    """Library versions to record in every golden file's metadata."""
    import platform
    v = {"numpy": np.__version__, "python": platform.python_version()}
    try:
        import torch
        v["torch"] = torch.__version__
    except ImportError:
        pass
    return v
