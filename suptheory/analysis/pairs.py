r"""Every per-feature statistic of the pairs of an embedding, in one tiled pass, exactly.

:func:`pair_statistics` runs the float32 screen of :func:`suptheory.coherence` once over all
pairs and, in the same tiles, re-checks in double-double arithmetic only the pairs that can
matter (:func:`suptheory._kernels.pairs.stats_block`). It returns, for every feature, its
largest ``|cos|`` and the partner attaining it (nearest neighbour), counts of partners above
thresholds, the top-``k`` pairs of the whole dictionary, and exact quantiles of ``|cos|``
over all pairs. Memory is ``O(m n + block * threads)``, never ``m x m``.

The quantiles take a second pass: the first pass counts the screened values into a histogram
that fits in cache (bins of about ``4 err``, ``err``:
:func:`~suptheory.analysis.coherence.screening_error_bound`); since every screened value is
within ``err`` of the exact one, the bin of each wanted order statistic, widened by ``2 err``,
brackets every pair that can hold it. The second pass counts the pairs below each bracket and
collects the pairs inside (a fraction of a percent), with their screened values; among them
only those within ``2 err`` of the wanted screened order statistic get a float64 cosine (error
below ``n 2^-52``), and only those within twice that are re-checked exactly. The selected
order statistics are the exact ones.
"""

from __future__ import annotations

import threading
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from suptheory._kernels import coherence as _kc
from suptheory._kernels import pairs as _kp
from suptheory._kernels.jit import num_threads
from suptheory._runner import ChunkRunner
from suptheory._validate import check_bool, check_int
from suptheory.analysis import coherence as _coherence_module
from suptheory.analysis._rows import RowSet, _embedding, row_set
from suptheory.analysis.coherence import (
    _COH_BLOCK,
    _SLACK,
    _U32,
    _blas_threads,
    _Screen,
    _threads,
    _tile_results,
    screening_error_bound,
)

__all__ = ["PairStatistics", "pair_statistics"]

_tp = _coherence_module._tp  # threadpoolctl, or None without it: one rule for both modules

#: float64 unit roundoff
_U64 = 2.0**-53
#: at most this many histogram bins (4 x 8 bytes each per worker thread)
_MAX_BINS = 2**14


#: the rows of one matrix, as the screen and the exact re-checks read them (no copy of W)
_Rows = RowSet


def _rows(W: np.ndarray, threads: int | None) -> RowSet:
    return row_set(W, threads)


@dataclass
class _Pass:
    """Results of one screened pass over the tiles of ``A`` against ``B``."""

    row_best: np.ndarray
    row_cos: np.ndarray
    row_arg: np.ndarray
    col_best: np.ndarray
    col_cos: np.ndarray
    col_arg: np.ndarray
    counts_r: np.ndarray
    counts_c: np.ndarray
    top: tuple[np.ndarray, ...]
    hist: np.ndarray
    candidates: int
    interrupted: bool
    #: with ``bands``: the pairs inside them, their screened values and the counts below
    band: tuple[np.ndarray, ...] | None = None


def _better(
    new: np.ndarray, new_arg: np.ndarray, old: np.ndarray, old_arg: np.ndarray
) -> np.ndarray:
    """Where ``(new, new_arg)`` beats ``(old, old_arg)``: larger, or equal with a smaller arg."""
    wins: np.ndarray = (new > old) | (
        (new == old) & (new_arg >= 0) & ((old_arg < 0) | (new_arg < old_arg))
    )
    return wins


def _merge_top(
    top: tuple[np.ndarray, ...], new: tuple[np.ndarray, ...], k: int
) -> tuple[np.ndarray, ...]:
    val, cs, ii, jj = (np.concatenate([a, b]) for a, b in zip(top, new, strict=True))
    order = np.lexsort((jj, ii, -val))[:k]
    return val[order], cs[order], ii[order], jj[order]


