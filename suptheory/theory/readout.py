r"""Read-out models: the noise on one linear read-out, and the capacities that follow from it.

A layer of width ``n`` stores ``m`` features along unit directions ``w_i``; ``l`` of them are
active at amplitude ``a``. Reading feature ``i`` back by ``w_i . h`` gives ``x_i`` plus the
interference ``Z`` of the other active features. The models answer two different questions,
and are never mixed in one column:

**rms models** -- what a typical read-out hears:

============  ==============================================  ===============================
model         interference per pair ``eps``                   noise ``sigma = a eps sqrt(l)``
============  ==============================================  ===============================
random        rms ``1 / sqrt(n)``; exact law of ``Z`` known   ``a sqrt(l / n)``
optimal       rms floor ``sqrt((m - n) / (n (m - 1)))``       ``a sqrt(l (m-n) / (n (m-1)))``
              (0 for ``m <= n``): no arrangement does better
============  ==============================================  ===============================

**largest-overlap proxies** -- what the worst pair would give if every overlap were that large:

============  ==============================================  ===============================
linsefors     ``sqrt(8 ln m / n)`` (Linsefors 2024)           ``a sqrt(8 l ln m / n)``
worst         ``L``: ``q``-quantile of the largest overlap    ``a L sqrt(l)``
              among ``m`` random directions
packing       ``mu_min``: the best lower bound on the         ``a mu_min sqrt(l)``
              coherence of any ``m`` lines
============  ==============================================  ===============================

and ``"l1"`` is the non-linear alternative: noiseless compressed-sensing decoding (l1 / AMP)
with the Donoho--Tanner threshold, for which only capacities make sense.

**The rms floor.** For any ``m`` unit vectors, ``sum_{i != j} <w_i, w_j>^2 >= m^2 / n - m``
(the frame potential, Welch 1974; Benedetto and Fickus 2003), with equality exactly for
unit-norm tight frames such as harmonic frames. So the mean squared overlap is at least
``(m - n) / (n (m - 1))`` and ``optimal <= random`` everywhere: random directions are
rms-optimal up to ``sqrt(1 - n / m)``.

**Signal-to-noise.** With a required ``snr`` a read-out works when ``a / sigma >= snr``.

**Error budgets** (``error=``). An on/off feature is read with threshold ``a / 2``; an inactive
feature is read as on when ``Z > a / 2`` and an active one as off when ``Z < -a / 2``: each is a
*one-sided* event of probability ``P_1 = P(Z > a / 2)`` (:func:`readout_error`). Under
``random`` ``P_1`` comes from the exact law of ``Z`` (:func:`interference_distribution`), under
every other model from a normal law with the model's ``sigma``: ``P_1 = Phi(-a / (2 sigma))``.

- ``random`` and ``optimal`` (rms models) bound the probability that *any* of the ``m``
  read-outs of one input is wrong by the union bound: the capacities ask ``m P_1 <= error``.
- ``linsefors``, ``worst`` and ``packing`` already take a worst case over all pairs, so their
  ``sigma`` holds for every read-out at once; a second union bound over the ``m`` read-outs
  would count ``m`` twice. For them ``error`` bounds one read-out: ``P_1 <= error``.
- Levels (:func:`distinguishable_levels`): ``L`` equally likely levels on ``[0, a]``, nearest-level
  decoding of one read-out; the two end levels err on one side only, so
  ``P(error) = 2 (L - 1) / L * P(Z > a / (2 (L - 1)))``.

**Linsefors's capacity is the union bound at margin 1/2.** Under ``random``,
``P(any wrong) <= m P(Z > a / 2)``, and the Chernoff bound for the normal law gives
``P(Z > a / 2) <= exp(-n / (8 l))``; asking ``P(any wrong) <= error`` gives
``ln m <= n / (8 l) + ln(error)``, which at ``error -> 1`` is ``m_max = exp(n / (8 l))`` --
Linsefors's ``exp(n / 8)`` at ``l = 1`` and his ``l_max = n / (8 ln m)``.

**Conventions.** ``l = 0`` means no other feature is active: zero noise, infinitely many
levels, infinite capacity. Fractional ``l`` is an expected count (under the exact law: a mix of
``floor(l)`` and ``ceil(l)`` active features with mean ``l``). Capacities are the boundary of
the feasible region in the continuum and are not capped by ``l <= m``. Where no count
satisfies a condition the "largest count" is 0 (log: ``-inf``); where every count does it is
``inf``. The theory page of the docs derives every formula.

References
----------
.. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
.. [2] T. T. Cai and T. Jiang, "Phase transition in limiting distributions of coherence of
   high-dimensional random matrices", J. Multivariate Anal. 107 (2012) 24-39.
.. [3] L. Welch, "Lower bounds on the maximum cross correlation of signals", IEEE Trans.
   Inf. Theory 20 (1974) 397-399.
.. [4] J. J. Benedetto and M. Fickus, "Finite normalized tight frames", Adv. Comput. Math. 18
   (2003) 357-385 (the frame potential).
.. [5] D. L. Donoho, A. Maleki and A. Montanari, "Message-passing algorithms for compressed
   sensing", PNAS 106 (2009) 18914-18919.
"""

# ruff: noqa: E741  (l is the project's name for the number of active features)
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from suptheory._validate import as_real, broadcast
from suptheory.theory._params import (
    CAPACITY_MODELS,
    MODELS,
    PROXY_MODELS,
    RMS_MODELS,
    check_a,
    check_budget,
    check_l,
    check_l_le_m,
    check_m,
    check_model,
    check_n,
    check_q,
    either_budget,
)
from suptheory.theory._rootfind import expand_bracket, find_root
from suptheory.theory._types import CapacityModel, FloatOrArray, NoiseModel, wrap
from suptheory.theory.bounds import MAX_WELCH_ORDER, coherence_lower_bound
from suptheory.theory.compressed_sensing import cs_phase_transition
from suptheory.theory.interference_law import log_sf_exact
from suptheory.theory.overlaps import log_overlap_tail, max_coherence_random

