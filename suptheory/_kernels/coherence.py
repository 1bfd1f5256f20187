"""numba kernels for the exact coherence of large embeddings (private).

The public wrapper (:func:`suptheory.coherence`) screens all pairs with float32 GEMM
blocks and re-checks the few candidates here with error-free transformations, so the answer
is the exact ``max |cos|`` rounded once to float64, whatever the thread count.

Double-double arithmetic (``TwoSum``, Dekker's ``TwoProduct``, the ``Dot2`` dot product):
Ogita, Rump & Oishi, "Accurate sum and dot product", SIAM J. Sci. Comput. 26 (2005);
Dekker, "A floating-point technique for extending the available precision", Numer. Math. 1971.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from suptheory._kernels.jit import jit

__all__ = ["row_sumsq_dd", "pair_cos", "scan_block", "CHUNK"]

#: columns of a GEMM tile (and of a scanned chunk); a constant, so the work split (and with
#: it every intermediate) is the same for any thread count.
CHUNK = 2048


@jit(inline="always")
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@jit(inline="always")
def _fast_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


@jit(inline="always")
def _split(a):
    # Dekker's splitting constant 2^27 + 1; exact for |a| < 2^996 (rows are prescaled to [1, 2)).
    c = 134217729.0 * a
    hi = c - (c - a)
    return hi, a - hi


@jit(inline="always")
def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@jit(inline="always")
def _dot2(x, y):
    # Ogita-Rump-Oishi Dot2: as if computed in twice the working precision.
    p, s = _two_prod(x[0], y[0])
    for k in range(1, x.shape[0]):
        h, r = _two_prod(x[k], y[k])
        p, q = _two_sum(p, h)
        s += q + r
    return _fast_two_sum(p, s)


@jit(inline="always")
def _dd_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    e += ah * bl + al * bh
    return _fast_two_sum(p, e)


@jit(inline="always")
def _dd_sqrt(ah, al):
    x = math.sqrt(ah)
    p, e = _two_prod(x, x)
    return _fast_two_sum(x, ((ah - p) - e + al) / (2.0 * x))


@jit(inline="always")
def _dd_div(ah, al, bh, bl):
    q1 = ah / bh
    ph, pl = _dd_mul(bh, bl, q1, 0.0)
    rh, rl = _two_sum(ah, -ph)
    rl += al - pl
    q2 = (rh + rl) / bh
    return _fast_two_sum(q1, q2)


@jit(parallel=True)  # parallel: rows are independent; each writes its own slot
def row_sumsq_dd(x, out_hi, out_lo):
    """Squared norm of each row of ``x`` as a double-double ``out_hi + out_lo``."""
    for i in prange(x.shape[0]):
        h, lo = _dot2(x[i], x[i])
        out_hi[i] = h
        out_lo[i] = lo


@jit
def pair_cos(x, s_hi, s_lo, i, j):
    """Signed cosine of rows ``i`` and ``j`` of ``x``, exact up to one final rounding.

    Computed in double-double (relative error about ``n^2 2^-106 / |cos|`` before the final
    rounding), so the float64 result is the correctly rounded exact cosine unless the exact
    value lies within that distance of a rounding midpoint.
    """
    dh, dl = _dot2(x[i], x[j])
    neg = dh < 0.0
    if neg:
        dh = -dh
        dl = -dl
    if dh == 0.0 and dl == 0.0:
        return 0.0
    ph, pl = _dd_mul(s_hi[i], s_lo[i], s_hi[j], s_lo[j])
    rh, rl = _dd_sqrt(ph, pl)
    qh, ql = _dd_div(dh, dl, rh, rl)
    c = qh + ql
    return -c if neg else c


@jit(inline="always")
def _f32_from_bits(bits):
    # value of a non-negative float32 from its bit pattern; exact in float64
    e = (bits >> 23) & 0xFF
    mant = bits & 0x7FFFFF
    if e == 0:
        return mant * 2.0**-149
    return (1.0 + mant * 2.0**-23) * 2.0 ** (e - 127)


@jit
def _chunk_max_bits(ci, row0, col0, k0, k1):
    # kept out of the chunk loop body, where LLVM did not vectorise it
    cbits = -1
    for r in range(ci.shape[0]):
        kstart = max(k0, row0 + r + 1 - col0)
        if kstart >= k1:
            continue
        # a slice indexed from 0: numba drops the negative-index check, LLVM vectorises
        seg = ci[r, kstart:k1]
        for k in range(seg.shape[0]):
            cbits = max(cbits, seg[k] & 0x7FFFFFFF)
    return cbits


@jit  # serial: the caller's worker threads each scan their own tile (nogil)
def scan_block(c, ci, row0, col0, lower, err, slack, x, s_hi, s_lo,
               out_val, out_cos, out_i, out_j, out_cand):
    """Exact best pair of one screened GEMM block ``c`` (rows ``row0..``, columns ``col0..``).

    ``ci`` is ``c`` viewed as int32: for non-negative floats the bit patterns order like the
    values, and an integer max vectorises where a float max (NaN rules) does not.
    ``c[r, k]`` approximates ``cos(row0 + r, col0 + k)`` within ``err``. Only pairs with
    ``j > i`` count. For each chunk of ``CHUNK`` columns: find the largest ``|c|``; every pair
    whose exact ``|cos|`` could reach the chunk's maximum (``|c| >= cmax - 2 err - slack``)
    and reach ``lower`` (the exact ``|cos|`` of some pair, or -1: a pair below it cannot be
    the maximum) is re-checked exactly with :func:`pair_cos`. Slot ``t`` gets the chunk's
    exact maximum and its lexicographically first pair (``out_val = -1`` when nothing in the
    chunk can win).
    """
    b, w = c.shape
    nchunks = out_val.shape[0]
    for t in range(nchunks):
        k0 = t * CHUNK
        k1 = min(w, k0 + CHUNK)
        cbits = _chunk_max_bits(ci, row0, col0, k0, k1)
        cmax = -1.0 if cbits < 0 else _f32_from_bits(cbits)
        best = -1.0
        best_cos = 0.0
        bi = -1
        bj = -1
        ncand = 0
        floor = lower - err - slack
        if cmax >= 0.0 and cmax > floor:
            thr = max(cmax - 2.0 * err - slack, floor)
            for r in range(b):
                i = row0 + r
                kstart = max(k0, i + 1 - col0)
                for k in range(kstart, k1):
                    if abs(c[r, k]) >= thr:
                        ncand += 1
                        j = col0 + k
                        cs = pair_cos(x, s_hi, s_lo, i, j)
                        a = abs(cs)
                        # row-major order is lexicographic order, so strict > keeps the first
                        if a > best:
                            best = a
                            best_cos = cs
                            bi = i
                            bj = j
        out_val[t] = best
        out_cos[t] = best_cos
        out_i[t] = bi
        out_j[t] = bj
        out_cand[t] = ncand


def _warm() -> None:  # pragma: no cover - used by benchmarks to separate compile time
    x = np.ones((2, 2))
    hi = np.empty(2)
    lo = np.empty(2)
    row_sumsq_dd(x, hi, lo)


@jit
def _bin_index(a, edges):
    # np.histogram's rule: [e_k, e_k+1) except the last bin, which includes its right edge
    nb = edges.shape[0] - 1
    if a < edges[0] or a > edges[nb]:
        return -1
    if a == edges[nb]:
        return nb - 1
    return np.searchsorted(edges, a, side="right") - 1


@jit(parallel=True)  # parallel over slots; each slot counts into its own row of out
def histogram_block(g, row0, col0, edges, out):
    """Add the counts of ``|g[r, k]|`` (pairs ``j > i`` only) to ``out[slot, bin]``.

    Slot ``s`` takes the column chunks ``s, s + S, s + 2S, ...`` (``S = out.shape[0]``);
    the counts are integers, so their sum does not depend on the split.
    """
    b, w = g.shape
    nslots = out.shape[0]
    nchunks = -(-w // CHUNK)
    for s in prange(nslots):
        for t in range(s, nchunks, nslots):
            k0 = t * CHUNK
            k1 = min(w, k0 + CHUNK)
            for r in range(b):
                for k in range(max(k0, row0 + r + 1 - col0), k1):
                    # |cos| <= 1; float64 rounding can exceed it by an ulp
                    idx = _bin_index(min(abs(g[r, k]), 1.0), edges)
                    if idx >= 0:
                        out[s, idx] += 1


@jit
def collect_block(g, row0, col0, edges, wanted, out, fill):
    """Append every ``|g[r, k]|`` (``j > i``) whose bin is marked in ``wanted`` to ``out``."""
    b, w = g.shape
    for r in range(b):
        for k in range(max(0, row0 + r + 1 - col0), w):
            a = min(abs(g[r, k]), 1.0)
            idx = _bin_index(a, edges)
            if idx >= 0 and wanted[idx]:
                out[fill[0]] = a
                fill[0] += 1
