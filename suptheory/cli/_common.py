"""Small helpers shared by the subcommands: argument types, output paths, output.

Argument types raise ``argparse.ArgumentTypeError``, which argparse reports as one line
naming the option (``argument --steps: ...``); they import only the standard library.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

#: the largest count the numba kernels take (int64); equal to ``suptheory._validate.MAX_COUNT``
#: (not imported from there: that module imports numpy, and ``suptheory calc --help`` should
#: not pay for it)
MAX_COUNT = 2**63 - 1


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:20]) + f"... ({len(text)} characters)"


def number(text: str) -> float:
    """Parse a finite command-line number; counts may be written as ``1e6`` or ``24_576``.

    Infinities, NaN and numbers beyond the float range (``1e400``, a 400-digit integer) are
    refused: no parameter of the command line takes them.

    Examples
    --------
    >>> number("24_576"), number("1e-3")
    (24576.0, 0.001)
    >>> number("inf")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: not a finite number: 'inf'
    """
    try:
        value = float(text.replace("_", ""))
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"not a number: {_shown(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {_shown(text)}")
    return value


def count(low: int = 1, high: int | None = MAX_COUNT) -> Callable[[str], int]:
    """An argparse type for a whole number in ``[low, high]`` (``high=None``: unbounded).

    Integers are parsed exactly, however long; ``1e6`` and ``24_576`` are accepted, fractions,
    booleans' spellings and out-of-range values are not.

    Examples
    --------
    >>> count()("1e3"), count(low=0)("0")
    (1000, 0)
    >>> count(high=8)("9")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: not a whole number in [1, 8]: '9'
    """
    span = f"[{low}, {'inf)' if high is None else f'{high}]'}"

    def parse(text: str) -> int:
        clean = text.replace("_", "").strip()
        try:
            value = int(clean)
        except ValueError:
            try:
                real = float(clean)
            except (ValueError, OverflowError):
                real = math.nan
            if not math.isfinite(real) or real != math.floor(real):
                raise argparse.ArgumentTypeError(
                    f"not a whole number in {span}: {_shown(text)}"
                ) from None
            value = int(real)
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"not a whole number in {span}: {_shown(text)}")
        return value

    parse.__name__ = "count"
    return parse


def output_path(path: str, option: str, *, suffix: str) -> str:
    """Check, before any computing, that ``path`` can be written; return the file written.

    ``suffix`` is the extension the writer appends when ``path`` lacks it (numpy's
    ``np.save`` appends ``.npy``; matplotlib appends ``.png`` to a name without one), so the
    returned path is the file that will really exist. Raises ``ValueError`` naming
    ``option`` for a directory, a missing or read-only parent directory, or a read-only file.

    Examples
    --------
    >>> import tempfile, os
    >>> tmp = tempfile.mkdtemp()
    >>> output_path(os.path.join(tmp, "w.txt"), "--save", suffix=".npy").endswith("w.txt.npy")
    True
    >>> output_path(tmp, "--save", suffix=".npy")
    Traceback (most recent call last):
    ...
    ValueError: --save: ... is a directory; give a file name
    """
    if not path:
        raise ValueError(f"{option}: give a file name")
    written = path if path.endswith(suffix) else path + suffix
    if os.path.isdir(path) or os.path.isdir(written):
        raise ValueError(f"{option}: {path!r} is a directory; give a file name")
    directory = os.path.dirname(os.path.abspath(written))
    if not os.path.isdir(directory):
        raise ValueError(f"{option}: cannot write {written!r}: no directory {directory!r}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(f"{option}: cannot write {written!r}: directory is not writable")
    if os.path.exists(written) and not os.access(written, os.W_OK):
        raise ValueError(f"{option}: cannot write {written!r}: the file is read-only")
    return written


def note_compiling(command: str, modules: tuple[str, ...]) -> bool:
    """Say once on stderr that numba is about to compile the kernels of ``modules``.

    numba caches compiled kernels (``cache=True``) beside their source, in
    ``suptheory/_kernels/__pycache__`` (one index file ``<module>.<function>-<line>.*.nbi``
    per kernel), or under ``NUMBA_CACHE_DIR`` when that is set (in ``_kernels_<hash>/``).
    If a module has no index file there, its kernels will be compiled now -- tens of
    seconds, once per machine -- and the user is told so rather than left at a silent
    terminal. Where the package directory is read-only and ``NUMBA_CACHE_DIR`` unset (numba
    then caches in a user-wide directory) it says nothing. Returns whether it printed.
    """
    kernels = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_kernels")
    places = []
    cache_dir = os.environ.get("NUMBA_CACHE_DIR")
    if cache_dir:
        # numba names the directory after the source directory and a hash of its full
        # path (``_kernels_<sha1>``); older versions mirrored the full path
        places += glob.glob(os.path.join(glob.escape(cache_dir), "_kernels*"))
        places.append(os.path.join(cache_dir, os.path.splitdrive(kernels)[1].lstrip(os.sep)))
    elif os.access(kernels, os.W_OK):
        places.append(os.path.join(kernels, "__pycache__"))
    else:
        return False
    missing = [
        module
        for module in modules
        if not any(glob.glob(os.path.join(place, f"{module}.*.nbi")) for place in places)
    ]
    if missing:
        print(f"suptheory {command}: compiling numba kernels, once, about 30 s", file=sys.stderr)
        return True
    return False


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")  # see dumps
    return obj


def dumps(obj: Any) -> str:
    """Serialise a result to strict JSON, numpy values converted to Python ones.

    JSON has no infinity or NaN, so every non-finite float (Python or numpy, at any depth)
    is written as one of the strings ``"inf"``, ``"-inf"`` or ``"nan"``, which ``float()``
    reads back. (The printed tables show NaN as ``-`` instead; see :mod:`suptheory._text`.)
    Dictionary keys become strings.

    Examples
    --------
    >>> import numpy as np
    >>> print(dumps({"m_max": float("inf"), "l": np.float64(-np.inf), "z": [np.nan, 1.5]}))
    {
      "m_max": "inf",
      "l": "-inf",
      "z": [
        "nan",
        1.5
      ]
    }
    """
    return json.dumps(_jsonable(obj), indent=2, sort_keys=False, allow_nan=False)
