"""The one place that fixes numba's options for the whole package.

Every kernel is compiled with :func:`jit`; a kernel that needs another option passes it
explicitly and says why in a comment beside it (a ``parallel=True`` kernel also says that
``prange`` runs only over independent iterations, each writing its own slot, so its results do
not depend on the thread count). Only the modules of :mod:`suptheory._kernels` import the
decorator; the closed-form layer (:mod:`suptheory.theory`) imports none of them, so it never pays
numba's import and compile time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numba

from suptheory._validate import check_int

__all__ = ["JIT_OPTIONS", "jit", "num_threads", "max_threads"]

#: cache: compile once per machine, not once per process (CI and the CLI pay it once).
#: error_model="numpy": division by zero gives inf/nan like numpy instead of raising, and
#: lets loops vectorise; kernels never rely on it for validation (wrappers validate first).
#: fastmath stays off: results must be reproducible and equal to the float64 references.
JIT_OPTIONS: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy"}


def jit(fn: Callable[..., Any] | None = None, **overrides: Any) -> Any:
    """Compile ``fn`` with the package's options (``numba.njit``), overridable per kernel.

    Use as ``@jit`` or ``@jit(parallel=True)``.
    """
    options = {**JIT_OPTIONS, **overrides}
    if fn is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(fn)


def max_threads() -> int:
    """The number of threads numba was started with (``NUMBA_NUM_THREADS``)."""
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


@contextmanager
def num_threads(threads: int | None) -> Iterator[int]:
    """Set numba's thread count for the duration of a call and restore it afterwards.

    ``None`` keeps the current count; a whole number ``>= 1`` is capped at the threads numba
    was started with. Results never depend on the thread count: parallel kernels split work
    into fixed blocks that each write their own slot. Every public function's ``threads``
    passes through here, so this is where it is validated.
    """
    previous = numba.get_num_threads()
    if threads is None:
        yield previous
        return
    threads = min(check_int(threads, "threads", low=1), max_threads())
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(previous)
