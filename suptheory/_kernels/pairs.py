"""numba kernels for every per-feature statistic of the pairs, tile by tile (private).

The wrappers live in :mod:`suptheory.analysis.pairs` (and :mod:`suptheory.analysis.compare`).
Like :func:`suptheory._kernels.coherence.scan_block`, :func:`stats_block` takes one float32
GEMM tile of screened cosines, whose entries are within ``err`` of the exact values, and
re-checks in double-double arithmetic (:func:`pair_cos2`) only the pairs whose exact value
could matter: the maximum of each row and of each column (nearest neighbours), the pairs
that could enter the top ``k``, and the pairs within ``err`` of a count threshold. It also
counts the screened values into a fine histogram (:func:`collect_bins_block` later picks out
the pairs of chosen bins), which brackets the exact overlap quantiles.

Each tile fills its own outputs; the caller merges them in tile order, so the results do
not depend on the thread count or timing (only the number of exact re-checks does).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from suptheory._kernels.coherence import _dd_div, _dd_mul, _dd_sqrt, _dot2, _f32_from_bits
from suptheory._kernels.jit import jit

__all__ = ["pair_cos2", "pair_cos2_many", "pair_dot_many", "stats_block",
           "collect_bins_block"]


@jit
def pair_cos2(xa, sa_hi, sa_lo, i, xb, sb_hi, sb_lo, j):
    """Signed cosine of row ``i`` of ``xa`` and row ``j`` of ``xb``, exact up to one rounding.

    The two-matrix form of :func:`suptheory._kernels.coherence.pair_cos` (same arithmetic).

    Parameters
    ----------
    xa, xb : (ka, n), (kb, n) float64
        Prescaled rows.
    sa_hi, sa_lo, sb_hi, sb_lo : float64 arrays
        Their squared norms as double-doubles.
    i, j : int
        The rows.

    Returns
    -------
    float64
    """
    dh, dl = _dot2(xa[i], xb[j])
    neg = dh < 0.0
    if neg:
        dh = -dh
        dl = -dl
    if dh == 0.0 and dl == 0.0:
        return 0.0
    ph, pl = _dd_mul(sa_hi[i], sa_lo[i], sb_hi[j], sb_lo[j])
    rh, rl = _dd_sqrt(ph, pl)
    qh, ql = _dd_div(dh, dl, rh, rl)
    c = qh + ql
    return -c if neg else c


# parallel=True: one O(n) double-double dot product per pair; prange runs over the
# independent pairs and each writes its own slot out[p].
@jit(parallel=True)
def pair_cos2_many(xa, sa_hi, sa_lo, ii, xb, sb_hi, sb_lo, jj, out):
    """:func:`pair_cos2` of the pairs ``(ii[p], jj[p])`` into ``out[p]``.

    Parameters
    ----------
    xa, sa_hi, sa_lo, xb, sb_hi, sb_lo
        As in :func:`pair_cos2`.
    ii, jj : (p,) int64
        The pairs.
    out : (p,) float64
        Receives the signed cosines.
    """
    for p in prange(ii.shape[0]):
        out[p] = pair_cos2(xa, sa_hi, sa_lo, ii[p], xb, sb_hi, sb_lo, jj[p])


@jit(parallel=True)  # prange over independent pairs, each writing its own slot out[p]
def pair_dot_many(ua, ii, ub, jj, out):
    """Float64 dot products ``<ua[ii[p]], ub[jj[p]]>`` into ``out[p]``.

    Parameters
    ----------
    ua, ub : (ka, n), (kb, n) float64
        Unit rows.
    ii, jj : (p,) int64
        The pairs.
    out : (p,) float64
        Receives the dot products.
    """
    for p in prange(ii.shape[0]):
        a = ua[ii[p]]
        b = ub[jj[p]]
        s = 0.0
        for t in range(a.shape[0]):
            s += a[t] * b[t]
        out[p] = s


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
def stats_block(c, ci, row0, col0, upper, signed, err, slack,
                xa, sa_hi, sa_lo, xa_u, xb, sb_hi, sb_lo, xb_u, err64, lower_r, lower_c,
                top_k, top_lower, thresholds, hist, hscale):
    """Exact per-row and per-column statistics of one screened tile.

    ``c[r, k]`` approximates the cosine of row ``row0 + r`` of ``xa`` and row ``col0 + k``
    of ``xb`` within ``err``. With ``upper`` only pairs ``col0 + k > row0 + r`` count (one
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
        Rows of ``xa`` and ``xb`` of ``c[0, 0]``.
    upper, signed : bool
    err, slack : float
        Screening error bound and extra margin.
    xa, sa_hi, sa_lo, xb, sb_hi, sb_lo
        Prescaled rows and their double-double squared norms (:func:`pair_cos2`).
    xa_u, xb_u : float64 arrays
        The unit rows in float64, whose dot products are within ``err64`` of the exact
        cosines: a candidate is re-checked exactly only when its float64 value leaves the
        outcome open.
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
        Its column (row of ``xb``), the smallest on ties (-1: none).
    col_best, col_cos, col_arg : (w,)
        The same for each column (partner: row of ``xa``).
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
            row_thr[r] = max(_key_value(rkey[r]) - 2.0 * err - slack,
                             lower_r[row0 + r] - err - slack)
    col_thr = np.full(w, np.inf)
    for k in range(w):
        if ckey[k] != none:
            col_thr[k] = max(_key_value(ckey[k]) - 2.0 * err - slack,
                             lower_c[col0 + k] - err - slack)
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
                    ua = xa_u[i]
                    ub = xb_u[j]
                    d = 0.0
                    for t in range(ua.shape[0]):
                        d += ua[t] * ub[t]
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
                    cs = pair_cos2(xa, sa_hi, sa_lo, i, xb, sb_hi, sb_lo, j)
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
    return (row_best, row_cos, row_arg, col_best, col_cos, col_arg, row_count, col_count,
            top_val[:ntop], top_cos[:ntop], top_i[:ntop], top_j[:ntop], ncand)


@jit  # serial: the caller's worker threads each scan their own tile (nogil)
def collect_bins_block(c, row0, col0, upper, signed, hscale, wanted):
    """The pairs of one screened tile whose histogram bin is marked in ``wanted``.

    Bins as in :func:`stats_block`: ``int(value * hscale)`` clipped to ``[0, nb)``.

    Parameters
    ----------
    c : (b, w) float32
    row0, col0 : int
    upper, signed : bool
    hscale : float
    wanted : (nb,) bool

    Returns
    -------
    ii, jj : (p,) int64
        The pairs.
    bins : (p,) int64
        Their bins.
    """
    b, w = c.shape
    nb = wanted.shape[0]
    cap = 64
    ii = np.empty(cap, dtype=np.int64)
    jj = np.empty(cap, dtype=np.int64)
    bb = np.empty(cap, dtype=np.int64)
    p = 0
    for r in range(b):
        ks = max(0, row0 + r + 1 - col0) if upper else 0
        for k in range(ks, w):
            v = c[r, k]
            t = min(max(int((v if signed else abs(v)) * hscale), 0), nb - 1)
            if wanted[t]:
                if p >= ii.shape[0]:
                    ii = _grow(ii, p + 1)
                    jj = _grow(jj, p + 1)
                    bb = _grow(bb, p + 1)
                ii[p] = row0 + r
                jj[p] = col0 + k
                bb[p] = t
                p += 1
    return ii[:p], jj[:p], bb[:p]