def _screened_pass(
    A: _Rows,
    B: _Rows | None,
    *,
    signed: bool,
    top_k: int,
    thresholds: np.ndarray,
    nbins: int,
    threads: int | None,
    block: int | None,
    progress: bool,
    desc: str,
    bands: tuple[np.ndarray, np.ndarray] | None = None,
    row_range: tuple[int, int] | None = None,
) -> _Pass:
    """Screen every pair of ``A`` (against itself when ``B`` is None, pairs ``i < j``).

    With ``bands`` (one matrix only), also collect the pairs whose screened ``|cos|`` is in
    a band (:func:`~suptheory._kernels.pairs.band_block`). With ``row_range = (lo, hi)``,
    only the block rows ``lo <= r0 < hi`` (``lo`` a multiple of the block).
    """
    upper = B is None
    Bm = A if B is None else B
    ka, kb = len(A), len(Bm)
    n = A.n
    err = screening_error_bound(n, _U32)
    err64 = _err64(n)
    b = min(_COH_BLOCK if block is None else check_int(block, "block", low=1), max(ka, 1))
    w = _kc.CHUNK
    nt = len(thresholds)
    row_best = np.full(ka, -np.inf)
    row_cos = np.zeros(ka)
    row_arg = np.full(ka, -1, dtype=np.int64)
    if upper:
        col_best, col_cos, col_arg = row_best, row_cos, row_arg
    else:
        col_best = np.full(kb, -np.inf)
        col_cos = np.zeros(kb)
        col_arg = np.full(kb, -1, dtype=np.int64)
    counts_r = np.zeros((ka, nt), dtype=np.int64)
    counts_c = counts_r if upper else np.zeros((kb, nt), dtype=np.int64)
    top: tuple[np.ndarray, ...] = (
        np.empty(0),
        np.empty(0),
        np.empty(0, np.int64),
        np.empty(0, np.int64),
    )
    state = {"top_lower": -np.inf}
    hists: list[np.ndarray] = []
    lock = threading.Lock()
    local = threading.local()
    screen = _Screen(A, Bm, b, w)
    Ak, Bk = A.kernel, Bm.kernel
    # a generator: a million rows make a million tiles
    lo_r, hi_r = (0, ka) if row_range is None else row_range
    tiles = ((r0, c0) for r0 in range(lo_r, hi_r, b) for c0 in range(r0 if upper else 0, kb, w))
    pooled = _tp is not None and (ka > b or kb > w)
    empty_hist = np.zeros(0, dtype=np.int64)

    def tile(t: tuple[int, int], buf: np.ndarray) -> tuple[Any, ...]:
        r0, c0 = t
        r1, c1 = min(ka, r0 + b), min(kb, c0 + w)
        c = screen(r0, r1, c0, c1, buf)
        out = _kp.stats_block(
            c,
            c.view(np.int32),
            r0,
            c0,
            upper,
            signed,
            err,
            _SLACK,
            Ak,
            Bk,
            err64,
            row_best,
            col_best,
            top_k,
            state["top_lower"],
            thresholds,
            empty_hist,
            0.0,
        )
        if nbins:
            hist = getattr(local, "hist", None)
            if hist is None:
                hist = local.hist = np.zeros((4, nbins), dtype=np.int64)
                with lock:
                    hists.append(hist)
            _kp.hist_block(c, r0, c0, upper, hist, float(nbins))
        band = None if bands is None else _kp.band_block(c, r0, c0, upper, *bands)
        if upper:
            rows = np.arange(r0, r1)
            done = int(np.maximum(0, c1 - np.maximum(c0, rows + 1)).sum())
        else:
            done = (r1 - r0) * (c1 - c0)
        return (r0, c0, *out, band, done)

    if upper:
        total = sum(
            (min(ka, r0 + b) - r0) * (2 * ka - r0 - min(ka, r0 + b) - 1) // 2
            for r0 in range(lo_r, hi_r, b)
        )
    else:
        total = (min(hi_r, ka) - lo_r) * kb
    ncand = 0
    parts: list[tuple[np.ndarray, ...]] = []
    below = np.zeros(0 if bands is None else len(bands[0]), dtype=np.int64)
    with (
        num_threads(threads) as nt_,
        _blas_threads(1 if pooled else None),
        ChunkRunner(total, desc, progress, unit="pair", min_done=0, min_total=2**25) as run,
        closing(_tile_results(tile, tiles, nt_ if pooled else 1, screen.size)) as results,
    ):
        for r0, c0, rb, rc, ra, cb, cc, ca, rn, cn, tv, tc, ti, tj, nc, band, done in results:
            ncand += nc
            if band is not None:
                parts.append(band[:3])
                below += band[3]
            for best, cos, arg, nb_, ncos, narg, o in (
                (row_best, row_cos, row_arg, rb, rc, ra, r0),
                (col_best, col_cos, col_arg, cb, cc, ca, c0),
            ):
                sl = slice(o, o + len(nb_))
                upd = _better(nb_, narg, best[sl], arg[sl])
                best[sl] = np.where(upd, nb_, best[sl])
                cos[sl] = np.where(upd, ncos, cos[sl])
                arg[sl] = np.where(upd, narg, arg[sl])
            if nt:
                counts_r[r0 : r0 + len(rn)] += rn
                counts_c[c0 : c0 + len(cn)] += cn
            if top_k and len(tv):
                top = _merge_top(top, (tv, tc, ti, tj), top_k)
                if len(top[0]) >= top_k:
                    state["top_lower"] = float(top[0][top_k - 1])
            run.update(done)
    if run.interrupted:
        raise KeyboardInterrupt  # a partial scan has no exact answer to keep
    hist = np.sum(hists, axis=(0, 1)) if hists else np.zeros(nbins, dtype=np.int64)
    got = None
    if bands is not None:
        got = (*_concat_band(parts), below)
    return _Pass(
        row_best,
        row_cos,
        row_arg,
        col_best,
        col_cos,
        col_arg,
        counts_r,
        counts_c,
        top,
        hist,
        ncand,
        False,
        got,
    )


