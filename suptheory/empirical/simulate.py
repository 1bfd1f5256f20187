r"""Monte Carlo twins of the closed forms: read-out noise, decodable levels, largest overlap.

Each simulation is seeded (``seed=``: an int, a ``SeedSequence`` or a ``Generator``), returns
its estimate with a standard error beside the closed form it checks (see the theory page of
the docs), and gives the same numbers whatever numba's thread count: the wrapper draws every
random number from one ``numpy.random.Generator`` in fixed chunks of trials, the kernels
(:mod:`suptheory._kernels.simulate`) only fill their outputs, one slot per trial.

The simulated read-out. Feature ``i`` is read by projecting the layer's activation
``h = sum_j x_j w_j`` on its unit direction ``w_i``; the interference is

.. math:: \nu = \sum_{j \in S} x_j \langle w_i, w_j \rangle,

the sum over the set ``S`` of *other* features active at the same time, at amplitudes
``x_j``. Directions are uniform on the sphere in R^n (fresh in every trial), or the
(normalized) rows of a given ``(m, n)`` embedding with ``i`` uniform and ``S`` a uniform
subset of the other ``m - 1`` rows.

How many are active (``count=``), for a possibly fractional expected count ``l``:

* ``"binomial"`` (default): each of the ``m - 1`` other features is active independently
  with density ``p = l / (m - 1)`` (the toy models' sparsity picture), so
  ``|S| ~ Binomial(m - 1, p)``. For ``m - 1 > 2^53`` (no exact integer) it is drawn as
  ``Poisson(l)``, which differs from it in total variation by at most ``l^2 / (m - 1)``
  (Le Cam's inequality), below float64 resolution.
* ``"poisson"``: ``|S| ~ Poisson(l)`` (random directions only).
* ``"fixed"``: exactly ``l`` active when ``l`` is whole; otherwise ``floor(l)`` or
  ``floor(l) + 1``, the latter with probability ``l - floor(l)`` (randomized rounding:
  the least variable count with mean ``l``).

Every law has mean ``l``, so the noise variance of random directions is the theory's exact
``E|S| E x^2 / n = l a^2 / n`` under all three; they differ in the tails (a random count
adds kurtosis ``~ 3 / l``), which matters for decoding error rates at small ``l``.

Amplitudes (``amplitudes=``): ``"fixed"`` -- every active feature at ``a`` (the read-out
models); ``"uniform"`` -- uniform on ``[0, a)`` as in the toy models
(Elhage et al. 2022), which divides the noise variance by 3.

Long runs show progress (a bar on a terminal, else a line on stderr every 10 s;
``progress=False`` hides it) and stop cleanly on ``KeyboardInterrupt`` between chunks: the
result of the finished trials is returned with ``interrupted=True`` (if no chunk had
finished, the interrupt propagates).
"""

# ruff: noqa: E741  (l is the docs' name for the number of active features)
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import log_ndtr, ndtr

from suptheory._kernels import simulate as _k
from suptheory._runner import ChunkRunner
from suptheory._validate import (
    MAX_COUNT,
    as_generator,
    as_real,
    as_scalar,
    check_bool,
    check_choice,
    check_embedding,
    check_int,
)
from suptheory.analysis.metrics import row_norms
from suptheory.theory.overlaps import expected_max_coherence_random, max_coherence_random

__all__ = [
    "InterferenceSimulation",
    "LevelsSimulation",
    "MaxLevelsSimulation",
    "MaxCoherenceSimulation",
    "simulate_interference",
    "simulate_levels",
    "simulate_max_levels",
    "simulate_max_coherence",
]

COUNTS = ("binomial", "poisson", "fixed")
AMPLITUDES = ("fixed", "uniform")

#: trials per chunk: fixed, so the random stream (and every result) depends only on the random seed
_CHUNK = 16_384
#: at most this many active features are drawn per chunk (bounds memory for large ``l``)
#: the most active features of one read-out a simulation draws (1.5 GiB of draws at the cap)
_MAX_ACTIVE = 2**26
_FEATURES_PER_CHUNK = 1 << 21
#: fixed number of blocks the decoding kernel splits trials into (integer counts: exact)
_BLOCKS = 64
#: exact moments of an embedding's noise cost m n min(m, n) flops; skipped above this
_EXACT_FLOPS = 4e9
#: two-sided 95% normal quantile, for the bands of ``simulate_max_levels``
_Z95 = 1.959963984540054
#: up to this m the largest overlap is computed by a batch kernel, beyond by ``coherence``
_SMALL_M = 512
#: up to this m an embedding's exact noise moments use the m x m Gram (no cancellation)
_GRAM_M = 4096


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Setting:
    """A validated setting: what the noise generator needs, and its exact moments."""

    n: int
    m: float
    l: float  # noqa: E741 - the project's name
    a: float
    count: str
    amplitudes: str
    W: np.ndarray | None  # unit rows, or None for random directions
    alpha1: float  # E x, x an active amplitude
    alpha2: float  # E x^2
    theory_mean: float
    theory_std: float
    random_law: float

    @property
    def others(self) -> float:
        return self.m - 1.0


