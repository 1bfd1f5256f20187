r"""Read-out models: the noise on one linear read-out, and the capacities that follow from it.

A layer of width ``n`` stores ``m`` features along unit directions ``w_i``; ``l`` of them are
active at amplitude ``a``. Reading feature ``i`` back by ``w_i . h`` gives ``x_i`` plus the
interference of the other active features. Each *model* gives the standard deviation
``sigma(n, m, l, a)`` of that interference (THEORY.md section 5):

============  ==========================================  ==================================
model         interference per pair ``eps``               noise ``sigma = a eps sqrt(l)``
============  ==========================================  ==================================
linsefors     ``sqrt(8 ln m / n)`` (the seed's)           ``a sqrt(8 l ln m / n)``
random        rms ``1 / sqrt(n)`` (exact)                 ``a sqrt(l / n)``
worst         ``L``: ``q``-quantile of the largest        ``a L sqrt(l)``
              overlap among ``m`` random directions
optimal       ``mu_min``: the best lower bound on         ``a mu_min sqrt(l)``
              the coherence of any ``m`` lines
============  ==========================================  ==================================

and ``"l1"`` is the non-linear alternative: noiseless compressed-sensing decoding (l1 / AMP)
with the Donoho--Tanner threshold, for which only capacities make sense.

Everything else follows from ``sigma``. With a required signal-to-noise ratio ``snr`` a read-out
works when ``a / sigma >= snr``, i.e. ``eps sqrt(l) <= 1 / snr``. With an error budget
``error`` instead, the noise is taken as normal with variance ``sigma^2`` (exact variance under
the random model), and an on/off read-out with decision threshold ``a / 2`` (margin
``theta = 1/2``) errs with probability ``2 Phi(-a / (2 sigma))``.

**What** ``error`` **means.** In the capacities (:func:`max_active`, :func:`max_features`,
:func:`log_max_features`, :func:`min_width`) ``error`` bounds the probability that *any* of the
``m`` read-outs of one input is wrong: by the union bound each read-out gets ``error / m``, so
the condition is ``a / sigma >= 2 z`` with ``z = Phi^{-1}(1 - error / (2 m))``. In
:func:`distinguishable_levels` and :func:`bits_per_feature` it is the probability that *one*
read-out decodes the wrong level: ``L = 1 + a / (2 sigma z)``, ``z = Phi^{-1}(1 - error / 2)``
(THEORY.md section 5). The two agree for ``m = 1`` at ``L = 2``.

**The seed's capacity is this union bound at margin 1/2.** Under the random model
``sigma = a sqrt(l / n)``, so one read-out errs with probability ``2 Phi(-theta sqrt(n / l))``.
Over ``m`` features, ``P(any error) <= 2 m Phi(-theta sqrt(n / l)) <= m exp(-theta^2 n / (2 l))``
(union bound, then the Chernoff bound ``2 Phi(-x) <= exp(-x^2 / 2)``). Asking for
``P(any error) <= error`` gives ``ln m <= theta^2 n / (2 l) + ln(error)``; at ``theta = 1/2`` and
``error -> 1`` this is ``m_max = exp(n / (8 l))`` -- exactly Linsefors's ``exp(n / 8)`` at
``l = 1`` and his ``l_max = n / (8 ln m)`` solved for ``m``. This module keeps the exact
normal tail instead of the Chernoff bound: ``ln m_max = ln(error / 2) - ln Phi(-sqrt(n / l) / 2)
= n / (8 l) + ln(error / 2) + (1/2) ln(pi n / (2 l)) + o(1)``.

**Conventions.** ``l = 0`` means no other feature is active: zero noise, infinitely many
levels, infinite capacity (``inf`` is the true value there). Capacities are the boundary of
the feasible region in the continuum (counts may be fractional) and are not capped by
``l <= m``. Where no count satisfies a condition the "largest count" is 0 (log: ``-inf``);
where every count does it is ``inf`` -- each case is named in the function's docstring.

References
----------
.. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
.. [2] T. T. Cai and T. Jiang, "Phase transition in limiting distributions of coherence of
   high-dimensional random matrices", J. Multivariate Anal. 107 (2012) 24-39.
.. [3] L. Welch, "Lower bounds on the maximum cross correlation of signals", IEEE Trans.
   Inf. Theory 20 (1974) 397-399.
.. [4] D. L. Donoho, A. Maleki and A. Montanari, "Message-passing algorithms for compressed
   sensing", PNAS 106 (2009) 18914-18919.
"""

# ruff: noqa: E741  (l is THEORY.md's name for the number of active features)
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, get_args, overload

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from suptheory._validate import as_real, broadcast, check_choice
from suptheory.theory._rootfind import expand_bracket, find_root
from suptheory.theory._types import CapacityModel, FloatOrArray, NoiseModel, wrap
from suptheory.theory.bounds import MAX_WELCH_ORDER, coherence_lower_bound
from suptheory.theory.compressed_sensing import cs_phase_transition
from suptheory.theory.overlaps import log_overlap_tail, max_coherence_random

__all__ = [
    "MODELS",
    "CAPACITY_MODELS",
    "pair_interference",
    "interference",
    "max_active",
    "max_features",
    "log_max_features",
    "min_width",
    "distinguishable_levels",
    "bits_per_feature",
]

#: read-out models with a linear read-out noise: ``("linsefors", "random", "worst", "optimal")``
MODELS: tuple[NoiseModel, ...] = get_args(NoiseModel)
#: models with a capacity: the linear ones and noiseless l1 (compressed-sensing) decoding
CAPACITY_MODELS: tuple[CapacityModel, ...] = get_args(CapacityModel)

