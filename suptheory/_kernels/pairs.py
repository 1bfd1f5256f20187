"""numba kernels for every per-feature statistic of the pairs, tile by tile (private).

The wrappers live in :mod:`suptheory.analysis.pairs` (and :mod:`suptheory.analysis.compare`).
Like :func:`suptheory._kernels.coherence.scan_block`, :func:`stats_block` takes one float32
GEMM tile of screened cosines, whose entries are within ``err`` of the exact values, and
re-checks in double-double arithmetic (:func:`pair_cos2`) only the pairs whose exact value
could matter: the maximum of each row and of each column (nearest neighbours), the pairs
that could enter the top ``k``, and the pairs within ``err`` of a count threshold. It also
counts the screened values into a histogram (:func:`band_block` later picks out the pairs of
chosen bands), which brackets the exact overlap quantiles.

Each tile fills its own outputs; the caller merges them in tile order, so the results do
not depend on the thread count or timing (only the number of exact re-checks does).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from suptheory._kernels.coherence import _f32_from_bits, rows_cos, rows_dot64
from suptheory._kernels.jit import jit

__all__ = ["pair_cos2", "pair_cos2_many", "pair_dot_many", "stats_block", "band_block"]


@jit
def pair_cos2(A, i, B, j):
    """Signed cosine of row ``i`` of ``A`` and row ``j`` of ``B``, exact up to one rounding.

    The same as :func:`suptheory._kernels.coherence.rows_cos`.

    Parameters
    ----------
    A, B : tuple
        Row sets ``(X, rid, sc, s_hi, s_lo, rn)``.
    i, j : int
        The rows.

    Returns
    -------
    float64
    """
    return rows_cos(A, i, B, j)


# parallel=True: one O(n) double-double dot product per pair; prange runs over the
# independent pairs and each writes its own slot out[p].
@jit(parallel=True)
def pair_cos2_many(A, ii, B, jj, out):
    """:func:`pair_cos2` of the pairs ``(ii[p], jj[p])`` into ``out[p]``.

    Parameters
    ----------
    A, B : tuple
        Row sets.
    ii, jj : (p,) int64
        The pairs.
    out : (p,) float64
        Receives the signed cosines.
    """
    for p in prange(ii.shape[0]):
        out[p] = rows_cos(A, ii[p], B, jj[p])


@jit(parallel=True)  # prange over independent pairs, each writing its own slot out[p]
def pair_dot_many(A, ii, B, jj, out):
    """Float64 dot products of the unit rows ``ii[p]`` of ``A`` and ``jj[p]`` of ``B``.

    Parameters
    ----------
    A, B : tuple
        Row sets (:func:`suptheory._kernels.coherence.rows_dot64`).
    ii, jj : (p,) int64
        The pairs.
    out : (p,) float64
        Receives the dot products.
    """
    for p in prange(ii.shape[0]):
        out[p] = rows_dot64(A, ii[p], B, jj[p])


#: keys per block of the candidate scan: a block whose largest key is below the gate is skipped
_SKIP = 64


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _key(bits, signed):
    """An int32 key that orders like the float32 value (``signed``) or like its ``|value|``.

    Parameters
    ----------
    bits : int32
        The float32's bit pattern.
    signed : bool

    Returns
    -------
    int32
    """
    if signed:
        # negative floats order backwards as integers: flip their magnitude bits
        return bits ^ ((bits >> 31) & 0x7FFFFFFF)
    return bits & 0x7FFFFFFF


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _key_value(key):
    """The float32 value (exact in float64) of a key of :func:`_key` (``-inf`` for none).

    Parameters
    ----------
    key : int
        A key, or ``-2^31`` for none.

    Returns
    -------
    float64
    """
    if key == -2147483648:
        return -np.inf
    bits = key ^ ((key >> 31) & 0x7FFFFFFF)
    mag = _f32_from_bits(bits & 0x7FFFFFFF)
    return -mag if bits < 0 else mag


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _gate_key(gate, g32, k32, signed):
    """A key at or below the key of every float32 value ``>= gate`` (an int64).

    Parameters
    ----------
    gate : float64
    g32 : (1,) float32
        Scratch; ``k32`` is the same memory as int32.
    signed : bool

    Returns
    -------
    int64
    """
    if gate == np.inf:
        return np.int64(2147483648)
    if gate == -np.inf or (gate <= 0.0 and not signed):  # |value| >= 0 > gate: all pass
        return np.int64(-2147483648)
    # float32 rounds to nearest: one step down covers a gate rounded up
    g32[0] = gate
    return np.int64(_key(k32[0], signed)) - 1


@jit
def _grow(a, size):
    """A copy of ``a`` with room for at least ``size`` entries (doubling).

    Parameters
    ----------
    a : 1-D array
    size : int

    Returns
    -------
    1-D array
    """
    if size <= a.shape[0]:
        return a
    b = np.empty(max(size, 2 * a.shape[0]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@jit  # serial: the caller's worker threads each scan their own tile (nogil)
def stats_block(
    c,
    ci,
    row0,
    col0,
    upper,
    signed,
    err,
    slack,
    A,
    B,
    err64,
    lower_r,
    lower_c,
    top_k,
    top_lower,
    thresholds,
    hist,
    hscale,
):
    """Exact per-row and per-column statistics of one screened tile.

    ``c[r, k]`` approximates the cosine of row ``row0 + r`` of ``A`` and row ``col0 + k``
    of ``B`` within ``err``. With ``upper`` only pairs ``col0 + k > row0 + r`` count (one
    matrix against itself). Values are the signed cosines (``signed``) or their absolute
    values. A pair is re-checked exactly when its screened value could reach (within
    ``2 err + slack``) the tile's maximum of its row or column while not falling below
    ``lower_r[row]`` / ``lower_c[col]`` (exact values of some pair of that row / column: a
    pair below them cannot be its maximum); when it could be among the ``top_k`` of the tile
    and reach ``top_lower``; or when it lies within ``err + slack`` of a threshold.

    Parameters
    ----------
    c : (b, w) float32
        Screened cosines; ``ci`` the same memory as int32.
    row0, col0 : int
        Rows of ``A`` and ``B`` of ``c[0, 0]``.
    upper, signed : bool
    err, slack : float
        Screening error bound and extra margin.
    A, B : tuple
        The row sets of the rows and the columns (:func:`pair_cos2`). Their float64 unit
        rows' dot products (:func:`~suptheory._kernels.coherence.rows_dot64`) are within
        ``err64`` of the exact cosines: a candidate is re-checked exactly only when its
        float64 value leaves the outcome open.
    err64 : float
    lower_r, lower_c : float64 arrays
        Exact values known for each row / column (or ``-inf``); only read.
    top_k : int
        Pairs of the top list (0: none).
    top_lower : float
        Exact ``k``-th best value so far, or ``-inf``.
    thresholds : (T,) float64
        Increasing count thresholds (counts of exact values ``>= t``).
    hist : (nb,) int64
        Counts of ``int(value * hscale)`` (clipped to ``[0, nb)``), added to; size 0: none.
    hscale : float
        Bins per unit.

    Returns
    -------
    row_best, row_cos : (b,) float64
        Exact best value of each row (``-inf``: no pair) and its signed cosine.
    row_arg : (b,) int64
        Its column (row of ``B``), the smallest on ties (-1: none).
    col_best, col_cos, col_arg : (w,)
        The same for each column (partner: row of ``A``).
    row_count, col_count : (b, T), (w, T) int64
        Pairs with exact value ``>= t`` per row / column.
    top_val, top_cos : (p,) float64
        Exactly re-checked top-list candidates (values and signed cosines).
    top_i, top_j : (p,) int64
        Their pairs.
    ncand : int
        Pairs re-checked exactly.
    """
    b, w = c.shape
    nt = thresholds.shape[0]
    nb = hist.shape[0]
    none = np.int32(-2147483648)
    rkey = np.full(b, none, dtype=np.int32)
    ckey = np.full(w, none, dtype=np.int32)
    # pass 1 (vectorised integer maxima; the histogram when asked for)
    for r in range(b):
        ks = max(0, row0 + r + 1 - col0) if upper else 0
        if ks >= w:
            continue
        seg = ci[r, ks:]
        cseg = ckey[ks:]
        mx = none
        for k in range(seg.shape[0]):
            kk = _key(seg[k], signed)
            mx = max(mx, kk)
            cseg[k] = max(cseg[k], kk)
        rkey[r] = mx
        if nb > 0:
            vs = c[r, ks:]
            for k in range(vs.shape[0]):
                v = vs[k]
                t = int((v if signed else abs(v)) * hscale)
                hist[min(max(t, 0), nb - 1)] += 1
    # thresholds of the exact re-check
    # (+inf for a row or column without pairs in this tile)
    row_thr = np.full(b, np.inf)
    for r in range(b):
        if rkey[r] != none:
            row_thr[r] = max(
                _key_value(rkey[r]) - 2.0 * err - slack, lower_r[row0 + r] - err - slack
            )
    col_thr = np.full(w, np.inf)
    for k in range(w):
        if ckey[k] != none:
            col_thr[k] = max(
                _key_value(ckey[k]) - 2.0 * err - slack, lower_c[col0 + k] - err - slack
            )
    top_thr = np.inf
    if top_k > 0:
        top_thr = top_lower - err - slack
        # the k-th largest row (column) maximum: k distinct pairs at least that large
        for keys in (rkey, ckey):
            if keys.shape[0] >= top_k:
                s = np.sort(keys)[keys.shape[0] - top_k]
                if s != none:
                    top_thr = max(top_thr, _key_value(s) - 2.0 * err - slack)
    cnt_thr = thresholds[0] - err - slack if nt > 0 else np.inf

    row_best = np.full(b, -np.inf)
    row_cos = np.zeros(b)
    row_arg = np.full(b, -1, dtype=np.int64)
    col_best = np.full(w, -np.inf)
    col_cos = np.zeros(w)
    col_arg = np.full(w, -1, dtype=np.int64)
    row_count = np.zeros((b, nt), dtype=np.int64)
    col_count = np.zeros((w, nt), dtype=np.int64)
    cap = max(16, 2 * top_k) if top_k > 0 else 0
    top_val = np.empty(cap)
    top_cos = np.empty(cap)
    top_i = np.empty(cap, dtype=np.int64)
    top_j = np.empty(cap, dtype=np.int64)
    ntop = 0
    ncand = 0
    # pass 2: the few pairs that need more than the screen. Blocks of _SKIP keys none of
    # which reaches its row's or column's gate (a vectorised test) are skipped whole.
    g32 = np.empty(1, dtype=np.float32)
    k32 = g32.view(np.int32)
    ckt = np.empty(w, dtype=np.int64)
    for k in range(w):
        ckt[k] = _gate_key(col_thr[k], g32, k32, signed)
    for r in range(b):
        i = row0 + r
        ks = max(0, i + 1 - col0) if upper else 0
        if ks >= w:
            continue
        gate = min(row_thr[r], top_thr, cnt_thr)
        gkey = _gate_key(gate, g32, k32, signed)
        seg = ci[r, ks:]
        cseg = ckt[ks:]
        for q0 in range(0, seg.shape[0], _SKIP):
            q1 = min(seg.shape[0], q0 + _SKIP)
            mx = np.int64(-1)
            for t in range(q0, q1):
                mx = max(mx, np.int64(_key(seg[t], signed)) - min(gkey, cseg[t]))
            if mx < 0:
                continue
            for k in range(ks + q0, ks + q1):
                v = np.float64(c[r, k])
                a = v if signed else abs(v)
                if a < gate and a < col_thr[k]:
                    continue
                j = col0 + k
                need = a >= row_thr[r] or a >= col_thr[k] or a >= top_thr
                for t in range(nt):
                    if abs(a - thresholds[t]) <= err + slack:
                        need = True
                exact = a
                cs = v
                if need:
                    # a float64 dot product (error <= err64) rules most candidates out cheaply
                    d = rows_dot64(A, i, B, j)
                    d = d if signed else abs(d)
                    need = False
                    if a >= row_thr[r] and d + err64 >= max(row_best[r], lower_r[i]):
                        need = True
                    if a >= col_thr[k] and d + err64 >= max(col_best[k], lower_c[j]):
                        need = True
                    if a >= top_thr and d + err64 >= top_lower:
                        need = True
                    for t in range(nt):
                        if abs(d - thresholds[t]) <= err64:
                            need = True
                    exact = d
                if need:
                    ncand += 1
                    cs = rows_cos(A, i, B, j)
                    exact = cs if signed else abs(cs)
                    # rows and columns are visited in increasing order: strict > keeps the
                    # smallest partner among equal values
                    if exact > row_best[r]:
                        row_best[r] = exact
                        row_cos[r] = cs
                        row_arg[r] = j
                    if exact > col_best[k]:
                        col_best[k] = exact
                        col_cos[k] = cs
                        col_arg[k] = i
                    if a >= top_thr and exact >= top_lower:
                        if ntop >= top_val.shape[0]:
                            top_val = _grow(top_val, ntop + 1)
                            top_cos = _grow(top_cos, ntop + 1)
                            top_i = _grow(top_i, ntop + 1)
                            top_j = _grow(top_j, ntop + 1)
                        top_val[ntop] = exact
                        top_cos[ntop] = cs
                        top_i[ntop] = i
                        top_j[ntop] = j
                        ntop += 1
                for t in range(nt):
                    th = thresholds[t]
                    # screened values farther than err from the threshold decide it; the others
                    # were re-checked above (in float64 when that decides it, else exactly)
                    if (a - th > err + slack) or (abs(a - th) <= err + slack and exact >= th):
                        row_count[r, t] += 1
                        col_count[k, t] += 1
    return (
        row_best,
        row_cos,
        row_arg,
        col_best,
        col_cos,
        col_arg,
        row_count,
        col_count,
        top_val[:ntop],
        top_cos[:ntop],
        top_i[:ntop],
        top_j[:ntop],
        ncand,
    )


@jit  # serial: the caller's worker threads each scan their own tile (nogil)
def hist_block(c, row0, col0, upper, hist4, hscale):
    """Add the counts of ``|c|`` to four interleaved histograms ``hist4``.

    Bins are ``min(int32(float32(|c| * hscale)), nb - 1)``; four histograms, so that
    consecutive values in one bin do not wait on each other's increments.

    The bin of a value ``a`` in bin ``t`` satisfies ``t <= a * hscale < t + 1`` up to the
    float32 rounding of the product (``2^-24 nb`` bins at most).

    Parameters
    ----------
    c : (b, w) float32
    row0, col0 : int
    upper : bool
        Only pairs ``col0 + k > row0 + r``.
    hist4 : (4, nb) int64
        Added to.
    hscale : float
        Bins per unit.
    """
    b, w = c.shape
    nb = hist4.shape[1]
    hs = np.float32(hscale)
    top = np.float32(nb - 1)
    idx = np.empty(w, dtype=np.int32)
    for r in range(b):
        ks = max(0, row0 + r + 1 - col0) if upper else 0
        if ks >= w:
            continue
        seg = c[r, ks:]
        m = seg.shape[0]
        for k in range(m):
            idx[k] = np.int32(min(abs(seg[k]) * hs, top))
        m4 = m - m % 4
        for k in range(0, m4, 4):
            hist4[0, idx[k]] += 1
            hist4[1, idx[k + 1]] += 1
            hist4[2, idx[k + 2]] += 1
            hist4[3, idx[k + 3]] += 1
        for k in range(m4, m):
            hist4[0, idx[k]] += 1


@jit  # serial: the caller's worker threads each scan their own tile (nogil)
def band_block(c, row0, col0, upper, lo, hi):
    """The pairs of one screened tile whose ``|value|`` lies in a band, and counts below.

    Parameters
    ----------
    c : (b, w) float32
        Screened cosines.
    row0, col0 : int
        Rows of ``c[0, 0]``; with ``upper`` only pairs ``col0 + k > row0 + r`` count.
    upper : bool
    lo, hi : (T,) float64
        Disjoint bands ``[lo_t, hi_t]``, increasing, with float32 values for ends (or
        ``+-inf``): compared as the integer keys of :func:`_key`.

    Returns
    -------
    ii, jj : (p,) int64
        The pairs inside a band.
    vals : (p,) float32
        Their screened ``|value|``.
    below : (T,) int64
        The number of pairs with ``|value| < lo_t``.
    """
    b, w = c.shape
    ci = c.view(np.int32)
    nt = lo.shape[0]
    below = np.zeros(nt, dtype=np.int64)
    # |value| < lo  <=>  key < klo;  |value| <= hi  <=>  key <= khi  (keys of |value| >= 0)
    g32 = np.empty(1, dtype=np.float32)
    k32 = g32.view(np.int32)
    klo = np.empty(nt, dtype=np.int32)
    khi = np.empty(nt, dtype=np.int32)
    for t in range(nt):
        if lo[t] <= 0.0:
            klo[t] = 0 if lo[t] == 0.0 else -1
        else:
            g32[0] = lo[t]
            klo[t] = min(k32[0], 2139095040)
        if hi[t] >= 3.4e38:
            khi[t] = 2139095040
        else:
            g32[0] = hi[t]
            khi[t] = k32[0] if hi[t] >= 0.0 else -1
    chunks = np.zeros(b * ((w + _SKIP - 1) // _SKIP), dtype=np.int64)
    total = 0
    nch = 0
    # pass 1: per block of _SKIP values, the counts below each band and inside (vectorised)
    for r in range(b):
        ks = max(0, row0 + r + 1 - col0) if upper else 0
        if ks >= w:
            continue
        seg = ci[r, ks:]
        for q0 in range(0, seg.shape[0], _SKIP):
            sub = seg[q0 : min(seg.shape[0], q0 + _SKIP)]
            inside = 0
            for t in range(nt):
                lt = klo[t]
                ht = khi[t]
                cb = 0
                cin = 0
                for k in range(sub.shape[0]):
                    key = sub[k] & 0x7FFFFFFF
                    cb += np.int64(key < lt)
                    cin += np.int64(key <= ht)
                below[t] += cb
                inside += cin - cb
            if inside > 0:
                chunks[nch] = r * w + ks + q0
                nch += 1
                total += inside
    ii = np.empty(total, dtype=np.int64)
    jj = np.empty(total, dtype=np.int64)
    vv = np.empty(total, dtype=np.float32)
    p = 0
    # pass 2: the pairs of the blocks that have some
    for q in range(nch):
        r = chunks[q] // w
        k0 = chunks[q] % w
        k1 = min(w, k0 + _SKIP)  # blocks start at ks + a multiple of _SKIP
        for k in range(k0, k1):
            key = ci[r, k] & 0x7FFFFFFF
            for t in range(nt):
                if klo[t] <= key <= khi[t]:
                    ii[p] = row0 + r
                    jj[p] = col0 + k
                    vv[p] = abs(c[r, k])
                    p += 1
                    break
    return ii, jj, vv, below