def _concat_band(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    if not parts:
        return (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))


def _err64(n: int) -> float:
    # float64 unit rows (rounding 2^-51 per entry) and float64 dot products, plus slack
    return screening_error_bound(n, _U64) + 2.0**-60


def _nbins(n: int) -> int:
    # bins of about 4 err: four interleaved histograms stay in a core's L2 cache (at most
    # 512 KiB), fine enough that the pairs near an order statistic are a small fraction
    err = screening_error_bound(n, _U32)
    return int(min(_MAX_BINS, max(256, np.ceil(1.0 / (4.0 * err)))))


def _kth_many(levels: list[Any], idx: np.ndarray, ranks: list[int]) -> list[float]:
    """The exact ``r``-th smallest values of ``idx`` (each ``r`` in ``ranks``, increasing).

    ``levels`` is a list of ``(values_of, err)``: ``values_of(idx)`` approximates each value
    within ``err``; the last level is exact (``err = 0``). The ``r``-th smallest approximation
    ``v`` is within ``err`` of the ``r``-th smallest exact value, so a value whose
    approximation is more than ``2 err`` from ``v`` lies strictly on its side of it: only the
    values within ``2 err`` go on to the next level (overlapping windows together).
    """
    values_of, err = levels[0]
    approx = values_of(idx)
    if err == 0.0 or len(approx) == 0:
        part = np.partition(approx, ranks)
        return [float(part[r]) for r in ranks]
    # the ranks' approximations by a multi-select (linear time), then a window of 2 err
    # either side of each (windows that overlap together): the values below a window are
    # strictly below its ranks
    part = np.partition(approx, ranks)
    v = [float(part[r]) for r in ranks]
    out: list[float] = []
    t = 0
    while t < len(ranks):
        a, z = v[t] - 2.0 * err, v[t] + 2.0 * err
        u = t + 1
        while u < len(ranks) and v[u] - 2.0 * err <= z:
            z = max(z, v[u] + 2.0 * err)
            u += 1
        inside = np.flatnonzero((approx >= a) & (approx <= z))
        below = int(np.count_nonzero(approx < a))
        out += _kth_many(levels[1:], idx[inside], [r - below for r in ranks[t:u]])
        t = u
    return out


