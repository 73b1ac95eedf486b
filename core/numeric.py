"""Small numeric helpers shared by several areas (no model, no I/O)."""
from __future__ import annotations

import numpy as np


def sigmoid(x) -> np.ndarray:
    """The logistic function 1 / (1 + e^-x), elementwise.

    ``x``: an array or scalar; float arrays keep their dtype (float32 in, float32 out), anything else
    is computed in float64. Numerically stable: ``x`` is first clipped to +-L, the largest whole
    number whose 1 / (1 + e^L) is still a normal number of the dtype (87 for float32, 708 for
    float64), so ``exp`` never overflows nor the result underflows (no warning, no inf, no
    subnormal). Inside +-L the result is exactly the formula's; past it the true value is within one
    rounding of 1 or below 1e-37, and the value at +-L is returned.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    limit = np.floor(-np.log(np.finfo(x.dtype).tiny))
    return 1.0 / (1.0 + np.exp(-np.clip(x, -limit, limit)))
