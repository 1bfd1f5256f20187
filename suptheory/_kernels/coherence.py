"""numba kernels for the exact coherence of large embeddings (private).

The wrappers live in :mod:`suptheory.analysis.coherence`. :func:`suptheory.coherence`
screens all pairs with float32 GEMM blocks and re-checks the few candidates here
(:func:`scan_block`) with error-free transformations, so the answer is the exact
``max |cos|`` rounded once to float64, whatever the thread count. ``overlap_histogram`` and
``overlap_quantiles`` bin and collect the overlaps of float64 Gram blocks
(:func:`histogram_block`, :func:`collect_block`).

Double-double arithmetic (``TwoSum``, Dekker's ``TwoProduct``, the ``Dot2`` dot product):
Ogita, Rump & Oishi, "Accurate sum and dot product", SIAM J. Sci. Comput. 26 (2005);
Dekker, "A floating-point technique for extending the available precision", Numer. Math. 1971.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from suptheory._kernels.jit import jit

__all__ = [
    "row_sumsq_dd",
    "pair_cos",
    "rows_sumsq_dd",
    "rows_cos",
    "rows_dot64",
    "unit_block",
    "scan_block",
    "CHUNK",
]

#: columns of a GEMM tile (and of a scanned chunk); a constant, so the work split (and with
#: it every intermediate) is the same for any thread count.
CHUNK = 2048


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _two_sum(a, b):
    """Knuth's TwoSum: ``s + e == a + b`` exactly, ``s = fl(a + b)``.

    Parameters
    ----------
    a, b : float64

    Returns
    -------
    s, e : float64
    """
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _fast_two_sum(a, b):
    """Dekker's FastTwoSum (needs ``|a| >= |b|`` or ``a == 0``): ``s + e == a + b`` exactly.

    Parameters
    ----------
    a, b : float64

    Returns
    -------
    s, e : float64
    """
    s = a + b
    return s, b - (s - a)


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _split(a):
    """Dekker's split of ``a`` into two halves of 26 significant bits, ``hi + lo == a``.

    Parameters
    ----------
    a : float64

    Returns
    -------
    hi, lo : float64
    """
    # Dekker's splitting constant 2^27 + 1; exact for |a| < 2^996 (rows are prescaled to [1, 2)).
    c = 134217729.0 * a
    hi = c - (c - a)
    return hi, a - hi


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _two_prod(a, b):
    """Dekker's TwoProduct: ``p + e == a b`` exactly, ``p = fl(a b)``.

    Parameters
    ----------
    a, b : float64

    Returns
    -------
    p, e : float64
    """
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _dot2(x, y):
    """Ogita-Rump-Oishi Dot2: ``sum_k x_k y_k`` as if computed in twice the working precision.

    Parameters
    ----------
    x, y : (n,) float64
        ``n >= 1``.

    Returns
    -------
    hi, lo : float64
        The dot product as a double-double ``hi + lo``.
    """
    p, s = _two_prod(x[0], y[0])
    for k in range(1, x.shape[0]):
        h, r = _two_prod(x[k], y[k])
        p, q = _two_sum(p, h)
        s += q + r
    return _fast_two_sum(p, s)


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _dd_mul(ah, al, bh, bl):
    """Double-double product ``(ah + al) (bh + bl)``.

    Parameters
    ----------
    ah, al, bh, bl : float64

    Returns
    -------
    hi, lo : float64
    """
    p, e = _two_prod(ah, bh)
    e += ah * bl + al * bh
    return _fast_two_sum(p, e)


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _dd_sqrt(ah, al):
    """Double-double square root of ``ah + al > 0`` (one Newton step from ``sqrt(ah)``).

    Parameters
    ----------
    ah, al : float64

    Returns
    -------
    hi, lo : float64
    """
    x = math.sqrt(ah)
    p, e = _two_prod(x, x)
    return _fast_two_sum(x, ((ah - p) - e + al) / (2.0 * x))


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _dd_div(ah, al, bh, bl):
    """Double-double quotient ``(ah + al) / (bh + bl)``.

    Parameters
    ----------
    ah, al, bh, bl : float64

    Returns
    -------
    hi, lo : float64
    """
    q1 = ah / bh
    ph, pl = _dd_mul(bh, bl, q1, 0.0)
    rh, rl = _two_sum(ah, -ph)
    rl += al - pl
    q2 = (rh + rl) / bh
    return _fast_two_sum(q1, q2)


# parallel=True: one O(n) double-double dot product per row, and k rows. prange runs only over
# the independent rows and each writes its own slot out_hi[i], out_lo[i], so results do not
# depend on the thread count.
@jit(parallel=True)
def row_sumsq_dd(x, out_hi, out_lo):
    """Squared norm of each row of ``x`` as a double-double ``out_hi + out_lo``.

    Parameters
    ----------
    x : (k, n) float64
        The (prescaled) rows, ``n >= 1``.
    out_hi, out_lo : (k,) float64
        Receive the high and low parts.
    """
    for i in prange(x.shape[0]):
        h, lo = _dot2(x[i], x[i])
        out_hi[i] = h
        out_lo[i] = lo


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _dd_cos(dh, dl, ih, il, jh, jl):
    """``(dh + dl) / sqrt((ih + il)(jh + jl))`` in double-double, rounded once to float64."""
    neg = dh < 0.0
    if neg:
        dh = -dh
        dl = -dl
    if dh == 0.0 and dl == 0.0:
        return 0.0
    ph, pl = _dd_mul(ih, il, jh, jl)
    rh, rl = _dd_sqrt(ph, pl)
    qh, ql = _dd_div(dh, dl, rh, rl)
    c = qh + ql
    return -c if neg else c


@jit
def pair_cos(x, s_hi, s_lo, i, j):
    """Signed cosine of rows ``i`` and ``j`` of ``x``, exact up to one final rounding.

    Computed in double-double (relative error about ``n^2 2^-106 / |cos|`` before the final
    rounding), so the float64 result is the correctly rounded exact cosine unless the exact
    value lies within that distance of a rounding midpoint.

    Parameters
    ----------
    x : (k, n) float64
        The prescaled rows.
    s_hi, s_lo : (k,) float64
        Their squared norms as double-doubles (:func:`row_sumsq_dd`).
    i, j : int
        The rows.

    Returns
    -------
    float64
    """
    dh, dl = _dot2(x[i], x[j])
    return _dd_cos(dh, dl, s_hi[i], s_lo[i], s_hi[j], s_lo[j])


# --- rows read in place --------------------------------------------------------------------
# A row set is a tuple ``(X, rid, sc, s_hi, s_lo, rn)``: row ``i`` of the set is
# ``X[rid[i]] * sc[i]`` (``X`` float32 or float64, possibly a read-only memory map; ``sc[i]``
# an exact power of two, so the product is the prescaled row, exactly), with squared norm
# ``s_hi[i] + s_lo[i]`` (double-double) and ``rn[i] = sqrt(s_hi[i])``. The kernels below scale
# on the fly and never need a prescaled copy of the matrix.


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _dot2s(a, sa, b, sb):
    """:func:`_dot2` of ``a * sa`` and ``b * sb`` (exact scalings by powers of two).

    Parameters
    ----------
    a, b : (n,) float32 or float64
    sa, sb : float64

    Returns
    -------
    hi, lo : float64
    """
    p, s = _two_prod(a[0] * sa, b[0] * sb)
    for k in range(1, a.shape[0]):
        h, r = _two_prod(a[k] * sa, b[k] * sb)
        p, q = _two_sum(p, h)
        s += q + r
    return _fast_two_sum(p, s)


# parallel=True: one O(n) double-double dot product per row; prange runs over the independent
# rows and each writes its own slot, so results do not depend on the thread count.
@jit(parallel=True)
def rows_sumsq_dd(X, rid, sc, out_hi, out_lo):
    """Squared norm of each row ``X[rid[i]] * sc[i]`` as a double-double (:func:`row_sumsq_dd`).

    Parameters
    ----------
    X : (m, n) float32 or float64
    rid : (k,) int64
    sc : (k,) float64
        Powers of two.
    out_hi, out_lo : (k,) float64
        Receive the high and low parts.
    """
    for i in prange(rid.shape[0]):
        r = X[rid[i]]
        h, lo = _dot2s(r, sc[i], r, sc[i])
        out_hi[i] = h
        out_lo[i] = lo


@jit
def rows_cos(A, i, B, j):
    """Signed cosine of row ``i`` of the row set ``A`` and row ``j`` of ``B`` (:func:`pair_cos`).

    Same arithmetic as :func:`pair_cos` on the prescaled rows, which it forms on the fly.

    Parameters
    ----------
    A, B : tuple
        Row sets ``(X, rid, sc, s_hi, s_lo, rn)``.
    i, j : int

    Returns
    -------
    float64
    """
    Xa, ra, sca, ha, la, _ = A
    Xb, rb, scb, hb, lb, _ = B
    dh, dl = _dot2s(Xa[ra[i]], sca[i], Xb[rb[j]], scb[j])
    return _dd_cos(dh, dl, ha[i], la[i], hb[j], lb[j])


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def rows_dot64(A, i, B, j):
    """Float64 cosine of row ``i`` of ``A`` and row ``j`` of ``B``, within ``err64``.

    The float64 dot product of the prescaled rows divided by ``rn_i rn_j``: its error is at
    most ``gamma_n`` (the dot product) plus a few roundings (the norms, the quotient), below
    ``screening_error_bound(n, 2^-53) + 2^-60``, whose ``2 d`` term alone allows ten.

    Parameters
    ----------
    A, B : tuple
        Row sets.
    i, j : int

    Returns
    -------
    float64
    """
    Xa, ra, sca, _, _, rna = A
    Xb, rb, scb, _, _, rnb = B
    ia = ra[i]
    jb = rb[j]
    sa, sb = sca[i], scb[j]
    # 2-D indexing, no row views: a view's reference count is an atomic shared by the
    # threads, which made this loop ten times slower
    # four partial sums (the bound holds for any summation order): independent chains
    # that LLVM vectorises, where one running sum waits on each addition
    s0 = s1 = s2 = s3 = 0.0
    n = Xa.shape[1]
    n4 = n - n % 4
    for t in range(0, n4, 4):
        s0 += (Xa[ia, t] * sa) * (Xb[jb, t] * sb)
        s1 += (Xa[ia, t + 1] * sa) * (Xb[jb, t + 1] * sb)
        s2 += (Xa[ia, t + 2] * sa) * (Xb[jb, t + 2] * sb)
        s3 += (Xa[ia, t + 3] * sa) * (Xb[jb, t + 3] * sb)
    for t in range(n4, n):
        s0 += (Xa[ia, t] * sa) * (Xb[jb, t] * sb)
    return ((s0 + s1) + (s2 + s3)) / (rna[i] * rnb[j])


@jit  # serial: the caller's worker threads each build their own tile (nogil)
def unit_block(A, r0, r1, out):
    """Float32 unit rows ``r0 <= i < r1`` of the row set ``A`` into ``out[: r1 - r0]``.

    ``out[t, k] = float32((X[rid[i], k] * sc[i]) / rn[i])``: the rounding of the float64 unit
    row, as ``(x / sqrt(s_hi)).astype(float32)`` of a prescaled float64 copy would give.

    Parameters
    ----------
    A : tuple
        A row set.
    r0, r1 : int
    out : (>= r1 - r0, n) float32
    """
    X, rid, sc, _, _, rn = A
    for t in range(r1 - r0):
        row = X[rid[r0 + t]]
        s = sc[r0 + t]
        d = rn[r0 + t]
        o = out[t]
        for k in range(row.shape[0]):
            o[k] = np.float32((row[k] * s) / d)


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _f32_from_bits(bits):
    """Value of a non-negative float32 from its bit pattern; exact in float64.

    Parameters
    ----------
    bits : int
        The pattern, ``0 <= bits < 2^31`` (a finite float32).

    Returns
    -------
    float64
    """
    e = (bits >> 23) & 0xFF
    mant = bits & 0x7FFFFF
    if e == 0:
        return mant * 2.0**-149
    return (1.0 + mant * 2.0**-23) * 2.0 ** (e - 127)


@jit
def _chunk_max_bits(ci, row0, col0, k0, k1):
    """Largest ``|c|`` bit pattern of the pairs ``j > i`` in columns ``k0 <= k < k1``.

    Parameters
    ----------
    ci : (b, w) int32
        The float32 block viewed as integers.
    row0, col0 : int
        Row and column of the block's first entry in the Gram matrix.
    k0, k1 : int
        The chunk's columns within the block.

    Returns
    -------
    int
        The pattern of the largest ``|c|`` (``-1`` when the chunk has no pair ``j > i``).
    """
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
def scan_block(c, ci, row0, col0, lower, err, slack, A, out_val, out_cos, out_i, out_j, out_cand):
    """Exact best pair of one screened GEMM block ``c`` (rows ``row0..``, columns ``col0..``).

    ``ci`` is ``c`` viewed as int32: for non-negative floats the bit patterns order like the
    values, and an integer max vectorises where a float max (NaN rules) does not.
    ``c[r, k]`` approximates ``cos(row0 + r, col0 + k)`` within ``err``. Only pairs with
    ``j > i`` count. For each chunk of ``CHUNK`` columns: find the largest ``|c|``; every pair
    whose exact ``|cos|`` could reach the chunk's maximum (``|c| >= cmax - 2 err - slack``)
    and reach ``lower`` (the exact ``|cos|`` of some pair, or -1: a pair below it cannot be
    the maximum) is re-checked exactly with :func:`rows_cos`. Slot ``t`` gets the chunk's
    exact maximum and its lexicographically first pair (``out_val = -1`` when nothing in the
    chunk can win).

    Parameters
    ----------
    c : (b, w) float32
        Screened cosines of the block.
    ci : (b, w) int32
        The same memory viewed as int32.
    row0, col0 : int
        Row and column of ``c[0, 0]`` in the Gram matrix.
    lower : float
        Exact ``|cos|`` of some pair, or -1.
    err : float
        Bound of the screening error of one entry of ``c``.
    slack : float
        Extra margin of the candidate threshold.
    A : tuple
        The row set ``(X, rid, sc, s_hi, s_lo, rn)`` (:func:`rows_cos`).
    out_val, out_cos : (chunks,) float64
        Receive each chunk's exact maximum ``|cos|`` (-1: none) and its signed cosine;
        ``chunks = ceil(w / CHUNK)``.
    out_i, out_j : (chunks,) int64
        Receive its pair (-1: none).
    out_cand : (chunks,) int64
        Receive the number of pairs re-checked exactly.
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
                        cs = rows_cos(A, i, A, j)
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


