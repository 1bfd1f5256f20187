"""Rows of an embedding made safe to compute with: validated, scaled by exact powers of two.

Scaling a row by ``2^k`` is exact in binary floating point, so norms and cosines computed
from the scaled rows neither overflow nor underflow and equal those of the rows as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from suptheory._kernels import coherence as _k
from suptheory._kernels.jit import num_threads
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


#: values per block of rows read at a time (a 16 MiB float32 block)
_BLOCK_VALUES = 2**22


def _row_blocks(m: int, n: int) -> range:
    return range(0, m, max(1, _BLOCK_VALUES // max(n, 1)))


def _row_exponents(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(1 - e, zero)`` with ``max_k |W_ik| = f 2^e``, ``f`` in ``[1/2, 1)``, by row blocks."""
    m, n = W.shape
    amax = np.empty(m)
    step = max(1, _BLOCK_VALUES // n)
    for r0 in range(0, m, step):
        amax[r0 : r0 + step] = np.abs(W[r0 : r0 + step]).max(axis=1)
    zero = amax == 0.0
    _, e = np.frexp(np.where(zero, 1.0, amax))
    return (1 - e).astype(np.int64), zero


def nonzero_rows(W: np.ndarray) -> int:
    """Number of nonzero rows, read by row blocks (no ``m x n`` temporary)."""
    return int(len(W) - np.count_nonzero(_row_exponents(W)[1]))


@dataclass
class RowSet:
    """The nonzero rows of ``W`` as the exact kernels read them, without copying ``W``.

    Row ``i`` of the set is ``X[rid[i]] * sc[i]``: ``X`` is ``W`` itself (a memory map stays
    one), ``sc[i]`` the exact power of two that brings the row's largest entry into
    ``[1, 2)``, so the product is the prescaled row of :func:`_prescale`, exactly. Only a
    float64 ``W`` with a row below ``2^-1022`` (whose factor is not a float64) is copied,
    prescaled. ``s_hi + s_lo`` are the squared norms (double-double), ``rn = sqrt(s_hi)``.
    """

    X: np.ndarray
    rid: np.ndarray
    sc: np.ndarray
    s_hi: np.ndarray
    s_lo: np.ndarray
    rn: np.ndarray
    keep: np.ndarray  # rows of W of the set's rows (the nonzero rows)
    zero: tuple[int, ...]
    m: int
    n: int

    def __len__(self) -> int:
        return len(self.rid)

    @property
    def kernel(self) -> tuple[np.ndarray, ...]:
        """The tuple the kernels take: ``(X, rid, sc, s_hi, s_lo, rn)``."""
        return (self.X, self.rid, self.sc, self.s_hi, self.s_lo, self.rn)

    @property
    def in_place(self) -> bool:
        """Whether the rows are read from ``W`` itself (not a prescaled copy)."""
        return bool(self.X.shape[0] == self.m)

    def unit64(self, r0: int, r1: int) -> np.ndarray:
        """Float64 unit rows ``r0 <= i < r1`` (a block: no copy of the whole ``W``)."""
        w = np.asarray(self.X[self.rid[r0:r1]], dtype=np.float64)
        out: np.ndarray = (w * self.sc[r0:r1, None]) / self.rn[r0:r1, None]
        return out

    def unit_block(self, r0: int, r1: int, out: np.ndarray) -> np.ndarray:
        """Float32 unit rows ``r0 <= i < r1`` into ``out`` (a view of its first rows)."""
        _k.unit_block(self.kernel, r0, r1, out)
        return out[: r1 - r0]


def row_set(W: np.ndarray, threads: int | None = None) -> RowSet:
    """The :class:`RowSet` of ``W``'s nonzero rows; memory ``O(m)`` besides ``W``."""
    m, n = W.shape
    p, zero = _row_exponents(W)
    keep = np.flatnonzero(~zero).astype(np.int64)
    p = p[keep]
    X = W
    rid = keep
    if W.dtype == np.float64 and len(p) and p.max() > 1023:
        # 2^p overflows: a prescaled float64 copy of the nonzero rows (float64 input only)
        X = np.empty((len(keep), n))
        step = max(1, _BLOCK_VALUES // n)
        for r0 in range(0, len(keep), step):
            idx = keep[r0 : r0 + step]
            X[r0 : r0 + len(idx)] = np.ldexp(W[idx], p[r0 : r0 + step, None].astype(np.int32))
        rid = np.arange(len(keep), dtype=np.int64)
        sc = np.ones(len(keep))
    else:
        sc = np.ldexp(1.0, p.astype(np.int32))
    s_hi = np.empty(len(rid))
    s_lo = np.empty(len(rid))
    if len(rid):
        with num_threads(threads):
            _k.rows_sumsq_dd(X, rid, sc, s_hi, s_lo)
    return RowSet(
        X,
        rid,
        sc,
        s_hi,
        s_lo,
        np.sqrt(s_hi),
        keep,
        tuple(int(r) for r in np.flatnonzero(zero)),
        m,
        n,
    )
