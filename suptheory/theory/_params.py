"""Validation and model names shared by every read-out function and its callers.

``readout``, ``calculate``, ``solve`` and ``check`` validate their inputs with these functions
and name the models with these tuples, so the checks and messages are the same everywhere.
This is the package's internal API (imported across modules); it is not re-exported.
"""

# ruff: noqa: E741  (l is the project's name for the number of active features)
from __future__ import annotations

from typing import TypeVar, get_args, overload

import numpy as np
from numpy.typing import ArrayLike

from suptheory._validate import as_real, broadcast, check_choice
from suptheory.theory._types import CapacityModel, NoiseModel

__all__ = [
    "MODELS",
    "RMS_MODELS",
    "PROXY_MODELS",
    "CAPACITY_MODELS",
    "check_n",
    "check_m",
    "check_l",
    "check_l_le_m",
    "check_a",
    "check_q",
    "check_model",
    "check_budget",
    "either_budget",
]

#: read-out models with a linear read-out noise: the rms models, then the proxies
MODELS: tuple[NoiseModel, ...] = get_args(NoiseModel)
#: rms models: the noise a typical read-out hears (``random`` exact, ``optimal`` its floor)
RMS_MODELS: tuple[NoiseModel, ...] = ("random", "optimal")
#: largest-overlap proxies: ``L sqrt(l)``, what the worst pair would give
PROXY_MODELS: tuple[NoiseModel, ...] = ("linsefors", "worst", "packing")
#: models with a capacity: the linear ones and noiseless l1 (compressed-sensing) decoding
CAPACITY_MODELS: tuple[CapacityModel, ...] = get_args(CapacityModel)

_NO_L1_NOISE = (
    "model 'l1' has no linear read-out noise: it is noiseless compressed-sensing decoding "
    "(l1 / AMP), so only capacities (max_active, max_features, log_max_features, min_width) "
    "exist for it; use one of 'random', 'optimal', 'linsefors', 'worst', 'packing'"
)


def check_n(n: ArrayLike) -> np.ndarray:
    """Width ``n > 0`` as a float array."""
    return as_real(n, "n", low=0, low_open=True)


def check_m(m: ArrayLike) -> np.ndarray:
    """Number of features ``m >= 1``."""
    return as_real(m, "m", low=1)


def check_l(l: ArrayLike) -> np.ndarray:
    """Number of active features ``l >= 0``; ``-0.0`` is taken as ``0`` (adding ``0.0`` does it).

    Without this, ``1 / sqrt(-0.0) = -inf`` gave ``-inf`` levels and NaN bits at ``l = -0.0``.
    """
    out: np.ndarray = as_real(l, "l", low=0) + 0.0
    return out


def check_l_le_m(l: np.ndarray, m: np.ndarray) -> None:
    """``l`` counts the *other* features active with the one read: ``l`` in ``[0, m - 1]``.

    Called with validated arrays (any shapes that broadcast), as ``check`` and the simulators
    do, so every function that takes both ``m`` and ``l`` rejects ``l > m - 1`` alike.
    """
    (lv, mv), _ = broadcast(
        np.asarray(l, dtype=np.float64), np.asarray(m, dtype=np.float64), names=("l", "m")
    )
    bad = lv > mv - 1.0
    if bad.any():
        i = np.flatnonzero(bad.reshape(-1))[0]
        l_i, m_i = float(lv.reshape(-1)[i]), float(mv.reshape(-1)[i])
        raise ValueError(
            f"l must be in [0, m - 1] = [0, {m_i - 1.0:g}] (the other features active with "
            f"the one read); got l = {l_i:g} with m = {m_i:g}"
        )


def check_a(a: ArrayLike) -> np.ndarray:
    """Amplitude ``a > 0``."""
    return as_real(a, "a", low=0, low_open=True)


def check_q(q: ArrayLike) -> float:
    """Quantile ``q`` in (0, 1), a single number."""
    arr = as_real(q, "q", low=0, high=1, low_open=True, high_open=True)
    if arr.ndim:
        raise TypeError(f"q must be a single number in (0, 1); got an array of shape {arr.shape}")
    return float(arr)


_M = TypeVar("_M", bound=str)


@overload
def check_model(model: object) -> NoiseModel: ...
@overload
def check_model(model: object, allowed: tuple[_M, ...]) -> _M: ...
def check_model(model: object, allowed: tuple[str, ...] = MODELS) -> str:
    """Check ``model`` at run time too: untyped callers may pass anything."""
    if model == "l1" and "l1" not in allowed:
        raise ValueError(_NO_L1_NOISE)
    return check_choice(model, "model", allowed)


def check_budget(
    snr: ArrayLike | None, error: ArrayLike | None, model: str
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Validate ``snr`` / ``error``: at most one is given; ``snr`` defaults to 1."""
    if snr is not None and error is not None:
        raise ValueError(
            "give either snr or error, not both (snr defaults to 1 when error is None)"
        )
    if model == "l1":
        if snr is not None or error is not None:
            raise ValueError(
                "model 'l1' is noiseless exact recovery: snr and error do not apply to it"
            )
        return None, None
    if error is not None:
        return None, as_real(error, "error", low=0, high=1, low_open=True, high_open=True)
    return as_real(1.0 if snr is None else snr, "snr", low=0, low_open=True), None


def either_budget(snr_v: np.ndarray | None, err_v: np.ndarray | None) -> np.ndarray:
    """The one budget given (``snr`` or ``error``), for a noise model (never both None)."""
    value = snr_v if err_v is None else err_v
    if value is None:  # pragma: no cover - check_budget returns one of them for noise models
        raise ValueError("model 'l1' has neither snr nor error")
    return value