def _warm() -> None:
    """Compile (or load) :func:`row_sumsq_dd`, to time compilation apart from the work."""
    x = np.ones((2, 2))
    hi = np.empty(2)
    lo = np.empty(2)
    row_sumsq_dd(x, hi, lo)


@jit
def _bin_index(a, edges):
    """Bin of ``a`` by np.histogram's rule (``[e_k, e_k+1)``, the last bin closed).

    Parameters
    ----------
    a : float64
        The value.
    edges : (bins + 1,) float64
        Increasing bin edges.

    Returns
    -------
    int
        The bin, or -1 outside ``[edges[0], edges[-1]]``.
    """
    nb = edges.shape[0] - 1
    if a < edges[0] or a > edges[nb]:
        return -1
    if a == edges[nb]:
        return nb - 1
    return np.searchsorted(edges, a, side="right") - 1


# parallel=True: a block holds millions of pairs to bin. prange runs only over the slots,
# which take fixed column chunks and count into their own row out[s]; the counts are
# integers, so results do not depend on the thread count.
@jit(parallel=True)
def histogram_block(g, row0, col0, edges, out):
    """Add the counts of ``|g[r, k]|`` (pairs ``j > i`` only) to ``out[slot, bin]``.

    Slot ``s`` takes the column chunks ``s, s + S, s + 2S, ...`` (``S = out.shape[0]``);
    the counts are integers, so their sum does not depend on the split.

    Parameters
    ----------
    g : (b, w) float64
        A block of cosines of unit rows.
    row0, col0 : int
        Row and column of ``g[0, 0]`` in the Gram matrix.
    edges : (bins + 1,) float64
        Bin edges on ``[0, 1]``.
    out : (S, bins) int64
        Counts, added to in place.
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
    """Append every ``|g[r, k]|`` (``j > i``) whose bin is marked in ``wanted`` to ``out``.

    Parameters
    ----------
    g : (b, w) float64
        A block of cosines of unit rows.
    row0, col0 : int
        Row and column of ``g[0, 0]`` in the Gram matrix.
    edges : (bins + 1,) float64
        Bin edges on ``[0, 1]``.
    wanted : (bins,) bool
        The bins to collect.
    out : (total,) float64
        Receives the values from ``out[fill[0]]`` on.
    fill : (1,) int64
        Number of values written so far; advanced in place.
    """
    b, w = g.shape
    for r in range(b):
        for k in range(max(0, row0 + r + 1 - col0), w):
            a = min(abs(g[r, k]), 1.0)
            idx = _bin_index(a, edges)
            if idx >= 0 and wanted[idx]:
                out[fill[0]] = a
                fill[0] += 1
