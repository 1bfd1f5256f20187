"""The screened passes over a Dask cluster, block row by block row, with a checkpoint.

:func:`suptheory.coherence`, :func:`suptheory.pair_statistics` and :func:`suptheory.analyze`
take ``client=`` (a ``dask.distributed.Client``). The matrix is never sent: it must be a
file (a path, or an array mapped from one, such as ``np.load(path, mmap_mode="r")`` or
:func:`~suptheory.analysis.loading.load_embedding`), and each task receives
``(path, key, rows)``, maps the file itself and screens the tiles of its block rows against
every later row. The per-row data the exact re-checks need (exponents and double-double
squared norms, ``O(m)``) is computed once here and broadcast. Each task returns the partial
result of its rows (the best pair; or per-feature maxima, counts, the top pairs, histogram
counts and collected pairs), merged here exactly as the local pass merges its tiles: the
results are bit-identical to a local run. Dask re-runs the tasks of a worker that dies.

With ``checkpoint=path.db`` every finished block row is written to an SQLite file in its
own transaction (write-ahead log, ``synchronous=FULL``: a row is there whole or not at all,
whatever kills the process), keyed by the file's identity (path, size, modification time,
key), the pass and its options; a run started again with the same file resumes from the
rows it finds and computes only the others.

:func:`estimate_analysis_time` measures this machine's tile rate and predicts the wall time
of a whole dictionary, on one machine and per number of workers.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from suptheory._runner import ChunkRunner
from suptheory._validate import check_int
from suptheory.analysis._rows import RowSet

__all__ = [
    "AnalysisEstimate",
    "Distributed",
    "distributed_coherence",
    "estimate_analysis_time",
    "open_source",
]

log = logging.getLogger(__name__)

#: block rows per task by default (of ``block`` rows each)
_BLOCKS_PER_TASK = 8


@dataclass(frozen=True)
class _Source:
    """Where the workers find the matrix: a path and a key, or a raw memory map's layout."""

    path: str
    key: str | None = None
    offset: int = 0
    shape: tuple[int, ...] | None = None  # a raw np.memmap (not a .npy file)
    dtype: str | None = None
    order: str = "C"

    def open(self) -> np.ndarray:
        """Map the file (read-only)."""
        out: np.ndarray
        if self.shape is not None:
            out = np.memmap(
                self.path,
                dtype=str(self.dtype),
                mode="r",
                offset=self.offset,
                shape=self.shape,
                order="C",
            )
            return out
        from suptheory.analysis.loading import load_embedding

        out = np.asarray(load_embedding(self.path, key=self.key, mmap=True))
        return out

    def identity(self) -> str:
        """The file's identity: its path, size and modification time, and the array's key."""
        st = os.stat(self.path)
        return (
            f"{os.path.realpath(self.path)}|{st.st_size}|{st.st_mtime_ns}|{self.key}|"
            f"{self.offset}|{self.shape}|{self.dtype}|{self.order}"
        )


def _source_of(W: Any) -> _Source | None:
    if isinstance(W, (str, os.PathLike)):
        return _Source(os.fspath(W))
    if isinstance(W, tuple) and len(W) == 2 and isinstance(W[0], (str, os.PathLike)):
        return _Source(os.fspath(W[0]), W[1])
    if isinstance(W, _Source):
        return W
    # an np.memmap, or an array whose base is one (np.load(mmap_mode="r") gives a memmap)
    base = W
    while base is not None and not isinstance(base, np.memmap):
        base = getattr(base, "base", None)
    if isinstance(base, np.memmap) and base.filename is not None and isinstance(W, np.ndarray):
        if W.ndim == 2 and W.flags.c_contiguous and base.ctypes.data == W.ctypes.data:
            if str(base.filename).endswith(".npy"):
                return _Source(str(base.filename))
            return _Source(
                str(base.filename), None, int(base.offset), tuple(W.shape), W.dtype.str, "C"
            )
    return None


