"""Golden file for the safetensors reader: the same values stored in every dtype
the reader converts, written by this independent (NumPy/PyTorch) writer.

Output: tests/golden/safetensors_dtypes.safetensors. Each tensor '<dtype>' holds
the values of 'expect_<dtype>' (float64) as they round to that dtype."""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

rng = np.random.default_rng(1234)
vals = np.concatenate([rng.normal(size=10) * 3.0, [0.0, -0.0, 1.0, -2.5, 65504.0, 1e-7, 6e-8]])
ints = np.array([0, 1, -1, 127, -128, 42, -7], dtype=np.int64)

bf16 = torch.tensor(vals, dtype=torch.float64).to(torch.bfloat16)
t = {
    "F32": vals.astype(np.float32).reshape(1, -1),
    "F64": vals.reshape(-1, 1),
    "F16": vals.astype(np.float16),
    "BF16": ("BF16", bf16.view(torch.int16).numpy().view(np.uint16)),
    "I64": ints.reshape(7, 1, 1), "I32": ints.astype(np.int32), "I8": ints.astype(np.int8),
    "U8": np.array([0, 1, 200, 255], dtype=np.uint8),
    "expect_F32": vals.astype(np.float32).astype(np.float64),
    "expect_F64": vals,
    "expect_F16": vals.astype(np.float16).astype(np.float64),
    "expect_BF16": bf16.to(torch.float64).numpy(),
    "expect_I": ints.astype(np.float64),
    "expect_U8": np.array([0, 1, 200, 255], dtype=np.float64),
    "scalar": np.array(3.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
}
meta = dict(st.versions(), script="tests/golden/gen_safetensors.py", seed="1234",
            note="name with \"quotes\" and \\ backslash")
st.save("tests/golden/safetensors_dtypes.safetensors", t, meta)
