"""Rows of an embedding made safe to compute with: validated, scaled by exact powers of two.

Scaling a row by ``2^k`` is exact in binary floating point, so norms and cosines computed
from the scaled rows neither overflow nor underflow and equal those of the rows as given.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from suptheory._validate import check_embedding

_DTYPES = (np.float64, np.float32)


def _embedding(W: Any) -> np.ndarray:
    return check_embedding(W, "W", dtypes=_DTYPES)


def _prescale(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float64 rows scaled by powers of two (exact) to max |entry| in [1, 2); zero-row mask."""
    amax = np.abs(W).max(axis=1).astype(np.float64)
    zero = amax == 0.0
    _, e = np.frexp(np.where(zero, 1.0, amax))
    x = np.ldexp(W.astype(np.float64, copy=False), (1 - e)[:, None].astype(np.int32))
    return x, zero


def _scaled(W: np.ndarray) -> tuple[np.ndarray, int]:
    """W in float64 times an exact power of two ``2^-e`` so that max |entry| is in [1, 2)."""
    amax = float(np.abs(W).max())
    if amax == 0.0:
        return W.astype(np.float64), 0
    e = int(np.frexp(amax)[1]) - 1
    return np.ldexp(W.astype(np.float64, copy=False), -e), e


def _unit_rows(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows of the nonzero rows (each prescaled on its own: no underflow), their indices."""
    x, zero = _prescale(W)
    keep = np.flatnonzero(~zero)
    x = x[keep]
    return x / np.sqrt(np.einsum("ij,ij->i", x, x))[:, None], keep

