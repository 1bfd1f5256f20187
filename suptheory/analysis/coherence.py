"""Exact coherence and the overlap distribution of an embedding ``W`` of shape ``(m, n)``.

``coherence`` is the exact largest overlap ``max_{i<j} |cos(W_i, W_j)|`` of matrices far too
large for an ``m x m`` Gram matrix: float32 GEMM blocks screen every pair with a rigorous
error bound and the few candidates are re-checked exactly, so the answer is the exact value
rounded once to float64. The overlap histogram and quantiles go over all pairs in float64
blocks. Memory is ``O(block * m + m * n)`` throughout. The per-feature metrics, which need no
pairs, are in :mod:`suptheory.analysis.metrics`.

Zero rows have no direction: they are excluded from every overlap and listed in the result
(``zero_rows``); their feature dimensionality is 0.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from suptheory._kernels import coherence as _k
from suptheory._kernels.jit import num_threads
from suptheory._runner import ChunkRunner, progress_bar
from suptheory._validate import check_bool, check_int
from suptheory.analysis._rows import RowSet, _embedding, _unit_rows, row_set

__all__ = [
    "CoherenceResult",
    "coherence",
    "screening_error_bound",
    "overlap_histogram",
    "overlap_quantiles",
]

#: float32 unit roundoff
_U32 = 2.0**-24
#: extra margin (absolute, on |cos| <= 1) covering the float64 steps of the screen and
#: results that round to the same float64 as the maximum
_SLACK = 2.0**-40


def _threads(threads: Any) -> int | None:
    return None if threads is None else check_int(threads, "threads", low=1)


def _block(block: Any, m: int, bytes_per: int, budget: int = 64 * 2**20) -> int:
    if block is not None:
        return check_int(block, "block", low=1)
    # a block row of the screen holds block * m values: keep it near `budget` bytes
    b = budget // max(1, m * bytes_per)
    b = 1 << max(7, min(10, int(b).bit_length() - 1)) if b >= 1 else 128
    return max(1, min(b, m))


def screening_error_bound(n: int, unit_roundoff: float = _U32) -> float:
    r"""Rigorous bound on ``|c - cos|`` for a cosine screened in low precision.

    The rows are normalised in float64, rounded to the screening precision (relative error
    ``d = u + 2^{-51}`` per entry) and multiplied by a GEMM of inner length ``n``, whose
    error for any summation order is at most :math:`\gamma_n \sum_k |v_{ik} v_{jk}|`:

    .. math::

        |c_{ij} - \cos_{ij}| \le \gamma_n (1 + d)^2 + 2 d + d^2 + n\,2^{-140},
        \qquad \gamma_n = \frac{n u}{1 - n u}.

    References
    ----------
    Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM 2002, Lemma 3.1
    and eq. (3.5) (dot products in any order).

    Examples
    --------
    >>> print(f"{screening_error_bound(256):.3g}")
    1.54e-05
    """
    nu = n * unit_roundoff
    if nu >= 0.5:
        raise ValueError(f"n = {n} is too large for screening with unit roundoff {unit_roundoff}")
    gamma = nu / (1.0 - nu)
    d = unit_roundoff + 2.0**-51
    return gamma * (1.0 + d) ** 2 + 2.0 * d + d * d + n * 2.0**-140


#: rows per screening tile (its columns: ``_k.CHUNK``); a 512 x 2048 float32 tile (4 MiB)
#: is large enough for a near-peak single-threaded sgemm and stays in cache for its scan
_COH_BLOCK = 512

_tp: Any
try:  # optional: pins BLAS to one thread while worker threads each run their own GEMM
    import threadpoolctl

    _tp = threadpoolctl
except ImportError:  # pragma: no cover - without it, one worker and BLAS's own threads
    _tp = None


@contextmanager
def _blas_threads(limit: int | None) -> Iterator[None]:
    if limit is None or _tp is None:
        yield
        return
    with _tp.threadpool_limits(limits=limit, user_api="blas"):
        yield


def _tile_results(
    fn: Callable[[Any, np.ndarray], Any], tiles: Iterable[Any], workers: int, size: int
) -> Generator[Any, None, None]:
    """``fn(tile, buffer)`` for each tile, in order, on ``workers`` threads.

    Each thread owns one float32 buffer of ``size``; at most ``2 workers`` tiles are in
    flight, so memory does not grow with the number of tiles. On an exception (Ctrl-C) the
    queued tiles are cancelled and the running ones finish.
    """
    if workers <= 1:
        buf = np.empty(size, dtype=np.float32)
        for t in tiles:
            yield fn(t, buf)
        return
    local = threading.local()

    def run(t: Any) -> Any:
        buf = getattr(local, "buf", None)
        if buf is None:
            buf = local.buf = np.empty(size, dtype=np.float32)
        return fn(t, buf)

    pending: deque[Future[Any]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="suptheory-coherence") as pool:
        try:
            for t in tiles:
                pending.append(pool.submit(run, t))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


class _Screen:
    """Float32 GEMM tiles of screened cosines, their factors built from row sets on the fly.

    No float32 copy of the matrix is kept: each tile's left rows (``b x n``, reused while a
    thread stays in one block row) and right rows (``w x n``) are rounded from the rows as
    read (:meth:`RowSet.unit_block`) into the thread's buffer, next to the tile itself. The
    two factors are separate buffers, so numpy calls GEMM (never its SYRK shortcut for
    ``v @ v.T``, which OpenBLAS has crashed in, numpy#19685, and miscomputed, numpy#31776).
    """

    def __init__(self, A: RowSet, B: RowSet, b: int, w: int) -> None:
        # no wider than the matrices: a wide W (n large, few rows) gets small buffers
        b, w = max(1, min(b, len(A))), max(1, min(w, len(B)))
        self.A, self.B, self.b, self.w, self.n = A, B, b, w, A.n
        #: float32 values per thread buffer: the tile and its two factors
        self.size = b * w + (b + w) * A.n
        self._local = threading.local()

    def __call__(self, r0: int, r1: int, c0: int, c1: int, buf: np.ndarray) -> np.ndarray:
        b, w, n = self.b, self.w, self.n
        c = buf[: (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
        left = buf[b * w : b * w + b * n].reshape(b, n)
        right = buf[b * w + b * n : self.size].reshape(w, n)
        key = (id(buf), r0, r1)
        if getattr(self._local, "key", None) != key:
            self.A.unit_block(r0, r1, left)
            self._local.key = key
        self.B.unit_block(c0, c1, right)
        np.matmul(left[: r1 - r0], right[: c1 - c0].T, out=c)
        return c


@dataclass(frozen=True)
class CoherenceResult:
    """The coherence of an embedding: the largest ``|cos|`` over pairs of nonzero rows.

    Attributes
    ----------
    value : float
        ``max_{i<j} |cos(W_i, W_j)|`` over nonzero rows, the exact value rounded once to
        float64; 0.0 when there is no pair (fewer than two nonzero rows).
    i, j : int or None
        The arg-max pair (row indices of ``W``, ``i < j``): the lexicographically first pair
        whose float64 ``|cos|`` equals ``value``; ``None`` when there is no pair.
    overlap : float
        The signed cosine of that pair (``-1`` for an antipodal pair); 0.0 without a pair.
    m, n : int
        Shape of ``W``.
    zero_rows : tuple of int
        Indices of rows that are exactly zero (no direction: excluded from the pairs).
    pairs : int
        Number of pairs compared, ``k (k - 1) / 2`` for ``k`` nonzero rows.
    candidates : int
        Pairs re-checked in exact arithmetic after the float32 screen.
    """

    value: float
    i: int | None
    j: int | None
    overlap: float
    m: int
    n: int
    zero_rows: tuple[int, ...] = field(repr=False)
    pairs: int
    candidates: int = field(compare=False)

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        pair = "no pair" if self.i is None else f"pair=({self.i}, {self.j})"
        zeros = f", zero_rows={len(self.zero_rows)}" if len(self.zero_rows) else ""
        return (
            f"CoherenceResult(value={self.value:.6g}, {pair}, overlap={self.overlap:.6g}, "
            f"m={self.m}, n={self.n}{zeros})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "value": self.value,
            "i": self.i,
            "j": self.j,
            "overlap": self.overlap,
            "m": self.m,
            "n": self.n,
            "zero_rows": list(self.zero_rows),
            "pairs": self.pairs,
            "candidates": self.candidates,
        }


def _coherence_rows(
    R: RowSet, block: int, lo: int, hi: int, threads: int | None, progress: bool
) -> tuple[float, float, int, int, int]:
    """The exact best pair of the tiles of block rows ``lo <= r0 < hi`` (set indices).

    Returns ``(value, cos, i, j, candidates)`` (``value = -1`` without a pair).
    """
    k = len(R)
    n = R.n
    err = screening_error_bound(n, _U32)
    b = min(block, k)
    w = _k.CHUNK
    screen = _Screen(R, R, b, w)
    A = R.kernel
    tiles = ((r0, c0) for r0 in range(lo, hi, b) for c0 in range(r0, k, w))
    # worker threads when there is more than one tile and BLAS can be held to one thread
    pooled = _tp is not None and (k > b or k > w)
    state = {"best": -1.0}

    def tile(t: tuple[int, int], buf: np.ndarray) -> tuple[Any, ...]:
        r0, c0 = t
        r1, c1 = min(k, r0 + b), min(k, c0 + w)
        c = screen(r0, r1, c0, c1, buf)
        out = (
            np.empty(1),
            np.empty(1),
            np.empty(1, np.int64),
            np.empty(1, np.int64),
            np.empty(1, np.int64),
        )
        # `lower` may come from any screened pair: a pair it excludes cannot be the maximum,
        # so only the candidate count (not the result) depends on the tiles' timing
        _k.scan_block(c, c.view(np.int32), r0, c0, state["best"], err, _SLACK, A, *out)
        # pairs i < j of the tile, for the progress bar
        rows = np.arange(r0, r1)
        done = int(np.maximum(0, c1 - np.maximum(c0, rows + 1)).sum())
        return (*out, done)

    best, best_cos, bi, bj, ncand = -1.0, 0.0, -1, -1, 0
    total = sum(
        (min(k, r0 + b) - r0) * (2 * k - r0 - min(k, r0 + b) - 1) // 2 for r0 in range(lo, hi, b)
    )
    # a bar only where it is worth one (tens of millions of pairs and up)
    with (
        num_threads(threads) as nt,
        _blas_threads(1 if pooled else None),
        progress_bar(
            total, "coherence", progress and total >= 2**25, unit="pair", unit_scale=True
        ) as bar,
    ):
        # each tile is scanned right after its GEMM, while it is still in cache, from a
        # reused buffer: a whole block row per GEMM followed by a separate scan would stream
        # every value through memory twice. Worker threads, each with its own single-threaded
        # GEMM (the kernels release the GIL), let the scan scale with the cores too
        # (benchmarks/coherence.py measures the rate against a bare GEMM)
        with closing(_tile_results(tile, tiles, nt if pooled else 1, screen.size)) as results:
            for val, cs, oi, oj, oc, done in results:
                ncand += int(oc[0])
                if val[0] >= 0:
                    pair = (int(oi[0]), int(oj[0]))
                    if val[0] > best or (val[0] == best and pair < (bi, bj)):
                        best, best_cos, bi, bj = float(val[0]), float(cs[0]), pair[0], pair[1]
                        state["best"] = best
                bar.update(done)
    return best, best_cos, bi, bj, ncand


def coherence(
    W: Any,
    *,
    threads: int | None = None,
    block: int | None = None,
    progress: bool = True,
    client: Any = None,
    checkpoint: Any = None,
    rows_per_task: int | None = None,
) -> CoherenceResult:
    r"""Exact coherence (largest absolute cosine between two rows) of an embedding.

    .. math::

        \mu(W) = \max_{i < j} \frac{|\langle W_i, W_j \rangle|}{\|W_i\| \, \|W_j\|}

    over the nonzero rows. Memory is ``O(block * threads + m * n)``, never ``m x m``. Every
    pair is screened with float32 GEMM tiles; the error of a screened cosine is at most
    ``err`` (:func:`screening_error_bound`), so only pairs within ``2 err`` of a block's
    largest screened value can be the maximum. Those are re-checked in double-double
    arithmetic from the float64 rows; the result is the exact maximum rounded once to
    float64 (correctly rounded unless it lies within about ``n^2 2^-106``, an absolute
    distance, of a rounding midpoint: always for values above about ``n^2 2^-52``; a
    coherence near 0 is within that distance of the exact value), identical for any
    ``threads`` and ``block``.

    Parameters
    ----------
    W : array_like, shape (m, n)
        The embedding; rows are features (float32 or float64; other real types become float64).
    threads : int, optional
        Worker threads (default: numba's current setting), each running its own
        single-threaded float32 GEMM on a tile and scanning it; BLAS is held to one thread
        meanwhile (with ``threadpoolctl``; without it, one worker and BLAS's own threads).
    block : int, optional
        Rows per GEMM tile (default 512; tiles are 2048 columns wide).
    progress : bool
        Show a progress bar on a terminal.
    client : dask.distributed.Client, optional
        Distribute the block rows of tiles over a Dask cluster
        (:mod:`suptheory.analysis.distributed`): ``W`` must then be a file path or an
        array backed by a file (a memory map), which each worker maps itself; the result is
        bit-identical to the local run.
    checkpoint : str or path-like, optional
        With ``client``: an SQLite file recording every finished block row, so that a run
        started again after a crash resumes where it stopped.
    rows_per_task : int, optional
        With ``client``: rows of ``W`` per task (default ``8 block``).

    Returns
    -------
    CoherenceResult
        ``float(result)`` is the coherence; ``result.i, result.j`` the arg-max pair.
        With fewer than two nonzero rows there is no pair: the value is 0.0 (a lone feature
        interferes with nothing) and ``i = j = None``.

    Raises
    ------
    ValueError
        If ``W`` is not 2-D, is empty, or has NaN or infinite entries.

    References
    ----------
    Donoho & Huo, "Uncertainty principles and ideal atomic decomposition", IEEE Trans. Inf.
    Theory 47 (2001) (mutual coherence); Ogita, Rump & Oishi, SIAM J. Sci. Comput. 26 (2005)
    (``Dot2``); Higham, *Accuracy and Stability of Numerical Algorithms*, 2002 (GEMM bound).

    Examples
    --------
    >>> W = [[1.0, 0.0], [0.6, 0.8], [0.0, -2.0]]
    >>> r = coherence(W, progress=False)
    >>> float(r), r.i, r.j, r.overlap
    (0.8, 1, 2, -0.8)
    """
    check_bool(progress, "progress")
    src = None
    if client is not None:
        from suptheory.analysis.distributed import open_source

        W, src = open_source(W)
    W = _embedding(W)
    nthreads = _threads(threads)
    m, n = W.shape
    if n * _U32 >= 0.25:  # the float32 screen's error bound would pass every pair
        raise ValueError(f"W has n = {n} columns; coherence supports n < {2**22:,}")
    R = row_set(W, nthreads)
    zero_idx = R.zero
    k = len(R)
    pairs = k * (k - 1) // 2
    if k < 2:
        return CoherenceResult(0.0, None, None, 0.0, m, n, zero_idx, 0, 0)
    b = _COH_BLOCK if block is None else check_int(block, "block", low=1)
    if client is not None:
        from suptheory.analysis.distributed import distributed_coherence

        assert src is not None
        best, best_cos, bi, bj, ncand = distributed_coherence(
            src,
            R,
            client=client,
            block=b,
            checkpoint=checkpoint,
            progress=progress,
            rows_per_task=rows_per_task,
        )
    else:
        best, best_cos, bi, bj, ncand = _coherence_rows(R, b, 0, k, nthreads, progress)
    bi, bj = int(R.keep[bi]), int(R.keep[bj])
    return CoherenceResult(best, bi, bj, best_cos, m, n, zero_idx, pairs, ncand)


def _edges(bins: Any) -> np.ndarray:
    if np.ndim(bins) == 0:
        # the counts are (8, bins) int64 per call: 2^24 bins is already a GiB
        nb = check_int(bins, "bins", low=1, high=2**24)
        return np.linspace(0.0, 1.0, nb + 1)
    edges = np.asarray(bins, dtype=np.float64)
    if (
        edges.ndim != 1
        or edges.size < 2
        or not np.all(np.isfinite(edges))
        or np.any(np.diff(edges) <= 0)
    ):
        raise ValueError(
            "bins must be a whole number in [1, 2^24] or a 1-D increasing array of at least 2 "
            "finite edges"
        )
    return edges


def _pair_blocks(
    U: np.ndarray, block: int, desc: str, progress: bool
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(r0, G)`` with ``G = U[r0:r0+block] @ U[r0:].T`` (float64), with a progress bar."""
    k = len(U)
    Ut = np.ascontiguousarray(U.T)  # not a view of U: keeps numpy off its SYRK shortcut
    total = k * (k - 1) // 2
    with progress_bar(
        total, desc, progress and total >= 2**25, unit="pair", unit_scale=True
    ) as bar:
        for r0 in range(0, k, block):
            r1 = min(k, r0 + block)
            yield r0, U[r0:r1] @ Ut[:, r0:]
            bar.update((r1 - r0) * (2 * k - r0 - r1 - 1) // 2)


def overlap_histogram(
    W: Any,
    bins: Any = 50,
    *,
    threads: int | None = None,
    block: int | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Histogram of ``|cos(W_i, W_j)|`` over all pairs ``i < j`` of nonzero rows.

    Blocked float64 GEMMs (memory ``O(block * m)``), counted with :func:`numpy.histogram`'s
    rule (bins ``[e_k, e_{k+1})``, the last one closed); values outside the edges are not
    counted. For random directions the overlap follows the exact Beta law of
    :func:`suptheory.overlap_distribution`.

    .. math::

        h_k = \#\{\, i < j : e_k \le |\hat W_i \cdot \hat W_j| < e_{k+1} \,\}

    Parameters
    ----------
    W : array_like, shape (m, n)
    bins : int or array_like
        A number of equal bins on ``[0, 1]`` or the bin edges.
    threads, block, progress
        As in :func:`coherence`.

    Returns
    -------
    counts : numpy.ndarray of int64
    edges : numpy.ndarray of float64

    References
    ----------
    Cai & Jiang, JMVA 2012 (the law of the overlaps of random directions).

    Examples
    --------
    >>> counts, edges = overlap_histogram(np.eye(3) - 1 / 3, bins=2, progress=False)
    >>> counts.tolist()
    [0, 3]
    """
    check_bool(progress, "progress")
    W = _embedding(W)
    edges = _edges(bins)
    R = row_set(W, _threads(threads))
    b = _block(block, len(R), 8)
    # per-slot integer counts (memory 8 x bins), summed at the end: exact in any order
    part = np.zeros((8, len(edges) - 1), dtype=np.int64)
    with num_threads(_threads(threads)):
        if R.in_place:  # tiles of float64 unit rows made from W in place: no copy of W
            for r0, c0, G in _row_set_tiles(R, b, "overlap histogram", progress):
                _k.histogram_block(G, r0, c0, edges, part)
        else:  # float64 rows below 2^-1022: the prescaled unit rows
            U, _ = _unit_rows(W)
            for r0, G in _pair_blocks(U, b, "overlap histogram", progress):
                _k.histogram_block(G, r0, r0, edges, part)
    counts: np.ndarray = part.sum(axis=0)
    return counts, edges


def _row_set_tiles(
    R: RowSet, block: int, desc: str, progress: bool
) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield ``(r0, c0, G)``: float64 cosines of rows ``r0:r0+block`` with columns from ``c0``.

    The unit rows of each tile are made from the row set in place (memory ``O(block n)``);
    tiles cover every pair ``j > i`` (and some ``j <= i``, which the caller skips).
    """
    k = len(R)
    width = max(block, 4096)
    total = k * (k - 1) // 2
    # a bar on a terminal, plain lines in a log; Ctrl-C propagates (no partial histogram)
    with ChunkRunner(
        total, desc, progress, unit="pair", min_done=total + 1, min_total=2**25
    ) as bar:
        for r0 in range(0, k, block):
            r1 = min(k, r0 + block)
            Ur = R.unit64(r0, r1)
            for c0 in range(r0, k, width):
                c1 = min(k, c0 + width)
                Uc = R.unit64(c0, c1)
                yield r0, c0, Ur @ Uc.T
            bar.update((r1 - r0) * (2 * k - r0 - r1 - 1) // 2)


def overlap_quantiles(
    W: Any,
    q: Any = (0.5, 0.9, 0.99),
    *,
    threads: int | None = None,
    block: int | None = None,
    progress: bool = True,
) -> Any:
    r"""Quantiles of ``|cos(W_i, W_j)|`` over all pairs ``i < j`` of nonzero rows, exactly.

    Same definition as ``numpy.quantile(a, q)`` (linear interpolation between order
    statistics) on the array ``a`` of all pairwise ``|cos|`` (exact values), without forming
    it: one screened float32 pass counts a fine histogram, a second collects only the pairs
    near the wanted order statistics, which are selected exactly
    (:func:`suptheory.analysis.pairs.pair_statistics`). Memory ``O(block * m)`` plus those
    pairs.

    .. math::

        Q(q) = a_{(\lfloor h \rfloor)} + (h - \lfloor h \rfloor)
               (a_{(\lfloor h \rfloor + 1)} - a_{(\lfloor h \rfloor)}),
        \qquad h = q (M - 1),\ M = k (k - 1) / 2

    Returns a float for scalar ``q``, else an array; NaN-free: with no pair (fewer than two
    nonzero rows) a ``ValueError`` is raised.

    References
    ----------
    Hyndman & Fan, "Sample quantiles in statistical packages", Am. Stat. 50 (1996), def. 7.

    Examples
    --------
    >>> overlap_quantiles([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], 0.5, progress=False)
    0.6
    """
    check_bool(progress, "progress")
    from suptheory.analysis.pairs import pair_statistics  # same layer; it imports this module

    W = _embedding(W)
    qa = np.asarray(q, dtype=np.float64)
    if not np.all((qa >= 0) & (qa <= 1)):
        raise ValueError(f"q must be in [0, 1]; got {q!r}")
    s = pair_statistics(
        W, top_k=0, quantiles=qa.reshape(-1), threads=threads, block=block, progress=progress
    )
    out = np.array([s.quantiles[float(v)] for v in qa.reshape(-1)]).reshape(qa.shape)
    return float(out) if out.ndim == 0 else out