def _bands(hist: np.ndarray, ranks: np.ndarray, err: float) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint intervals of screened values holding every pair that can have rank ``ranks``.

    The ``r``-th smallest screened value lies in its histogram bin ``[e_b, e_b+1)`` and the
    ``r``-th smallest exact value within ``err`` of it; a pair whose exact value is that
    close has its screened value in ``[e_b - 2 err, e_b+1 + 2 err]`` (plus slack).
    """
    nbins = len(hist)
    before = np.concatenate([[0], np.cumsum(hist)])  # before[b]: screened values in bins < b
    rank_bin = np.searchsorted(before, ranks, side="right") - 1
    # +- 2 err + slack, and 2 err more: the ranks' screened values lie 2 err inside; 2^-22:
    # the float32 rounding of value * nbins (hist_block)
    lo = rank_bin / nbins - 4.0 * err - _SLACK - 2.0**-22
    hi = (rank_bin + 1) / nbins + 4.0 * err + _SLACK + 2.0**-22
    return _merge_bands(lo, hi)


#: the one-pass quantiles expect to collect at most half this many pairs (20 bytes each)
_COLLECT_CAP = 2**23
#: about this many pairs in the sample that predicts the bands of one-pass quantiles
_SAMPLE_PAIRS = 2**21
#: standard errors either side of a predicted order statistic that its band spans
_BAND_SE = 4.5


def _quantile_ranks(q: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h = q * (total - 1)
    lo = np.floor(h).astype(np.int64)
    return h, lo, np.unique(np.concatenate([lo, np.minimum(lo + 1, total - 1)]))


def _sample_offsets(k: int) -> int:
    """``D``: each of ``k`` rows meets the ``D`` next ones in the sample (distinct pairs)."""
    return int(np.clip(_SAMPLE_PAIRS // max(k, 1), 1, max(1, (k - 1) // 2)))


def _sample_pairs(R: RowSet, threads: int | None) -> np.ndarray:
    """Screened ``|cos|`` of a balanced sample of pairs: every row in exactly ``2 D`` of them.

    The rows in a random cyclic order ``t = 0, ..., k - 1``; the sample is the pairs
    ``(t, t + d mod k)``, ``d = 1, ..., D`` (blocks of rows against the next rows: small
    GEMMs, from which the band of the ``D`` diagonals is kept). Write
    ``1[|cos_ij| <= x] = F(x) + g(i) + g(j) + h(i, j)`` (Hoeffding): the row effects ``g``
    sum to zero over all rows, so in a sample where every row counts alike they cancel
    exactly, and the sample's fraction below ``x`` errs only by the pair terms, a standard
    error ``sqrt(F (1 - F) / pairs)`` however much the rows differ (a shared direction makes
    some rows overlap everything).
    """
    k, n = len(R), R.n
    D = _sample_offsets(k)
    L = max(D, 128)  # rows per GEMM, against the L + D - 1 rows after the first
    rng = np.random.default_rng(0x5EED)  # any sample gives the same (exact) answer
    perm = rng.permutation(k)
    ext = np.concatenate([perm, perm[: L + D]])  # cyclic
    P = RowSet(R.X, R.rid[ext], R.sc[ext], R.s_hi[ext], R.s_lo[ext], R.rn[ext], R.keep, (), R.m, n)
    buf = np.empty((L + D, n), np.float32)
    vals = np.empty((k, D), np.float32)
    diag = np.arange(L)[:, None] + np.arange(1, D + 1)[None, :]
    with num_threads(threads), _blas_threads(1):  # small GEMMs: threads would only wait
        for s0 in range(0, k, L):
            rows = min(L, k - s0)
            U = P.unit_block(s0, s0 + L + D, buf)
            G = U[:rows] @ U[1 : L + D].T  # column c is row s0 + 1 + c
            vals[s0 : s0 + rows] = G[np.arange(rows)[:, None], diag[:rows] - 1]
    return np.abs(vals.reshape(-1))


def quantile_passes(k: int, quantiles: Any) -> int:
    """Passes over all pairs the exact quantiles of ``k`` rows are expected to add: 0 or 1.

    None when the pass of the other statistics can collect the pairs of the bands that a
    sample predicts (:func:`_predict_bands`: at most half ``_COLLECT_CAP`` pairs expected),
    one otherwise (the first pass counts a histogram, a second collects its bands' pairs).
    A prediction: a sample that misleads adds the second pass.
    """
    q = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
    total = k * (k - 1) // 2
    if q.size == 0 or total <= _COLLECT_CAP // 2:
        return 0
    ns = k * _sample_offsets(k)
    frac = float(np.sum(2.0 * _BAND_SE * np.sqrt(q * (1.0 - q) / ns) + 4.0 / ns))
    return 0 if frac * total <= _COLLECT_CAP / 2 else 1


def _predict_bands(
    R: RowSet, ranks: np.ndarray, total: int, err: float, threads: int | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Bands of screened values that hold the pairs of ``ranks``, predicted from a sample.

    The sample (:func:`_sample_pairs`) gives each order statistic to a standard error
    ``sqrt(F (1 - F) / pairs)``; the bands, ``_BAND_SE`` standard errors either side and
    ``3 err`` wider (the sample is screened too), are checked after the pass
    (:func:`_select_ranks`), so a sample that misleads costs time (a second pass), never
    exactness. ``None`` when the bands would hold more than half ``_COLLECT_CAP``
    pairs (then the quantiles take a second pass over the tiles).
    """
    if total <= _COLLECT_CAP // 2:
        return np.array([-np.inf]), np.array([np.inf])
    flat = np.sort(_sample_pairs(R, threads)).astype(np.float64)
    ns = len(flat)
    if ns < 2:
        return None
    qr = ranks / max(total - 1, 1)
    var = qr * (1.0 - qr) / ns + 0.25 / ns**2
    delta = _BAND_SE * np.sqrt(var) + 2.0 / ns
    ilo = np.floor((qr - delta) * (ns - 1)).astype(np.int64)
    ihi = np.ceil((qr + delta) * (ns - 1)).astype(np.int64)
    lo = np.where(ilo >= 0, flat[np.clip(ilo, 0, ns - 1)] - 3.0 * err, -np.inf)
    hi = np.where(ihi <= ns - 1, flat[np.clip(ihi, 0, ns - 1)] + 3.0 * err, np.inf)
    blo, bhi = _merge_bands(lo, hi)
    # the expected number of pairs inside: the sample's fraction in the bands
    inside = sum(
        int(np.searchsorted(flat, z, side="right") - np.searchsorted(flat, a))
        for a, z in zip(blo, bhi, strict=True)
    )
    if inside / ns * total > _COLLECT_CAP / 2:
        return None
    return blo, bhi


def _merge_bands(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merged bands, their ends rounded outwards to float32 (:func:`_kp.band_block`)."""
    with np.errstate(over="ignore"):
        lo32 = lo.astype(np.float32)
        hi32 = hi.astype(np.float32)
    lo32 = np.where(lo32 > lo, np.nextafter(lo32, np.float32(-np.inf)), lo32)
    hi32 = np.where(hi32 < hi, np.nextafter(hi32, np.float32(np.inf)), hi32)
    lo, hi = lo32.astype(np.float64), hi32.astype(np.float64)
    out_lo: list[float] = []
    out_hi: list[float] = []
    for a, z in sorted(zip(lo.tolist(), hi.tolist(), strict=True)):
        if out_hi and a <= out_hi[-1]:
            out_hi[-1] = max(out_hi[-1], z)
        else:
            out_lo.append(a)
            out_hi.append(z)
    return np.array(out_lo), np.array(out_hi)


def _select_ranks(
    R: RowSet,
    band: tuple[np.ndarray, ...],
    blo: np.ndarray,
    bhi: np.ndarray,
    ranks: np.ndarray,
    err: float,
    threads: int | None,
) -> dict[int, float] | None:
    """The exact values of ``ranks`` from the pairs collected in bands.

    ``None`` if a band does not provably hold a rank's pairs (a predicted band that missed).
    """
    ii, jj, vals, below = band
    # the band of each pair (bands are disjoint, their ends float32: exact comparisons)
    which = np.zeros(len(vals), np.int64)
    for edge in blo[1:]:
        which += vals >= np.float32(edge)
    Rk = R.kernel

    def float64_of(idx: np.ndarray) -> np.ndarray:
        out = np.empty(len(idx))
        with num_threads(threads):
            _kp.pair_dot_many(Rk, ii[idx], Rk, jj[idx], out)
        return np.abs(out)

    def exact_of(idx: np.ndarray) -> np.ndarray:
        out = np.empty(len(idx))
        with num_threads(threads):
            _kp.pair_cos2_many(Rk, ii[idx], Rk, jj[idx], out)
        return np.abs(out)

    levels = [
        (lambda idx: vals[idx].astype(np.float64), err),
        (float64_of, _err64(R.n)),
        (exact_of, 0.0),
    ]
    by_band: dict[int, list[int]] = {}
    for r in ranks.tolist():
        # the band of the rank: every pair below it is below the rank's pairs
        t = int(np.searchsorted(below, r, side="right")) - 1
        if t < 0:
            return None
        by_band.setdefault(t, []).append(r)
    values: dict[int, float] = {}
    for t, rs in by_band.items():
        sub = np.flatnonzero(which == t)
        local = [r - int(below[t]) for r in rs]
        if local[-1] >= len(sub):
            return None
        srt = np.partition(vals[sub], local).astype(np.float64)
        # each rank's screened value must lie 2 err inside the band: then every pair outside
        # the band is strictly on its side (exact values within err of the screened ones)
        for r in local:
            if srt[r] - 2.0 * err < blo[t] or srt[r] + 2.0 * err > bhi[t]:
                return None
        for r, v in zip(rs, _kth_many(levels, sub, local), strict=True):
            values[r] = v
    return values


def _interpolate(values: dict[int, float], h: np.ndarray, lo: np.ndarray, total: int) -> np.ndarray:
    t_ = h - lo
    a_ = np.array([values[int(r)] for r in lo])
    b_ = np.array([values[int(r)] for r in np.minimum(lo + 1, total - 1)])
    # numpy's linear interpolation (its _lerp)
    diff = b_ - a_
    out: np.ndarray = np.where(t_ >= 0.5, b_ - diff * (1.0 - t_), a_ + diff * t_)
    return out


def _exact_quantiles(
    R: _Rows,
    hist: np.ndarray,
    q: np.ndarray,
    *,
    threads: int | None,
    block: int | None,
    progress: bool,
    collect: Any = None,
) -> np.ndarray:
    """Exact quantiles of ``|cos|`` over the pairs of ``R`` from a pass's histogram.

    ``collect(lo, hi)``: the second pass (default :func:`_collect` on this machine).
    """
    k = len(R)
    total = k * (k - 1) // 2
    err32 = screening_error_bound(R.n, _U32) + _SLACK
    h, lo, ranks = _quantile_ranks(q, total)
    blo, bhi = _bands(hist, ranks, err32)
    if collect is None:
        band = _collect(R, blo, bhi, threads=threads, block=block, progress=progress)
    else:
        band = collect(blo, bhi)
    values = _select_ranks(R, band, blo, bhi, ranks, err32, threads)
    if values is None:  # pragma: no cover - the histogram's bands hold their ranks
        raise AssertionError("overlap quantiles: a histogram band missed its rank")
    return _interpolate(values, h, lo, total)


def _collect(
    R: _Rows,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    threads: int | None,
    block: int | None,
    progress: bool,
    row_range: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pairs whose screened ``|cos|`` lies in a band ``[lo_t, hi_t]``, and counts below.

    With their screened values, and the number of pairs below each band
    (:func:`~suptheory._kernels.pairs.band_block`), in a second pass over the tiles.
    """
    k = len(R)
    b = min(_COH_BLOCK if block is None else check_int(block, "block", low=1), k)
    w = _kc.CHUNK
    screen = _Screen(R, R, b, w)
    lo_r, hi_r = (0, k) if row_range is None else row_range
    tiles = ((r0, c0) for r0 in range(lo_r, hi_r, b) for c0 in range(r0, k, w))
    pooled = _tp is not None and (k > b or k > w)
    below = np.zeros(len(lo), dtype=np.int64)
    total = sum(
        (min(k, r0 + b) - r0) * (2 * k - r0 - min(k, r0 + b) - 1) // 2
        for r0 in range(lo_r, hi_r, b)
    )

    def tile(t: tuple[int, int], buf: np.ndarray) -> tuple[Any, ...]:
        r0, c0 = t
        r1, c1 = min(k, r0 + b), min(k, c0 + w)
        c = screen(r0, r1, c0, c1, buf)
        rows = np.arange(r0, r1)
        done = int(np.maximum(0, c1 - np.maximum(c0, rows + 1)).sum())
        return (*_kp.band_block(c, r0, c0, True, lo, hi), done)

    parts: list[tuple[np.ndarray, ...]] = []
    with (
        num_threads(threads) as nt_,
        _blas_threads(1 if pooled else None),
        ChunkRunner(
            total, "overlap quantiles", progress, unit="pair", min_done=0, min_total=2**25
        ) as run,
        closing(_tile_results(tile, tiles, nt_ if pooled else 1, screen.size)) as results,
    ):
        for ii, jj, vv, bl, done in results:
            parts.append((ii, jj, vv))
            below += bl
            run.update(done)
    if run.interrupted:
        raise KeyboardInterrupt
    ii, jj, vv = _concat_band(parts)
    return ii, jj, vv, below


@dataclass(frozen=True)
class PairStatistics:
    """Per-feature statistics of the pairs of an embedding, all exact.

    Zero rows have no direction: their ``max_overlap`` is 0, ``nearest`` is -1 and their
    counts are 0; they are excluded from every pair.

    Attributes
    ----------
    m, n : int
        Shape of the embedding.
    zero_rows : tuple of int
        Rows that are exactly zero.
    max_overlap : numpy.ndarray, shape (m,)
        ``max_{j != i} |cos(W_i, W_j)|``, the exact value rounded once to float64.
    nearest : numpy.ndarray of int64, shape (m,)
        The partner attaining it (the smallest index on ties; -1 without one).
    nearest_overlap : numpy.ndarray, shape (m,)
        The signed cosine with that partner.
    thresholds : tuple of float
        The count thresholds.
    counts : numpy.ndarray of int64, shape (m, len(thresholds))
        ``#{j != i : |cos(W_i, W_j)| >= t}`` for each threshold ``t``.
    top_pairs : numpy.ndarray
        The ``top_k`` pairs of largest ``|cos|``, largest first (ties: lexicographic), a
        structured array with fields ``i``, ``j`` (``i < j``) and ``overlap`` (signed cosine).
    quantiles : dict
        ``{q: value}``: exact quantiles of ``|cos|`` over all pairs (``numpy.quantile``'s
        definition).
    coherence : float
        ``max_overlap.max()``, equal to :func:`suptheory.coherence`.
    pair : tuple of int or None
        Its pair, the lexicographically first (as :func:`suptheory.coherence`).
    overlap : float
        Its signed cosine.
    pairs : int
        Number of pairs.
    candidates : int
        Pairs re-checked exactly in the first pass.
    """

    m: int
    n: int
    zero_rows: tuple[int, ...] = field(repr=False)
    max_overlap: np.ndarray = field(repr=False)
    nearest: np.ndarray = field(repr=False)
    nearest_overlap: np.ndarray = field(repr=False)
    thresholds: tuple[float, ...]
    counts: np.ndarray = field(repr=False)
    top_pairs: np.ndarray = field(repr=False)
    quantiles: dict[float, float]
    coherence: float
    pair: tuple[int, int] | None
    overlap: float
    pairs: int
    candidates: int = field(compare=False)


_TOP_DTYPE = np.dtype([("i", np.int64), ("j", np.int64), ("overlap", np.float64)])


def _check_thresholds(thresholds: Any) -> np.ndarray:
    t = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any((t < 0) | (t > 1)):
        raise ValueError(f"thresholds must be finite numbers in [0, 1]; got {thresholds!r}")
    return np.unique(t)


def _check_q(q: Any, name: str = "quantiles") -> np.ndarray:
    qa = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if qa.ndim != 1 or not np.all((qa >= 0) & (qa <= 1)):
        raise ValueError(f"{name} must lie in [0, 1]; got {q!r}")
    return qa


def pair_statistics(
    W: Any,
    *,
    top_k: int = 100,
    thresholds: Any = (),
    quantiles: Any = (),
    threads: int | None = None,
    block: int | None = None,
    progress: bool = True,
    client: Any = None,
    checkpoint: Any = None,
    rows_per_task: int | None = None,
    _rowset: RowSet | None = None,
) -> PairStatistics:
    r"""Nearest neighbours, counts, top pairs and quantiles of an embedding's overlaps, exactly.

    For each feature ``i`` (row of ``W``), over the other nonzero rows ``j``:

    .. math::

        \mathrm{max\_overlap}_i = \max_{j \ne i} |\cos(W_i, W_j)|, \qquad
        \mathrm{nearest}_i = \operatorname{arg\,max}_{j \ne i} |\cos(W_i, W_j)|, \qquad
        \mathrm{counts}_{i,t} = \#\{j \ne i : |\cos(W_i, W_j)| \ge t\},

    the ``top_k`` pairs of largest ``|cos|`` and quantiles of ``|cos|`` over all pairs.
    One pass of float32 GEMM tiles screens every pair (the tiles of :func:`suptheory.coherence`);
    only pairs whose exact value could change a result are re-checked in double-double
    arithmetic, so every number is the exact value rounded once to float64 (ties go to the
    smallest index). Quantiles add a second pass that collects only the pairs near each
    wanted order statistic (see the module notes); they equal ``numpy.quantile`` of all
    pairwise ``|cos|``. The per-feature rms overlap needs no pairs:
    :func:`suptheory.rms_overlap`.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Rows are features.
    top_k : int
        Number of top pairs (0: none).
    thresholds : sequence of float
        Count partners with ``|cos| >= t`` for each ``t`` in ``[0, 1]``. A low threshold
        (most pairs above it) slows the pass down.
    quantiles : sequence of float
        Quantiles of ``|cos|`` over pairs, in ``[0, 1]`` (``()``: no second pass).
    threads, block, progress, client, checkpoint, rows_per_task
        As in :func:`suptheory.coherence` (with ``client``, every pass is distributed).

    Returns
    -------
    PairStatistics

    Raises
    ------
    ValueError
        On a bad ``W`` (not 2-D, empty, NaN or inf) or option, or quantiles without a pair.
    KeyboardInterrupt
        On Ctrl-C (a partial scan has no exact answer).

    References
    ----------
    Ogita, Rump & Oishi, SIAM J. Sci. Comput. 26 (2005) (``Dot2``); Higham, *Accuracy and
    Stability of Numerical Algorithms*, 2002 (GEMM error bound); Hyndman & Fan, Am. Stat. 50
    (1996), def. 7 (the quantile).

    Examples
    --------
    >>> W = [[1.0, 0.0], [0.6, 0.8], [0.0, -2.0], [0.0, 0.0]]
    >>> s = pair_statistics(W, top_k=2, thresholds=[0.5], quantiles=[0.5], progress=False)
    >>> s.max_overlap.tolist(), s.nearest.tolist()
    ([0.6, 0.8, 0.8, 0.0], [1, 2, 1, -1])
    >>> s.counts[:, 0].tolist(), s.quantiles
    ([1, 2, 1, 0], {0.5: 0.6})
    >>> s.top_pairs.tolist()
    [(1, 2, -0.8), (0, 1, 0.6)]
    """
    check_bool(progress, "progress")
    src = None
    if client is not None:
        from suptheory.analysis.distributed import open_source

        W, src = open_source(W)
    W = _embedding(W)
    top_k = check_int(top_k, "top_k", low=0)
    thr = _check_thresholds(thresholds) if np.size(thresholds) else np.zeros(0)
    qa = _check_q(quantiles) if np.size(quantiles) else np.zeros(0)
    nthreads = _threads(threads)
    m, n = W.shape
    if n * _U32 >= 0.25:
        raise ValueError(f"W has n = {n} columns; pair_statistics supports n < {2**22:,}")
    R = _rows(W, nthreads) if _rowset is None else _rowset
    k = len(R)
    collect: Any = None
    if client is not None:
        from suptheory.analysis.distributed import Distributed

        assert src is not None
        dist = Distributed(
            src,
            R,
            client,
            block=_COH_BLOCK if block is None else block,
            checkpoint=checkpoint,
            progress=progress,
            rows_per_task=rows_per_task,
        )
        stats_pass: Any = dist.stats
        collect = dist.collect
    else:

        def stats_pass(**kw: Any) -> _Pass:
            return _screened_pass(R, None, threads=nthreads, block=block, progress=progress, **kw)

    pairs = k * (k - 1) // 2
    if len(qa) and pairs == 0:
        raise ValueError("overlap quantiles need at least two nonzero rows (one pair)")
    err32 = screening_error_bound(n, _U32) + _SLACK
    nbins = 0
    bands = None
    if len(qa):
        h, lo, ranks = _quantile_ranks(qa, pairs)
        # one pass when a sample of pairs predicts bands that hold few pairs; else (or if a
        # band missed) a histogram first and the bands' pairs in a second pass
        bands = _predict_bands(R, ranks, pairs, err32, nthreads)
        nbins = _nbins(n) if bands is None else 0
    if k >= 2:
        P = stats_pass(
            signed=False,
            top_k=top_k,
            thresholds=thr,
            nbins=nbins,
            desc="pair statistics",
            bands=bands,
        )
        best, cos, arg, counts_k, top, hist, ncand = (
            P.row_best,
            P.row_cos,
            P.row_arg,
            P.counts_r,
            P.top,
            P.hist,
            P.candidates,
        )
    else:
        best, cos, arg = np.full(k, -np.inf), np.zeros(k), np.full(k, -1, np.int64)
        counts_k = np.zeros((k, len(thr)), np.int64)
        top = (np.empty(0), np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64))
        hist, ncand = np.zeros(0, np.int64), 0
    max_overlap = np.zeros(m)
    nearest = np.full(m, -1, dtype=np.int64)
    nearest_overlap = np.zeros(m)
    counts = np.zeros((m, len(thr)), dtype=np.int64)
    has = arg >= 0
    max_overlap[R.keep[has]] = best[has]
    nearest[R.keep[has]] = R.keep[arg[has]]
    nearest_overlap[R.keep[has]] = cos[has]
    counts[R.keep] = counts_k
    tp = np.empty(len(top[0]), dtype=_TOP_DTYPE)
    tp["i"] = R.keep[top[2]] if len(top[0]) else []
    tp["j"] = R.keep[top[3]] if len(top[0]) else []
    tp["overlap"] = top[1]
    q_values: dict[float, float] = {}
    if len(qa):
        values = None
        if bands is not None and P.band is not None:
            values = _select_ranks(R, P.band, *bands, ranks, err32, nthreads)
        if values is not None:
            vals = _interpolate(values, h, lo, pairs)
        else:
            if not nbins:  # the predicted bands missed: a histogram pass
                hist = stats_pass(
                    signed=False,
                    top_k=0,
                    thresholds=np.zeros(0),
                    nbins=_nbins(n),
                    desc="overlap histogram",
                ).hist
            vals = _exact_quantiles(
                R, hist, qa, threads=nthreads, block=block, progress=progress, collect=collect
            )
        q_values = {float(q): float(v) for q, v in zip(qa, vals, strict=True)}
    if k >= 2:
        i0 = int(np.argmax(max_overlap))  # the first feature attaining the maximum
        pair: tuple[int, int] | None = (i0, int(nearest[i0]))
        coh, ov = float(max_overlap[i0]), float(nearest_overlap[i0])
    else:
        pair, coh, ov = None, 0.0, 0.0
    return PairStatistics(
        m=m,
        n=n,
        zero_rows=R.zero,
        max_overlap=max_overlap,
        nearest=nearest,
        nearest_overlap=nearest_overlap,
        thresholds=tuple(float(t) for t in thr),
        counts=counts,
        top_pairs=tp,
        quantiles=q_values,
        coherence=coh,
        pair=pair,
        overlap=ov,
        pairs=pairs,
        candidates=ncand,
    )