def _setting(
    n: Any,
    m: Any,
    l: Any,
    a: Any,
    count: Any,
    amplitudes: Any,
    embedding: Any,  # noqa: E741
) -> _Setting:
    count = check_choice(count, "count", COUNTS)
    amplitudes = check_choice(amplitudes, "amplitudes", AMPLITUDES)
    if l is None:
        raise TypeError("l (the expected number of other active features) is required")
    a_ = as_scalar(a, "a", low=0, low_open=True, high=1e150)  # a^2 enters the moments
    W = None
    if embedding is not None:
        W = check_embedding(embedding, "embedding")
        rows, cols = W.shape
        for name, given, actual in (("n", n, cols), ("m", m, rows)):
            if given is not None and as_scalar(given, name, low=1, integer=True) != actual:
                raise ValueError(
                    f"{name} must equal the embedding's {'columns' if name == 'n' else 'rows'}"
                    f" ({actual}) or be None; got {given!r}"
                )
        if count == "poisson":
            raise ValueError(
                "count='poisson' can draw more active features than the embedding has rows; "
                "use count='binomial' or 'fixed' with an embedding"
            )
        norms = row_norms(W)  # scaled by powers of two: no overflow at 1e155, no underflow
        zero = np.flatnonzero(norms == 0)
        if zero.size:
            raise ValueError(
                f"embedding has {zero.size} zero row(s) (first: row {zero[0]}); a zero row has "
                "no direction to read out -- drop it first"
            )
        W = np.ascontiguousarray(W / norms[:, None])
        n_, m_ = cols, float(rows)
    else:
        if n is None or m is None:
            raise TypeError("n and m are required unless an embedding is given")
        n_ = int(as_scalar(n, "n", low=1, integer=True))
        m_ = as_scalar(m, "m", low=1, integer=True)
    l_ = as_scalar(l, "l", low=0)
    if l_ > m_ - 1:
        raise ValueError(f"l must be in [0, m - 1] = [0, {m_ - 1:g}] (other features); got {l_:g}")
    if l_ > _MAX_ACTIVE:  # one read-out's active features are drawn at once (24 bytes each)
        raise ValueError(f"l must be at most 2^26 = {_MAX_ACTIVE:,} for a simulation; got {l_:g}")
    alpha1, alpha2 = (a_, a_**2) if amplitudes == "fixed" else (a_ / 2, a_**2 / 3)
    # Var = E|S| E x^2 / n exactly for random directions, mean 0.
    random_law = math.sqrt(l_ * alpha2 / n_)
    if W is None:
        mean, std = 0.0, random_law
    else:
        mean, std = _embedding_moments(W, l_, alpha1, alpha2, count)
    return _Setting(n_, m_, l_, a_, count, amplitudes, W, alpha1, alpha2, mean, std, random_law)


def _count_second_moment(l: float, N: float, count: str) -> float:  # noqa: E741 - the project's name
    """E|S|^2 under each count law (mean l)."""
    if count == "binomial":
        return l * (1.0 - l / N) + l * l if N > 0 else 0.0
    if count == "poisson":
        return l + l * l
    frac = l - math.floor(l)
    return frac * (1.0 - frac) + l * l


def _embedding_moments(
    W: np.ndarray,
    l: float,
    alpha1: float,
    alpha2: float,
    count: str,  # noqa: E741 - the project's name
) -> tuple[float, float]:
    """Exact mean and std of the noise of a unit-row embedding (NaN when too costly).

    With ``y_j = <w_i, w_j>`` over the ``N = m - 1`` others, ``r_i = sum y_j``,
    ``s_i = sum y_j^2``: independent activity (binomial) gives mean ``p alpha1 r_i`` and
    variance ``(p alpha2 - p^2 alpha1^2) s_i``; a uniform subset of random size ``K``
    (sampling without replacement) gives mean ``alpha1 l r_i / N`` and second moment
    ``(alpha2 - alpha1^2) l s_i / N + alpha1^2 (E[K (N - K)] / (N - 1) var_y + E[K^2] mean_y^2)``.
    Averaged over the uniform read-out row ``i``.
    """
    m, n = W.shape
    N = m - 1
    if N == 0 or l == 0:
        return 0.0, 0.0
    if float(m) * n * min(m, n) > _EXACT_FLOPS:
        return math.nan, math.nan
    if m <= _GRAM_M:  # zero the diagonal: tiny overlaps keep their relative accuracy
        G = W @ W.T
        np.fill_diagonal(G, 0.0)
        r = G.sum(axis=1)
        s = np.einsum("ij,ij->i", G, G)
        D = G - (r / N)[:, None]  # population variance of y directly, not s/N - mean^2
        var_y = (np.einsum("ij,ij->i", D, D) - (r / N) ** 2) / N
    else:
        r = W @ W.sum(axis=0) - 1.0
        F = W.T @ W
        s = np.maximum(np.einsum("ij,jk,ik->i", W, F, W, optimize=True) - 1.0, 0.0)
        var_y = s / N - (r / N) ** 2
    var_y = np.maximum(var_y, 0.0)
    if count == "binomial":
        p = l / N
        cond_mean = p * alpha1 * r
        cond_var = (p * alpha2 - p * p * alpha1**2) * s
    else:  # "fixed": uniform subset of a randomized-rounding size K
        ek2 = _count_second_moment(l, N, count)
        mu_y = r / N
        between = (N * l - ek2) / (N - 1) * var_y if N > 1 else 0.0 * var_y
        cond_mean = alpha1 * l * mu_y
        cond_var = (alpha2 - alpha1**2) * l * s / N + alpha1**2 * (
            between + (ek2 - l * l) * mu_y**2
        )
    # law of total variance over the uniform read-out row
    mean = float(cond_mean.mean())
    var = float(cond_var.mean()) + float(cond_mean.var())
    return mean, math.sqrt(max(var, 0.0))


