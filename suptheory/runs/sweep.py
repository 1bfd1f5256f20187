"""Sweeps: run a function over a grid of parameters on a process pool or a Dask cluster.

A sweep calls ``function(**point)`` for every point of a grid -- a toy-model training, a
Monte Carlo simulation -- and returns the results in grid order. Points run on a local
process pool by default; any ``concurrent.futures.Executor`` or a ``dask.distributed.Client``
runs the same sweep unchanged. With a store, each finished point is written at once (one
atomic SQLite transaction), and a rerun skips the points already there: a sweep killed at
any moment resumes where it stopped.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import inspect
import itertools
import multiprocessing
import os
import pickle
import select
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from suptheory._runner import progress_bar
from suptheory._validate import check_bool
from suptheory.runs.store import ResultStore, check_params, point_key, split_result

__all__ = ["sweep", "grid_points", "point_seed"]

_EXECUTOR_HELP = (
    "executor must be None (a local process pool), 'serial', a concurrent.futures.Executor "
    "or a dask.distributed.Client"
)


def grid_points(
    grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Expand a grid into its list of points, in sweep order.

    Parameters
    ----------
    grid : dict of lists, or list of dicts
        A dict mapping each parameter name to a list of values means their Cartesian product,
        the first name varying slowest (as in ``itertools.product``). A list of dicts gives
        the points explicitly. Values are scalars: int, float, bool, str, None (numpy
        scalars are converted); each point must differ from the others.

    Returns
    -------
    list of dict

    Raises
    ------
    ValueError
        For an empty grid, an empty list of values, NaN values or a repeated point.
    TypeError
        For a grid of another type, values that are not lists, or non-scalar values.

    Examples
    --------
    >>> grid_points({"n": [10, 20], "model": ["random", "worst"]})
    [{'n': 10, 'model': 'random'}, {'n': 10, 'model': 'worst'},
     {'n': 20, 'model': 'random'}, {'n': 20, 'model': 'worst'}]
    >>> grid_points({"n": []})
    Traceback (most recent call last):
    ...
    ValueError: grid['n'] is empty; every parameter needs at least one value
    """
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid is empty; give a dict of parameter lists or a list of points")
        names = list(grid)
        columns = []
        for name in names:
            values = grid[name]
            if isinstance(values, (str, bytes, Mapping)) or not isinstance(
                values, (Sequence, np.ndarray, range)
            ):
                raise TypeError(
                    f"grid[{name!r}] must be a list of values; got {values!r} "
                    f"(write [{values!r}] for a single value)"
                )
            values = list(values.tolist() if isinstance(values, np.ndarray) else values)
            if not values:
                raise ValueError(
                    f"grid[{name!r}] is empty; every parameter needs at least one value"
                )
            columns.append(values)
        raw: list[Any] = [
            dict(zip(names, combo, strict=True)) for combo in itertools.product(*columns)
        ]
    elif isinstance(grid, (str, bytes)) or not isinstance(grid, Iterable):
        raise TypeError(f"grid must be a dict of parameter lists or a list of dicts; got {grid!r}")
    else:
        raw = list(grid)
        if not raw:
            raise ValueError("grid is empty; give a dict of parameter lists or a list of points")
    points = []
    seen: dict[str, int] = {}
    for index, point in enumerate(raw):
        params = check_params(point, f"grid point {index}")
        if "seed" in params:
            raise ValueError(
                f"grid point {index} has a parameter named 'seed'; the sweep derives each "
                "point's seed from sweep(seed=...) -- name replicates e.g. 'rep' instead"
            )
        key = point_key(params)
        if key in seen:
            raise ValueError(f"grid points {seen[key]} and {index} are the same point {key}")
        seen[key] = index
        points.append(params)
    return points


