r"""Ground truth for the read-out models: Monte Carlo of the decoding task itself.

The closed forms of :mod:`suptheory.theory.readout` are statements about a real read-out; this
module performs it. A whole dictionary of ``m`` unit directions in ``R^n`` is drawn (or given);
in each trial ``l`` distinct features are active at amplitude ``a``, the layer holds
``h = a sum_{j in S} w_j``, and **every** feature is read back, ``y_i = w_i . h``, and decoded:

- **on/off**, threshold ``a / 2``: the trial is wrong if any of the ``m`` read-outs is (an
  inactive feature read as on or an active one as off) -- the event the capacities with
  ``error=`` bound by ``m P(Z > a/2)``;
- **levels**: each inactive feature's own value is one of ``levels`` equally likely levels on
  ``[0, a]`` and is decoded to the nearest level; the end levels err on one side only. The
  error is averaged over the levels exactly, so only the interference is random.

Nothing here uses the overlap law, a normal approximation or the union bound: the estimates
are the ground truth the closed forms are tested against. Dictionaries: ``"random"`` (a fresh
random dictionary every ``trials / dictionaries`` trials, so the estimate averages over
dictionaries), ``"harmonic"`` (a real harmonic tight frame, which meets the rms floor of the
``optimal`` model exactly), or an ``(m, n)`` array.
"""

# ruff: noqa: E741  (l is the project's name for the number of active features)
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from suptheory._kernels import decoding as _k
from suptheory._runner import ChunkRunner
from suptheory._validate import (
    MAX_COUNT,
    as_generator,
    as_real,
    check_bool,
    check_embedding,
    check_int,
)

__all__ = ["DecodingSimulation", "simulate_decoding", "harmonic_frame"]


@dataclass(frozen=True)
class DecodingSimulation:
    """Estimates of the decoding Monte Carlo, each with its standard error.

    Attributes
    ----------
    n, m, l, a, levels : float or int
        The setting.
    dictionary : str
        ``"random"``, ``"harmonic"`` or ``"given"``.
    trials, dictionaries : int
        Trials in all; dictionaries drawn (1 unless ``"random"``).
    p_any, p_any_se : float
        P(any of the ``m`` on/off read-outs of one input is wrong).
    p_level, p_level_se : float
        P(one read-out decodes the wrong level), levels equally likely, end levels included.
    rms, rms_se : float
        Root mean square of an inactive read-out's interference.
    interrupted : bool
        Whether the run was stopped early (the estimates use the finished trials).
    """

    n: int
    m: int
    l: int
    a: float
    levels: int
    dictionary: str
    trials: int
    dictionaries: int
    p_any: float
    p_any_se: float
    p_level: float
    p_level_se: float
    rms: float
    rms_se: float
    interrupted: bool


#: the most entries ``m n`` of a harmonic frame (2 GiB of float64)
_MAX_FRAME_ENTRIES = 2**28