def _draw_counts(rng: np.random.Generator, st: _Setting, size: int) -> np.ndarray:
    N = st.others
    if st.l == 0 or N == 0:
        return np.zeros(size, dtype=np.int64)
    if st.count == "binomial" and N <= 2.0**53:
        return rng.binomial(int(N), st.l / N, size).astype(np.int64)
    if st.count in ("binomial", "poisson"):
        return rng.poisson(st.l, size).astype(np.int64)
    base = math.floor(st.l)
    frac = st.l - base
    counts = np.full(size, base, dtype=np.int64)
    if frac > 0:
        counts += rng.random(size) < frac
    return counts


def _noise_chunks(
    st: _Setting, rng: np.random.Generator, trials: int, signs: str = "positive"
) -> Iterator[np.ndarray]:
    """Yield the read-out noise of successive chunks of trials (fixed chunking)."""
    chunk = max(1, min(_CHUNK, _FEATURES_PER_CHUNK // max(1, math.ceil(st.l))))
    empty = np.empty(0, dtype=np.float64)
    done = 0
    while done < trials:
        size = min(chunk, trials - done)
        counts = _draw_counts(rng, st, size)
        offsets = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        total = int(offsets[-1])
        out = np.empty(size, dtype=np.float64)
        if st.W is None:
            g = rng.standard_normal(total)
            chi = rng.chisquare(st.n - 1, total) if st.n > 1 else np.zeros(total)
            amp = rng.random(total) * st.a if st.amplitudes == "uniform" else empty
            if signs == "random":  # each active feature at +-x, signs independent and fair
                x = amp if amp.size else np.full(total, st.a)
                amp = np.where(rng.random(total) < 0.5, -x, x)
            _k.random_noise(offsets, g, chi, amp, st.a, out)
        else:
            targets = rng.integers(0, st.W.shape[0], size, dtype=np.int64)
            u = rng.random(total)
            amp = rng.random(total) * st.a if st.amplitudes == "uniform" else empty
            if signs == "random":  # each active feature at +-x, signs independent and fair
                x = amp if amp.size else np.full(total, st.a)
                amp = np.where(rng.random(total) < 0.5, -x, x)
            _k.embedding_noise(st.W, targets, offsets, u, amp, st.a, out)
        done += size
        yield out


# --------------------------------------------------------------------------- interference


@dataclass(frozen=True)
class InterferenceSimulation:
    """Monte Carlo read-out noise of one feature (see :func:`simulate_interference`).

    ``float(result)`` is the estimated noise standard deviation ``std``.
    """

    n: int
    m: float
    l: float  # noqa: E741 - the project's name
    a: float
    trials: int  #: trials actually run (fewer than asked if interrupted)
    source: str  #: "random" directions or an "embedding"
    count: str
    amplitudes: str
    mean: float  #: sample mean of the noise
    mean_se: float  #: its standard error, std / sqrt(trials)
    std: float  #: sample standard deviation of the noise
    std_se: float  #: its standard error (delta method on the sample variance)
    theory: float  #: exact std under the simulated law (NaN if too costly for an embedding)
    theory_mean: float  #: exact mean (0 for random directions)
    random_law: float  #: ``a sqrt(l / n)`` (over sqrt(3) for uniform amplitudes)
    interrupted: bool = False
    samples: np.ndarray | None = field(default=None, repr=False)

    @property
    def z(self) -> float:
        """Standardized gap ``(std - theory) / std_se``."""
        return (self.std - self.theory) / self.std_se if self.std_se > 0 else 0.0

    def __float__(self) -> float:
        return self.std

    def __str__(self) -> str:
        return (
            f"noise std {self.std:.5g} +- {self.std_se:.2g} (theory {self.theory:.5g}, "
            f"random law {self.random_law:.5g}), mean {self.mean:.3g} +- {self.mean_se:.2g}; "
            f"{self.trials} trials"
        )


def simulate_interference(
    n: Any = None,
    m: Any = None,
    l: Any = None,  # noqa: E741 - the project's name
    a: Any = 1.0,
    *,
    trials: Any = 100_000,
    seed: Any = None,
    embedding: Any = None,
    count: str = "binomial",
    amplitudes: str = "fixed",
    return_samples: bool = False,
    progress: bool = True,
    signs: str = "positive",
) -> InterferenceSimulation:
    r"""Simulate the read-out noise of one feature while ``l`` others are active.

    Each trial draws a read-out feature, a set ``S`` of other active features (its size by
    ``count``, see the module notes) and their amplitudes, and records

    .. math:: \nu = \sum_{j \in S} x_j \langle w_i, w_j \rangle,
              \qquad \operatorname{Var} \nu = \frac{E|S| \, E x^2}{n} = \frac{l a^2}{n}

    (exact for uniform random directions, whatever the count law; the
    ``"random"`` read-out model of §5, ``interference(n, m, l, a, model="random")``).

    Parameters
    ----------
    n, m : int or float
        Width and number of features (whole numbers; ``m = 1e30`` is fine for random
        directions). Taken from ``embedding`` when it is given (pass None or equal values).
    l : float
        Expected number of *other* features active, in ``[0, m - 1]`` and at most ``2^26``;
        may be fractional.
    a : float
        Amplitude of an active feature, in ``(0, 1e150]`` (its square enters the moments).
    trials : int
        Number of read-outs simulated (``>= 2``).
    seed : None, int, SeedSequence or Generator
        Source of randomness; the result is a function of it (and not of the thread count).
    embedding : array_like, optional
        An ``(m, n)`` embedding whose rows are the feature directions (normalized here; a
        zero row raises). The read-out row is uniform and ``S`` a uniform subset of the rest.
    count : {"binomial", "poisson", "fixed"}
        Law of the number of active others (mean ``l`` in each case).
    amplitudes : {"fixed", "uniform"}
        Every active feature at ``a``, or uniform on ``[0, a)``.
    return_samples : bool
        Keep the ``trials`` noise values in ``result.samples`` (8 bytes per trial).
    progress : bool
        Show progress: a bar on a terminal, else a line on stderr every 10 s.
    signs : {"positive", "random"}
        Amplitudes as drawn (``"positive"``, an SAE's activations), or each multiplied by an
        independent fair sign (``"random"``): the noise then has mean 0 and, for an
        embedding, variance ``E|S| E x^2 mean_i sum_{j != i} cos_ij^2 / (m - 1)``; the
        closed forms ``theory`` and ``theory_mean`` follow the choice.

    Returns
    -------
    InterferenceSimulation
        ``std`` with ``std_se``, ``mean`` with ``mean_se``, and the closed forms ``theory``
        (exact std under the simulated law; for an embedding computed from its Gram
        statistics, NaN when ``m n min(m, n) > 4e9``), ``theory_mean`` and ``random_law``.

    Notes
    -----
    The standard error of the standard deviation is the delta method on the sample
    variance: :math:`\operatorname{se}(s) = \sqrt{(\hat\mu_4 - s^4) / T} / (2 s)` with
    :math:`\hat\mu_4` the fourth central sample moment and ``T`` the trials.

    Random directions use ``<e_1, g/|g|> = g_1 / sqrt(g_1^2 + chi^2_{n-1})`` (Muller 1959),
    two numbers per active feature instead of an ``n``-vector; see
    :mod:`suptheory._kernels.simulate`.

    References
    ----------
    .. [1] T. T. Cai, J. Fan and T. Jiang, "Distributions of angles in random packing on
       spheres", JMLR 14 (2013) 1837-1864 (exact statistics of random directions).
    .. [2] M. E. Muller, "A note on a method for generating points uniformly on
       n-dimensional spheres", Comm. ACM 2(4), 1959.
    .. [3] J. Bentley and B. Floyd, "Programming pearls: a sample of brilliance",
       Comm. ACM 30(9), 1987 (the subset sampler used for embeddings).

    Examples
    --------
    >>> r = simulate_interference(256, 10_000, 16, trials=20_000, seed=0, progress=False)
    >>> round(r.theory, 4)          # a sqrt(l / n)
    0.25
    >>> abs(r.std - r.theory) < 3 * r.std_se
    True
    >>> W = np.linalg.qr(np.random.default_rng(1).standard_normal((64, 64)))[0]
    >>> r = simulate_interference(l=8, embedding=W, trials=1000, seed=0, progress=False)
    >>> round(r.std, 12), round(r.theory, 12)   # orthogonal rows: no interference
    (0.0, 0.0)
    """
    progress = bool(check_bool(progress, "progress"))
    st = _setting(n, m, l, a, count, amplitudes, embedding)
    signs = check_choice(signs, "signs", ("positive", "random"))
    if signs == "random":  # E x = 0: the moments with alpha1 = 0
        mean0, std0 = (
            (0.0, st.random_law)
            if st.W is None
            else _embedding_moments(st.W, st.l, 0.0, st.alpha2, st.count)
        )
        st = replace(st, alpha1=0.0, theory_mean=mean0, theory_std=std0)
    trials = check_int(trials, "trials", low=2, high=MAX_COUNT)
    rng = as_generator(seed)
    shift = st.theory_mean if math.isfinite(st.theory_mean) else 0.0
    sums = np.zeros(5)  # count, then sums of d, d^2, d^3, d^4 with d = (noise - shift) / a
    scale = st.a  # in units of a: d^4 stays finite up to a = 1e150 (exact for a = 1)
    kept: list[np.ndarray] = []
    with ChunkRunner(trials, "simulate_interference", progress, unit="trial") as run:
        for out in _noise_chunks(st, rng, trials, signs):
            d = (out - shift) / scale
            d2 = d * d
            sums += (out.size, d.sum(), d2.sum(), (d2 * d).sum(), (d2 * d2).sum())
            if return_samples:
                kept.append(out)
            run.update(out.size)
    T = int(sums[0])
    m1, m2, m3, m4 = sums[1:] / T
    var_pop = max(m2 - m1 * m1, 0.0)
    mu4 = m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1**4
    var = var_pop * T / (T - 1)
    std = math.sqrt(var) * scale
    std_se = (
        scale * math.sqrt(max(mu4 - var_pop**2, 0.0) / T) / (2 * std / scale) if std > 0 else 0.0
    )
    return InterferenceSimulation(
        n=st.n,
        m=st.m,
        l=st.l,
        a=st.a,
        trials=T,
        source="random" if st.W is None else "embedding",
        count=st.count,
        amplitudes=st.amplitudes,
        mean=shift + float(m1) * scale,
        mean_se=std / math.sqrt(T),
        std=std,
        std_se=std_se,
        theory=st.theory_std,
        theory_mean=st.theory_mean,
        random_law=st.random_law,
        interrupted=run.interrupted,
        samples=np.concatenate(kept) if return_samples else None,
    )


# --------------------------------------------------------------------------- levels


def _normal_level_error(levels: np.ndarray, a: float, mean: float, std: float) -> np.ndarray:
    """Nearest-level decoding error if the noise were normal (mean, std), clamped ends."""
    L = levels.astype(np.float64)
    if not (math.isfinite(mean) and math.isfinite(std)):  # exact moments not computed
        return np.full(L.shape, np.nan)
    h = a / (2 * (L - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(std > 0, ndtr(-(h - mean) / std), (mean >= h) * 1.0)
        down = np.where(std > 0, ndtr(-(h + mean) / std), (mean <= -h) * 1.0)
    # interior levels err on both sides, the two end levels on one: average (L - 1) / L
    error: np.ndarray = (L - 1) / L * (up + down)
    return error


def _check_levels(levels: Any) -> np.ndarray:
    arr = as_real(levels, "levels", low=2, integer=True)
    if arr.ndim > 1 or arr.size == 0:
        raise ValueError("levels must be a whole number >= 2 or a 1-D sequence of them")
    if np.any(arr > 2.0**40):
        raise ValueError("levels must be at most 2^40")
    return np.atleast_1d(arr).astype(np.int64)


@dataclass(frozen=True)
class LevelsSimulation:
    """Nearest-level decoding error against the number of levels (see :func:`simulate_levels`)."""

    n: int
    m: float
    l: float  # noqa: E741 - the project's name
    a: float
    trials: int
    source: str
    count: str
    amplitudes: str
    levels: np.ndarray  #: level counts L evaluated (int64)
    errors: np.ndarray  #: number of wrongly decoded trials at each L
    error: np.ndarray  #: error rate errors / trials
    error_se: np.ndarray  #: binomial standard error sqrt(error (1 - error) / trials)
    theory: np.ndarray  #: normal approximation (L - 1)/L [Phi(-(h-mu)/s) + Phi(-(h+mu)/s)]
    sigma: float  #: the noise std ``s`` used by ``theory`` (exact under the simulated law)
    mu: float  #: the noise mean used by ``theory`` (0 for random directions)
    interrupted: bool = False

    def max_levels_at(self, error: float) -> int:
        """Largest evaluated L such that every evaluated L' <= L has error rate <= ``error``.

        1 if even the smallest evaluated count errs more often (one level never errs).
        """
        err = as_scalar(error, "error", low=0, high=1, low_open=True, high_open=True)
        order = np.argsort(self.levels, kind="stable")
        best = 1
        for q in order:
            if self.error[q] > err:
                break
            best = int(self.levels[q])
        return best


def _decode(noise: np.ndarray, u: np.ndarray, levels: np.ndarray, a: float) -> np.ndarray:
    counts = np.zeros((_BLOCKS, levels.size), dtype=np.int64)
    _k.level_errors(noise, u, levels, a, _BLOCKS, counts)
    total: np.ndarray = counts.sum(axis=0)
    return total


def simulate_levels(
    n: Any = None,
    m: Any = None,
    l: Any = None,  # noqa: E741 - the project's name
    a: Any = 1.0,
    *,
    levels: Any = None,
    trials: Any = 100_000,
    seed: Any = None,
    embedding: Any = None,
    count: str = "binomial",
    amplitudes: str = "fixed",
    progress: bool = True,
) -> LevelsSimulation:
    r"""Simulate nearest-level decoding of one feature's value through the read-out noise.

    Each trial draws the feature's value uniformly from ``L`` equally spaced levels
    ``0, a/(L-1), ..., a``, adds the read-out noise of :func:`simulate_interference` (same
    ``count``, ``amplitudes``, ``embedding``), and decodes to the nearest level. Every
    ``L`` in ``levels`` is evaluated on the same trials (common random numbers). Beside it,
    the normal approximation with the noise's exact mean and std,

    .. math:: P_{err}(L) \approx \frac{L-1}{L}
              \left[\Phi\!\left(-\frac{h - \mu}{\sigma}\right)
              + \Phi\!\left(-\frac{h + \mu}{\sigma}\right)\right],
              \qquad h = \frac{a}{2 (L - 1)}.

    The factor ``(L - 1) / L`` is there because the two end levels can err on one side
    only; the normal form ``2 Phi(-h / sigma)`` (random directions, ``mu = 0``) omits it, so it
    is an upper bound, tight for many levels.

    When is the normal approximation accurate? The noise is a sum of ``|S|`` overlaps
    whose excess kurtosis is about ``3 / l`` for a random count (binomial, Poisson) and
    ``-6 / ((n + 2) l)`` for a fixed count at fixed amplitudes, so: for ``l`` of tens or
    more, or for a fixed count at large ``n``; error rates far in the tail (below ~1e-3)
    need larger ``l`` still.

    Parameters
    ----------
    n, m, l, a, embedding, count, amplitudes, trials, seed, progress
        As in :func:`simulate_interference`.
    levels : int or sequence of int, optional
        Level counts ``L >= 2`` to evaluate. Default: 2 up to
        ``max(4, ceil(1 + a / sigma))`` (where the error rate passes about 60%).

    Returns
    -------
    LevelsSimulation
        ``levels``, ``error`` with ``error_se`` (binomial), the normal approximation
        ``theory``, and ``max_levels_at(error)``.

    References
    ----------
    .. [1] J. G. Proakis and M. Salehi, "Digital Communications", 5th ed., McGraw-Hill
       (2008), section 4.3 (levels at an error budget).

    Examples
    --------
    >>> r = simulate_levels(256, 10_000, 16, levels=[2, 3, 4], trials=20_000, seed=0,
    ...                     progress=False)
    >>> [round(float(e), 2) for e in r.theory]
    [0.02, 0.21, 0.38]
    >>> bool(np.all(np.abs(r.error - r.theory) < 3 * r.error_se))
    True
    >>> r.max_levels_at(0.05)
    2
    """
    progress = bool(check_bool(progress, "progress"))
    st = _setting(n, m, l, a, count, amplitudes, embedding)
    trials = check_int(trials, "trials", low=2, high=MAX_COUNT)
    if levels is None:
        # the exact std, or the random law when an embedding is too large for exact moments
        sd = st.theory_std if math.isfinite(st.theory_std) else st.random_law
        top = 4 if not sd > 0 else max(4, math.ceil(1 + st.a / sd))
        lv = np.arange(2, min(top, 4096) + 1, dtype=np.int64)
    else:
        lv = _check_levels(levels)
    rng = as_generator(seed)
    errors = np.zeros(lv.size, dtype=np.int64)
    with ChunkRunner(trials, "simulate_levels", progress, unit="trial") as run:
        for out in _noise_chunks(st, rng, trials):
            u = rng.random(out.size)
            errors += _decode(out, u, lv, st.a)
            run.update(out.size)
    return _levels_result(st, lv, errors, run.done, run.interrupted)


def _levels_result(
    st: _Setting, lv: np.ndarray, errors: np.ndarray, T: int, interrupted: bool
) -> LevelsSimulation:
    rate = errors / T
    return LevelsSimulation(
        n=st.n,
        m=st.m,
        l=st.l,
        a=st.a,
        trials=T,
        source="random" if st.W is None else "embedding",
        count=st.count,
        amplitudes=st.amplitudes,
        levels=lv,
        errors=errors,
        error=rate,
        error_se=np.sqrt(rate * (1 - rate) / T),
        theory=_normal_level_error(lv, st.a, st.theory_mean, st.theory_std),
        sigma=st.theory_std,
        mu=st.theory_mean,
        interrupted=interrupted,
    )


@dataclass(frozen=True)
class MaxLevelsSimulation:
    """The largest level count decodable at an error budget (see :func:`simulate_max_levels`).

    ``int(result)`` is ``levels``.
    """

    error: float  #: the error budget
    levels: int  #: largest L whose simulated error rate (and every smaller L's) is <= error
    levels_low: int  #: the same with the error rate raised by 1.96 standard errors
    levels_high: int  #: the same with the error rate lowered by 1.96 standard errors
    theory: float  #: continuous L of the normal law (end levels counted) at the same error
    #: largest L whose normal-approximation error (end levels counted) is <= error; None when
    #: the embedding is too large for its exact moments
    theory_levels: int | None
    censored: bool  #: True if no L up to 2^24 exceeded the budget (then levels = 2^24)
    curve: LevelsSimulation  #: the error-rate curve over L = 2, 3, ... the search evaluated

    def __int__(self) -> int:
        return self.levels


def simulate_max_levels(
    n: Any = None,
    m: Any = None,
    l: Any = None,  # noqa: E741 - the project's name
    a: Any = 1.0,
    *,
    error: Any = 0.01,
    trials: Any = 100_000,
    seed: Any = None,
    embedding: Any = None,
    count: str = "binomial",
    amplitudes: str = "fixed",
    progress: bool = True,
) -> MaxLevelsSimulation:
    r"""Simulate the largest number of levels a read-out decodes within an error budget.

    The noise of ``trials`` read-outs is drawn once (as in :func:`simulate_levels`, kept in
    memory: 16 bytes per trial), then ``L = 2, 3, ...`` are decoded on those same trials
    until the error rate exceeds ``error``. Beside it, the closed form for a normal noise of
    the setting's exact standard deviation ``sigma``, end levels included,

    .. math:: \frac{2 (L - 1)}{L}\, \Phi\!\left(-\frac{a}{2 (L - 1) \sigma}\right)
              = \mathrm{error}

    solved for a continuous ``L`` (``distinguishable_levels`` of a normal-law model; for
    random directions at a fixed count :func:`suptheory.distinguishable_levels` uses the exact
    law instead), and the largest whole ``L`` meeting the budget under that normal
    approximation (see :func:`simulate_levels`).

    Parameters
    ----------
    n, m, l, a, embedding, count, amplitudes, trials, seed, progress
        As in :func:`simulate_interference`.
    error : float
        Allowed probability of a wrong read-out, in ``(0, 1)``.

    Returns
    -------
    MaxLevelsSimulation

    References
    ----------
    .. [1] J. G. Proakis and M. Salehi, "Digital Communications", 5th ed., McGraw-Hill
       (2008), section 4.3 (levels at an error budget).

    Examples
    --------
    >>> r = simulate_max_levels(1024, 10_000, 4, error=0.05, trials=20_000, seed=0,
    ...                         progress=False)
    >>> r.theory_levels, round(r.theory, 2)
    (5, 5.28)
    >>> r.levels_low <= r.theory_levels <= r.levels_high
    True
    """
    progress = bool(check_bool(progress, "progress"))
    st = _setting(n, m, l, a, count, amplitudes, embedding)
    err = as_scalar(error, "error", low=0, high=1, low_open=True, high_open=True)
    trials = check_int(trials, "trials", low=2, high=MAX_COUNT)
    rng = as_generator(seed)
    sigma = st.theory_std
    theory = _normal_levels(st.a, sigma, err)
    cap = 1 << 24
    noise_parts: list[np.ndarray] = []
    u_parts: list[np.ndarray] = []
    with ChunkRunner(trials, "simulate_max_levels", progress, unit="trial") as run:
        for out in _noise_chunks(st, rng, trials):
            u = rng.random(out.size)
            noise_parts.append(out)
            u_parts.append(u)
            run.update(out.size)
    noise = np.concatenate(noise_parts)
    u = np.concatenate(u_parts)
    T = noise.size
    # theory's whole-number answer: scan up from the closed form's neighbourhood
    theory_levels: int | None
    if not math.isfinite(sigma):
        theory_levels = None
    elif sigma == 0 and st.theory_mean == 0:
        theory_levels = cap
    else:
        theory_levels = _normal_max_levels(st, err, cap)
    # A trial can only err at L if |noise| >= a / (2 (L - 1)) (half a spacing), so the
    # fraction F(L) of such trials bounds the error rate. Below the L where F (with its
    # upper band) reaches err, no L can cross: decode a sparse grid there, then every L.
    start = min(cap, _safe_levels(np.abs(noise), st.a, err, T))
    sparse = np.unique(np.geomspace(2, max(2, start - 1), 24).astype(np.int64))
    sparse = sparse[sparse < start]
    all_lv: list[np.ndarray] = [sparse]
    all_err: list[np.ndarray] = [_decode(noise, u, sparse, st.a)]
    lo_l, width = start, max(16, start // 4)
    while lo_l < cap:
        lv = np.arange(lo_l, min(cap, lo_l + width - 1) + 1, dtype=np.int64)
        all_lv.append(lv)
        all_err.append(_decode(noise, u, lv, st.a))
        rate = all_err[-1] / T
        if np.any(rate - _Z95 * np.sqrt(rate * (1 - rate) / T) > err):
            break
        lo_l = int(lv[-1]) + 1
        width *= 2
    curve = _levels_result(st, np.concatenate(all_lv), np.concatenate(all_err), T, run.interrupted)
    rate, se = curve.error, curve.error_se
    censored = bool(np.all(rate - _Z95 * se <= err))
    return MaxLevelsSimulation(
        error=err,
        levels=cap if censored else curve.max_levels_at(err),
        levels_low=cap if censored else _first_crossing(curve.levels, rate + _Z95 * se, err),
        levels_high=cap if censored else _first_crossing(curve.levels, rate - _Z95 * se, err),
        theory=theory,
        theory_levels=theory_levels,
        censored=censored,
        curve=curve,
    )


def _normal_levels(a: float, sigma: float, err: float) -> float:
    """Continuous ``L`` with ``2 (L - 1) / L Phi(-a / (2 (L - 1) sigma)) = err`` (end levels)."""
    if not math.isfinite(sigma):
        return math.nan
    if sigma == 0:
        return math.inf
    from scipy.optimize import brentq  # only here: the module stays light to import

    def g(u: float) -> float:  # u = ln(L - 1); increasing
        gap = math.exp(u)
        tail = float(log_ndtr(-a / (2 * gap * sigma)))
        return math.log(2 * gap / (1 + gap)) + tail - math.log(err)

    lo, hi = math.log(a / sigma) - 10.0, math.log(a / sigma) + 10.0
    while g(hi) < 0:
        hi += 10.0
    while g(lo) > 0:
        lo -= 10.0
    return 1.0 + math.exp(brentq(g, lo, hi, xtol=1e-14, rtol=1e-14))


def _safe_levels(absnoise: np.ndarray, a: float, err: float, T: int) -> int:
    """Smallest L at which the bound F(L) + 1.96 se could exceed err (all below are safe)."""
    c = np.arange(T + 1) / T
    allowed = int(np.count_nonzero(c + _Z95 * np.sqrt(c * (1 - c) / T) <= err))  # counts 0..
    if allowed >= T:
        return 2
    # the (allowed + 1)-th largest |noise| v: F(L) T <= allowed while a / (2 (L-1)) > v
    v = float(np.partition(absnoise, T - allowed - 1)[T - allowed - 1]) * (1 + 1e-12)
    if v == 0:
        return 1 << 62
    return max(2, math.ceil(1 + a / (2 * v)) - 1)


def _normal_max_levels(st: _Setting, err: float, cap: int) -> int:
    """Largest L whose normal-approximation error rate (end levels counted) is <= err."""
    lo = 2
    while lo <= cap:
        grid = np.arange(lo, min(cap, 2 * lo + 64) + 1, dtype=np.int64)
        bad = np.flatnonzero(_normal_level_error(grid, st.a, st.theory_mean, st.theory_std) > err)
        if bad.size:
            return int(grid[bad[0]] - 1)
        lo = int(grid[-1]) + 1
    return cap


def _first_crossing(levels: np.ndarray, rate: np.ndarray, err: float) -> int:
    above = np.flatnonzero(rate > err)
    return int(levels[above[0]] - 1) if above.size else int(levels[-1])


# --------------------------------------------------------------------------- max coherence


@dataclass(frozen=True)
class MaxCoherenceSimulation:
    """Largest overlap among ``m`` random directions (see :func:`simulate_max_coherence`).

    ``float(result)`` is the sample ``mean``.
    """

    m: int
    n: int
    trials: int
    mean: float  #: sample mean of the largest |overlap|
    mean_se: float  #: its standard error, std / sqrt(trials)
    std: float  #: sample standard deviation
    q: np.ndarray  #: quantile levels
    quantiles: np.ndarray  #: empirical quantiles (numpy's default, linear interpolation)
    quantiles_low: np.ndarray  #: distribution-free 95% confidence bounds of each quantile
    quantiles_high: np.ndarray
    theory_mean: float  #: ``expected_max_coherence_random(m, n)`` (finite-n law, §2)
    theory_quantiles: np.ndarray  #: ``max_coherence_random(m, n, q)``
    samples: np.ndarray = field(repr=False)  #: the ``trials`` largest overlaps
    interrupted: bool = False

    def __float__(self) -> float:
        return self.mean


def _max_abs_cos(W: np.ndarray) -> float:
    from suptheory.analysis.coherence import coherence

    return float(coherence(W, progress=False))


def simulate_max_coherence(
    m: Any,
    n: Any,
    *,
    trials: Any = 1000,
    seed: Any = None,
    quantiles: Any = (0.05, 0.5, 0.95),
    progress: bool = True,
) -> MaxCoherenceSimulation:
    r"""Simulate the largest |overlap| among ``m`` independent uniform unit vectors in R^n.

    Each trial draws an ``(m, n)`` standard normal matrix (its rows, normalized, are uniform
    directions) and computes its exact coherence ``max_{i<j} |<u_i, u_j>|`` with
    :func:`suptheory.coherence`. Beside it, the finite-``n`` law

    .. math:: P(L \le t) \approx \exp\!\left(-\binom{m}{2} I_{1-t^2}\!\left(\tfrac{n-1}{2},
              \tfrac12\right)\right), \qquad E L = \int_0^1 (1 - P(L \le t))\, dt.

    Parameters
    ----------
    m : int
        Number of directions (``>= 2``).
    n : int
        Width (``>= 1``).
    trials : int
        Number of independent dictionaries (``>= 2``).
    seed : None, int, SeedSequence or Generator
        Source of randomness.
    quantiles : float or sequence of float
        Quantile levels in ``(0, 1)`` to estimate (the closed form needs the open interval).
    progress : bool
        Show progress: a bar on a terminal, else a line on stderr every 10 s.

    Returns
    -------
    MaxCoherenceSimulation
        ``mean`` with ``mean_se``, empirical ``quantiles`` with distribution-free 95%
        bounds (order statistics whose ranks are binomial quantiles, [3]_), the closed
        forms ``theory_mean`` and ``theory_quantiles``, and the ``samples``.

    References
    ----------
    .. [1] T. T. Cai and T. Jiang, J. Multivariate Anal. 107 (2012) 24-39 (largest overlap
       among random directions).
    .. [2] T. T. Cai and T. Jiang, "Phase transition in limiting distributions of coherence
       of high-dimensional random matrices", J. Multivariate Anal. 107, 2012.
    .. [3] H. A. David and H. N. Nagaraja, "Order Statistics", 3rd ed., Wiley 2003, §7.1.

    Examples
    --------
    >>> r = simulate_max_coherence(100, 64, trials=200, seed=0, progress=False)
    >>> round(r.theory_mean, 3)
    0.459
    >>> abs(r.mean - r.theory_mean) < 3 * r.mean_se
    True
    """
    progress = bool(check_bool(progress, "progress"))
    from scipy import stats

    m_ = int(as_scalar(m, "m", low=2, integer=True))
    n_ = int(as_scalar(n, "n", low=1, integer=True))
    trials = check_int(trials, "trials", low=2, high=MAX_COUNT)
    # open: the closed form's quantile (max_coherence_random) exists only inside (0, 1)
    q = as_real(quantiles, "quantiles", low=0, high=1, low_open=True, high_open=True)
    if q.ndim > 1:
        raise ValueError("quantiles must be a number or a 1-D sequence of numbers in (0, 1)")
    q = np.atleast_1d(q)
    if float(m_) * n_ * 8 > 2.0**34:
        raise ValueError(f"m * n = {m_ * n_} is too large to draw one (m, n) float64 matrix")
    rng = as_generator(seed)
    samples = np.empty(trials)
    # small m: a batch kernel (one trial per thread); large m: the blocked GEMM coherence.
    # Both see the same normals: a (T, m, n) draw fills trial after trial in C order.
    batch = max(1, min(trials, (1 << 21) // (m_ * n_))) if m_ <= _SMALL_M else 1
    # an interrupted run is kept once 2 trials are done (a standard deviation needs two)
    with ChunkRunner(trials, "simulate_max_coherence", progress, unit="trial", min_done=2) as run:
        while run.done < trials:
            done = run.done
            size = min(batch, trials - done)
            X = rng.standard_normal((size, m_, n_))
            if m_ <= _SMALL_M:
                _k.max_abs_cos(X, samples[done : done + size])
            else:
                samples[done] = _max_abs_cos(X[0])
            run.update(size)
    T = run.done
    x = samples[:T]
    std = float(x.std(ddof=1))
    srt = np.sort(x)
    # ranks j, k (1-based) with P(j <= B <= k - 1) >= 0.95, B ~ Binomial(T, q)
    j = np.clip(stats.binom.ppf(0.025, T, q), 1, T).astype(np.int64)
    k = np.clip(stats.binom.ppf(0.975, T, q) + 1, 1, T).astype(np.int64)
    return MaxCoherenceSimulation(
        m=m_,
        n=n_,
        trials=T,
        mean=float(x.mean()),
        mean_se=std / math.sqrt(T),
        std=std,
        q=q,
        quantiles=np.quantile(x, q),
        quantiles_low=srt[j - 1],
        quantiles_high=srt[k - 1],
        theory_mean=float(expected_max_coherence_random(m_, n_)),
        theory_quantiles=np.asarray(max_coherence_random(m_, n_, q), dtype=np.float64).reshape(
            q.shape
        ),
        samples=x.copy(),
        interrupted=run.interrupted,
    )