_LOG_MAX = float(np.log(np.finfo(np.float64).max))  # ln of the largest float, ~709.78
_NO_L1_NOISE = (
    "model 'l1' has no linear read-out noise: it is noiseless compressed-sensing decoding "
    "(l1 / AMP), so only capacities (max_active, max_features, log_max_features, min_width) "
    "exist for it; use one of 'linsefors', 'random', 'worst', 'optimal'"
)


# ----------------------------------------------------------------------------- validation


def _n(n: ArrayLike) -> np.ndarray:
    return as_real(n, "n", low=0, low_open=True)


def _m(m: ArrayLike) -> np.ndarray:
    return as_real(m, "m", low=1)


def _l(l: ArrayLike) -> np.ndarray:
    return as_real(l, "l", low=0)


def _a(a: ArrayLike) -> np.ndarray:
    return as_real(a, "a", low=0, low_open=True)


def _q(q: ArrayLike) -> float:
    arr = as_real(q, "q", low=0, high=1, low_open=True, high_open=True)
    if arr.ndim:
        raise TypeError(f"q must be a single number in (0, 1); got an array of shape {arr.shape}")
    return float(arr)


_M = TypeVar("_M", bound=str)


@overload
def _model(model: object) -> NoiseModel: ...
@overload
def _model(model: object, allowed: tuple[_M, ...]) -> _M: ...
def _model(model: object, allowed: tuple[str, ...] = MODELS) -> str:
    """Check ``model`` at run time too: untyped callers may pass anything."""
    if model == "l1" and "l1" not in allowed:
        raise ValueError(_NO_L1_NOISE)
    return check_choice(model, "model", allowed)


