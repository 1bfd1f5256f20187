"""Input validation shared by every public function.

Every public function converts its arguments here, so that bad input raises the same kind of
error everywhere: ``TypeError`` for the wrong kind of object, ``ValueError`` naming the
parameter and the allowed range for a value outside it. Nothing is silently clipped.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable
from typing import Any, overload

import numpy as np

__all__ = [
    "as_real",
    "as_scalar",
    "broadcast",
    "wrap",
    "wrap_int",
    "check_choice",
    "check_int",
    "check_bool",
    "check_embedding",
    "as_generator",
    "as_seed_sequence",
    "MAX_COUNT",
]

#: the largest count (trials, steps, batch, ...) the numba kernels take: the int64 maximum
MAX_COUNT = 2**63 - 1


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    left = "(" if (low is None or low_open) else "["
    right = ")" if (high is None or high_open) else "]"
    return f"{left}{lo}, {hi}{right}"


def _first_bad(x: np.ndarray, mask: np.ndarray) -> Any:
    bad = x[mask] if x.ndim else x
    return bad.flat[0] if bad.size else bad


def as_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
    integer: bool = False,
) -> np.ndarray:
    """Convert ``value`` to a float64 array and check that it lies in the allowed interval.

    Parameters
    ----------
    value : array_like
        A real number or an array of real numbers. Counts may be given as floats (``1e6``).
    name : str
        The parameter's public name, used in error messages.
    low, high : float, optional
        Interval ends; ``None`` means unbounded.
    low_open, high_open : bool
        Whether the end itself is excluded.
    allow_inf : bool
        Whether ``+-inf`` is an allowed value (it must still lie in the interval).
    integer : bool
        Whether the value must be a whole number.

    Returns
    -------
    numpy.ndarray
        A float64 array (0-d for scalar input).

    Raises
    ------
    TypeError
        For strings, ``None``, booleans, complex numbers and other non-real input.
    ValueError
        For NaN, infinities (unless allowed), values outside the interval, fractional counts.

    Examples
    --------
    >>> as_real(3, "n", low=0, low_open=True)
    array(3.)
    >>> as_real(0, "n", low=0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: n must be in (0, inf); got 0.0
    """
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real number or an array of real numbers; got {value!r}")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, not a boolean; got {value!r}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds here
        raise TypeError(f"{name} must be a real number or an array of real numbers") from exc
    if (
        arr.dtype.kind == "O"
        and arr.size
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in arr.flat)
    ):  # Python integers past int64: exact, but float64 holds them only up to ~1.8e308
        try:
            arr = arr.astype(np.float64)
        except OverflowError:
            big = next(v for v in arr.flat if abs(v) > 2**1023)
            span = _interval(low, high, low_open, high_open)
            raise ValueError(
                f"{name} must be in {span} and within float64's range "
                f"(|{name}| < 1.8e308); got {_int_text(big)}"
            ) from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real number or an array of real numbers; got dtype {arr.dtype}"
        )
    arr = arr.astype(np.float64, copy=False)
    if arr.size == 0:
        return arr
    nan = np.isnan(arr)
    if nan.any():
        raise ValueError(
            f"{name} must not be NaN; allowed range is {_interval(low, high, low_open, high_open)}"
        )
    inf = np.isinf(arr)
    if inf.any() and not allow_inf:
        raise ValueError(
            f"{name} must be finite and in {_interval(low, high, low_open, high_open)}; "
            f"got {_first_bad(arr, inf)}"
        )
    below = np.zeros(arr.shape, dtype=bool)
    if low is not None:
        below = (arr <= low) if low_open else (arr < low)
    above = np.zeros(arr.shape, dtype=bool)
    if high is not None:
        above = (arr >= high) if high_open else (arr > high)
    out = below | above
    if out.any():
        raise ValueError(
            f"{name} must be in {_interval(low, high, low_open, high_open)}; "
            f"got {_first_bad(arr, out)}"
        )
    if integer:
        frac = np.isfinite(arr) & (arr != np.floor(arr))
        if frac.any():
            raise ValueError(f"{name} must be a whole number; got {_first_bad(arr, frac)}")
    return arr


def as_scalar(value: Any, name: str, **bounds: Any) -> float:
    """Convert ``value`` to one real number checked like :func:`as_real`.

    For parameters that take a single setting, not an array of them.

    Parameters
    ----------
    value : float
        A real number (a 0-d array is accepted).
    name : str
        The parameter's public name, used in error messages.
    **bounds
        ``low, high, low_open, high_open, allow_inf, integer`` as in :func:`as_real`.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        As :func:`as_real`; ValueError also for an array of more than one number.

    Examples
    --------
    >>> as_scalar(2, "a", low=0, low_open=True)
    2.0
    >>> as_scalar([1, 2], "a")
    Traceback (most recent call last):
    ...
    ValueError: a must be a single number, not an array; got shape (2,)
    """
    arr = as_real(value, name, **bounds)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, not an array; got shape {arr.shape}")
    return float(arr)


def broadcast(
    *arrays: np.ndarray, names: Iterable[str] | None = None
) -> tuple[list[np.ndarray], bool]:
    """Broadcast validated arrays together; also say whether every input was a scalar.

    ``names`` are the parameters' public names, for the error when the shapes do not
    broadcast (numpy's own message says only "arg 0", "arg 1").

    Examples
    --------
    >>> (x, y), scalar = broadcast(np.asarray(1.0), np.asarray([1.0, 2.0]))
    >>> x.shape, scalar
    ((2,), False)
    >>> broadcast(np.ones(2), np.ones(3), names=("m", "n"))
    Traceback (most recent call last):
    ...
    ValueError: m, n must broadcast to one shape (numpy's rules); got shapes m (2,), n (3,)
    """
    scalar = all(np.ndim(a) == 0 for a in arrays)
    try:
        return list(np.broadcast_arrays(*arrays)), scalar
    except ValueError:
        if names is None:
            raise
        labels = list(names)
        shapes = ", ".join(f"{k} {np.shape(a)}" for k, a in zip(labels, arrays, strict=True))
        raise ValueError(
            f"{', '.join(labels)} must broadcast to one shape (numpy's rules); got shapes {shapes}"
        ) from None


def wrap(result: Any, scalar: bool) -> Any:
    """Return a Python float for scalar input, else the float64 array.

    Examples
    --------
    >>> wrap(np.asarray(0.5), True)
    0.5
    """
    result = np.asarray(result, dtype=np.float64)
    if scalar:
        return float(result.reshape(-1)[0]) if result.size == 1 else result
    return result


def wrap_int(result: Any, scalar: bool) -> Any:
    """Return a Python int for scalar input (exact, however large), else a float64 array.

    Integer results are kept as float64 arrays because counts such as a width for
    ``eps = 1e-10`` exceed the int64 range; infinities pass through unchanged.

    Examples
    --------
    >>> wrap_int(np.asarray(663.0), True)
    663
    """
    value = wrap(result, scalar)
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return value


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of the allowed strings.

    Examples
    --------
    >>> check_choice("random", "model", ["random", "worst"])
    'random'
    >>> check_choice("best", "model", ["random", "worst"])
    Traceback (most recent call last):
    ...
    ValueError: model must be one of 'random', 'worst'; got 'best'
    """
    choices = list(choices)
    allowed = ", ".join(repr(c) for c in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {allowed}; got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def _int_text(value: int) -> str:
    """A whole number for a message, shortened when it has more than 20 digits."""
    text = str(value)
    digits = len(text.lstrip("-"))
    return text if digits <= 20 else f"{text[:8]}... ({digits} digits)"


def check_int(value: Any, name: str, *, low: int = 1, high: int | None = None) -> int:
    """Check a single whole number (a count such as ``trials`` or ``steps``).

    Integer-valued floats are accepted (``1e6``); booleans and fractions are not. Integers of
    any size are compared exactly (no ``OverflowError``); pass ``high`` (e.g.
    :data:`MAX_COUNT`, what the numba kernels take) to bound a count from above.

    Parameters
    ----------
    value : int or float
        The count.
    name : str
        The parameter's public name, used in error messages.
    low, high : int, optional
        The allowed range ``[low, high]``; ``high=None`` means unbounded.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        For booleans, strings, ``None`` and other non-real input.
    ValueError
        For fractions, NaN, infinities and values outside ``[low, high]``.

    Examples
    --------
    >>> check_int(1e3, "trials")
    1000
    >>> check_int(0, "trials")
    Traceback (most recent call last):
    ...
    ValueError: trials must be a whole number in [1, inf); got 0
    >>> check_int(10**400, "trials", high=10**6)
    Traceback (most recent call last):
    ...
    ValueError: trials must be a whole number in [1, 1000000]; got 10000000... (401 digits)
    """
    hi = "inf)" if high is None else f"{high}]"
    rng = f"[{low}, {hi}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number in {rng}; got {value!r}")
    if isinstance(value, numbers.Integral):
        ivalue = int(value)
    else:
        try:
            fvalue = float(value)
        except OverflowError:  # e.g. a Fraction beyond the float range
            fvalue = math.nan
        if not math.isfinite(fvalue) or fvalue != math.floor(fvalue):
            raise ValueError(f"{name} must be a whole number in {rng}; got {value!r}")
        ivalue = int(fvalue)
    if ivalue < low or (high is not None and ivalue > high):
        raise ValueError(f"{name} must be a whole number in {rng}; got {_int_text(ivalue)}")
    return ivalue


def check_bool(value: Any, name: str, *, allow_none: bool = False) -> bool | None:
    """Check a flag: ``True`` or ``False`` (numpy booleans too), or ``None`` if allowed.

    ``None`` stands for "automatic" where a function decides for itself.

    Parameters
    ----------
    value : bool or None
        The flag.
    name : str
        The parameter's public name, used in error messages.
    allow_none : bool
        Whether ``None`` (automatic) is accepted.

    Returns
    -------
    bool or None

    Raises
    ------
    TypeError
        For anything else (``0``, ``1``, ``"yes"``, ...).

    Examples
    --------
    >>> check_bool(np.True_, "train"), check_bool(None, "train", allow_none=True)
    (True, None)
    >>> check_bool("yes", "train", allow_none=True)
    Traceback (most recent call last):
    ...
    TypeError: train must be True, False or None (automatic); got 'yes'
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None and allow_none:
        return None
    allowed = "True, False or None (automatic)" if allow_none else "True or False"
    raise TypeError(f"{name} must be {allowed}; got {value!r}")


def check_embedding(
    W: Any, name: str = "W", *, dtypes: tuple[Any, ...] = (np.float64,)
) -> np.ndarray:
    """Check an ``(m, n)`` embedding (rows are feature directions): 2-D, real, finite, non-empty.

    The array is converted to the first dtype in ``dtypes`` unless it already has one of them.

    Examples
    --------
    >>> check_embedding([[1.0, 0.0], [0.0, 1.0]]).shape
    (2, 2)
    >>> check_embedding([1.0, 2.0])
    Traceback (most recent call last):
    ...
    ValueError: W must be a 2-D array of shape (m, n) with rows as features; got 1 dimension(s)
    """
    if W is None or isinstance(W, (str, bytes)):
        raise TypeError(f"{name} must be a 2-D array of real numbers; got {W!r}")
    try:
        arr = np.asarray(W)
    except ValueError as exc:  # ragged nested lists: rows of different lengths
        raise ValueError(
            f"{name} must be a 2-D array of shape (m, n); got rows of different lengths ({exc})"
        ) from None
    if arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
        raise TypeError(f"{name} must be a 2-D array of real numbers; got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (m, n) with rows as features; "
            f"got {arr.ndim} dimension(s)"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column; got shape {arr.shape}")
    if arr.dtype not in dtypes:
        arr = arr.astype(dtypes[0])
    # by blocks of rows: a memory-mapped matrix is checked without an m x n temporary
    rows = max(1, 2**22 // arr.shape[1])
    if not all(np.isfinite(arr[i : i + rows]).all() for i in range(0, arr.shape[0], rows)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


_SEED_KINDS = "None, a non-negative int, a SeedSequence or a Generator"


def _check_seed(seed: Any) -> None:
    """The one rule for seeds: None, a non-negative int, a SeedSequence or a Generator."""
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be {_SEED_KINDS}; got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be {_SEED_KINDS}; got {seed!r}")


def as_generator(seed: Any) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a seed, a ``SeedSequence`` or a generator.

    A generator is returned as is; anything else goes to ``numpy.random.default_rng``.

    Parameters
    ----------
    seed : None, int, SeedSequence or Generator
        ``None`` for fresh entropy; an int must be non-negative.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        For other kinds (floats, strings, booleans, ...).
    ValueError
        For a negative int.

    Examples
    --------
    >>> float(as_generator(1).random()) == float(as_generator(1).random())
    True
    """
    _check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


@overload
def as_seed_sequence(seed: Any, count: None = None) -> np.random.SeedSequence: ...
@overload
def as_seed_sequence(seed: Any, count: int) -> list[np.random.SeedSequence]: ...
def as_seed_sequence(
    seed: Any, count: int | None = None
) -> np.random.SeedSequence | list[np.random.SeedSequence]:
    """Return a ``SeedSequence`` from a seed, or ``count`` independent children of it.

    Seeds follow the rule of :func:`as_generator`. A ``SeedSequence`` is used itself (its
    children are spawned from it, which advances it); a ``Generator`` seeds a new sequence
    from one number it draws.

    Parameters
    ----------
    seed : None, int, SeedSequence or Generator
        The source of randomness.
    count : int, optional
        Number of children to spawn; without it the sequence itself is returned.

    Returns
    -------
    numpy.random.SeedSequence or list of numpy.random.SeedSequence

    Raises
    ------
    TypeError, ValueError
        For a bad seed (as :func:`as_generator`) or a bad ``count``.

    Examples
    --------
    >>> children = as_seed_sequence(3, 8)
    >>> len(children), children[2].entropy, children[2].spawn_key
    (8, 3, (2,))
    >>> as_seed_sequence(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be None, a non-negative int, a SeedSequence or a Generator; got -1
    """
    _check_seed(seed)
    if isinstance(seed, np.random.SeedSequence):
        ss = seed
    elif isinstance(seed, np.random.Generator):
        ss = np.random.SeedSequence(int(seed.integers(2**63)))
    else:
        ss = np.random.SeedSequence(seed)
    if count is None:
        return ss
    return ss.spawn(check_int(count, "count", low=0, high=MAX_COUNT))


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None.

    Elsewhere the physical memory (``sysconf``); None where neither is known.
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None