def harmonic_frame(m: int, n: int, seed: Any = 0) -> np.ndarray:
    r"""A real harmonic tight frame: ``m`` unit vectors in ``R^n`` (``n`` even, ``n < m``).

    .. math::

        w_k = \sqrt{2/n}\,\big(\cos(2\pi k f_1 / m), \sin(2\pi k f_1 / m), \ldots,
        \cos(2\pi k f_{n/2} / m), \sin(2\pi k f_{n/2} / m)\big)

    with ``n / 2`` distinct frequencies ``f`` drawn from ``1, ..., ceil(m/2) - 1`` (a random
    subset, seeded: consecutive frequencies give a Dirichlet kernel with nearly parallel
    neighbours). Every such frame is tight, ``sum_k w_k w_k^T = (m / n) I``, so its mean
    squared overlap is the frame-potential floor ``(m - n) / (n (m - 1))``.

    Parameters
    ----------
    m, n : int
        Number of vectors and width (``n`` even, ``2 <= n < m - 1``, ``m n <= 2^28``).
    seed : int, optional
        Seed of the frequency subset.

    Returns
    -------
    numpy.ndarray
        The ``(m, n)`` frame.

    References
    ----------
    .. [1] V. K. Goyal, J. Kovacevic and J. A. Kelner, "Quantized frame expansions with
       erasures", Appl. Comput. Harmon. Anal. 10 (2001) 203-233 (harmonic frames).

    Examples
    --------
    >>> W = harmonic_frame(64, 8)
    >>> np.allclose(W.T @ W, 64 / 8 * np.eye(8)), np.allclose((W * W).sum(1), 1)
    (True, True)
    """
    m = check_int(m, "m", low=3, high=_MAX_FRAME_ENTRIES // 2)
    n = check_int(n, "n", low=2, high=_MAX_FRAME_ENTRIES // m)
    if n % 2 or n >= m - 1:
        raise ValueError(f"n must be even and below m - 1 for a real harmonic frame; got {n}")
    top = (m + 1) // 2 - 1  # frequencies 1 .. ceil(m/2) - 1: cos and sin rows both nonzero
    if n // 2 > top:
        raise ValueError(f"a real harmonic frame of {m} vectors has at most {2 * top} dimensions")
    freqs = np.sort(as_generator(seed).choice(np.arange(1, top + 1), n // 2, replace=False))
    angle = 2.0 * np.pi * np.outer(np.arange(m), freqs) / m
    W = np.empty((m, n))
    W[:, 0::2] = np.cos(angle)
    W[:, 1::2] = np.sin(angle)
    W *= math.sqrt(2.0 / n)
    return W


def _random_dictionary(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    W = rng.standard_normal((m, n))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    return W


def simulate_decoding(
    n: Any = None,
    m: Any = None,
    l: Any = None,
    a: Any = 1.0,
    *,
    levels: Any = 2,
    dictionary: Any = "random",
    trials: Any = 100_000,
    dictionaries: Any = 16,
    seed: Any = None,
    progress: bool = True,
) -> DecodingSimulation:
    r"""Decode every feature of whole dictionaries: the ground truth of the read-out models.

    .. math::

        y_i = w_i \cdot a \sum_{j \in S} w_j, \qquad
        \widehat{P}(\text{any wrong}) = \frac{1}{T} \sum_t 1\{\exists i:
        y_i \text{ on the wrong side of } a/2\}

    Parameters
    ----------
    n, m : int
        Width and number of features (both taken from the array for a given dictionary).
        Each trial costs ``O(m n)``.
    l : int
        Number of active features per input, ``0 <= l <= m``.
    a : float
        Amplitude of the active features.
    levels : int
        Number of equally likely levels on ``[0, a]`` for the level estimate, in ``[2, 2^40]``.
    dictionary : {"random", "harmonic"} or array_like
        Random unit directions (redrawn ``dictionaries`` times), a real harmonic tight frame
        (:func:`harmonic_frame`), or an ``(m, n)`` array (rows normalised to unit length).
    trials : int
        Inputs in all.
    dictionaries : int
        Random dictionaries drawn (``"random"`` only); the standard errors are those of the
        ``dictionaries`` batch means, so they include the spread between dictionaries. For a
        fixed dictionary the trials are split into 16 batches.
    seed : int, SeedSequence or Generator, optional
        Seed of every random draw.
    progress : bool
        Show a progress line (stops cleanly on Ctrl-C with the finished batches).

    Returns
    -------
    DecodingSimulation
        The estimates with their standard errors.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> r = simulate_decoding(64, 256, 1, trials=20_000, dictionaries=4, seed=0,
    ...                       progress=False)
    >>> r.p_any < 0.01     # one active feature in 64 neurons: every read-out is right
    True
    """
    progress = bool(check_bool(progress, "progress"))
    rng = as_generator(seed)
    a = float(as_real(a, "a", low=0, low_open=True))
    levels = check_int(levels, "levels", low=2, high=2**40)  # as simulate_levels
    trials = check_int(trials, "trials", low=2, high=MAX_COUNT)
    if isinstance(dictionary, str):
        if dictionary not in ("random", "harmonic"):
            raise ValueError(
                f"dictionary must be 'random', 'harmonic' or an (m, n) array; got {dictionary!r}"
            )
        n = check_int(n, "n", low=1)
        m = check_int(m, "m", low=1)
        kind = dictionary
        fixed = harmonic_frame(m, n, seed=rng) if kind == "harmonic" else None
    else:
        fixed = check_embedding(dictionary, "dictionary")
        fixed = fixed / np.linalg.norm(fixed, axis=1, keepdims=True)
        for name, given, actual in (("m", m, fixed.shape[0]), ("n", n, fixed.shape[1])):
            if given is not None and check_int(given, name, low=1) != actual:
                raise ValueError(f"{name} = {given} but the dictionary has shape {fixed.shape}")
        m, n = fixed.shape
        kind = "given"
    l = check_int(l, "l", low=0, high=m)
    dictionaries = check_int(dictionaries, "dictionaries", low=2)  # checked even if unused
    batches = dictionaries if kind == "random" else 16
    batches = min(batches, trials)
    sizes = np.full(batches, trials // batches)
    sizes[: trials % batches] += 1
    stats = np.zeros((batches, 3))
    done = 0
    W = fixed
    with ChunkRunner(trials, "simulate_decoding", progress, unit="trial") as run:
        for b, size in enumerate(sizes):
            if kind == "random":
                W = _random_dictionary(rng, m, n)
            u = rng.random((int(size), max(l, 1)))
            any_wrong = np.empty(int(size))
            level_error = np.empty(int(size))
            mean_sq = np.empty(int(size))
            _k.decode_trials(W, u, l, a, levels, any_wrong, level_error, mean_sq)
            stats[b] = any_wrong.mean(), level_error.mean(), mean_sq.mean()
            done = b + 1
            run.update(int(size))
    stats, weights = stats[:done], sizes[:done]
    if done == 0:  # pragma: no cover - ChunkRunner re-raises an interrupt before any batch
        raise KeyboardInterrupt

    def mean_se(col: np.ndarray) -> tuple[float, float]:
        mean = float(np.average(col, weights=weights))
        if done < 2:
            return mean, math.nan
        var = float(np.average((col - mean) ** 2, weights=weights)) * done / (done - 1)
        return mean, math.sqrt(var / done)

    p_any, p_any_se = mean_se(stats[:, 0])
    p_level, p_level_se = mean_se(stats[:, 1])
    msq, msq_se = mean_se(stats[:, 2])
    rms = math.sqrt(msq)
    return DecodingSimulation(
        n=int(n),
        m=int(m),
        l=int(l),
        a=a,
        levels=levels,
        dictionary=kind,
        trials=int(weights.sum()),
        dictionaries=done if kind == "random" else 1,
        p_any=p_any,
        p_any_se=p_any_se,
        p_level=p_level,
        p_level_se=p_level_se,
        rms=rms,
        rms_se=msq_se / (2 * rms) if rms > 0 else 0.0,
        interrupted=run.interrupted,
    )
