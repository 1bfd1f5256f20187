r"""Every per-feature statistic of the pairs of an embedding, in one tiled pass, exactly.

:func:`pair_statistics` runs the float32 screen of :func:`suptheory.coherence` once over all
pairs and, in the same tiles, re-checks in double-double arithmetic only the pairs that can
matter (:func:`suptheory._kernels.pairs.stats_block`). It returns, for every feature, its
largest ``|cos|`` and the partner attaining it (nearest neighbour), counts of partners above
thresholds, the top-``k`` pairs of the whole dictionary, and exact quantiles of ``|cos|``
over all pairs. Memory is ``O(m n + block * threads)``, never ``m x m``.

The quantiles take a second pass: the first pass counts the screened values into a histogram
that fits in cache (bins of about ``8 err``, ``err``:
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
from suptheory._validate import check_int
from suptheory.analysis._rows import RowSet, _embedding, row_set
from suptheory.analysis.coherence import (
    _COH_BLOCK,
    _SLACK,
    _Screen,
    _U32,
    _blas_threads,
    _threads,
    _tile_results,
    _tp,
    screening_error_bound,
)

__all__ = ["PairStatistics", "pair_statistics"]

#: float64 unit roundoff
_U64 = 2.0**-53
#: at most this many histogram bins (8 MiB per worker thread)
_MAX_BINS = 2**20


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


def _better(new: np.ndarray, new_arg: np.ndarray, old: np.ndarray, old_arg: np.ndarray
            ) -> np.ndarray:
    """Where ``(new, new_arg)`` beats ``(old, old_arg)``: larger, or equal with a smaller arg."""
    return (new > old) | ((new == old) & (new_arg >= 0) & ((old_arg < 0) | (new_arg < old_arg)))


def _merge_top(top: tuple[np.ndarray, ...], new: tuple[np.ndarray, ...], k: int
               ) -> tuple[np.ndarray, ...]:
    val, cs, ii, jj = (np.concatenate([a, b]) for a, b in zip(top, new, strict=True))
    order = np.lexsort((jj, ii, -val))[:k]
    return val[order], cs[order], ii[order], jj[order]


def _screened_pass(A: _Rows, B: _Rows | None, *, signed: bool, top_k: int,
                   thresholds: np.ndarray, nbins: int, threads: int | None, block: int | None,
                   progress: bool, desc: str) -> _Pass:
    """Screen every pair of ``A`` (against itself when ``B`` is None, pairs ``i < j``)."""
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
    top: tuple[np.ndarray, ...] = (np.empty(0), np.empty(0), np.empty(0, np.int64),
                                   np.empty(0, np.int64))
    state = {"top_lower": -np.inf}
    hists: list[np.ndarray] = []
    lock = threading.Lock()
    local = threading.local()
    screen = _Screen(A, Bm, b, w)
    Ak, Bk = A.kernel, Bm.kernel
    # a generator: a million rows make a million tiles
    tiles = ((r0, c0) for r0 in range(0, ka, b) for c0 in range(r0 if upper else 0, kb, w))
    pooled = _tp is not None and (ka > b or kb > w)
    empty_hist = np.zeros(0, dtype=np.int64)

    def tile(t: tuple[int, int], buf: np.ndarray) -> tuple[Any, ...]:
        r0, c0 = t
        r1, c1 = min(ka, r0 + b), min(kb, c0 + w)
        c = screen(r0, r1, c0, c1, buf)
        hist = empty_hist
        if nbins:
            hist = getattr(local, "hist", None)
            if hist is None:
                hist = local.hist = np.zeros(nbins, dtype=np.int64)
                with lock:
                    hists.append(hist)
        out = _kp.stats_block(c, c.view(np.int32), r0, c0, upper, signed, err, _SLACK,
                              Ak, Bk, err64, row_best, col_best, top_k, state["top_lower"], thresholds, hist,
                              float(nbins))
        if upper:
            rows = np.arange(r0, r1)
            done = int(np.maximum(0, c1 - np.maximum(c0, rows + 1)).sum())
        else:
            done = (r1 - r0) * (c1 - c0)
        return (r0, c0, *out, done)

    total = ka * (ka - 1) // 2 if upper else ka * kb
    ncand = 0
    with num_threads(threads) as nt_, _blas_threads(1 if pooled else None), \
            ChunkRunner(total, desc, progress, unit="pair", min_done=0,
                        min_total=2**25) as run, \
            closing(_tile_results(tile, tiles, nt_ if pooled else 1,
                                  screen.size)) as results:
        for (r0, c0, rb, rc, ra, cb, cc, ca, rn, cn, tv, tc, ti, tj, nc, done) in results:
            ncand += nc
            for best, cos, arg, nb_, ncos, narg, o in (
                    (row_best, row_cos, row_arg, rb, rc, ra, r0),
                    (col_best, col_cos, col_arg, cb, cc, ca, c0)):
                sl = slice(o, o + len(nb_))
                upd = _better(nb_, narg, best[sl], arg[sl])
                best[sl] = np.where(upd, nb_, best[sl])
                cos[sl] = np.where(upd, ncos, cos[sl])
                arg[sl] = np.where(upd, narg, arg[sl])
            if nt:
                counts_r[r0:r0 + len(rn)] += rn
                counts_c[c0:c0 + len(cn)] += cn
            if top_k and len(tv):
                top = _merge_top(top, (tv, tc, ti, tj), top_k)
                if len(top[0]) >= top_k:
                    state["top_lower"] = float(top[0][top_k - 1])
            run.update(done)
    if run.interrupted:
        raise KeyboardInterrupt  # a partial scan has no exact answer to keep
    hist = np.sum(hists, axis=0) if hists else np.zeros(nbins, dtype=np.int64)
    return _Pass(row_best, row_cos, row_arg, col_best, col_cos, col_arg, counts_r, counts_c,
                 top, hist, ncand, False)


def _err64(n: int) -> float:
    # float64 unit rows (rounding 2^-51 per entry) and float64 dot products, plus slack
    return screening_error_bound(n, _U64) + 2.0**-60


def _nbins(n: int) -> int:
    # bins of about 8 err: a histogram that stays in a core's cache (at most 128 KiB), fine
    # enough that the pairs near an order statistic are a small fraction of all pairs
    err = screening_error_bound(n, _U32)
    return int(min(_MAX_BINS, max(256, np.ceil(1.0 / (8.0 * err)))))


def _kth(levels: list[Any], idx: np.ndarray, r: int) -> float:
    """The exact ``r``-th smallest of the values of ``idx``, through ever better approximations.

    ``levels`` is a list of ``(values_of, err)``: ``values_of(idx)`` approximates each value
    within ``err``; the last level is exact (``err = 0``). The ``r``-th smallest approximation
    ``v`` is within ``err`` of the ``r``-th smallest exact value, so a value whose
    approximation is more than ``2 err`` from ``v`` lies strictly on its side of it: only the
    values within ``2 err`` go on to the next level.
    """
    values_of, err = levels[0]
    approx = values_of(idx)
    if err == 0.0:
        return float(np.partition(approx, r)[r])
    order = np.argsort(approx, kind="stable")
    srt = approx[order]
    v = srt[r]
    lo = int(np.searchsorted(srt, v - 2.0 * err, side="left"))
    hi = int(np.searchsorted(srt, v + 2.0 * err, side="right"))
    return _kth(levels[1:], idx[order[lo:hi]], r - lo)


def _bands(hist: np.ndarray, ranks: np.ndarray, err: float) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint intervals of screened values holding every pair that can have rank ``ranks``.

    The ``r``-th smallest screened value lies in its histogram bin ``[e_b, e_b+1)`` and the
    ``r``-th smallest exact value within ``err`` of it; a pair whose exact value is that
    close has its screened value in ``[e_b - 2 err, e_b+1 + 2 err]`` (plus slack).
    """
    nbins = len(hist)
    before = np.concatenate([[0], np.cumsum(hist)])  # before[b]: screened values in bins < b
    rank_bin = np.searchsorted(before, ranks, side="right") - 1
    lo = rank_bin / nbins - 2.0 * err - _SLACK
    hi = (rank_bin + 1) / nbins + 2.0 * err + _SLACK
    out_lo: list[float] = []
    out_hi: list[float] = []
    for a, z in sorted(zip(lo.tolist(), hi.tolist(), strict=True)):
        if out_hi and a <= out_hi[-1]:
            out_hi[-1] = max(out_hi[-1], z)
        else:
            out_lo.append(a)
            out_hi.append(z)
    return np.array(out_lo), np.array(out_hi)