__all__ = [
    "MODELS",
    "RMS_MODELS",
    "PROXY_MODELS",
    "CAPACITY_MODELS",
    "pair_interference",
    "interference",
    "readout_error",
    "capacity_error",
    "max_active",
    "max_features",
    "log_max_features",
    "min_width",
    "distinguishable_levels",
    "bits_per_feature",
]

_LOG_MAX = float(np.log(np.finfo(np.float64).max))  # ln of the largest float, ~709.78

# ----------------------------------------------------------------------------- validation
# one set of validators for every caller (readout, calculate, solve, check): see _params

_n, _m, _l, _a, _q = check_n, check_m, check_l, check_a, check_q
_lm = check_l_le_m
_model, _budget, _either = check_model, check_budget, either_budget


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


def _z_one_sided(log_p: np.ndarray) -> np.ndarray:
    """``z`` with ``Phi(-z) = p``: the one-sided normal quantile, from ``ln p``."""
    return _z_from_logp(np.asarray(log_p, dtype=np.float64))


def _r_error(model: str, error: np.ndarray, log_m: np.ndarray) -> np.ndarray:
    """Required ``a / sigma`` under a normal law at an error budget (one-sided, margin 1/2).

    rms models (``optimal``): union bound over the ``m`` read-outs, ``m Phi(-r/2) = error``;
    largest-overlap proxies: one read-out, ``Phi(-r/2) = error`` (their sigma already holds
    for the worst pair, so a second union bound would count ``m`` twice).
    """
    log_p = np.log(error) - (log_m if model in RMS_MODELS else 0.0)
    # P(Z > a/2) <= 1/2 always: a budget of 1/2 or more is met at any noise (r = 0)
    return np.where(log_p >= np.log(0.5), 0.0, 2.0 * _z_one_sided(np.minimum(log_p, np.log(0.5))))


# ----------------------------------------------------------------------------- per-pair eps