def open_source(W: Any) -> tuple[np.ndarray, _Source]:
    """The matrix of a path (or ``(path, key)``) or file-backed array, mapped, and its source.

    Raises
    ------
    ValueError
        If ``W`` has no backing file: the workers read the matrix from the file.
    """
    src = _source_of(W)
    if src is None:
        raise ValueError(
            "with client=, W must be a file path, (path, key), or an array "
            "memory-mapped from a file (np.load(path, mmap_mode='r'), "
            "load_embedding(path)): the workers map the file themselves"
        )
    arr = W if isinstance(W, np.ndarray) else src.open()
    return arr, src


# --- worker side -------------------------------------------------------------------------

_CACHE: dict[str, RowSet] = {}
_CACHE_LOCK = threading.Lock()


def _worker_rows(src: _Source, token: str, rowdata: dict[str, Any]) -> RowSet:
    with _CACHE_LOCK:
        R = _CACHE.get(token)
        if R is None:
            X = src.open()
            R = RowSet(
                X if rowdata["copy"] is None else rowdata["copy"],
                rowdata["rid"],
                rowdata["sc"],
                rowdata["s_hi"],
                rowdata["s_lo"],
                rowdata["rn"],
                rowdata["keep"],
                rowdata["zero"],
                rowdata["m"],
                rowdata["n"],
            )
            _CACHE.clear()  # one matrix at a time per worker
            _CACHE[token] = R
    return R


def _task(
    src: _Source,
    token: str,
    rowdata: dict[str, Any],
    kind: str,
    params: dict[str, Any],
    lo: int,
    hi: int,
) -> Any:
    """One task: the tiles of block rows ``lo <= r0 < hi`` (a worker process runs it)."""
    R = _worker_rows(src, token, rowdata)
    if kind == "coherence":
        from suptheory.analysis.coherence import _coherence_rows

        return _coherence_rows(R, params["block"], lo, hi, None, False)
    from suptheory.analysis import pairs as _p

    if kind == "stats":
        P = _p._screened_pass(
            R,
            None,
            threads=None,
            block=params["block"],
            progress=False,
            row_range=(lo, hi),
            **params["kw"],
        )
        return (
            P.row_best[lo:],
            P.row_cos[lo:],
            P.row_arg[lo:],
            P.counts_r[lo:],
            P.top,
            P.hist,
            P.candidates,
            P.band,
        )
    if kind == "collect":
        return _p._collect(
            R,
            params["lo"],
            params["hi"],
            threads=None,
            block=params["block"],
            progress=False,
            row_range=(lo, hi),
        )
    raise ValueError(kind)  # pragma: no cover


# --- checkpoint ----------------------------------------------------------------------------