def _exact_quantiles(R: _Rows, hist: np.ndarray, q: np.ndarray, *, threads: int | None,
                     block: int | None, progress: bool) -> np.ndarray:
    """Exact quantiles of ``|cos|`` over the pairs of ``R`` from the first pass's histogram."""
    k = len(R)
    total = k * (k - 1) // 2
    n = R.n
    err32 = screening_error_bound(n, _U32) + _SLACK
    h = q * (total - 1)
    lo = np.floor(h).astype(np.int64)
    ranks = np.unique(np.concatenate([lo, np.minimum(lo + 1, total - 1)]))
    blo, bhi = _bands(hist, ranks, err32)
    ii, jj, vals, below = _collect(R, blo, bhi, threads=threads, block=block,
                                   progress=progress)
    band = np.searchsorted(blo, vals, side="right") - 1
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

    levels = [(lambda idx: vals[idx].astype(np.float64), err32), (float64_of, _err64(n)),
              (exact_of, 0.0)]
    values = {}
    for r in ranks.tolist():
        # the band holding the rank's pairs: every pair below it is exactly below the rank's
        # value (its screened value is below the band), every pair above it above
        t = int(np.searchsorted(below, r, side="right")) - 1
        sub = np.flatnonzero(band == t)
        values[r] = _kth(levels, sub, r - int(below[t]))
    t_ = h - lo
    a_ = np.array([values[int(r)] for r in lo])
    b_ = np.array([values[int(r)] for r in np.minimum(lo + 1, total - 1)])
    # numpy's linear interpolation (its _lerp)
    diff = b_ - a_
    return np.where(t_ >= 0.5, b_ - diff * (1.0 - t_), a_ + diff * t_)