def _coherence_random(m: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    return np.asarray(max_coherence_random(m, n, q=q), dtype=np.float64)


def _coherence_bound(m: np.ndarray, n: np.ndarray, q: float = 0.5) -> np.ndarray:
    """The largest coherence lower bound (``q`` unused: kept for a common signature)."""
    return np.asarray(coherence_lower_bound(m, n), dtype=np.float64)


def _rms_floor_sq(n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``(m - n) / (n (m - 1))``, as ``((m - n) / (m - 1)) / n`` where ``n (m - 1)`` overflows."""
    with np.errstate(over="ignore"):
        den = n * np.maximum(m - 1.0, 1e-300)
        top = np.maximum(m - n, 0.0)
        out: np.ndarray = np.where(np.isinf(den), top / np.maximum(m - 1.0, 1e-300) / n, top / den)
    return out


def _rms_floor(n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``sqrt((m - n) / (n (m - 1)))`` for ``m > n >= 1``, 0 for ``m <= n``: the rms floor.

    Below one neuron (``n < 1``, a continuum convention only) no arrangement exists and the
    floor is taken as the random value ``1 / sqrt(n)``, which it meets at ``n = 1``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        eps: np.ndarray = np.where(m > n, np.sqrt(_rms_floor_sq(n, m)), 0.0)
        return np.where(n < 1.0, 1.0 / np.sqrt(n), eps)


def _eps(model: str, n: np.ndarray, m: np.ndarray, q: float) -> np.ndarray:
    """Per-pair interference of ``model`` (validated, broadcast float arrays in)."""
    if model == "linsefors":
        eps: np.ndarray = np.sqrt(8.0 * np.log(m) / n)
        return eps
    if model == "random":
        return np.broadcast_to(1.0 / np.sqrt(n), np.broadcast(n, m).shape)
    if model == "optimal":
        return _rms_floor(n, m)
    if model == "worst":
        return _coherence_random(m, n, q)
    return _coherence_bound(m, n)


def _solve_log_m(model: str, n: np.ndarray, t: np.ndarray, q: float) -> np.ndarray:
    """``ln`` of the largest ``m`` with ``eps(n, m) <= t`` (1-D arrays in, same length).

    A target ``t`` near the float range (``l`` subnormal) overflows to ``inf``: the answer.
    """
    with np.errstate(over="ignore"):
        return _solve_log_m_impl(model, n, t, q)


def _solve_log_m_impl(model: str, n: np.ndarray, t: np.ndarray, q: float) -> np.ndarray:
    if model == "linsefors":
        log_m: np.ndarray = n * t**2 / 8.0
        return log_m
    if model == "random":
        return np.where(1.0 / np.sqrt(n) <= t, np.inf, -np.inf)
    if model == "optimal":
        # (m - n) / (n (m - 1)) <= t^2  <=>  m (1 - n t^2) <= n (1 - t^2)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            nt2 = n * t * t  # t = inf (l -> 0): every m works
            out: np.ndarray = np.where(
                nt2 < 1.0, np.log(n) + np.log1p(-np.minimum(t * t, 1.0)) - np.log1p(-nt2), np.inf
            )
        below = np.where(nt2 >= 1.0, np.inf, -np.inf)  # n < 1: the random rule
        # the floor stays below 1 / sqrt(n) for every m: where that meets t, every m works
        # (the same test as the random model's, so optimal >= random holds without rounding)
        out = np.where((t >= 1.0) | (1.0 / np.sqrt(n) <= t), np.inf, out)
        return np.where(n < 1.0, below, out)
    if model == "worst":
        return _worst_log_m(n, t, q)
    return _packing_log_m(n, t)


def _packing_log_m(n: np.ndarray, t: np.ndarray) -> np.ndarray:
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
    """Closed-form inverse of the independent-pairs law: ``C(m, 2) = ln q / ln(1 - T(t))``."""
    out = np.full(n.shape, np.inf)  # t >= 1: overlaps never exceed 1, every m works
    idx = np.flatnonzero(t < 1.0)
    if idx.size:
        log_tail = np.asarray(log_overlap_tail(t[idx], n[idx]), dtype=np.float64)
        with np.errstate(divide="ignore", under="ignore"):
            exact = np.log(-np.log1p(-np.exp(np.minimum(log_tail, 0.0))))
        log_rate = np.where(log_tail < -700.0, log_tail, exact)  # -ln(1 - T) = T where T underflows
        out[idx] = _log_m_from_log_pairs(np.log(-np.log(q)) - log_rate)
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
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            width: np.ndarray = 8.0 * np.log(m) / t**2
        return np.where(m > 1.0, width, 0.0)  # m = 1 needs no width, even where t^2 underflows
    if model == "random":
        with np.errstate(divide="ignore"):
            return 1.0 / t**2
    if model == "optimal":
        # (m - n) / (n (m - 1)) <= t^2  <=>  n >= m / (1 + t^2 (m - 1)); m = 1 needs no width;
        # below n = 1 (t > 1) the floor is the random value: n = 1 / t^2
        with np.errstate(divide="ignore"):
            width = np.where(t > 1.0, 1.0 / (t * t), m / (1.0 + t * t * (m - 1.0)))
        return np.where(m > 1.0, width, 0.0)
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
    if model == "packing":
        # m <= n lines fit orthogonally (mu_min = 0 <= t at n = m): bracket downward from
        # ln m to a width that fails; none down to n = 1 means every width works (0)
        hi = np.log(m[idx])
        a0, found = expand_bracket(f, hi, hi - 1.0, args, limit=0.0)  # the bounds need n >= 1
        out[idx[~found]] = 0.0
        # the bound at n = m is 0 in exact arithmetic but rounds to ~1e-17: below that t
        # (snr beyond ~1e8) the bracket fails, and the answer is n = m
        rounded = f(hi, *args) < 0.0
        out[idx[rounded]] = m[idx][rounded]
        found = found & ~rounded
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
        w = (1.0 / z[big]) ** 2  # not 1 / z^2: z^2 overflows past z ~ 1.3e154
        direct = np.array(direct, dtype=np.float64)
        direct[big] = w * (
            1 - 3 * w * (1 - 5 * w * (1 - 7 * w * (1 - 9 * w * (1 - 11 * w * (1 - 13 * w)))))
        )
    rho: np.ndarray = direct
    return rho


def _cs_log_delta_z(z: np.ndarray, kappa: float) -> np.ndarray:
    """``ln delta(z) = ln(kappa phi(z) / (z + kappa phi(z) rho(z)))`` (stationarity of rho)."""
    with np.errstate(over="ignore"):  # z^2 = inf past z ~ 1.3e154: ln phi = -inf, exactly
        log_phi = -0.5 * z**2 - 0.5 * np.log(2.0 * np.pi)
    log_delta: np.ndarray = (
        np.log(kappa) + log_phi - np.log(z + kappa * np.exp(log_phi) * _cs_rho_z(z))
    )
    return log_delta


def _cs_z_for_rho(rho: np.ndarray) -> np.ndarray:
    """Optimal threshold ``z`` where the phase transition has height ``rho`` in (0, 1)."""
    # Mills-ratio bounds z / (z^2 + 1) < R(z) < (z^2 + 2) / (z (z^2 + 3)) (Sampford 1953) give
    # 1 / (z^2 + 3) < rho(z) < 1 / z^2: the root lies in [sqrt(1/rho - 3), sqrt(1/rho)]
    root = np.exp(-0.5 * np.log(rho))  # sqrt(1 / rho), finite even where 1 / rho overflows
    lo = root * np.sqrt(np.maximum(1.0 - 3.0 * rho, 0.0)) * (1.0 - 1e-12)
    hi = root * (1.0 + 1e-12)
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
        target = np.log(l[idx]) - np.log(m[idx])  # l / m may underflow

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


# ----------------------------------------------------------------------------- exact law


def _exact_width(n: np.ndarray) -> np.ndarray:
    if np.any(n < 1.0):
        raise ValueError(
            "n must be >= 1 for the random model's exact interference law (the overlap law "
            f"of random directions needs n >= 1); got n = {float(np.min(n)):g}"
        )
    return n


def _log_p1_random(n: np.ndarray, l: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``ln P(Z > x)`` with ``Z`` the exact unit-amplitude interference (1-D arrays)."""
    return np.asarray(log_sf_exact(n, l, x), dtype=np.float64).reshape(np.shape(n))


def _random_l_max(n: float, log_target: float) -> float:
    """Largest ``l`` with ``ln P_1(n, l) <= log_target`` (``P_1`` increasing in ``l``).

    Integer ``l`` is the exact convolution; between integers the law is the mixture of the
    two neighbours, so ``P_1`` is linear there and the fraction is closed-form.
    """
    if log_target >= math.log(0.5):
        return math.inf  # P(Z > a/2) < 1/2 for every l: the budget never binds

    def lp(k: int) -> float:
        return float(log_sf_exact(n, k, 0.5))

    if lp(1) > log_target:
        k = 0
    else:
        # normal start l0 = n / (2 z)^2, then grow to a bracket and bisect on integers
        z = float(_z_one_sided(np.array(log_target)))
        lo, hi = 1, max(2, int(n / (4.0 * z * z)) + 1)
        while lp(hi) <= log_target:
            lo, hi = hi, 2 * hi
            if hi > 1e12:  # pragma: no cover - P_1 -> 1/2 long before
                return math.inf
        if lp(lo) > log_target:
            lo = 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if lp(mid) <= log_target:
                lo = mid
            else:
                hi = mid
        k = lo
    p_k = math.exp(lp(k)) if k else 0.0
    p_next = math.exp(lp(k + 1))
    frac = (math.exp(log_target) - p_k) / (p_next - p_k)
    return k + min(max(frac, 0.0), 1.0)


def _random_min_width(m: np.ndarray, l: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Smallest ``n >= 1`` with ``m P_1(n, l) <= error`` (``P_1`` decreasing in ``n``)."""
    out = np.zeros(m.shape)
    pos = np.flatnonzero(l > 0)
    if pos.size == 0:
        return out
    ll, target = l[pos], np.log(err[pos]) - np.log(m[pos])

    def g(v: np.ndarray, ll_: np.ndarray, tt: np.ndarray) -> np.ndarray:  # decreasing in ln n
        half = np.full(v.shape, 0.5)
        gap: np.ndarray = np.maximum(_log_p1_random(np.exp(v), ll_, half) - tt, -1e4)
        return gap

    lo = np.zeros(pos.size)
    g_lo = g(lo, ll, target)
    res = np.ones(pos.size)  # n = 1 already works
    idx = np.flatnonzero(g_lo > 0)
    if idx.size:
        # the normal law's answer l (2 z)^2 is close: bracket around it, then Chandrupatla
        args = (ll[idx], target[idx])
        z = _z_one_sided(np.minimum(target[idx], np.log(0.5)))
        start = np.log(np.maximum(ll[idx] * 4.0 * z * z, 1.0))
        below = np.maximum(start - 0.25, 0.0)
        g_below = g(below, *args)
        a0 = np.where(g_below > 0, below, 0.0)  # a width that fails (0: ln 1 fails)
        b0, found = expand_bracket(g, a0, np.maximum(start + 0.25, a0 + 0.25), args, limit=_LOG_MAX)
        root = find_root(g, a0, b0, args, xtol=1e-12)
        res[idx] = np.where(found, np.exp(root), np.inf)
    out[pos] = res
    return out


def _levels_error(
    model: str, n: np.ndarray, l: np.ndarray, s_over_a: np.ndarray, err: np.ndarray
) -> np.ndarray:
    """``L`` with ``2 (L - 1) / L * P(Z > a / (2 (L - 1))) = error`` (1-D arrays).

    The left side increases from 0 (``L -> 1``) to 1 (``L -> inf``), so there is one root;
    it is found in ``u = ln(L - 1)``.
    """
    out = np.full(n.shape, np.inf)
    pos = np.flatnonzero(s_over_a > 0)
    if pos.size == 0:
        return out
    nn, ll, ss, ee = n[pos], l[pos], s_over_a[pos], err[pos]

    def g(
        u: np.ndarray, nn_: np.ndarray, ll_: np.ndarray, ss_: np.ndarray, ee_: np.ndarray
    ) -> np.ndarray:
        gap = np.exp(u)  # L - 1
        half = 0.5 / gap  # threshold Delta / 2 in units of a
        if model == "random":
            log_tail = _log_p1_random(nn_, ll_, half)
        else:
            log_tail = special.log_ndtr(-half / ss_)
        val: np.ndarray = np.log(2.0) + u - np.log1p(gap) + log_tail - np.log(ee_)
        clipped: np.ndarray = np.maximum(val, -1e4)  # -inf beyond the support: keep it finite
        return clipped

    # normal start: Delta / 2 = z sigma with z from error / 2; then bracket and solve
    z = _z_one_sided(np.log(ee) - np.log(2.0))  # not ln(error / 2): it underflows at 5e-324
    u0 = np.log(0.5 / (np.maximum(z, 1e-3) * ss))
    args: tuple[np.ndarray, ...] = (nn, ll, ss, ee)
    top = g(np.full(u0.shape, 700.0), *args)
    if np.any(top <= 0):  # the budget is at least the error as L -> inf: every L works
        keep = np.flatnonzero(top > 0)
        out[pos[top <= 0]] = np.inf
        pos, u0 = pos[keep], u0[keep]
        args = tuple(x[keep] for x in args)
        if pos.size == 0:
            return out
    down = g(u0, *args) > 0
    b, _ = expand_bracket(
        g, u0, np.where(down, u0 - 1.0, u0 + 1.0), args, limit=np.where(down, -700.0, 700.0)
    )
    root = find_root(g, u0, b, args, xtol=1e-13)
    out[pos] = 1.0 + np.exp(root)
    return out


# ----------------------------------------------------------------------------- public API


def pair_interference(
    n: ArrayLike, m: ArrayLike, model: NoiseModel = "random", q: float = 0.5
) -> FloatOrArray:
    r"""Interference between two features under a read-out model: the per-pair overlap ``eps``.

    .. math::

        \epsilon_{\rm random} = \frac{1}{\sqrt n}, \quad
        \epsilon_{\rm optimal} = \sqrt{\frac{m - n}{n (m - 1)}}, \quad
        \epsilon_{\rm linsefors} = \sqrt{\frac{8 \ln m}{n}}, \quad
        \epsilon_{\rm worst} = L_q(m, n), \quad
        \epsilon_{\rm packing} = \mu_{\min}(m, n)

    The first two are rms overlaps, the last three largest-overlap proxies (module docstring).

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    m : array_like
        Number of features, ``m >= 1``.
    model : {"random", "optimal", "linsefors", "worst", "packing"}
        The read-out model.
    q : float
        Quantile of the largest overlap for ``model="worst"``, in (0, 1).

    Returns
    -------
    float or numpy.ndarray
        ``eps``; ``noise = a eps sqrt(l)``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
    .. [2] L. Welch, IEEE Trans. Inf. Theory 20 (1974) 397-399 (the rms floor).

    Examples
    --------
    >>> round(pair_interference(768, 16384, model="linsefors"), 4)
    0.3179
    >>> round(pair_interference(768, 16384, model="random"), 4)
    0.0361
    >>> round(pair_interference(768, 16384, model="optimal"), 4)
    0.0352
    """
    model = _model(model)
    qv = _q(q)
    (nv, mv), scalar = broadcast(_n(n), _m(m), names=("n", "m"))
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

        \sigma_{\rm random} = a \sqrt{l / n}, \quad
        \sigma_{\rm optimal} = a \sqrt{\frac{l (m - n)}{n (m - 1)}}, \quad
        \sigma_{\rm linsefors} = a \sqrt{8 l \ln m / n}, \quad
        \sigma_{\rm worst} = a L_q \sqrt{l}, \quad
        \sigma_{\rm packing} = a \mu_{\min} \sqrt{l}

    ``random`` is exact for random unit directions (variance ``a^2 l / n``); ``optimal`` is
    the rms floor no arrangement beats (the frame potential; equality for unit-norm tight
    frames), so ``optimal <= random`` everywhere. The proxies are not rms noises: they are
    what the worst pair would give if every overlap were that large (Linsefors's takes the
    Johnson--Lindenstrauss worst case ``sqrt(8 ln m / n)`` and is ``sqrt(8 ln m)`` above
    ``random``).

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    m : array_like
        Number of features, ``m >= 1``.
    l : array_like
        Number of (other) features active at once, in ``[0, m - 1]`` (``ValueError``
        otherwise); ``l = 0`` gives zero noise.
    a : array_like
        Activation amplitude, ``a > 0``.
    model : {"random", "optimal", "linsefors", "worst", "packing"}
        The read-out model; ``"l1"`` raises ``ValueError`` (it has no linear read-out noise).
        ``worst`` and ``packing`` need ``n >= 1`` (their overlap laws and bounds do).
    q : float
        Quantile of the largest overlap for ``model="worst"``, in (0, 1).

    Returns
    -------
    float or numpy.ndarray
        ``sigma``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).
    .. [2] J. J. Benedetto and M. Fickus, "Finite normalized tight frames", Adv. Comput.
       Math. 18 (2003) 357-385.

    Examples
    --------
    >>> round(interference(768, 16384, 5, model="linsefors"), 4)
    0.7109
    >>> round(interference(768, 16384, 5, model="random"), 4)
    0.0807
    >>> round(interference(768, 1e6, 32, model="optimal"), 5)
    0.20405
    >>> interference(768, 16384, 5, model="l1")
    Traceback (most recent call last):
    ...
    ValueError: model 'l1' has no linear read-out noise: ...
    """
    model = _model(model)
    qv = _q(q)
    (nv, mv, lv, av), scalar = broadcast(_n(n), _m(m), _l(l), _a(a), names=("n", "m", "l", "a"))
    _lm(lv, mv)
    return wrap(av * _eps(model, nv, mv, qv) * np.sqrt(lv), scalar)


def _p1(
    model: str, n: np.ndarray, m: np.ndarray, l: np.ndarray, x: np.ndarray, q: float
) -> np.ndarray:
    """``ln P(Z > x a)`` of one read-out under ``model`` (1-D arrays, ``x`` in units of ``a``)."""
    if model == "random":
        return _log_p1_random(_exact_width(n), l, x)
    s = _eps(model, n, m, q) * np.sqrt(l)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, x / np.where(s > 0, s, 1.0), np.where(x < 0, -np.inf, np.inf))
    out: np.ndarray = special.log_ndtr(-z)
    return out


def readout_error(
    n: ArrayLike,
    m: ArrayLike,
    l: ArrayLike,
    a: ArrayLike = 1.0,
    threshold: ArrayLike | None = None,
    model: NoiseModel = "random",
    *,
    q: float = 0.5,
) -> FloatOrArray:
    r"""Probability that one read-out of an inactive feature crosses the threshold.

    .. math::

        P_1 = P(Z > \theta), \qquad \theta = a / 2 \ \text{by default}

    The one-sided event of reading an inactive feature as on (by symmetry also the
    probability of reading an active one as off). Under ``random`` ``Z`` has its exact law
    (:func:`interference_distribution`: the ``l``-fold convolution of the Beta overlap law;
    at ``l = 1`` exactly the Beta tail); under every other model ``Z`` is taken as normal with
    the model's ``sigma`` (:func:`interference`): ``P_1 = Phi(-theta / sigma)``. ``random``
    does not depend on ``m``.

    Parameters
    ----------
    n, m, l, a : array_like
        Width (``> 0``; ``>= 1`` under ``random``), number of features (``>= 1``), active
        features (in ``[0, m - 1]``, may be fractional) and amplitude (``> 0``).
    threshold : array_like, optional
        Decision threshold ``theta`` (default ``a / 2``).
    model : {"random", "optimal", "linsefors", "worst", "packing"}
        The read-out model.
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``P_1``.

    References
    ----------
    .. [1] T. T. Cai, J. Fan and T. Jiang, "Distributions of angles in random packing on
       spheres", JMLR 14 (2013) 1837-1864.

    Examples
    --------
    >>> print(f"{readout_error(64, 256, 1):.4g}")    # the Beta tail; normal: 3.17e-05
    1.114e-05
    >>> print(f"{readout_error(768, 1e4, 32):.5g}")
    0.0071515
    >>> print(f"{readout_error(768, 1e4, 32, model='optimal'):.4g}")
    0.005398
    """
    model = _model(model)
    qv = _q(q)
    av = _a(a)
    th = av / 2.0 if threshold is None else as_real(threshold, "threshold")
    (nv, mv, lv, av, tv), scalar = broadcast(
        _n(n), _m(m), _l(l), av, th, names=("n", "m", "l", "a", "threshold")
    )
    _lm(lv, mv)
    shape = nv.shape
    flat = [np.ascontiguousarray(x).reshape(-1) for x in (nv, mv, lv, av, tv)]
    with np.errstate(over="ignore"):  # threshold / a = +-inf where a ~ 0: the limit, exactly
        ratio = flat[4] / flat[3]
    log_p = _p1(model, flat[0], flat[1], flat[2], ratio, qv)
    return wrap(np.exp(log_p).reshape(shape), scalar)


def capacity_error(
    n: ArrayLike,
    m: ArrayLike,
    l: ArrayLike,
    model: NoiseModel = "random",
    *,
    q: float = 0.5,
) -> FloatOrArray:
    r"""The error level at which ``(n, m, l)`` is exactly at capacity under ``error=``.

    .. math::

        \text{rms models: } m\, P(Z > a/2), \qquad \text{proxies: } P(Z > a/2)

    For ``random`` and ``optimal`` this is the union bound on the probability that any of the
    ``m`` read-outs of one input is wrong (may exceed 1, where the bound says nothing); for the
    largest-overlap proxies it is the error of one read-out (module docstring). The
    capacities :func:`max_active`, :func:`max_features` and :func:`min_width` with ``error=``
    invert this function.

    Parameters
    ----------
    n, m, l : array_like
        Width, number of features, active features (in ``[0, m - 1]``).
    model : {"random", "optimal", "linsefors", "worst", "packing"}
        The read-out model.
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        The error budget.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> round(capacity_error(256, 4096, 3), 4)    # l = 3 fits in an error budget of 1%
    0.0069
    """
    model = _model(model)
    qv = _q(q)
    (nv, mv, lv), scalar = broadcast(_n(n), _m(m), _l(l), names=("n", "m", "l"))
    _lm(lv, mv)
    shape = nv.shape
    nf, mf, lf = (np.ascontiguousarray(x).reshape(-1) for x in (nv, mv, lv))
    log_p = _p1(model, nf, mf, lf, np.full(nf.shape, 0.5), qv)
    if model in RMS_MODELS:
        log_p = log_p + np.log(mf)
    with np.errstate(over="ignore"):
        return wrap(np.exp(log_p).reshape(shape), scalar)


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
        l_{\max}^{\rm optimal} = \frac{n (m - 1)}{(m - n)\, r^2}, \qquad
        l_{\max}^{\rm linsefors} = \frac{n}{8 r^2 \ln m}

    with ``r = snr`` (``a / sigma >= snr``), or at an error budget ``r = 2 z``:
    ``z = Phi^{-1}(1 - error / m)`` for ``optimal`` (union bound over the ``m`` read-outs) and
    ``z = Phi^{-1}(1 - error)`` for the largest-overlap proxies (one read-out). ``random`` with
    ``error=`` uses the exact law instead: the largest ``l`` with ``m P(Z > a/2) <= error``;
    its integer part is the largest whole number of active features that meets the budget,
    and between integers the law mixes the two neighbours (module docstring). For
    ``model="l1"``: ``l_max = n rho(min(1, n / m))`` with the Donoho--Tanner threshold of
    non-negative features. The answer is at most ``m - 1``: ``l`` counts the *other*
    features active with the one read, and there are no more than ``m - 1`` of them (so
    ``m - 1`` where ``eps = 0``: ``m = 1``, or ``m <= n`` under ``optimal``, where every
    feature can be active at once).

    Parameters
    ----------
    n : array_like
        Width, ``n > 0`` (``>= 1`` for ``random`` with ``error``).
    m : array_like
        Number of features, ``m >= 1``.
    snr : array_like, optional
        Required ``a / sigma``, ``> 0``; 1 (Linsefors's "signal stronger than noise") unless
        ``error`` is given.
    model : {"random", "optimal", "linsefors", "worst", "packing", "l1"}
        The read-out model.
    error : array_like, optional
        Instead of ``snr``: the error budget, in (0, 1) (module docstring: any of the ``m``
        read-outs for the rms models, one read-out for the proxies).
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
    >>> round(max_active(256, 4096, error=0.01), 2)     # l = 3 works (Monte Carlo: 0.7%)
    3.03
    >>> round(max_active(768, 1e6, model="optimal"), 1)
    768.6
    >>> max_active(768, 500, model="optimal")   # an orthonormal set: all 499 others
    499.0
    """
    res = _max_active_uncapped(n, m, snr, model, error=error, q=q)
    mv = _m(m)
    with np.errstate(invalid="ignore"):
        capped = np.minimum(np.asarray(res, dtype=np.float64), np.asarray(mv) - 1.0)
    return wrap(capped, np.ndim(capped) == 0)


def _max_active_uncapped(
    n: ArrayLike,
    m: ArrayLike,
    snr: ArrayLike | None = None,
    model: CapacityModel = "random",
    *,
    error: ArrayLike | None = None,
    q: float = 0.5,
) -> FloatOrArray:
    """:func:`max_active` before its cap at ``m - 1`` (the fixed point of the density form)."""
    model = _model(model, CAPACITY_MODELS)
    qv = _q(q)
    snr_v, err_v = _budget(snr, error, model)
    nv, mv = _n(n), _m(m)
    if model == "l1":
        (nv, mv), scalar = broadcast(nv, mv, names=("n", "m"))
        return wrap(_l1_max_active(nv, mv), scalar)
    third = _either(snr_v, err_v)
    budget = "snr" if err_v is None else "error"
    (nv, mv, tv), scalar = broadcast(nv, mv, third, names=("n", "m", budget))
    if model == "random" and err_v is not None:
        nf, mf, ef = (np.ascontiguousarray(x).reshape(-1) for x in (nv, mv, tv))
        _exact_width(nf)
        res = np.array(
            [
                _random_l_max(float(a), float(np.log(e) - np.log(b)))
                for a, b, e in zip(nf, mf, ef, strict=True)
            ]
        )
        return wrap(res.reshape(nv.shape), scalar)
    r = tv if err_v is None else _r_error(model, tv, np.log(mv))
    if model == "random":
        # eps^2 = 1/n exactly: n / r^2 avoids the rounding of 1 / (r / sqrt(n))^2
        with np.errstate(divide="ignore", over="ignore", under="ignore"):  # inf, 0: true
            return wrap(nv / r**2, scalar)
    if model == "optimal":
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            res = np.where(mv > nv, nv * (mv - 1.0) / ((mv - nv) * r**2), np.inf)
            res = np.where(nv < 1.0, nv / r**2, res)  # below one neuron: the random rule
        return wrap(res, scalar)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        res = 1.0 / (r * _eps(model, nv, mv, qv)) ** 2
    return wrap(np.where(r == 0, np.inf, res), scalar)


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
    out = np.full(n.shape, np.inf)
    pos = np.flatnonzero(l > 0)
    if pos.size == 0:
        return out
    nn, ll, bb = n[pos], l[pos], budget[pos]
    if err is not None and model in PROXY_MODELS:
        # one read-out: the snr form at r = 2 Phi^{-1}(1 - error)
        bb = _r_error(model, bb, np.zeros(pos.size))
        err = None
    if err is None:
        # r = 0 at error >= 1/2: every m works; snr 5e-324: an eps bound past 1e308
        with np.errstate(divide="ignore", over="ignore"):
            out[pos] = _solve_log_m(model, nn, 1.0 / (bb * np.sqrt(ll)), q)
        return out
    if model == "random":
        # m P_1 <= error: ln m_max = ln(error) - ln P_1 (P_1 from the exact law)
        out[pos] = np.log(bb) - _log_p1_random(_exact_width(nn), ll, np.full(pos.size, 0.5))
        return out

    # optimal: u = ln m is feasible iff u <= ln m_max(t(u)) with the snr-form inverse at the
    # target overlap t(u) = 1 / (2 sqrt(l) z(error / m)); g(u) = u - ln m_max(t(u)) increases
    def g(u: np.ndarray, nn_: np.ndarray, le: np.ndarray) -> np.ndarray:
        lv, ev = le[:, 0], le[:, 1]
        with np.errstate(divide="ignore"):
            t = 1.0 / (np.sqrt(lv) * _r_error(model, ev, u))
        gap: np.ndarray = u - np.minimum(_solve_log_m(model, nn_, t, q), 1e300)
        return gap

    res = np.empty(pos.shape)
    out[pos] = _root_in_log_m(g, nn, np.stack([ll, bb], axis=1), res, limit=1e250)
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

    .. math::

        \ln m_{\max}^{\rm random,\,error} = \ln \mathrm{error} - \ln P(Z > a/2), \qquad
        \ln m_{\max}^{\rm linsefors} = \frac{n}{8 l\, r^2}, \qquad
        m_{\max}^{\rm optimal} = \frac{n (l r^2 - 1)}{l r^2 - n}\ (l r^2 > n;\ \text{else } \infty)

    ``random`` with ``error=`` uses the exact law of ``Z``; ``optimal`` under an error budget
    (``r = 2 Phi^{-1}(1 - error / m)`` depends on ``m``), ``worst`` and ``packing`` are solved
    numerically in ``ln m``. Special values, each the true answer:

    - ``random`` with ``snr``: the noise ``a sqrt(l / n)`` does not depend on ``m``, so the
      answer is ``inf`` where ``n >= l snr^2`` and ``-inf`` (no ``m`` at all) elsewhere; use
      ``error=`` for a finite capacity (the union bound makes ``m`` count).
    - ``-inf`` wherever no ``m >= 1`` works (then :func:`max_features` is 0).
    - ``worst`` with ``l r^2 <= 1``: overlaps never exceed 1, so every ``m`` works: ``inf``.
    - ``packing``: ``inf`` where the target overlap exceeds the limit of every coherence
      lower bound as ``m -> inf`` (no known bound caps ``m``; not a construction).
    - ``l = 0``: ``inf``. ``l1`` with ``l > n``: ``-inf``.

    Parameters
    ----------
    n : array_like
        Width, ``n > 0`` (``>= 1`` for ``random`` with ``error``).
    l : array_like
        Number of active features, ``l >= 0``.
    snr : array_like, optional
        Required ``a / sigma`` (default 1 unless ``error`` is given).
    model : {"random", "optimal", "linsefors", "worst", "packing", "l1"}
        The read-out model.
    error : array_like, optional
        The error budget, in (0, 1) (module docstring).
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``ln m_max``.

    Notes
    -----
    **Linsefors's capacity is the union bound at margin 1/2.** Under the random model a
    read-out is ``x_i + Z`` with ``Var Z = a^2 l / n``.

    1. An on/off feature read with threshold ``a / 2`` errs in one direction only: an inactive
       one when ``Z > a / 2``, an active one when ``Z < -a / 2``; ``P_1 = P(Z > a / 2)``.
    2. Union bound over the ``m`` read-outs of one input: ``P(any wrong) <= m P_1``.
    3. Chernoff for a normal ``Z``: ``P_1 = Phi(-sqrt(n / l) / 2) <= exp(-n / (8 l))``.
    4. ``P(any wrong) <= error`` holds once ``ln m <= n / (8 l) + ln(error)``; at
       ``error -> 1`` this is ``m_max = exp(n / (8 l))`` -- Linsefors's ``exp(n / 8)`` at
       ``l = 1``, and his ``l_max = n / (8 ln m)`` read the other way.

    With ``error=`` this function keeps step 2 and replaces steps 3 by the exact law of ``Z``
    (lighter tails than the normal at small ``l``): the same exponent ``n / (8 l)``, with the
    corrections the Chernoff bound throws away.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> log_max_features(768, 1, model="linsefors")   # Linsefors's n / 8
    96.0
    >>> round(log_max_features(1e7, 1, model="linsefors"))    # exp(1.25e6) overflows
    1250000
    >>> round(log_max_features(768, 32, error=0.5, model="random"), 2)
    4.24
    """
    model = _model(model, CAPACITY_MODELS)
    qv = _q(q)
    snr_v, err_v = _budget(snr, error, model)
    arrays, names = [_n(n), _l(l)], ["n", "l"]
    if snr_v is not None:
        arrays.append(snr_v)
        names.append("snr")
    if err_v is not None:
        arrays.append(err_v)
        names.append("error")
    bc, scalar = broadcast(*arrays, names=names)
    shape = bc[0].shape
    flat = [np.ascontiguousarray(x).reshape(-1) for x in bc]
    s = flat[2] if snr_v is not None else None
    e = flat[2] if err_v is not None else None
    res = _log_max_features(flat[0], flat[1], s, e, model, qv)
    res = np.where(res < 0.0, -np.inf, res)  # no m >= 1 works
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

        m_{\max}^{\rm linsefors} = \exp\!\left(\frac{n}{8 l\, \mathrm{snr}^2}\right), \qquad
        m_{\max}^{\rm random,\,error} = \frac{\mathrm{error}}{P(Z > a/2)}

    0 where no ``m >= 1`` works; ``inf`` only where the true value exceeds the float range
    (e.g. ``exp(n / 8)`` for ``n > 5678``) or is infinite (see :func:`log_max_features`).

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    l : array_like
        Number of active features, ``l >= 0``.
    snr : array_like, optional
        Required ``a / sigma`` (default 1 unless ``error`` is given).
    model : {"random", "optimal", "linsefors", "worst", "packing", "l1"}
        The read-out model.
    error : array_like, optional
        The error budget, in (0, 1) (module docstring).
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
    >>> max_features(64, 40, error=0.01)
    0.0
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

        n_{\min}^{\rm random} = l\, r^2, \qquad
        n_{\min}^{\rm optimal} = \frac{l r^2 m}{m - 1 + l r^2}, \qquad
        n_{\min}^{\rm linsefors} = 8\, l\, r^2 \ln m

    with ``r`` as in :func:`max_active`. ``random`` with ``error=`` solves
    ``m P(Z > a/2) = error`` with the exact law (``n >= 1``); ``worst`` and ``packing`` are
    solved numerically in ``ln n``; ``l1`` solves ``l = n rho(n / m)``. 0 means no width
    constraint at all (``l = 0``; ``m = 1``; ``worst`` with ``l r^2 <= 1``).

    Parameters
    ----------
    m : array_like
        Number of features, ``m >= 1``.
    l : array_like
        Number of active features, in ``[0, m - 1]`` (``ValueError`` otherwise).
    snr : array_like, optional
        Required ``a / sigma`` (default 1 unless ``error`` is given).
    model : {"random", "optimal", "linsefors", "worst", "packing", "l1"}
        The read-out model.
    error : array_like, optional
        The error budget, in (0, 1) (module docstring).
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
    >>> round(min_width(4096, 8, model="optimal"), 2)
    7.99
    """
    model = _model(model, CAPACITY_MODELS)
    qv = _q(q)
    snr_v, err_v = _budget(snr, error, model)
    arrays, names = [_m(m), _l(l)], ["m", "l"]
    if model != "l1":
        arrays.append(_either(snr_v, err_v))
        names.append("snr" if err_v is None else "error")
    bc, scalar = broadcast(*arrays, names=names)
    _lm(bc[1], bc[0])
    shape = bc[0].shape
    mm, ll = (np.ascontiguousarray(x).reshape(-1) for x in bc[:2])
    if model == "l1":
        return wrap(_l1_min_width(mm, ll).reshape(shape), scalar)
    third = np.ascontiguousarray(bc[2]).reshape(-1)
    if model == "random" and err_v is not None:
        return wrap(_random_min_width(mm, ll, third).reshape(shape), scalar)
    r = third if err_v is None else _r_error(model, third, np.log(mm))
    out = np.zeros(mm.shape)
    pos = np.flatnonzero(ll > 0)
    # l r^2 beyond the float range is an infinite width (the true value): no warning
    with np.errstate(over="ignore", invalid="ignore"):
        if model == "random":
            out[pos] = ll[pos] * r[pos] ** 2  # n = l r^2 exactly, without 1/t^2's rounding
        elif model == "optimal":
            lr2 = ll[pos] * r[pos] ** 2
            # n < 1: random; l r^2 = inf: n = m (every feature needs its own direction)
            big = np.where(np.isinf(lr2), mm[pos], lr2 * mm[pos] / (mm[pos] - 1.0 + lr2))
            floor = np.where(lr2 >= 1.0, big, lr2)
            out[pos] = np.where(mm[pos] > 1.0, floor, 0.0)
        elif pos.size:
            with np.errstate(divide="ignore"):
                t = 1.0 / (r[pos] * np.sqrt(ll[pos]))
            out[pos] = _solve_n(model, mm[pos], t, qv)
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
        \frac{2 (L - 1)}{L}\, P\!\left(Z > \frac{a}{2 (L - 1)}\right) = \mathrm{error}

    The first is Linsefors's ``a / noise`` (levels spaced ``snr`` noise standard deviations
    apart; below 1 means not even on/off is readable). The second spaces ``L`` equally likely
    levels ``a / (L - 1)`` apart on ``[0, a]`` and asks nearest-level decoding of *one*
    read-out to err with probability ``error``: interior levels err on both sides, the two end
    levels on one side only, hence ``2 (L - 1) / L``. ``Z`` has the exact law under
    ``random`` and a normal law with the model's ``sigma`` otherwise; the root in ``L`` is
    bracketed (the left side increases in ``L``); at ``L = 2`` it is the on/off read-out.
    Both are independent of ``a``; ``inf`` for ``l = 0`` (no noise).

    Parameters
    ----------
    n, m, l, a : array_like
        Width (``> 0``; ``>= 1`` for ``random`` with ``error``), number of features
        (``>= 1``), active features (in ``[0, m - 1]``) and amplitude (``> 0``).
    model : {"random", "optimal", "linsefors", "worst", "packing"}
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
    .. [2] J. G. Proakis and M. Salehi, "Digital Communications", 5th ed., McGraw-Hill (2008),
       section 4.3 (the symbol error of ``L``-level amplitude modulation).

    Examples
    --------
    >>> round(distinguishable_levels(768, 16384, 5, model="linsefors"), 3)
    1.407
    >>> round(distinguishable_levels(768, 16384, 5, model="random"), 2)
    12.39
    >>> round(distinguishable_levels(768, 16384, 5, error=0.01, model="random"), 2)
    3.52
    """
    model = _model(model)
    qv = _q(q)
    snr_v, err_v = _budget(snr, error, model)
    third = _either(snr_v, err_v)
    budget_name = "snr" if err_v is None else "error"
    (nv, mv, lv, av, tv), scalar = broadcast(
        _n(n), _m(m), _l(l), _a(a), third, names=("n", "m", "l", "a", budget_name)
    )
    _lm(lv, mv)
    sigma_over_a = _eps(model, nv, mv, qv) * np.sqrt(lv)
    if err_v is None:
        with np.errstate(divide="ignore", over="ignore"):  # inf: a true overflow
            return wrap(1.0 / (tv * sigma_over_a), scalar)
    shape = nv.shape
    flat = [
        np.ascontiguousarray(x, dtype=np.float64).reshape(-1) for x in (nv, lv, sigma_over_a, tv)
    ]
    if model == "random":
        _exact_width(flat[0])
    levels = _levels_error(model, *flat)
    return wrap(levels.reshape(shape), scalar)


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
        Width, number of features, active features (in ``[0, m - 1]``), amplitude.
    model : {"random", "optimal", "linsefors", "worst", "packing"}
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