def point_seed(seed: int, point: Mapping[str, Any]) -> int:
    """The seed of one grid point, derived from the sweep's seed and the point's parameters.

    The point's key (its canonical JSON, see ``suptheory.runs.store.point_key``) is hashed with
    SHA-256 into a ``numpy.random.SeedSequence`` spawn key, so the random seed depends only on
    ``seed`` and the parameters: not on the executor, the order the points run in, or which
    points were already done. It is a non-negative 63-bit int, ready for
    ``numpy.random.default_rng``.

    Examples
    --------
    >>> point_seed(0, {"n": 10}) == point_seed(0, {"n": 10.0})
    True
    >>> point_seed(0, {"n": 10}) == point_seed(1, {"n": 10})
    False

    ``seed=None`` is refused with a TypeError, as by :func:`sweep` (the project's rule: the
    wrong type of argument is a TypeError): numpy would read it as "fresh entropy", a
    different seed on every call, and a point's seed must be reproducible.

    >>> point_seed(None, {"n": 10})
    Traceback (most recent call last):
    ...
    TypeError: seed must be a non-negative int; got None (None would draw a different seed on
    every call; pass e.g. seed=0)
    """
    seed = _check_seed(seed)
    digest = hashlib.sha256(point_key(point).encode()).digest()
    spawn_key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 32, 4))
    sequence = np.random.SeedSequence(seed, spawn_key=spawn_key)
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _check_seed(seed: Any) -> int:
    """The sweep's seed as an int: None and other non-ints are a TypeError, negatives ValueError."""
    if seed is None:
        raise TypeError(
            "seed must be a non-negative int; got None (None would draw a different seed on "
            "every call; pass e.g. seed=0)"
        )
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative int; got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    return int(seed)


def _signature(function: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):  # some builtins have none: pass no seed, check nothing
        return None


def _accepts_seed(signature: inspect.Signature | None) -> bool:
    if signature is None:
        return False
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return True
        if parameter.name == "seed" and parameter.kind is not inspect.Parameter.POSITIONAL_ONLY:
            return True
    return False


def _check_call(
    signature: inspect.Signature | None, params: dict[str, Any], pass_seed: bool
) -> None:
    if signature is None:
        return
    kwargs = dict(params, seed=0) if pass_seed else params
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        raise TypeError(
            f"function cannot be called with the grid's parameters {params}: {exc}"
        ) from None


def _check_picklable(function: Callable[..., Any]) -> None:
    """Refuse early, and clearly, a function that process-pool workers could not load."""
    remedy = (
        "define it at the top level of a module, or pass "
        "executor=concurrent.futures.ThreadPoolExecutor(), a dask.distributed.Client "
        "(it pickles by value) or executor='serial'"
    )
    try:
        pickle.dumps(function)
    except Exception as exc:
        raise TypeError(
            f"function {function!r} cannot be pickled, so it cannot run on a process pool; "
            + remedy
        ) from exc
    inner = function
    while isinstance(inner, functools.partial):
        inner = inner.func
    main = sys.modules.get("__main__")
    if getattr(inner, "__module__", None) == "__main__" and not getattr(main, "__file__", None):
        # Pickled by reference to an interactive __main__ (a notebook, the REPL): the
        # workers, started fresh, have no such module attribute and would fail obscurely.
        raise TypeError(
            f"function {function!r} is defined interactively (a notebook or the REPL), so "
            "process-pool workers cannot import it; " + remedy
        )


def _function_name(function: Callable[..., Any]) -> str | None:
    while isinstance(function, functools.partial):
        function = function.func
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", None)
    if module is None or name is None:
        return None
    return f"{module}:{name}"


def _call(
    function: Callable[..., Any], params: dict[str, Any], seed: int, pass_seed: bool
) -> tuple[dict[str, Any], dict[str, np.ndarray], float]:
    """Run one point (in a worker): call, time, and check the result's contract there."""
    start = time.perf_counter()
    result = function(**params, seed=seed) if pass_seed else function(**params)
    seconds = time.perf_counter() - start
    metrics, arrays = split_result(result, params)
    return metrics, arrays, seconds


def _call_remote(
    function: Callable[..., Any], params: dict[str, Any], seed: int, pass_seed: bool
) -> tuple[dict[str, Any], dict[str, np.ndarray], float]:
    """:func:`_call` in a worker, with an exception the parent can always unpickle.

    An exception that pickles but does not unpickle (e.g. its ``__init__`` takes other
    arguments than ``args``) breaks a process pool in the parent: every pending point then
    fails with ``BrokenProcessPool`` and the sweep blames whichever it sees first. Such an
    exception is replaced here, in the worker, by a ``RuntimeError`` naming its type and
    message (the original, with its traceback, is the remote traceback's cause).
    """
    try:
        return _call(function, params, seed, pass_seed)
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception as why:
            raise RuntimeError(
                f"{type(exc).__module__}.{type(exc).__qualname__}: {exc} (this exception "
                f"cannot be sent back from the worker process: {type(why).__name__}: {why})"
            ) from exc
        raise


