r"""Assertions for researchers' own tests of interpretability code, and their strategies.

Three assertions check the superposition properties of a dictionary ``W`` (shape ``(m, n)``,
rows are features) and raise :class:`AssertionError` with the measured and the expected or
allowed numbers -- never return a bare ``False``:

- :func:`assert_coherence`: the exact coherence equals a value;
- :func:`assert_within_capacity`: the read-out error rate under ``l`` active features is
  within a budget;
- :func:`assert_matches`: every feature of one dictionary has a match in another.

The hypothesis strategies are in :mod:`suptheory.testing.strategies`, imported as
``from suptheory.testing import strategies``; they need hypothesis
(``pip install suptheory[testing]``), this module does not (nor does ``import suptheory``).
Installing suptheory also registers a pytest plugin (entry point ``pytest11``, name
``suptheory``): a hypothesis profile ``suptheory`` (``pytest --hypothesis-profile=suptheory``)
and the ``embedding_file`` fixture, see :mod:`suptheory.testing._plugin` and the page
"Testing your own code with suptheory".

Examples
--------
>>> import numpy as np
>>> from suptheory.testing import assert_coherence, assert_matches
>>> W = np.array([[1.0, 0.0], [-0.5, 3 ** 0.5 / 2], [-0.5, -(3 ** 0.5) / 2]])
>>> assert_coherence(W, 0.5)
>>> assert_coherence(W, 0.4, rtol=0.1)
Traceback (most recent call last):
...
AssertionError: coherence of the 3 x 2 dictionary is 0.5 (rows 0 and 1, overlap -0.5), expected
0.4: |difference| 0.1 > allowed 0.04 (rtol=0.1, atol=0)
>>> assert_matches(W, W[[2, 0, 1]]).tolist()
[1, 2, 0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["assert_coherence", "assert_within_capacity", "assert_matches"]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def assert_coherence(W: Any, expected: float, rtol: float = 1e-12, atol: float = 0.0) -> None:
    r"""Assert that the exact coherence of ``W`` equals ``expected``.

    The coherence is ``max_{i<j} |cos(w_i, w_j)|`` over nonzero rows, computed exactly by
    :func:`suptheory.coherence`; the assertion holds when
    ``|coherence - expected| <= atol + rtol * |expected|``.

    Parameters
    ----------
    W : array_like
        The ``(m, n)`` dictionary, rows are features.
    expected : float
        The coherence it should have.
    rtol, atol : float
        Relative and absolute tolerance.

    Raises
    ------
    AssertionError
        With the measured coherence, its pair of rows, the expected value and the tolerance.

    Examples
    --------
    >>> assert_coherence(np.eye(3), 0.0)
    """
    from suptheory.analysis.coherence import coherence

    r = coherence(W, progress=False)
    allowed = atol + rtol * abs(expected)
    diff = abs(r.value - expected)
    if not diff <= allowed:  # also fails for a NaN expected value
        pair = (
            "no pair of nonzero rows"
            if r.i is None
            else f"rows {r.i} and {r.j}, overlap {_fmt(r.overlap)}"
        )
        raise AssertionError(
            f"coherence of the {r.m} x {r.n} dictionary is {_fmt(r.value)} ({pair}), expected "
            f"{_fmt(expected)}: |difference| {diff:.3g} > allowed {allowed:.3g} "
            f"(rtol={rtol:g}, atol={atol:g})"
        )


def assert_within_capacity(
    W: Any,
    l: float,  # noqa: E741 - the docs' name for the active count
    error: float,
    *,
    a: float = 1.0,
    trials: int = 100_000,
    seed: Any = 0,
    count: str = "fixed",
) -> float:
    r"""Assert that ``W`` reads its features back within an error budget with ``l`` active.

    **What is measured.** The read-out error rate of one feature: a feature ``i`` (uniform
    over the rows), ``l`` *other* features active at amplitude ``a`` (a uniform subset of the
    other rows; ``count="binomial"`` for a random number with mean ``l``), and the
    interference on ``i``'s read-out :math:`\nu = a \sum_{j \in S} \cos(w_i, w_j)`. A
    read-out with decision threshold ``a / 2`` errs when :math:`|\nu| \ge a / 2`: an inactive
    feature reads as active (:math:`\nu \ge a/2`), or the same noise pushes an active one
    below the threshold (:math:`\nu \le -a/2`). This is the per-read-out error
    ``2 Phi(-a / (2 sigma))`` of the read-out models (:mod:`suptheory.theory.readout`),
    measured here for the actual dictionary, without the normal approximation, by
    :func:`suptheory.simulate_interference` (``trials`` read-outs, seeded, so the assertion
    is deterministic). The assertion holds when the measured rate is ``<= error``.

    The estimate resolves rates down to about ``1 / trials``: with no error in ``trials``
    read-outs the true rate is below ``3 / trials`` at 95% confidence; ask for an ``error``
    well above ``1 / trials``.

    Parameters
    ----------
    W : array_like
        The ``(m, n)`` dictionary (rows are normalised; a zero row raises ``ValueError``).
    l : float
        Number of other active features, ``0 <= l <= m - 1``.
    error : float
        Allowed error rate per read-out, in ``(0, 1)``.
    a : float
        Amplitude of an active feature.
    trials : int
        Read-outs simulated.
    seed : int, SeedSequence or Generator
        Seed of the simulation.
    count : {"fixed", "binomial"}
        Exactly ``l`` other features active (randomised rounding if ``l`` is fractional), or
        each of the ``m - 1`` independently with probability ``l / (m - 1)``.

    Returns
    -------
    float
        The measured error rate.

    Raises
    ------
    AssertionError
        With the measured rate (and its standard error), the allowed one, the measured noise
        standard deviation and the random-directions prediction ``2 Phi(-sqrt(n / l) / 2)``.

    Examples
    --------
    >>> W = np.linalg.qr(np.random.default_rng(0).standard_normal((64, 64)))[0]
    >>> assert_within_capacity(W, l=8, error=1e-3, trials=2000)   # orthogonal: no error
    0.0
    """
    from scipy.special import ndtr

    from suptheory.empirical.simulate import simulate_interference

    if not (isinstance(error, (int, float, np.floating)) and 0.0 < error < 1.0):
        raise ValueError(f"error must be a number in (0, 1); got {error!r}")
    r = simulate_interference(
        l=l,
        a=a,
        embedding=W,
        trials=trials,
        seed=seed,
        count=count,
        amplitudes="fixed",
        return_samples=True,
        progress=False,
    )
    samples = r.samples if r.samples is not None else np.empty(0)
    wrong = int(np.count_nonzero(np.abs(samples) >= a / 2.0))
    rate = wrong / r.trials
    if rate > error:
        se = math.sqrt(rate * (1.0 - rate) / r.trials)
        random_rate = float(2.0 * ndtr(-math.sqrt(r.n / l) / 2.0)) if l > 0 else 0.0
        raise AssertionError(
            f"read-out error rate of the {int(r.m)} x {r.n} dictionary with l = {l:g} other "
            f"features active (amplitude {a:g}, threshold {a / 2:g}) is {_fmt(rate)} "
            f"+- {se:.2g} ({wrong} of {r.trials} read-outs), allowed {_fmt(error)}; noise "
            f"std {_fmt(r.std)} (random directions: {_fmt(r.random_law)}, error rate "
            f"{_fmt(random_rate)})"
        )
    return rate


def _unit(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(X, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        U = np.where(norms[:, None] > 0, X / norms[:, None], 0.0)
    return U, norms


def assert_matches(
    A: Any, B: Any, min_cosine: float = 0.9, *, one_to_one: bool = True, block: int = 1024
) -> np.ndarray:
    r"""Assert that every feature (row) of ``A`` has a match in ``B`` with cosine ``>= min_cosine``.

    The match of ``A[i]`` is its best match by (signed) cosine among the rows of ``B``,
    ``match[i] = argmax_k cos(A[i], B[k])``; with ``one_to_one`` no two rows of ``A`` may
    share a match (so ``match`` is a permutation when ``A`` and ``B`` have as many rows).
    Plain numpy, ``O(m_A m_B n)`` time in blocks of ``block`` rows of ``A``.

    Parameters
    ----------
    A, B : array_like
        Dictionaries of shapes ``(m_A, n)`` and ``(m_B, n)``. A zero row of ``B`` matches
        nothing (cosine 0); a zero row of ``A`` fails.
    min_cosine : float
        Smallest accepted cosine of a match.
    one_to_one : bool
        Fail when two rows of ``A`` have the same best match.
    block : int
        Rows of ``A`` per matrix product.

    Returns
    -------
    numpy.ndarray
        ``match``, ``(m_A,)`` ints: ``B[match[i]]`` is the match of ``A[i]``. For a copy from
        :func:`suptheory.testing.strategies.permuted_noisy_copy` it is the true ``perm``.

    Raises
    ------
    AssertionError
        Listing the unmatched features (up to ten, worst first) with their best cosine and
        row of ``B``, or the rows of ``B`` claimed twice.

    Examples
    --------
    >>> A = np.eye(3)
    >>> assert_matches(A, [[0.0, 1.0, 0.1], [1.0, 0.0, 0.0], [0.0, 0.1, 1.0]]).tolist()
    [1, 0, 2]
    >>> assert_matches(A, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.8, 0.6]])
    Traceback (most recent call last):
    ...
    AssertionError: 1 of 3 features of A have no match in B with cosine >= 0.9: A[2] best
    cosine 0.6 (B[2])
    """
    from suptheory._validate import check_embedding, check_int

    Aa = check_embedding(A, "A")
    Bb = check_embedding(B, "B")
    if Aa.shape[1] != Bb.shape[1]:
        raise ValueError(f"A and B must have the same width; got {Aa.shape} and {Bb.shape}")
    block = check_int(block, "block", low=1)
    UA, na = _unit(Aa)
    UB, _ = _unit(Bb)
    match = np.empty(len(Aa), dtype=np.intp)
    best = np.empty(len(Aa))
    for start in range(0, len(Aa), block):
        C = UA[start : start + block] @ UB.T
        k = np.argmax(C, axis=1)
        match[start : start + block] = k
        best[start : start + block] = C[np.arange(len(k)), k]
    best[na == 0] = np.nan
    bad = np.flatnonzero(~(best >= min_cosine))
    if bad.size:
        order = bad[np.argsort(np.nan_to_num(best[bad], nan=-np.inf), kind="stable")][:10]
        items = "; ".join(
            f"A[{i}] is a zero row"
            if na[i] == 0
            else f"A[{i}] best cosine {_fmt(best[i])} (B[{match[i]}])"
            for i in order
        )
        more = f"; ... ({bad.size - len(order)} more)" if bad.size > len(order) else ""
        raise AssertionError(
            f"{bad.size} of {len(Aa)} features of A have no match in B with cosine >= "
            f"{min_cosine:g}: {items}{more}"
        )
    if one_to_one:
        values, counts = np.unique(match, return_counts=True)
        if np.any(counts > 1):
            shared = values[counts > 1][:10]
            items = "; ".join(
                f"B[{k}] for A[{', '.join(map(str, np.flatnonzero(match == k)))}]" for k in shared
            )
            raise AssertionError(
                f"{int(np.sum(counts > 1))} rows of B are the best match of several features "
                f"of A (one_to_one=True): {items}"
            )
    return match