class _Checkpoint:
    """Finished block rows in an SQLite file, one transaction each (atomic, durable)."""

    def __init__(self, path: Any) -> None:
        self.path = os.fspath(path)
        self._conn = sqlite3.connect(
            self.path, timeout=60, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS blocks (run TEXT NOT NULL, "
            "lo INTEGER NOT NULL, hi INTEGER NOT NULL, result BLOB NOT NULL, "
            "PRIMARY KEY (run, lo))"
        )

    def done(self, run: str) -> dict[int, Any]:
        rows = self._conn.execute("SELECT lo, result FROM blocks WHERE run = ?", (run,))
        return {int(lo): pickle.loads(blob) for lo, blob in rows}

    def add(self, run: str, lo: int, hi: int, result: Any) -> None:
        blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        self._conn.execute("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?, ?)", (run, lo, hi, blob))

    def close(self) -> None:
        self._conn.close()


# --- client side ----------------------------------------------------------------------------


class Distributed:
    """The passes of one matrix over a Dask cluster (see the module notes)."""

    def __init__(
        self,
        src: _Source,
        R: RowSet,
        client: Any,
        *,
        block: int,
        checkpoint: Any = None,
        progress: bool = True,
        rows_per_task: int | None = None,
    ) -> None:
        self.src = src
        self.R = R
        self.client = client
        self.block = min(check_int(block, "block", low=1), max(len(R), 1))
        per = (
            self.block * _BLOCKS_PER_TASK
            if rows_per_task is None
            else check_int(rows_per_task, "rows_per_task", low=1)
        )
        self.rows_per_task = max(self.block, per // self.block * self.block)
        self.checkpoint = None if checkpoint is None else _Checkpoint(checkpoint)
        self.progress = progress
        ident = src.identity()
        self.token = hashlib.sha256(f"{ident}|{len(R)}|{R.n}".encode()).hexdigest()[:24]
        rowdata = {
            "rid": R.rid,
            "sc": R.sc,
            "s_hi": R.s_hi,
            "s_lo": R.s_lo,
            "rn": R.rn,
            "keep": R.keep,
            "zero": R.zero,
            "m": R.m,
            "n": R.n,
            # float64 rows below 2^-1022: their prescaled copy travels (rare)
            "copy": None if R.X.shape[0] == R.m else R.X,
        }
        # one object under a fresh key (a dict would be scattered value by value, under its
        # own keys 'rid', 'sc', ...: shared by every run, released by whichever ends first)
        self._rowdata = client.scatter([rowdata], broadcast=True, hash=False)[0]
        #: block rows computed and loaded from the checkpoint in the last pass
        self.computed = 0
        self.resumed = 0

    def _run(self, kind: str, params: dict[str, Any]) -> list[Any]:
        from dask.distributed import as_completed

        k = len(self.R)
        ranges = [(lo, min(k, lo + self.rows_per_task)) for lo in range(0, k, self.rows_per_task)]
        run = hashlib.sha256(
            pickle.dumps((self.token, kind, _params_key(params), self.block, self.rows_per_task))
        ).hexdigest()[:32]
        results: dict[int, Any] = {}
        if self.checkpoint is not None:
            results = self.checkpoint.done(run)
        self.resumed = len(results)
        self.computed = 0
        todo = [r for r in ranges if r[0] not in results]
        if self.resumed:
            log.info(
                "resuming %s: %d of %d block rows from %s",
                kind,
                self.resumed,
                len(ranges),
                self.checkpoint.path if self.checkpoint else "",
            )
        futures = {}
        # a fresh key per run: a key of a cancelled run is never reused
        nonce = os.urandom(4).hex()
        for lo, hi in todo:
            f = self.client.submit(
                _task,
                self.src,
                self.token,
                self._rowdata,
                kind,
                params,
                lo,
                hi,
                key=f"suptheory-{kind}-{run}-{lo}-{nonce}",
                pure=False,
                retries=3,
            )
            futures[f] = (lo, hi)

        def pairs(lo: int, hi: int) -> int:  # pairs i < j with lo <= i < hi
            return (hi - lo) * (2 * k - lo - hi - 1) // 2

        total = pairs(0, k)
        try:
            # progress as tasks finish (a bar on a terminal, plain lines in a log); Ctrl-C
            # propagates (min_done above the total): the checkpoint keeps the finished tasks
            with ChunkRunner(
                total,
                f"{kind} on the cluster",
                self.progress,
                unit="pair",
                min_done=total + 1,
                min_total=2**25,
            ) as bar:
                if self.resumed:
                    bar.update(sum(pairs(lo, hi) for lo, hi in ranges if lo in results))
                for f in as_completed(list(futures)):  # type: ignore[no-untyped-call]
                    lo, hi = futures[f]
                    res = f.result()
                    if self.checkpoint is not None:
                        self.checkpoint.add(run, lo, hi, res)
                    results[lo] = res
                    self.computed += 1
                    bar.update(pairs(lo, hi))
        except BaseException:
            self.client.cancel(list(futures))
            raise
        return [results[lo] for lo, _ in ranges]

    def coherence(self) -> tuple[float, float, int, int, int]:
        """The coherence scan: ``(value, cos, i, j, candidates)`` in set indices."""
        best, best_cos, bi, bj, ncand = -1.0, 0.0, -1, -1, 0
        for val, cs, i, j, nc in self._run("coherence", {"block": self.block}):
            ncand += nc
            if val >= 0 and (val > best or (val == best and (i, j) < (bi, bj))):
                best, best_cos, bi, bj = val, cs, i, j
        return best, best_cos, bi, bj, ncand

    def stats(
        self,
        *,
        signed: bool,
        top_k: int,
        thresholds: np.ndarray,
        nbins: int,
        desc: str,
        bands: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Any:
        """The first pass of :func:`~suptheory.pair_statistics`, merged from every task."""
        from suptheory.analysis import pairs as _p

        k = len(self.R)
        kw = {
            "signed": signed,
            "top_k": top_k,
            "thresholds": thresholds,
            "nbins": nbins,
            "desc": desc,
            "bands": bands,
        }
        parts = self._run("stats", {"block": self.block, "kw": kw})
        best = np.full(k, -np.inf)
        cos = np.zeros(k)
        arg = np.full(k, -1, dtype=np.int64)
        counts = np.zeros((k, len(thresholds)), dtype=np.int64)
        top: tuple[np.ndarray, ...] = (
            np.empty(0),
            np.empty(0),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
        )
        hist = np.zeros(nbins, dtype=np.int64)
        ncand = 0
        band_parts: list[tuple[np.ndarray, ...]] = []
        below = np.zeros(0 if bands is None else len(bands[0]), dtype=np.int64)
        for (lo, _), (rb, rc, ra, cn, tp, h, nc, band) in zip(self._ranges(), parts, strict=True):
            sl = slice(lo, k)
            upd = _p._better(rb, ra, best[sl], arg[sl])
            best[sl] = np.where(upd, rb, best[sl])
            cos[sl] = np.where(upd, rc, cos[sl])
            arg[sl] = np.where(upd, ra, arg[sl])
            counts[sl] += cn
            if top_k and len(tp[0]):
                top = _p._merge_top(top, tp, top_k)
            if nbins:
                hist += h
            ncand += nc
            if band is not None:
                band_parts.append(band[:3])
                below += band[3]
        got = None if bands is None else (*_p._concat_band(band_parts), below)
        return _p._Pass(
            best, cos, arg, best, cos, arg, counts, counts, top, hist, ncand, False, got
        )

    def collect(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
        """The quantiles' second pass: the pairs inside the bands, and counts below."""
        from suptheory.analysis import pairs as _p

        parts = self._run("collect", {"block": self.block, "lo": lo, "hi": hi})
        below = np.zeros(len(lo), dtype=np.int64)
        for p in parts:
            below += p[3]
        return (*_p._concat_band([p[:3] for p in parts]), below)

    def _ranges(self) -> list[tuple[int, int]]:
        k = len(self.R)
        return [(lo, min(k, lo + self.rows_per_task)) for lo in range(0, k, self.rows_per_task)]


def _params_key(params: dict[str, Any]) -> Any:
    """A picklable, stable key of a pass's options (arrays by their bytes)."""

    def key(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            return ("array", v.dtype.str, v.shape, v.tobytes())
        if isinstance(v, dict):
            return tuple(sorted((k, key(x)) for k, x in v.items()))
        if isinstance(v, (tuple, list)):
            return tuple(key(x) for x in v)
        return v

    return key(params)


def distributed_coherence(
    src: _Source,
    R: RowSet,
    *,
    client: Any,
    block: int,
    checkpoint: Any = None,
    progress: bool = True,
    rows_per_task: int | None = None,
) -> tuple[float, float, int, int, int]:
    """The coherence scan of :func:`suptheory.coherence` over a Dask cluster."""
    d = Distributed(
        src,
        R,
        client,
        block=block,
        checkpoint=checkpoint,
        progress=progress,
        rows_per_task=rows_per_task,
    )
    try:
        return d.coherence()
    finally:
        if d.checkpoint is not None:
            d.checkpoint.close()


# --- estimate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisEstimate:
    """A predicted wall time for the screened passes of an ``(m, n)`` dictionary.

    Attributes
    ----------
    m, n : int
    pairs : int
        ``m (m - 1) / 2``.
    tile_rate : float
        Pairs per second one machine screened (measured on a tile of width ``n``, with the
        per-feature statistics, all its threads).
    passes : float
        Passes over the pairs: 1 for ``analyze``'s statistics, one more where its exact
        quantiles cannot be collected in the same pass (about ``m > 45,000``).
    seconds : float
        Predicted wall time on this machine.
    workers : int
        Workers of the distributed estimate (each like this machine).
    seconds_distributed : float
        Predicted wall time on ``workers`` such machines (no overheads).
    measured : bool
        Whether the rate was measured (else a nominal 50 GFLOP/s).
    """

    m: int
    n: int
    pairs: int
    tile_rate: float
    passes: float
    seconds: float
    workers: int
    seconds_distributed: float
    measured: bool

    def __str__(self) -> str:
        how = "measured" if self.measured else "nominal"
        return (
            f"analysis of {self.m:,} x {self.n:,}: {self.pairs:,} pairs, {self.passes:g} "
            f"passes at {self.tile_rate:.3g} pairs/s ({how} tile rate): "
            f"{_hms(self.seconds)} on this machine, "
            f"{_hms(self.seconds_distributed)} on {self.workers} such workers"
        )


def _hms(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def estimate_analysis_time(
    m: int,
    n: int,
    *,
    workers: int = 1,
    measure: bool = True,
    passes: float | None = None,
    seconds: float = 3.0,
    quantiles: Any = (0.5, 0.99),
) -> AnalysisEstimate:
    """Predict the wall time of :func:`suptheory.analyze` on an ``(m, n)`` dictionary.

    Screens random tiles of width ``n`` with the per-feature statistics (the first pass of
    :func:`~suptheory.pair_statistics`) on all of this machine's threads for about
    ``seconds``, and scales the rate to the ``m (m - 1) / 2`` pairs and ``passes`` passes,
    then divides by ``workers`` machines like this one (the ideal: each worker maps the
    file and screens its block rows; the per-row data is ``O(m)``). By default ``passes``
    follows ``quantiles`` (``analyze``'s): one pass, and a second where the exact quantiles
    of that many pairs cannot be collected in the first (about ``m > 45,000``;
    :func:`suptheory.analysis.pairs.quantile_passes`).

    Examples
    --------
    >>> e = estimate_analysis_time(1_000_000, 2304, workers=100, measure=False)
    >>> e.pairs, e.passes, e.measured
    (499999500000, 2.0, False)
    >>> estimate_analysis_time(30_522, 384, measure=False).passes
    1.0
    """
    m = check_int(m, "m", low=2)
    n = check_int(n, "n", low=1)
    workers = check_int(workers, "workers", low=1)
    pairs = m * (m - 1) // 2
    if passes is None:
        from suptheory.analysis.pairs import quantile_passes

        passes = 1.0 + quantile_passes(m, quantiles)
    passes = float(passes)
    if not (math.isfinite(passes) and passes > 0):
        raise ValueError(f"passes must be a finite number > 0; got {passes!r}")
    if measure:
        rate = _measure_rate(n, seconds)
    else:
        rate = 50e9 / (2.0 * n)  # a nominal 50 GFLOP/s
    total = passes * pairs / rate
    return AnalysisEstimate(m, n, pairs, rate, passes, total, workers, total / workers, measure)


def _measure_rate(n: int, seconds: float) -> float:
    from suptheory.analysis._rows import row_set
    from suptheory.analysis.pairs import _screened_pass

    rng = np.random.default_rng(0)
    # rows enough for full tiles on every thread: a 4096-row block row against 8192 rows
    k = 8192
    W = rng.standard_normal((k, n), dtype=np.float32)
    R = row_set(W)
    _screened_pass(
        R,
        None,
        signed=False,
        top_k=100,
        thresholds=np.zeros(0),
        nbins=0,
        threads=None,
        block=None,
        progress=False,
        desc="estimate",
        row_range=(0, 512),
    )  # compile / warm up
    done = 0
    t0 = time.perf_counter()
    lo = 512
    while True:
        hi = min(k - 512, lo + 1024)
        _screened_pass(
            R,
            None,
            signed=False,
            top_k=100,
            thresholds=np.zeros(0),
            nbins=0,
            threads=None,
            block=None,
            progress=False,
            desc="estimate",
            row_range=(lo, hi),
        )
        done += sum(
            (min(k, r0 + 512) - r0) * (2 * k - r0 - min(k, r0 + 512) - 1) // 2
            for r0 in range(lo, hi, 512)
        )
        lo = hi if hi < k - 512 else 512
        if time.perf_counter() - t0 >= seconds:
            break
    return done / (time.perf_counter() - t0) if done else math.nan