#: seconds between two looks at the sweep's process where pidfd_open is missing
_WATCH_INTERVAL = 0.5


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # pragma: no cover - alive, another user's (a reused pid)
        return False
    try:  # dead but not yet reaped by its own parent: a zombie
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):  # no /proc (macOS): kill(pid, 0) succeeded, so alive
        return False


def _watch_parent(pid: int) -> None:
    """End this worker at once when the sweep's process ``pid`` is gone (a daemon thread)."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # already gone, or a kernel without pidfd_open (< 5.3)
            pidfd = None
    if pidfd is not None and not _process_gone(pid):
        select.select([pidfd], [], [])  # readable once the process has exited
    else:
        while not _process_gone(pid):
            time.sleep(_WATCH_INTERVAL)
    os._exit(1)


def _init_worker(threads: int, parent: int) -> None:
    # Each pool worker runs one point at a time; numba kernels inside it should not each
    # start a thread per core (2 workers x 2 threads on 2 cores). Only takes effect if numba
    # is not imported yet; results do not depend on the thread count (house rule).
    os.environ.setdefault("NUMBA_NUM_THREADS", str(threads))
    # Orphaned workers. The workers are children of the forkserver, not of the sweep's
    # process, and hold the write ends of the forkserver's and the resource tracker's
    # "alive" pipes: if the sweep's process is killed (SIGKILL, OOM killer), all of them
    # would live on until the running points finish -- hours for a training. So each worker
    # watches the sweep's process and exits as soon as it is gone; the forkserver and the
    # resource tracker then see their pipes close and exit too. A watchdog thread rather
    # than prctl(PR_SET_PDEATHSIG): the death signal follows the *parent*, here the
    # forkserver, which outlives the sweep; pidfd_open (Linux >= 5.3) lets the thread block
    # without polling, elsewhere it polls every _WATCH_INTERVAL seconds.
    threading.Thread(
        target=_watch_parent, args=(parent,), name="suptheory-sweep-watchdog", daemon=True
    ).start()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _is_dask_client(executor: Any) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed" and hasattr(executor, "submit")


def _default_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    # forkserver (spawn on Windows): forking a parent that already runs numba or BLAS threads
    # can deadlock the child, and Python deprecates fork with threads.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    threads = max(1, _cores() // workers)
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(threads, os.getpid()),
    )


def _stop(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Shut our own pool down at once (Ctrl-C, an error): cancel the queue, end the workers.

    Points still running cannot be stored any more (this process is leaving), so waiting for
    them -- perhaps an hour of training -- would only delay the exit.
    """
    # ``_processes`` is private, but there is no public way before Python 3.14's
    # ``terminate_workers``; without it the exit waits for every running point to finish.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()


def _note(exc: BaseException, params: dict[str, Any], stored: bool) -> BaseException:
    note = f"raised by the sweep point {params}"
    if stored:
        note += "; the finished points are stored, so a rerun computes only the rest"
    exc.add_note(note)
    return exc