def _collect(R: _Rows, lo: np.ndarray, hi: np.ndarray, *, threads: int | None,
             block: int | None, progress: bool
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pairs whose screened ``|cos|`` lies in a band ``[lo_t, hi_t]``, with their screened
    values, and the number of pairs below each band (:func:`~suptheory._kernels.pairs.band_block`).
    """
    k = len(R)
    b = min(_COH_BLOCK if block is None else check_int(block, "block", low=1), k)
    w = _kc.CHUNK
    screen = _Screen(R, R, b, w)
    tiles = ((r0, c0) for r0 in range(0, k, b) for c0 in range(r0, k, w))
    pooled = _tp is not None and (k > b or k > w)
    below = np.zeros(len(lo), dtype=np.int64)

    def tile(t: tuple[int, int], buf: np.ndarray) -> tuple[Any, ...]:
        r0, c0 = t
        r1, c1 = min(k, r0 + b), min(k, c0 + w)
        c = screen(r0, r1, c0, c1, buf)
        rows = np.arange(r0, r1)
        done = int(np.maximum(0, c1 - np.maximum(c0, rows + 1)).sum())
        return (*_kp.band_block(c, r0, c0, True, lo, hi), done)

    parts: list[tuple[np.ndarray, ...]] = []
    with num_threads(threads) as nt_, _blas_threads(1 if pooled else None), \
            ChunkRunner(k * (k - 1) // 2, "overlap quantiles", progress, unit="pair",
                        min_done=0, min_total=2**25) as run, \
            closing(_tile_results(tile, tiles, nt_ if pooled else 1, screen.size)) as results:
        for ii, jj, vv, bl, done in results:
            parts.append((ii, jj, vv))
            below += bl
            run.update(done)
    if run.interrupted:
        raise KeyboardInterrupt
    if not parts:
        return (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32), below)
    ii, jj, vv = (np.concatenate(p) for p in zip(*parts, strict=True))
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


def pair_statistics(W: Any, *, top_k: int = 100, thresholds: Any = (), quantiles: Any = (),
                    threads: int | None = None, block: int | None = None,
                    progress: bool = True) -> PairStatistics:
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
    threads, block, progress
        As in :func:`suptheory.coherence`.

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
    W = _embedding(W)
    top_k = check_int(top_k, "top_k", low=0)
    thr = _check_thresholds(thresholds) if np.size(thresholds) else np.zeros(0)
    qa = _check_q(quantiles) if np.size(quantiles) else np.zeros(0)
    nthreads = _threads(threads)
    m, n = W.shape
    if n * _U32 >= 0.25:
        raise ValueError(f"W has n = {n} columns; pair_statistics supports n < {2**22:,}")
    R = _rows(W, nthreads)
    k = len(R)
    pairs = k * (k - 1) // 2
    if len(qa) and pairs == 0:
        raise ValueError("overlap quantiles need at least two nonzero rows (one pair)")
    nbins = _nbins(n) if len(qa) else 0
    if k >= 2:
        P = _screened_pass(R, None, signed=False, top_k=top_k, thresholds=thr, nbins=nbins,
                           threads=nthreads, block=block, progress=progress,
                           desc="pair statistics")
        best, cos, arg, counts_k, top, hist, ncand = (P.row_best, P.row_cos, P.row_arg,
                                                      P.counts_r, P.top, P.hist, P.candidates)
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
        vals = _exact_quantiles(R, hist, qa, threads=nthreads, block=block, progress=progress)
        q_values = {float(q): float(v) for q, v in zip(qa, vals, strict=True)}
    if k >= 2:
        i0 = int(np.argmax(max_overlap))  # the first feature attaining the maximum
        pair: tuple[int, int] | None = (i0, int(nearest[i0]))
        coh, ov = float(max_overlap[i0]), float(nearest_overlap[i0])
    else:
        pair, coh, ov = None, 0.0, 0.0
    return PairStatistics(m=m, n=n, zero_rows=R.zero, max_overlap=max_overlap,
                          nearest=nearest, nearest_overlap=nearest_overlap,
                          thresholds=tuple(float(t) for t in thr), counts=counts,
                          top_pairs=tp, quantiles=q_values, coherence=coh, pair=pair,
                          overlap=ov, pairs=pairs, candidates=ncand)