def _budget(
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


def _either(snr_v: np.ndarray | None, err_v: np.ndarray | None) -> np.ndarray:
    """The one budget given (``snr`` or ``error``), for a noise model (never both None)."""
    value = snr_v if err_v is None else err_v
    if value is None:  # pragma: no cover - _budget returns one of them for noise models
        raise ValueError("model 'l1' has neither snr nor error")
    return value


# ----------------------------------------------------------------------------- normal tails


def _z_from_logp(logp: np.ndarray) -> np.ndarray:
    """``z`` with ``Phi(-z) = exp(logp)`` (``logp <= ln 1/2``), accurate far into the tail."""
    logp = np.asarray(logp, dtype=np.float64)
    with np.errstate(under="ignore"):
        p = np.exp(logp)
    z: np.ndarray = -special.ndtri(np.maximum(p, 1e-300))
    deep = p < 1e-290
    if np.any(deep):
        # asymptotic start, then Newton on ln Phi(-z) = logp (d/dz ln Phi(-z) = -1 / R(z))
        y = -2.0 * logp[deep]
        zd = np.sqrt(y - np.log(y) - np.log(2.0 * np.pi))
        for _ in range(4):
            mills = np.sqrt(np.pi / 2.0) * special.erfcx(zd / np.sqrt(2.0))
            zd = zd + (special.log_ndtr(-zd) - logp[deep]) * mills
        z = np.where(deep, 0.0, z)
        z[deep] = zd
    return z


def _z_union(error: np.ndarray, log_m: np.ndarray) -> np.ndarray:
    """Two-sided quantile for a budget ``error`` shared by ``m`` read-outs (union bound)."""
    return _z_from_logp(np.log(error) - np.log(2.0) - log_m)


def _z_single(error: np.ndarray) -> np.ndarray:
    z: np.ndarray = -special.ndtri(error / 2.0)
    return z


# ----------------------------------------------------------------------------- per-pair eps


def _coherence_random(m: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    return np.asarray(max_coherence_random(m, n, q=q), dtype=np.float64)


def _coherence_bound(m: np.ndarray, n: np.ndarray, q: float = 0.5) -> np.ndarray:
    """The largest coherence lower bound (``q`` unused: kept for a common signature)."""
    return np.asarray(coherence_lower_bound(m, n), dtype=np.float64)


def _eps(model: str, n: np.ndarray, m: np.ndarray, q: float) -> np.ndarray:
    """Per-pair interference of ``model`` (validated, broadcast float arrays in)."""
    if model == "linsefors":
        eps: np.ndarray = np.sqrt(8.0 * np.log(m) / n)
        return eps
    if model == "random":
        return np.broadcast_to(1.0 / np.sqrt(n), np.broadcast(n, m).shape)
    if model == "worst":
        return _coherence_random(m, n, q)
    return _coherence_bound(m, n)


def _solve_log_m(model: str, n: np.ndarray, t: np.ndarray, q: float) -> np.ndarray:
    """``ln`` of the largest ``m`` with ``eps(n, m) <= t`` (1-D arrays in, same length)."""
    if model == "linsefors":
        log_m: np.ndarray = n * t**2 / 8.0
        return log_m
    if model == "random":
        return np.where(1.0 / np.sqrt(n) <= t, np.inf, -np.inf)
    if model == "worst":
        return _worst_log_m(n, t, q)
    return _optimal_log_m(n, t)


def _optimal_log_m(n: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Closed-form inverse of :func:`~suptheory.theory.bounds.coherence_lower_bound` in ``m``.

    Each bound is increasing in ``m``, so the largest ``m`` with ``max_b bound_b(m) <= t`` is
    the smallest of the bounds' own inverses:

    - Welch (the rank lemma): ``m <= n (1 - t^2) / (1 - n t^2)`` if ``n t^2 < 1``;
    - orthoplex: ``m <= n (n + 1) / 2`` if ``t < 1 / sqrt(n)``;
    - Levenshtein: ``m <= n (n + 2) (1 - t^2) / (3 - (n + 2) t^2)`` if ``(n + 2) t^2 < 3``;
    - higher-order Welch ``k``: ``m <= (1 - t^{2k}) / (c_k - t^{2k})`` if ``c_k > t^{2k}``.

    ``inf`` where none applies: no bound caps ``m`` (which is not a construction).
    """
    t2 = t * t
    nt2 = n * t2
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(
            nt2 < 1.0,
            np.minimum(
                np.log(n) + np.log1p(-t2) - np.log1p(-nt2),  # Welch
                np.log(n) + np.log1p(n) - np.log(2.0),  # orthoplex
            ),
            np.inf,
        )
        lev = (n + 2.0) * t2 < 3.0
        lev_cap = np.log(n) + np.log(n + 2.0) + np.log1p(-t2) - np.log(3.0 - (n + 2.0) * t2)
        out = np.where(lev & (nt2 >= 1.0), np.minimum(out, lev_cap), out)
        # c_k^(1/k) is a geometric mean of the increasing factors (2j-1)/(n+2j-2), so order k
        # can bind (c_k > t^(2k)) only where it does at the largest order: test that first
        kmax = MAX_WELCH_ORDER
        log_ckmax = (
            special.gammaln(kmax + 0.5)
            - special.gammaln(0.5)
            + special.gammaln(n / 2.0)
            - special.gammaln(n / 2.0 + kmax)
        )
        idx = np.flatnonzero(log_ckmax + 1e-6 > 2.0 * kmax * np.log(t))
        if idx.size:
            ni, log_t, sub = n[idx], np.log(t[idx]), out[idx]
            log_ck = -np.log(ni)
            for k in range(2, kmax + 1):
                log_ck = log_ck + np.log((2.0 * k - 1.0) / (ni + 2.0 * k - 2.0))
                log_tk = 2.0 * k * log_t
                live = log_ck > log_tk
                if not live.any():
                    continue
                tk = np.exp(np.where(live, log_tk, -np.inf))
                ratio = np.exp(np.where(live, log_tk - log_ck, -np.inf))
                cap = np.log1p(-tk) - log_ck - np.log1p(-ratio)
                sub = np.where(live, np.minimum(sub, cap), sub)
            out[idx] = sub
    return np.where(t >= 1.0, np.inf, out)


def _log_m_from_log_pairs(log_pairs: np.ndarray) -> np.ndarray:
    """``ln m`` from ``ln C(m, 2)``: ``m = 1/2 + sqrt(1/4 + 2 C)`` without overflow."""
    log_pairs = np.asarray(log_pairs, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        half_log = 0.5 * (np.log(2.0) + log_pairs)  # ln sqrt(2 C)
        small = half_log < 1.0
        c = np.exp(np.where(small, log_pairs, 0.0))
        direct = np.log(0.5 + np.sqrt(0.25 + 2.0 * c))
        y = np.exp(-np.where(small, 0.0, half_log))
        big = half_log + np.log(0.5 * y + np.sqrt(1.0 + 0.25 * y * y))
    return np.where(small, direct, big)


def _worst_log_m(n: np.ndarray, t: np.ndarray, q: float) -> np.ndarray:
    """Closed-form inverse of the Poisson-Beta law: ``C(m, 2) = -ln q / P(|<u,v>| >= t)``."""
    out = np.full(n.shape, np.inf)  # t >= 1: overlaps never exceed 1, every m works
    idx = np.flatnonzero(t < 1.0)
    if idx.size:
        log_tail = np.asarray(log_overlap_tail(t[idx], n[idx]), dtype=np.float64)
        out[idx] = _log_m_from_log_pairs(np.log(-np.log(q)) - log_tail)
    return out


def _root_in_log_m(
    f: Callable[..., np.ndarray],
    n: np.ndarray,
    extra: np.ndarray,
    out: np.ndarray,
    limit: float = _LOG_MAX,
) -> np.ndarray:
    """Largest ``u = ln m`` in ``[0, limit]`` with ``f(u) <= 0``; ``inf`` if all are."""
    lo = np.zeros(n.shape)
    f_lo = f(lo, n, extra)
    out[:] = np.nan
    out[f_lo > 0] = -np.inf  # not even one feature (cannot happen for m = 1, kept for safety)
    idx = np.flatnonzero(f_lo <= 0)
    if idx.size:
        hi, found = expand_bracket(
            f, lo[idx], np.full(idx.size, 1.0), (n[idx], extra[idx]), limit=limit
        )
        out[idx[~found]] = np.inf  # no bound caps m inside the float range
        sel = idx[found]
        if sel.size:
            j = np.flatnonzero(found)
            a = np.where(hi[j] > 1.0, hi[j] / 2.0, 0.0)
            out[sel] = find_root(f, a, hi[j], (n[sel], extra[sel]), xtol=1e-13)
    return out


def _solve_n(model: str, m: np.ndarray, t: np.ndarray, q: float) -> np.ndarray:
    """Smallest ``n`` with ``eps(n, m) <= t`` (1-D arrays in); 0 where every width works."""
    if model == "linsefors":
        with np.errstate(divide="ignore"):
            width: np.ndarray = 8.0 * np.log(m) / t**2
        return width
    if model == "random":
        with np.errstate(divide="ignore"):
            return 1.0 / t**2
    out = np.zeros(m.shape)
    eps_of = _coherence_random if model == "worst" else _coherence_bound

    def f(v: np.ndarray, mm: np.ndarray, tt: np.ndarray) -> np.ndarray:
        gap: np.ndarray = tt - eps_of(mm, np.exp(v), q)  # increasing in v = ln n
        return gap

    if model == "worst":
        # overlaps never exceed 1, so t >= 1 needs no width; n = 1 puts every pair at 1
        idx = np.flatnonzero((t < 1.0) & (m > 1.0))
        lo = np.zeros(idx.size)
    else:
        idx = np.flatnonzero(m > 1.0)
    if idx.size == 0:
        return out
    args = (m[idx], t[idx])
    if model == "optimal":
        # m <= n lines fit orthogonally (mu_min = 0 <= t at n = m): bracket downward from
        # ln m to a width that fails; none down to n = 1 means every width works (0)
        hi = np.log(m[idx])
        a0, found = expand_bracket(f, hi, hi - 1.0, args, limit=0.0)  # the bounds need n >= 1
        out[idx[~found]] = 0.0
        sel = np.flatnonzero(found)
        if sel.size:
            out[idx[sel]] = np.exp(
                find_root(f, a0[sel], hi[sel], (m[idx][sel], t[idx][sel]), xtol=1e-13)
            )
        return out
    hi, found = expand_bracket(f, lo, lo + 1.0, args, limit=_LOG_MAX)
    res = find_root(f, lo, hi, args, xtol=1e-13)
    out[idx] = np.where(found, np.exp(res), np.inf)
    return out


# ----------------------------------------------------------------------------- l1 / AMP


def _cs_rho_z(z: np.ndarray) -> np.ndarray:
    """``rho(z) = 1 - z Phi(-z) / phi(z)`` at the optimal threshold ``z`` (no cancellation)."""
    z = np.asarray(z, dtype=np.float64)
    direct = 1.0 - z * np.sqrt(np.pi / 2.0) * special.erfcx(z / np.sqrt(2.0))
    # asymptotic series of 1 - z R(z), R the Mills ratio: sum_k (-1)^(k+1) (2k-1)!! / z^(2k)
    big = z > 30.0
    if np.any(big):
        w = 1.0 / z[big] ** 2
        direct = np.array(direct, dtype=np.float64)
        direct[big] = w * (
            1 - 3 * w * (1 - 5 * w * (1 - 7 * w * (1 - 9 * w * (1 - 11 * w * (1 - 13 * w)))))
        )
    rho: np.ndarray = direct
    return rho


def _cs_log_delta_z(z: np.ndarray, kappa: float) -> np.ndarray:
    """``ln delta(z) = ln(kappa phi(z) / (z + kappa phi(z) rho(z)))`` (stationarity of rho)."""
    log_phi = -0.5 * z**2 - 0.5 * np.log(2.0 * np.pi)
    log_delta: np.ndarray = (
        np.log(kappa) + log_phi - np.log(z + kappa * np.exp(log_phi) * _cs_rho_z(z))
    )
    return log_delta


def _cs_z_for_rho(rho: np.ndarray) -> np.ndarray:
    """Optimal threshold ``z`` where the phase transition has height ``rho`` in (0, 1)."""
    # Mills-ratio bounds z / (z^2 + 1) < R(z) < (z^2 + 2) / (z (z^2 + 3)) (Sampford 1953) give
    # 1 / (z^2 + 3) < rho(z) < 1 / z^2: the root lies in [sqrt(1/rho - 3), sqrt(1/rho)]
    inv = 1.0 / rho
    lo = np.sqrt(np.maximum(inv - 3.0, 0.0)) * (1.0 - 1e-12)
    hi = np.sqrt(inv) * (1.0 + 1e-12)
    return find_root(lambda z, r: np.log(_cs_rho_z(z)) - np.log(r), lo, hi, (rho,), rtol=1e-13)


def _l1_log_m_max(n: np.ndarray, l: np.ndarray) -> np.ndarray:
    """``ln`` of the largest ``m`` with ``l <= n rho(n / m)`` (non-negative features)."""
    r = l / n
    out = np.where(r > 1.0, -np.inf, np.where(r == 1.0, np.log(n), np.inf))
    idx = np.flatnonzero((r < 1.0) & (r > 0.0))
    if idx.size:
        z = _cs_z_for_rho(r[idx])
        out[idx] = np.log(n[idx]) - _cs_log_delta_z(z, 1.0)
    return out


def _l1_min_width(m: np.ndarray, l: np.ndarray) -> np.ndarray:
    """Smallest ``n`` with ``l <= n rho(min(1, n / m))``."""
    out = np.where(l >= m, l, 0.0)
    idx = np.flatnonzero((l < m) & (l > 0))
    if idx.size:
        target = np.log(l[idx] / m[idx])

        def g(z: np.ndarray, tt: np.ndarray) -> np.ndarray:  # ln(rho delta) - target, decreasing
            gap: np.ndarray = np.log(_cs_rho_z(z)) + _cs_log_delta_z(z, 1.0) - tt
            return gap

        lo = np.zeros(idx.size)
        hi, _ = expand_bracket(g, lo, np.ones(idx.size), (target,), limit=1e8)
        z = find_root(g, lo, hi, (target,), xtol=1e-14)
        out[idx] = l[idx] / _cs_rho_z(z)
    return out


def _l1_max_active(n: np.ndarray, m: np.ndarray) -> np.ndarray:
    delta = np.minimum(n / m, 1.0)
    return n * np.asarray(cs_phase_transition(delta, signed=False), dtype=np.float64)


# ----------------------------------------------------------------------------- public API


def pair_interference(
    n: ArrayLike, m: ArrayLike, model: NoiseModel = "random", q: float = 0.5
) -> FloatOrArray:
    r"""Interference between two features under a read-out model: the per-pair overlap ``eps``.

    .. math::

        \epsilon_{\rm linsefors} = \sqrt{8 \ln m / n}, \quad
        \epsilon_{\rm random} = 1/\sqrt{n}\ (\text{rms}), \quad
        \epsilon_{\rm worst} = L_q(m, n), \quad
        \epsilon_{\rm optimal} = \mu_{\min}(m, n)

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    m : array_like
        Number of features, ``m >= 1``.
    model : {"random", "linsefors", "worst", "optimal"}
        The read-out model (module docstring).
    q : float
        Quantile of the largest overlap for ``model="worst"``, in (0, 1).

    Returns
    -------
    float or numpy.ndarray
        ``eps``; ``noise = a eps sqrt(l)``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> round(pair_interference(768, 16384, model="linsefors"), 4)
    0.3179
    >>> round(pair_interference(768, 16384, model="random"), 4)
    0.0361
    """
    model = _model(model)
    qv = _q(q)
    (nv, mv), scalar = broadcast(_n(n), _m(m))
    return wrap(_eps(model, nv, mv, qv), scalar)


def interference(
    n: ArrayLike,
    m: ArrayLike,
    l: ArrayLike,
    a: ArrayLike = 1.0,
    model: NoiseModel = "random",
    q: float = 0.5,
) -> FloatOrArray:
    r"""Noise standard deviation of one read-out, ``sigma = a eps sqrt(l)``.

    .. math::

        \sigma_{\rm linsefors} = a \sqrt{8 l \ln m / n}, \quad
        \sigma_{\rm random} = a \sqrt{l / n}, \quad
        \sigma_{\rm worst} = a L_q(m, n) \sqrt{l}, \quad
        \sigma_{\rm optimal} = a \mu_{\min}(m, n) \sqrt{l}

    The random model is exact for random unit directions: the read-out noise
    ``sum_j a <w_i, w_j>`` over ``l`` active features has mean 0 and variance ``a^2 l / n``.
    The seed's (``linsefors``) takes the Johnson--Lindenstrauss worst case
    ``sqrt(8 ln m / n)`` as the typical overlap and is larger by ``sqrt(8 ln m)``.

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    m : array_like
        Number of features, ``m >= 1``.
    l : array_like
        Number of (other) features active at once, ``l >= 0``; ``l = 0`` gives zero noise.
    a : array_like
        Activation amplitude, ``a > 0``.
    model : {"random", "linsefors", "worst", "optimal"}
        The read-out model; ``"l1"`` raises ``ValueError`` (it has no linear read-out noise).
        ``worst`` and ``optimal`` need ``n >= 1`` (their overlap laws and bounds do).
    q : float
        Quantile of the largest overlap for ``model="worst"``, in (0, 1).

    Returns
    -------
    float or numpy.ndarray
        ``sigma``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
    .. [2] THEORY.md sections 1, 2 and 5.

    Examples
    --------
    >>> round(interference(768, 16384, 5, model="linsefors"), 4)
    0.7109
    >>> round(interference(768, 16384, 5, model="random"), 4)
    0.0807
    >>> interference(768, 16384, 5, model="l1")
    Traceback (most recent call last):
    ...
    ValueError: model 'l1' has no linear read-out noise: ...
    """
    model = _model(model)
    qv = _q(q)
    (nv, mv, lv, av), scalar = broadcast(_n(n), _m(m), _l(l), _a(a))
    return wrap(av * _eps(model, nv, mv, qv) * np.sqrt(lv), scalar)


def max_active(
    n: ArrayLike,
    m: ArrayLike,
    snr: ArrayLike | None = None,
    model: CapacityModel = "random",
    *,
    error: ArrayLike | None = None,
    q: float = 0.5,
) -> FloatOrArray:
    r"""Largest number of active features ``l`` a read-out tolerates.

    .. math::

        l_{\max} = \frac{1}{(r\, \epsilon(n, m))^2}, \qquad
        r = \mathrm{snr} \ \text{ or } \
        r = 2\,\Phi^{-1}\!\left(1 - \frac{\mathrm{error}}{2m}\right)

    (``a / sigma >= r``). Linsefors: ``n / (8 snr^2 ln m)``; random: ``n / snr^2``. For
    ``model="l1"``: ``l_max = n rho(min(1, n / m))`` with the Donoho--Tanner threshold of
    non-negative features (``m <= n``: ``l_max = n``). ``inf`` where ``eps = 0`` (``m = 1``
    under ``linsefors``/``worst``; ``m <= n`` under ``optimal``: orthogonal directions fit).

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    m : array_like
        Number of features, ``m >= 1``.
    snr : array_like, optional
        Required ``a / sigma``, ``> 0``; 1 (the seed's "signal stronger than noise") unless
        ``error`` is given.
    model : {"random", "linsefors", "worst", "optimal", "l1"}
        The read-out model.
    error : array_like, optional
        Instead of ``snr``: allowed probability that any of the ``m`` read-outs errs, in (0, 1).
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``l_max``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
    .. [2] D. L. Donoho, A. Maleki and A. Montanari, PNAS 106 (2009) 18914-18919.

    Examples
    --------
    >>> round(max_active(768, 16384, model="linsefors"), 2)
    9.89
    >>> round(max_active(768, 16384, snr=2, model="random"), 1)
    192.0
    >>> round(max_active(768, 16384, error=0.01, model="random"), 1)
    7.7
    """
    model = _model(model, CAPACITY_MODELS)
    qv = _q(q)
    snr_v, err_v = _budget(snr, error, model)
    nv, mv = _n(n), _m(m)
    if model == "l1":
        (nv, mv), scalar = broadcast(nv, mv)
        return wrap(_l1_max_active(nv, mv), scalar)
    third = _either(snr_v, err_v)
    (nv, mv, tv), scalar = broadcast(nv, mv, third)
    r = tv if err_v is None else 2.0 * _z_union(tv, np.log(mv))
    if model == "random":
        # eps^2 = 1/n exactly: n / r^2 avoids the rounding of 1 / (r / sqrt(n))^2
        return wrap(nv / r**2, scalar)
    with np.errstate(divide="ignore"):
        return wrap(1.0 / (r * _eps(model, nv, mv, qv)) ** 2, scalar)


def _log_max_features(
    n: np.ndarray,
    l: np.ndarray,
    snr: np.ndarray | None,
    err: np.ndarray | None,
    model: str,
    q: float,
) -> np.ndarray:
    """Validated, broadcast 1-D inputs; ``snr``/``err`` arrays (one of them None)."""
    if model == "l1":
        return _l1_log_m_max(n, l)
    budget = _either(snr, err)
    if err is None and np.all(l > 0):  # the common case, without index copies
        return _solve_log_m(model, n, 1.0 / (budget * np.sqrt(l)), q)
    out = np.full(n.shape, np.inf)
    pos = np.flatnonzero(l > 0)
    if pos.size == 0:
        return out
    nn, ll = n[pos], l[pos]
    if err is None:
        out[pos] = _solve_log_m(model, nn, 1.0 / (budget[pos] * np.sqrt(ll)), q)
        return out
    ee = err[pos]
    if model == "random":
        out[pos] = np.log(ee / 2.0) - special.log_ndtr(-np.sqrt(nn / ll) / 2.0)
        return out
    # u = ln m is feasible iff u <= ln m_max(t(u)) with the snr-form inverse at the target
    # overlap t(u) = 1 / (2 sqrt(l) z(error / m)); g(u) = u - ln m_max(t(u)) increases in u
    # and is <= 0 at u = 0, and the inverse needs no m itself, so ln m may exceed ln(max float)
    def g(u: np.ndarray, nn_: np.ndarray, le: np.ndarray) -> np.ndarray:
        lv, ev = le[:, 0], le[:, 1]
        t = 1.0 / (2.0 * np.sqrt(lv) * _z_union(ev, u))
        gap: np.ndarray = u - np.minimum(_solve_log_m(model, nn_, t, q), 1e300)
        return gap

    res = np.empty(pos.shape)
    out[pos] = _root_in_log_m(g, nn, np.stack([ll, ee], axis=1), res, limit=1e250)
    return out


def log_max_features(
    n: ArrayLike,
    l: ArrayLike,
    snr: ArrayLike | None = None,
    model: CapacityModel = "random",
    *,
    error: ArrayLike | None = None,
    q: float = 0.5,
) -> FloatOrArray:
    r"""Natural log of the largest number of features ``m`` (finite where ``m`` overflows).

    With ``t = 1 / (snr sqrt(l))`` the largest ``m`` has ``eps(n, m) <= t``:

    .. math::

        \ln m_{\max}^{\rm linsefors} = \frac{n}{8 l\, \mathrm{snr}^2}, \qquad
        \ln m_{\max}^{\rm random,\,error} = \ln\frac{\mathrm{error}}{2}
            - \ln \Phi\!\left(-\tfrac12 \sqrt{n / l}\right)
            \approx \frac{n}{8 l} + \ln\frac{\mathrm{error}}{2} + \frac12 \ln\frac{\pi n}{2 l}

    ``worst`` and ``optimal`` (and ``linsefors`` with ``error``) are solved numerically in
    ``ln m`` with a vectorised bracketed root finder. Special values, each the true answer:

    - ``random`` with ``snr``: the noise ``a sqrt(l / n)`` does not depend on ``m``, so the
      answer is ``inf`` where ``n >= l snr^2`` and ``-inf`` (no ``m`` at all) elsewhere; use
      ``error=`` for a finite capacity (the union bound makes ``m`` count).
    - ``worst`` with ``l snr^2 <= 1``: overlaps never exceed 1, so every ``m`` works: ``inf``.
    - ``optimal``: ``inf`` where the target overlap ``t`` exceeds the limit of every
      coherence lower bound as ``m -> inf`` (no known bound caps ``m``; e.g. Welch's limit is
      ``1/sqrt(n)``); this is "not excluded", not a construction.
    - ``l = 0``: ``inf``. ``l1`` with ``l > n``: ``-inf``.

    The seed's ``exp(n / (8 l))`` is the union-bound case with margin 1/2 (Notes).

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    l : array_like
        Number of active features, ``l >= 0``.
    snr : array_like, optional
        Required ``a / sigma`` (default 1 unless ``error`` is given).
    model : {"random", "linsefors", "worst", "optimal", "l1"}
        The read-out model.
    error : array_like, optional
        Allowed probability that any of the ``m`` read-outs errs (union bound), in (0, 1).
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``ln m_max``.

    Notes
    -----
    **The seed's capacity is the union bound at margin 1/2.** Under the random model a
    read-out is ``x_i + nu`` with ``nu`` approximately normal, mean 0 and the exact variance
    ``sigma^2 = a^2 l / n``.

    1. An on/off feature (``x_i`` in ``{0, a}``) read with threshold ``a / 2`` -- decision
       margin ``theta a``, ``theta = 1/2`` -- errs when ``|nu| >= theta a``:
       ``P_1 = 2 Phi(-theta a / sigma) = 2 Phi(-theta sqrt(n / l))``.
    2. Union bound over the ``m`` read-outs of one input: ``P(any wrong) <= m P_1``.
    3. Chernoff: ``2 Phi(-x) <= exp(-x^2 / 2)``, so ``P(any wrong) <= m exp(-theta^2 n / (2 l))``.
    4. Asking for ``P(any wrong) <= error``:
       ``ln m <= theta^2 n / (2 l) + ln(error)``.
    5. At ``theta = 1/2`` and ``error -> 1`` (the seed's "signal stronger than noise" is an
       order-one error level): ``ln m_max = n / (8 l)``, i.e. ``m_max = exp(n / (8 l))`` --
       Linsefors's ``exp(n / 8)`` at ``l = 1``, and his ``l_max = n / (8 ln m)`` read the other
       way.

    With ``error=`` this function keeps step 2 but not step 3 (the exact normal tail):

    .. math::

        \ln m_{\max} = \ln\frac{\mathrm{error}}{2} - \ln\Phi\!\left(-\tfrac12\sqrt{n/l}\right)
        = \frac{n}{8l} + \ln\frac{\mathrm{error}}{2} + \frac12\ln\frac{\pi n}{2l}
          + O(l / n),

    the same exponent ``n / (8 l)`` with a correction the Chernoff bound throws away.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
    .. [2] THEORY.md section 5.

    Examples
    --------
    >>> log_max_features(768, 1, model="linsefors")   # the seed's n / 8
    96.0
    >>> round(log_max_features(1e7, 1, model="linsefors"))    # exp(1.25e6) overflows
    1250000
    >>> round(log_max_features(768, 32, error=0.5, model="random"), 2)
    3.55
    """
    model = _model(model, CAPACITY_MODELS)
    qv = _q(q)
    snr_v, err_v = _budget(snr, error, model)
    arrays = [_n(n), _l(l)]
    if snr_v is not None:
        arrays.append(snr_v)
    if err_v is not None:
        arrays.append(err_v)
    bc, scalar = broadcast(*arrays)
    shape = bc[0].shape
    flat = [np.ascontiguousarray(x).reshape(-1) for x in bc]
    s = flat[2] if snr_v is not None else None
    e = flat[2] if err_v is not None else None
    res = _log_max_features(flat[0], flat[1], s, e, model, qv)
    return wrap(res.reshape(shape), scalar)


def max_features(
    n: ArrayLike,
    l: ArrayLike,
    snr: ArrayLike | None = None,
    model: CapacityModel = "random",
    *,
    error: ArrayLike | None = None,
    q: float = 0.5,
) -> FloatOrArray:
    r"""Largest number of features ``m`` a read-out supports: ``exp(log_max_features(...))``.

    .. math::

        m_{\max}^{\rm linsefors} = \exp\!\left(\frac{n}{8 l\, \mathrm{snr}^2}\right)

    ``inf`` only where the true value exceeds the float range (e.g. ``exp(n / 8)`` for
    ``n > 5678``) or is infinite (see :func:`log_max_features` for when); use
    :func:`log_max_features` for a finite answer. Parameters as there.

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    l : array_like
        Number of active features, ``l >= 0``.
    snr : array_like, optional
        Required ``a / sigma`` (default 1 unless ``error`` is given).
    model : {"random", "linsefors", "worst", "optimal", "l1"}
        The read-out model.
    error : array_like, optional
        Allowed probability that any of the ``m`` read-outs errs (union bound), in (0, 1).
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``m_max`` (0 where no ``m >= 1`` works).

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> round(max_features(768, 32, model="linsefors"), 2)     # exp(3)
    20.09
    >>> max_features(1e5, 1, model="linsefors")
    inf
    """
    log_m = log_max_features(n, l, snr, model, error=error, q=q)
    with np.errstate(over="ignore"):
        return wrap(np.exp(np.asarray(log_m)), np.ndim(log_m) == 0)


def min_width(
    m: ArrayLike,
    l: ArrayLike,
    snr: ArrayLike | None = None,
    model: CapacityModel = "random",
    *,
    error: ArrayLike | None = None,
    q: float = 0.5,
) -> FloatOrArray:
    r"""Smallest width ``n`` at which ``m`` features with ``l`` active can be read out.

    .. math::

        n_{\min}^{\rm linsefors} = 8\, l\, r^2 \ln m, \qquad
        n_{\min}^{\rm random} = l\, r^2, \qquad
        r = \mathrm{snr} \ \text{ or } \ 2\,\Phi^{-1}\!\left(1 - \frac{\mathrm{error}}{2m}\right)

    ``worst`` and ``optimal`` are solved numerically in ``ln n``; ``l1`` solves
    ``l = n rho(n / m)`` through the parametric form of the Donoho--Tanner curve. 0 means no
    width constraint at all (``l = 0``; ``m = 1``; ``worst`` with ``l r^2 <= 1``).

    Parameters
    ----------
    m : array_like
        Number of features, ``m >= 1``.
    l : array_like
        Number of active features, ``l >= 0``.
    snr : array_like, optional
        Required ``a / sigma`` (default 1 unless ``error`` is given).
    model : {"random", "linsefors", "worst", "optimal", "l1"}
        The read-out model.
    error : array_like, optional
        Allowed probability that any of the ``m`` read-outs errs (union bound), in (0, 1).
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``n_min``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
    .. [2] D. L. Donoho, A. Maleki and A. Montanari, PNAS 106 (2009) 18914-18919.

    Examples
    --------
    >>> round(min_width(1e6, 100, snr=2, model="random"), 1)
    400.0
    >>> round(min_width(1e6, 100, model="linsefors"), 1)
    11052.4
    """
    model = _model(model, CAPACITY_MODELS)
    qv = _q(q)
    snr_v, err_v = _budget(snr, error, model)
    arrays = [_m(m), _l(l)]
    if model != "l1":
        arrays.append(_either(snr_v, err_v))
    bc, scalar = broadcast(*arrays)
    shape = bc[0].shape
    mm, ll = (np.ascontiguousarray(x).reshape(-1) for x in bc[:2])
    if model == "l1":
        return wrap(_l1_min_width(mm, ll).reshape(shape), scalar)
    third = np.ascontiguousarray(bc[2]).reshape(-1)
    r = third if err_v is None else 2.0 * _z_union(third, np.log(mm))
    out = np.zeros(mm.shape)
    pos = np.flatnonzero(ll > 0)
    if model == "random":
        out[pos] = ll[pos] * r[pos] ** 2  # n = l r^2 exactly, without 1/t^2's rounding
    elif pos.size:
        out[pos] = _solve_n(model, mm[pos], 1.0 / (r[pos] * np.sqrt(ll[pos])), qv)
    return wrap(out.reshape(shape), scalar)


def distinguishable_levels(
    n: ArrayLike,
    m: ArrayLike,
    l: ArrayLike,
    a: ArrayLike = 1.0,
    model: NoiseModel = "random",
    *,
    snr: ArrayLike | None = None,
    error: ArrayLike | None = None,
    q: float = 0.5,
) -> FloatOrArray:
    r"""Number of activation levels one read-out can tell apart.

    .. math::

        L_{\rm snr} = \frac{a}{\mathrm{snr}\ \sigma}, \qquad
        L_{\rm error} = 1 + \frac{a}{2 \sigma z}, \quad z = \Phi^{-1}(1 - \mathrm{error}/2)

    The first is the seed's ``a / noise`` (levels spaced ``snr`` noise standard deviations
    apart; below 1 means not even on/off is readable). The second spaces ``L`` levels
    ``a / (L - 1)`` apart and asks nearest-level decoding of *one* read-out to err with
    probability at most ``error`` (normal noise with variance ``sigma^2``). Both are
    independent of ``a`` (every feature has amplitude ``a``, so ``sigma`` scales with it).
    ``inf`` for ``l = 0`` (no noise).

    Parameters
    ----------
    n, m, l, a : array_like
        Width (``> 0``), number of features (``>= 1``), active features (``>= 0``) and
        amplitude (``> 0``).
    model : {"random", "linsefors", "worst", "optimal"}
        The read-out model; ``"l1"`` raises ``ValueError``.
    snr : array_like, optional
        Required spacing in noise standard deviations (default 1 unless ``error`` is given).
    error : array_like, optional
        Allowed probability that one read-out decodes the wrong level, in (0, 1).
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``L``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
    .. [2] THEORY.md section 5.

    Examples
    --------
    >>> round(distinguishable_levels(768, 16384, 5, model="linsefors"), 3)
    1.407
    >>> round(distinguishable_levels(768, 16384, 5, model="random"), 2)
    12.39
    >>> round(distinguishable_levels(768, 16384, 5, error=0.01, model="random"), 2)
    3.41
    """
    model = _model(model)
    qv = _q(q)
    snr_v, err_v = _budget(snr, error, model)
    third = _either(snr_v, err_v)
    (nv, mv, lv, av, tv), scalar = broadcast(_n(n), _m(m), _l(l), _a(a), third)
    sigma_over_a = _eps(model, nv, mv, qv) * np.sqrt(lv)
    with np.errstate(divide="ignore"):
        if err_v is None:
            levels = 1.0 / (tv * sigma_over_a)
        else:
            levels = 1.0 + 1.0 / (2.0 * sigma_over_a * _z_single(tv))
    return wrap(levels, scalar)


def bits_per_feature(
    n: ArrayLike,
    m: ArrayLike,
    l: ArrayLike,
    a: ArrayLike = 1.0,
    model: NoiseModel = "random",
    *,
    snr: ArrayLike | None = None,
    error: ArrayLike | None = None,
    q: float = 0.5,
) -> FloatOrArray:
    r"""Bits one read-out carries: ``log2`` of :func:`distinguishable_levels`.

    .. math::

        b = \log_2 L

    Negative under ``snr`` where fewer than one level is readable (``L < 1``); ``inf`` for
    ``l = 0``. Parameters as in :func:`distinguishable_levels`.

    Parameters
    ----------
    n, m, l, a : array_like
        Width, number of features, active features, amplitude.
    model : {"random", "linsefors", "worst", "optimal"}
        The read-out model.
    snr : array_like, optional
        Required spacing in noise standard deviations (default 1 unless ``error`` is given).
    error : array_like, optional
        Allowed probability that one read-out decodes the wrong level, in (0, 1).
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``log2 L``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> round(bits_per_feature(768, 16384, 5, model="random"), 3)
    3.632
    """
    levels = distinguishable_levels(n, m, l, a, model, snr=snr, error=error, q=q)
    return wrap(np.log2(np.asarray(levels)), np.ndim(levels) == 0)