def sweep(
    function: Callable[..., Mapping[str, Any]],
    grid: Mapping[str, Sequence[Any]] | Iterable[Mapping[str, Any]],
    executor: Any = None,
    store: str | os.PathLike[str] | ResultStore | None = None,
    *,
    seed: int = 0,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run ``function(**point)`` for every point of a grid; resume from a store if given.

    Parameters
    ----------
    function : callable
        Called as ``function(**point)``, plus ``seed=`` (an int) if it accepts a ``seed``
        keyword or ``**kwargs``. It returns a dict of names to scalar metrics (int, float,
        bool, str, None, numpy scalars) and numpy arrays (e.g. trained weights); names must
        differ from the parameters' and from ``seed``, ``function``, ``version``,
        ``seconds``, ``finished``.
        For a process pool the workers must be able to import it: define it at the top
        level of a module (in a notebook, use a thread pool or a Dask client instead).
    grid : dict of lists, or list of dicts
        The points (see :func:`grid_points`): a dict is the Cartesian product of its value
        lists, first name slowest; a list of dicts names each point.
    executor : None, 'serial', concurrent.futures.Executor or dask.distributed.Client
        Where the points run. ``None``: a process pool with one worker per core (at most one
        per point), shut down at the end. ``'serial'``: one after another in this process
        (for debugging). An executor or Dask client passed in is used and left open.
    store : str, os.PathLike or ResultStore, optional
        Where finished points go (see :class:`~suptheory.runs.store.ResultStore`): a path opens or
        creates an SQLite file. Points already stored are not recomputed; their results are
        read back from the store.
    seed : int
        The sweep's seed. Each point's seed is derived from it and the point's parameters
        (:func:`point_seed`), so it does not depend on the executor, the order or on resuming.
    progress : bool
        Show a progress bar (only on a terminal).

    Returns
    -------
    list of dict
        ``results[i]`` is the result for ``grid_points(grid)[i]``: its metrics as Python
        scalars, then its arrays -- equal to what ``function`` returned, whether computed now
        or read back from the store.

    Raises
    ------
    TypeError
        If ``function`` is not callable, cannot take the grid's parameters, is not picklable
        for a process pool, returns something that is not a dict of scalars and arrays, or if
        ``executor`` or ``store`` is of an unknown type.
    ValueError
        For an empty or malformed grid (see :func:`grid_points`) or a store whose rows were
        computed with another seed.

    Notes
    -----
    **Interruption.** Only this process writes the store, one transaction per point as soon
    as its result arrives, so killing the sweep (Ctrl-C, SIGKILL, a crashed node) loses at
    most the points that were running; the rerun computes only those still missing, and no
    point is ever stored twice or in part. On Ctrl-C the default pool's workers are ended at
    once rather than waited for. Two sweeps may share a store: each point is stored once
    (the first to finish wins), though both may compute it.

    **Errors.** The first point that raises stops the sweep: points not yet started are
    cancelled, points already running on a ``concurrent.futures`` executor finish and are
    stored (on Dask they are cancelled), and the exception is re-raised with a note naming
    the point. Failed points are not stored, so after a fix the rerun computes just them
    and the cancelled ones.

    **Seeds.** A stored row keeps the random seed it was computed with. Rerunning into the same
    store with another ``seed`` raises ``ValueError`` rather than mixing two sweeps; for
    replicates, add a parameter such as ``rep=[0, 1, 2]`` to the grid.

    See Also
    --------
    grid_points : the points of a grid, in the order of the results.
    point_seed : the random seed each point is given.
    suptheory.ResultStore : read the stored rows as dicts or a pandas DataFrame.

    References
    ----------
    .. [1] NumPy, "Parallel random number generation" (``SeedSequence`` spawn keys give
       independent streams): https://numpy.org/doc/stable/reference/random/parallel.html
    .. [2] SQLite, "Atomic commit in SQLite" and "Write-ahead logging":
       https://www.sqlite.org/atomiccommit.html, https://www.sqlite.org/wal.html

    Examples
    --------
    >>> import os, tempfile
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> def noise(n, l, seed):
    ...     x = np.random.default_rng(seed).standard_normal((1000, n))
    ...     return {"std": float(np.sqrt(l / n) * x.std()), "sample": x[:2, 0]}
    >>> path = os.path.join(tempfile.mkdtemp(), "noise.sqlite")
    >>> with ThreadPoolExecutor(2) as pool:
    ...     results = sweep(noise, {"n": [100, 400], "l": [1, 4]}, pool, store=path)
    >>> [round(r["std"], 2) for r in results]
    [0.1, 0.2, 0.05, 0.1]
    >>> again = sweep(noise, {"n": [100, 400], "l": [1, 4]}, "serial", store=path)
    >>> all(np.array_equal(a["sample"], b["sample"]) for a, b in zip(results, again))
    True
    """
    progress = bool(check_bool(progress, "progress"))
    if not callable(function):
        raise TypeError(f"function must be callable; got {function!r}")
    seed = _check_seed(seed)
    points = grid_points(grid)

    kind = _executor_kind(executor)
    signature = _signature(function)
    pass_seed = _accepts_seed(signature)
    for params in points:
        _check_call(signature, params, pass_seed)
    if kind in ("own", "process"):
        _check_picklable(function)

    own_store = not isinstance(store, ResultStore)
    if store is None:
        opened: ResultStore | None = None
    elif isinstance(store, ResultStore):
        opened = store
    elif isinstance(store, (str, os.PathLike)):
        opened = ResultStore(store)
    else:
        raise TypeError(f"store must be None, a file path or a ResultStore; got {store!r}")

    try:
        return _run(function, points, kind, executor, opened, seed, pass_seed, progress)
    finally:
        if own_store and opened is not None:
            opened.close()


def _executor_kind(executor: Any) -> str:
    if executor is None:
        return "own"
    if isinstance(executor, str):
        if executor == "serial":
            return "serial"
        raise ValueError(f"{_EXECUTOR_HELP}; got {executor!r}")
    if isinstance(executor, concurrent.futures.ProcessPoolExecutor):
        return "process"
    if isinstance(executor, concurrent.futures.Executor):
        return "futures"
    if _is_dask_client(executor):
        return "dask"
    hint = ""
    if type(executor).__module__.split(".")[0] == "distributed":
        hint = " (for a cluster, pass dask.distributed.Client(cluster))"
    raise TypeError(f"{_EXECUTOR_HELP}; got {type(executor).__name__}{hint}")


def _run(
    function: Callable[..., Any],
    points: list[dict[str, Any]],
    kind: str,
    executor: Any,
    store: ResultStore | None,
    seed: int,
    pass_seed: bool,
    progress: bool,
) -> list[dict[str, Any]]:
    seeds = [point_seed(seed, params) for params in points]
    results: list[dict[str, Any] | None] = [None] * len(points)
    todo = list(range(len(points)))
    if store is not None:
        done = store.keys()
        todo = []
        for index, params in enumerate(points):
            # (a row may also vanish between keys() and get(): discarded by another process)
            row = store.get(params) if point_key(params) in done else None
            if row is None:
                todo.append(index)
                continue
            if pass_seed and row["seed"] != seeds[index]:
                raise ValueError(
                    f"the store {store.path!r} holds the point {params} computed with seed "
                    f"{row['seed']}, but this sweep derives seed {seeds[index]} (another "
                    "sweep seed?); use a new store or the random seed it was run with"
                )
            results[index] = {**row["metrics"], **row["arrays"]}

    name = _function_name(function)

    def record(index: int, outcome: tuple[dict[str, Any], dict[str, Any], float]) -> None:
        metrics, arrays, seconds = outcome
        params = points[index]
        if store is not None:
            store._put(params, metrics, arrays, seeds[index] if pass_seed else None, name, seconds)
        results[index] = {**metrics, **arrays}

    with progress_bar(len(points), "sweep", progress, initial=len(points) - len(todo)) as bar:
        if not todo:
            pass
        elif kind == "serial":
            for index in todo:
                try:
                    outcome = _call(function, points[index], seeds[index], pass_seed)
                except Exception as exc:
                    _note(exc, points[index], store is not None)
                    raise
                record(index, outcome)
                bar.update(1)
        elif kind == "dask":
            _run_dask(
                executor, function, points, seeds, todo, pass_seed, record, bar, store is not None
            )
        else:
            pool = _default_pool(min(_cores(), len(todo))) if kind == "own" else executor
            try:
                _run_futures(
                    pool, function, points, seeds, todo, pass_seed, record, bar, store is not None
                )
            except BaseException:
                if kind == "own":
                    _stop(pool)
                raise
            else:
                if kind == "own":
                    pool.shutdown(wait=True)
    return results  # type: ignore[return-value]


def _run_futures(
    pool: concurrent.futures.Executor,
    function: Callable[..., Any],
    points: list[dict[str, Any]],
    seeds: list[int],
    todo: list[int],
    pass_seed: bool,
    record: Callable[[int, Any], None],
    bar: Any,
    stored: bool,
) -> None:
    futures = {pool.submit(_call_remote, function, points[i], seeds[i], pass_seed): i for i in todo}
    first_error: tuple[int, BaseException] | None = None
    try:
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            if future.cancelled():
                continue
            exc = future.exception()
            if exc is not None:
                if first_error is None:
                    first_error = (index, exc)
                    # Stop what has not started; what runs finishes and is stored below.
                    for other in futures:
                        other.cancel()
                continue
            record(index, future.result())
            bar.update(1)
    except BaseException:
        for other in futures:
            other.cancel()
        raise
    if first_error is not None:
        index, exc = first_error
        raise _note(exc, points[index], stored)


def _run_dask(
    client: Any,
    function: Callable[..., Any],
    points: list[dict[str, Any]],
    seeds: list[int],
    todo: list[int],
    pass_seed: bool,
    record: Callable[[int, Any], None],
    bar: Any,
    stored: bool,
) -> None:
    from distributed import as_completed

    # pure=False: a point is a computation to run, not a value for dask to deduplicate.
    futures = {
        client.submit(_call_remote, function, points[i], seeds[i], pass_seed, pure=False): i
        for i in todo
    }
    try:
        for future in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            index = futures[future]
            if future.status == "error":
                exc = future.exception()
                raise _note(exc, points[index], stored)
            outcome = future.result()
            future.release()
            record(index, outcome)
            bar.update(1)
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
