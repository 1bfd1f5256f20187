r"""The random-overlap law: how much independent random feature directions interfere.

For independent uniform unit vectors :math:`u, v` in :math:`\mathbb{R}^n` the overlap
:math:`t = \langle u, v \rangle` has an exact law, :math:`(1 + t)/2 \sim
\mathrm{Beta}((n-1)/2, (n-1)/2)`, and the largest overlap among ``m`` such directions has a
finite-``n`` Poisson law built on its exact tail (see the theory page of the docs).

Conventions for the width ``n``:

* ``n`` must be at least 1. Non-integer ``n > 1`` is the analytic continuation of the Beta
  law (the exponents ``(n - 1)/2`` are real), so that root finders may treat ``n`` as
  continuous.
* ``n = 1`` is the degenerate limit ``n -> 1+``: in :math:`\mathbb{R}^1` every unit vector is
  ``+1`` or ``-1``, so :math:`t = \pm 1` with probability 1/2 each and every tail
  :math:`P(|t| \ge \varepsilon)` with :math:`\varepsilon \le 1` equals 1.

Everything is computed in log space where it can underflow, so that ``m = 1e30`` and
``n = 1e7`` give finite, accurate answers.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from suptheory._validate import as_real, broadcast
from suptheory.theory._types import FloatOrArray, FrozenDistribution, wrap

__all__ = [
    "overlap_distribution",
    "overlap_tail",
    "log_overlap_tail",
    "max_coherence_cdf",
    "max_coherence_random",
    "expected_max_coherence_random",
    "max_coherence_asymptotic",
]

# Below this value a regularized incomplete beta is computed by scipy without loss, above the
# underflow threshold of float64; smaller tails are computed in log space instead.
_TAIL_DIRECT_MIN = 1e-280
_LOG_TAIL_DIRECT_MIN = float(np.log(_TAIL_DIRECT_MIN))
_EULER_GAMMA = float(np.euler_gamma)
# Central moments 2..6 of the standard Gumbel law from its cumulants (j-1)! zeta(j):
# pi^2/6, 2 zeta(3), 3 pi^4/20, ...
_TAYLOR_ORDER = 6
_K2, _K3, _K4, _K5, _K6 = (math.factorial(j - 1) * float(special.zeta(j)) for j in range(2, 7))
_GUMBEL_MOMENTS = (
    _K2,
    _K3,
    _K4 + 3 * _K2**2,
    _K5 + 10 * _K3 * _K2,
    _K6 + 15 * _K4 * _K2 + 10 * _K3**2 + 15 * _K2**3,
)


# ---------------------------------------------------------------- validation helpers


def _width(n: ArrayLike) -> np.ndarray:
    return as_real(n, "n", low=1.0)


def _count(m: ArrayLike) -> np.ndarray:
    return as_real(m, "m", low=1.0)


def _log_pairs(m: np.ndarray) -> np.ndarray:
    """``ln C(m, 2) = ln(m (m - 1) / 2)``; ``-inf`` for ``m = 1`` (no pairs)."""
    with np.errstate(divide="ignore"):
        out: np.ndarray = np.log(m) + np.log(m - 1.0) - np.log(2.0)
    return out


# ---------------------------------------------------------------- the tail in log space


def _betacf(a: np.ndarray, b: float, x: np.ndarray) -> np.ndarray:
    """Continued fraction of the incomplete beta (modified Lentz), vectorised.

    Converges quickly for ``x < (a + 1)/(a + b + 2)``, which holds wherever the tail is
    below :data:`_TAIL_DIRECT_MIN` (Press et al., Numerical Recipes, section 6.4).
    """
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = np.where(np.abs(d) < tiny, tiny, d)
    d = 1.0 / d
    h = d.copy()
    for k in range(1, 400):
        k2 = 2.0 * k
        # each ratio divided separately: the products overflow for a beyond ~1e154
        aa = k * (b - k) * x / (qam + k2) / (a + k2)
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        h = h * d * c
        aa = -((a + k) / (a + k2)) * ((qab + k) / (qap + k2)) * x
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) < 1e-15):
            break
    return h


def _log_tail(s: np.ndarray, x: np.ndarray, a: np.ndarray) -> np.ndarray:
    r"""``ln P(t^2 >= s) = ln I_x(a, 1/2)`` with ``x = 1 - s`` given separately (exactly).

    ``s`` and ``x`` both matter: the small one carries the precision (``s`` near 0 for wide
    layers, ``x`` near 0 when ``t`` is close to 1). ``a = (n - 1)/2 >= 0``.
    """
    s, x, a = np.broadcast_arrays(
        np.asarray(s, dtype=np.float64),
        np.asarray(x, dtype=np.float64),
        np.asarray(a, dtype=np.float64),
    )
    out = np.zeros(s.shape)
    live = a > 0.0  # a = 0 (n = 1): t = +-1, so P(t^2 >= s) = 1 for every s <= 1
    if not live.any():
        return out
    sl, xl, al = s[live], x[live], a[live]
    with np.errstate(divide="ignore"):
        # upper tail in s where s is small, lower tail in x where x is small
        low = sl <= 0.5
        tail = np.empty(sl.shape)
        tail[low] = special.betaincc(0.5, al[low], sl[low])
        tail[~low] = special.betainc(al[~low], 0.5, xl[~low])
        res = np.log(tail)
    small = (tail < _TAIL_DIRECT_MIN) & (xl > 0.0)
    # For a > 1e15 the tail is this small only at s < 1e-12, where x = 1 - s is within the
    # continued fraction's 1.5/a of 1 (or rounds to 1) and it does not converge. There the
    # gamma limit -(a - 1/4) ln(1 - t^2) ~ Gamma(1/2) holds to O(1/a^2) (Temme's uniform
    # expansion): ln T = ln erfc(sqrt((a - 1/4) v)), v = -ln(1 - s).
    huge = small & (al > 1e15)
    small &= ~huge
    if huge.any():
        z2 = (al[huge] - 0.25) * -np.log1p(-sl[huge])
        res[huge] = np.log(special.erfcx(np.sqrt(z2))) - z2
    if small.any():
        with np.errstate(divide="ignore"):  # np.where evaluates both branches
            ss, xs, aa = sl[small], xl[small], al[small]
            # I_x(a, b) = x^a (1-x)^b / (a B(a, b)) * cf  (Numerical Recipes 6.4.5)
            res[small] = (
                # a ln x with a up to 1e7: take ln x from whichever of s, x is exact
                aa * np.where(ss < 0.5, np.log1p(-ss), np.log(xs))
                + 0.5 * np.log(ss)
                - np.log(aa)
                - special.betaln(aa, 0.5)
                + np.log(_betacf(aa, 0.5, xs))
            )
    out[live] = res
    return out


def _log_tail_s(s: np.ndarray, a: np.ndarray) -> np.ndarray:
    r"""``ln P(t^2 >= s) = ln I_{1-s}(a, 1/2)`` for ``s`` in [0, 1] and ``a = (n-1)/2 >= 0``."""
    s = np.asarray(s, dtype=np.float64)
    return _log_tail(s, 1.0 - s, a)  # 1 - s is exact where it is small (s >= 1/2)


def _inverse_log_tail(logy: np.ndarray, a: np.ndarray) -> np.ndarray:
    r"""``s`` with ``ln I_{1-s}(a, 1/2) = logy`` (``logy <= 0``); inverse of :func:`_log_tail_s`."""
    logy, a = np.broadcast_arrays(
        np.asarray(logy, dtype=np.float64), np.asarray(a, dtype=np.float64)
    )
    if logy.ndim and (a > 0.0).all() and (logy >= _LOG_TAIL_DIRECT_MIN).all():
        common: np.ndarray = special.betainccinv(0.5, a, np.exp(logy))  # without masks
        return common
    s = np.zeros(logy.shape)
    deg = a == 0.0
    # n = 1: the tail is 1 below s = 1 and 0 at s = 1, so every level y < 1 is met at s = 1.
    s[deg] = np.where(logy[deg] < 0.0, 1.0, 0.0)
    direct = ~deg & (logy >= _LOG_TAIL_DIRECT_MIN)
    if direct.any():
        s[direct] = special.betainccinv(0.5, a[direct], np.exp(logy[direct]))
    far = ~deg & ~direct
    if far.any():
        s[far] = _newton_log_tail(logy[far], a[far])
    return s


def _newton_log_tail(logy: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Newton's method on ``ln I_{1-s}(a, 1/2)`` in ``v = -ln(1 - s)`` for tails below 1e-280."""
    # start from the large-a approximation I_{1-s}(a, 1/2) ~ erfc(sqrt((a - 1/4) v))
    z = np.sqrt(-logy)
    for _ in range(6):
        z = np.sqrt(np.log(special.erfcx(z)) - logy)
    v = np.minimum(z**2 / np.maximum(a - 0.25, 0.5 * a), 700.0)
    lb = special.betaln(0.5, a)
    active = np.arange(v.size)
    for _ in range(40):
        va, aa, ya = v[active], a[active], logy[active]
        log_tail = _log_tail(-np.expm1(-va), np.exp(-va), aa)
        # d ln T / dv = -s^(-1/2) (1 - s)^a / (B(1/2, a) T)
        slope = -np.exp(-0.5 * np.log(-np.expm1(-va)) - aa * va - lb[active] - log_tail)
        step = (log_tail - ya) / slope
        # v > 700 means 1 - s < 1e-304: t = sqrt(s) rounds to 1 there, so stop at 700
        v_new = np.minimum(va - step, 700.0)
        v[active] = np.where(v_new <= 0.0, 0.5 * va, v_new)
        # ln T is known to a few ulps of |ln T|: a residual below 1e-14 |ln y| is converged
        done = (np.abs(log_tail - ya) <= 1e-14 * np.abs(ya)) | (v[active] >= 700.0)
        active = active[~done]
        if active.size == 0:
            break
    out: np.ndarray = -np.expm1(-v)
    return out


# ---------------------------------------------------------------- the pair law


def overlap_distribution(n: float) -> FrozenDistribution:
    r"""Exact law of the overlap of two independent uniform random unit vectors in R^n.

    .. math::

        \frac{1 + t}{2} \sim \mathrm{Beta}\left(\frac{n-1}{2}, \frac{n-1}{2}\right),
        \qquad
        f(t) = \frac{\Gamma(n/2)}{\sqrt{\pi}\,\Gamma((n-1)/2)} (1 - t^2)^{(n-3)/2},
        \quad -1 \le t \le 1,

    so :math:`E t = 0`, :math:`\operatorname{Var} t = 1/n` and
    :math:`E t^4 = 3 / (n (n + 2))` exactly.

    Parameters
    ----------
    n : float
        Width, a single number ``>= 1``. Non-integer ``n > 1`` gives the analytic
        continuation of the Beta law. ``n = 1`` gives the exact law in R^1: ``t = +-1``
        with probability 1/2 each, a discrete distribution (it has ``pmf``, not ``pdf``).

    Returns
    -------
    scipy.stats frozen distribution
        ``scipy.stats.beta((n-1)/2, (n-1)/2, loc=-1, scale=2)`` for ``n > 1`` (``.pdf``,
        ``.sf``, ``.var``, ``.moment``, ``.rvs`` are all exact); for ``n = 1`` a
        ``scipy.stats.rv_discrete`` on ``{-1, 1}``; past ``n = 1e15`` its normal limit
        ``scipy.stats.norm(0, 1 / sqrt(n))``, equal to float64 precision (the fourth moment
        differs by ``2 / n``) where scipy's Beta moments would overflow (``n > 2.6e154``).

    References
    ----------
    Cai, T. T. & Jiang, T. (2012). Phase transition in limiting distributions of coherence of
    high-dimensional random matrices. J. Multivariate Anal. 107, 24-39 (Lemma 12).

    Examples
    --------
    >>> d = overlap_distribution(768)
    >>> print(round(d.var() * 768, 12), round(d.moment(4) * 768 * 770 / 3, 12))
    1.0 1.0
    >>> print(round(float(d.sf(0.1)), 4))
    0.0028
    """
    arr = _width(n)
    if arr.ndim != 0:
        raise ValueError(f"n must be a single number in [1, inf); got shape {arr.shape}")
    from scipy import stats  # lazily: keep the calculator's import cheap

    width = float(arr)
    if width == 1.0:
        return stats.rv_discrete(name="overlap_n1", values=([-1.0, 1.0], [0.5, 0.5]))
    if width > 1e15:
        return stats.norm(loc=0.0, scale=1.0 / math.sqrt(width))
    half = (width - 1.0) / 2.0
    return stats.beta(half, half, loc=-1.0, scale=2.0)


def overlap_tail(eps: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Probability that two random unit directions in R^n overlap by at least ``eps``.

    .. math::

        P(|\langle u, v \rangle| \ge \varepsilon) = I_{1-\varepsilon^2}\left(\frac{n-1}{2},
        \frac12\right) = 1 - I_{\varepsilon^2}\left(\frac12, \frac{n-1}{2}\right),

    the regularized incomplete beta function (the second form is the one evaluated: it keeps
    full relative accuracy for small ``eps``). Tails below the float64 range underflow to 0;
    use :func:`log_overlap_tail` for those.

    Parameters
    ----------
    eps : array_like
        Overlap level in [0, 1] (the ends are allowed: the tail is 1 at 0 and 0 at 1).
    n : array_like
        Width ``>= 1`` (see the module notes for ``n = 1`` and non-integer ``n``).

    Returns
    -------
    float or numpy.ndarray
        The tail probability, broadcast over the arguments.

    References
    ----------
    Cai & Jiang (2012), JMVA 107, Lemma 12; Abramowitz & Stegun 26.5 (incomplete beta).

    Examples
    --------
    >>> print(round(overlap_tail(0.1, 768), 5))
    0.00551
    >>> print(round(overlap_tail(0.5, 3), 6))
    0.5
    """
    e = as_real(eps, "eps", low=0.0, high=1.0)
    w = _width(n)
    (e, w), scalar = broadcast(e, w, names=("eps", "n"))
    a = (w - 1.0) / 2.0
    out = np.where(a == 0.0, 1.0, special.betaincc(0.5, np.where(a == 0.0, 1.0, a), e * e))
    return wrap(out, scalar)


def log_overlap_tail(eps: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Natural log of :func:`overlap_tail`, finite far below the float64 range.

    .. math::

        \ln P(|\langle u, v\rangle| \ge \varepsilon) = \ln I_{1-\varepsilon^2}\left(
        \frac{n-1}{2}, \frac12\right).

    Where the tail is below ``1e-280`` it is evaluated as
    :math:`I_x(a, b) = x^a (1-x)^b\, \mathrm{cf}(a, b, x) / (a B(a, b))` with the continued
    fraction of the incomplete beta, all in log space.

    Parameters
    ----------
    eps : array_like
        Overlap level in [0, 1].
    n : array_like
        Width ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        ``ln P``; ``-inf`` only at ``eps = 1`` (for ``n > 1``).

    References
    ----------
    Press et al., Numerical Recipes, 3rd ed., section 6.4 (continued fraction).

    Examples
    --------
    >>> print(round(log_overlap_tail(0.5, 1e7), 1))
    -1438417.8
    """
    e = as_real(eps, "eps", low=0.0, high=1.0)
    w = _width(n)
    (e, w), scalar = broadcast(e, w, names=("eps", "n"))
    return wrap(_log_tail_s(e * e, (w - 1.0) / 2.0), scalar)


# ---------------------------------------------------------------- the largest overlap


def _log_pair_tail(t: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``ln(-ln(1 - T))`` for the pair tail ``T = P(|t| >= t)``: ``ln T`` where ``T`` is small."""
    log_t = _log_tail_s(t * t, a)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        exact = np.log(-np.log1p(-np.exp(np.minimum(log_t, 0.0))))
    out: np.ndarray = np.where(log_t < -700.0, log_t, exact)  # -ln(1 - T) = T where T underflows
    return out


def max_coherence_cdf(t: ArrayLike, m: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Finite-n law of the largest overlap among ``m`` random directions in R^n.

    For :math:`L = \max_{i<j} |\langle u_i, u_j \rangle|`, the independent-pairs form with
    the exact pair tail :math:`T(t) = P(|\langle u, v\rangle| \ge t) = I_{1-t^2}((n-1)/2, 1/2)`:

    .. math::

        P(L \le t) \approx \bigl(1 - T(t)\bigr)^{\binom{m}{2}}.

    It is exact at ``m = 2``, within Monte Carlo error at ``m = 3``, and equal to the
    Poisson (Chen-Stein) form :math:`\exp(-\binom{m}{2} T(t))` for ``m`` of about 10 or more,
    where both match Monte Carlo for ``n`` from 16 to 512 (the Poisson form alone is poor at
    ``m = 2, 3``: it puts mass ``e^{-1}`` at ``t = 0``). For ``n = 1`` the exact law is used:
    ``L = 1`` whenever ``m > 1``. Evaluated in log space (``m = 1e30``, ``n = 1e7`` are fine).

    Parameters
    ----------
    t : array_like
        Level in [0, 1].
    m : array_like
        Number of directions, ``>= 1`` (``m = 1``: no pairs, ``L = 0``).
    n : array_like
        Width ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        :math:`P(L \le t)`.

    References
    ----------
    .. [1] T. T. Cai and T. Jiang, JMVA 107 (2012) 24-39 (Chen-Stein Poisson approximation
       of the coherence).
    .. [2] R. Arratia, L. Goldstein and L. Gordon, Ann. Probab. 17 (1989) 9-25.

    Examples
    --------
    >>> print(round(max_coherence_cdf(0.2, 1000, 768), 3))
    0.989
    >>> print(round(max_coherence_cdf(0.5, 2, 64), 6))    # m = 2: 1 - P(|<u, v>| >= 1/2)
    0.999978
    """
    tt = as_real(t, "t", low=0.0, high=1.0)
    mm = _count(m)
    w = _width(n)
    (tt, mm, w), scalar = broadcast(tt, mm, w, names=("t", "m", "n"))
    pairs = mm > 1.0
    tail = _log_pair_tail(tt, (w - 1.0) / 2.0)  # +inf at t = 0 (T = 1)
    log_lambda = np.where(pairs, _log_pairs(np.where(pairs, mm, 2.0)) + tail, -np.inf)
    with np.errstate(over="ignore"):
        out = np.exp(-np.exp(log_lambda))
    # n = 1 exactly: every pair overlaps by +-1, so L = 1 whenever there is a pair
    out = np.where((w == 1.0) & (mm > 1.0), np.where(tt >= 1.0, 1.0, 0.0), out)
    return wrap(out, scalar)


def _log_tail_at_quantile(log_pairs: np.ndarray, log_neg_log_q: np.ndarray) -> np.ndarray:
    """``ln T`` at the quantile: ``T(L_q) = -expm1(ln q / C(m, 2))`` (independent pairs)."""
    x = log_neg_log_q - log_pairs  # ln(-ln q / C)
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        exact = np.log(-np.expm1(-np.exp(np.maximum(x, -710.0))))
    out: np.ndarray = np.where(x < -700.0, x, exact)  # -expm1(-y) = y where y underflows
    return out


def max_coherence_random(m: ArrayLike, n: ArrayLike, q: ArrayLike = 0.5) -> FloatOrArray:
    r"""``q``-quantile of the largest overlap among ``m`` random unit directions in R^n.

    Inverts the independent-pairs law of :func:`max_coherence_cdf` in closed form:

    .. math::

        L_q = \sqrt{s}, \qquad I_{1-s}\left(\frac{n-1}{2}, \frac12\right)
        = -\operatorname{expm1}\!\left(\frac{\ln q}{\binom{m}{2}}\right),

    with ``s`` from the inverse regularized incomplete beta
    (``scipy.special.betainccinv``); below ``1e-280`` the right-hand side is matched by
    Newton's method on the log tail. Exact at ``m = 2`` (median 0.02436 at ``n = 768``; the
    Poisson form gave 0.0143); equal to the Poisson form ``-ln q / C(m, 2)`` once that is
    small. ``m = 1`` gives 0 (no pairs).

    Parameters
    ----------
    m : array_like
        Number of directions, ``>= 1``; may be a float (``1e30``).
    n : array_like
        Width ``>= 1``.
    q : array_like, optional
        Quantile level in (0, 1); default 0.5 (the median).

    Returns
    -------
    float or numpy.ndarray
        The quantile of :math:`L`, in [0, 1].

    See Also
    --------
    expected_max_coherence_random : the mean of the same law.
    max_coherence_asymptotic : Cai and Jiang's ``sqrt(4 ln m / n)``, 5-30% high in practice.

    References
    ----------
    .. [1] T. T. Cai and T. Jiang, JMVA 107 (2012) 24-39.

    Examples
    --------
    >>> print(round(max_coherence_random(16384, 768), 4))
    0.2087
    >>> print(round(max_coherence_random(2, 768), 5))
    0.02436
    >>> print(round(max_coherence_random(1e30, 1e7), 6))
    0.005192
    """
    mm = _count(m)
    w = _width(n)
    qq = as_real(q, "q", low=0.0, high=1.0, low_open=True, high_open=True)
    (mm, w, qq), scalar = broadcast(mm, w, qq, names=("m", "n", "q"))
    none = mm <= 1.0  # no pairs
    logy = _log_tail_at_quantile(np.where(none, 0.0, _log_pairs(mm)), np.log(-np.log(qq)))
    s = _inverse_log_tail(np.where(none, -1.0, np.minimum(logy, 0.0)), (w - 1.0) / 2.0)
    out = np.where(none, 0.0, np.sqrt(s))
    out = np.where((w == 1.0) & (mm > 1.0), 1.0, out)  # n = 1 exactly: L = 1
    return wrap(out, scalar)


def expected_max_coherence_random(m: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Mean of the largest overlap among ``m`` random unit directions in R^n.

    .. math::

        E L = \int_0^1 \left(1 - P(L \le t)\right) dt,
        \qquad P(L \le t) = \bigl(1 - I_{1-t^2}\bigl(\tfrac{n-1}{2}, \tfrac12\bigr)
        \bigr)^{\binom{m}{2}}.

    Under this law :math:`G = -\ln\bigl(-\binom{m}{2} \ln(1 - T(L))\bigr)` is standard
    Gumbel, so :math:`E L = E\, t(G)`. For fewer than ``1e4`` pairs (``m < 142``)
    :math:`E\, t(G)` is integrated by 48-point Gauss-Legendre quadrature over the Gumbel
    variable (48 inversions per point, ~1e-9 accurate; exact law at ``m = 2``). For more
    pairs ``T`` is below ``1e-4`` wherever the law has mass, the independent-pairs and
    Poisson forms agree, and the mean is evaluated from one exact inversion at
    :math:`g = \gamma` (Euler's constant) and a sixth-order Taylor expansion of :math:`t(g)`
    (series reversion of :math:`-\ln T`, whose derivatives are elementary: the hazard rate of
    the Beta tail) against the Gumbel's central moments :math:`\pi^2/6, 2\zeta(3), \ldots`.
    Relative error against adaptive quadrature of the integral: below 1.5e-5 at ``m = 142``
    (worst at small ``n``), below 1e-6 for ``m >= 1000, n >= 16``.

    Parameters
    ----------
    m : array_like
        Number of directions, ``>= 1`` (``m = 1`` gives 0).
    n : array_like
        Width ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        :math:`E L`.

    References
    ----------
    .. [1] T. T. Cai and T. Jiang, JMVA 107 (2012) 24-39 (Gumbel limit of the coherence).

    Examples
    --------
    >>> print(round(expected_max_coherence_random(16384, 768), 4))
    0.2098
    >>> print(round(expected_max_coherence_random(2, 768), 5))   # E|<u, v>|
    0.0288
    """
    mm = _count(m)
    w = _width(n)
    (mm, w), scalar = broadcast(mm, w, names=("m", "n"))
    out = _expected_max(mm.ravel(), w.ravel()).reshape(mm.shape)
    return wrap(out, scalar)


# fewer pairs than this: integrate directly (the Taylor expansion in g needs C(m, 2) large)
_SMALL_PAIRS = 1e4
_GL_BULK = np.polynomial.legendre.leggauss(32)
_GL_TAIL = np.polynomial.legendre.leggauss(16)


def _expected_max(m: np.ndarray, n: np.ndarray) -> np.ndarray:
    out = np.zeros(m.shape)
    lam = _log_pairs(m)
    a = (n - 1.0) / 2.0
    one = n == 1.0
    # n = 1 exactly: L = 1 whenever there is a pair
    out[one] = np.where(m[one] > 1.0, 1.0, 0.0)
    few = ~one & (m > 1.0) & (lam < np.log(_SMALL_PAIRS))
    many = ~one & ~few & (m > 1.0)
    if many.any():
        with np.errstate(all="ignore"):
            taylor = _expected_taylor(lam[many], a[many])
        out[many] = taylor
        # near t = 1 (tiny n, huge m) the expansion breaks down: integrate there instead
        bad = np.zeros(m.shape, dtype=bool)
        bad[many] = ~np.isfinite(taylor) | (taylor >= 1.0 - 1e-6)
        few |= bad
    if few.any():
        out[few] = _expected_quadrature(lam[few], a[few])
    return out


def _expected_taylor(lam: np.ndarray, a: np.ndarray) -> np.ndarray:
    # level at the Gumbel mean: ln T(t0^2) = -(lam + gamma)
    logT = -(lam + _EULER_GAMMA)
    s0 = _inverse_log_tail(logT, a)
    t = np.sqrt(s0)
    k = a - 1.0  # (n - 3)/2, exponent of the density (1 - t^2)^k
    # psi(t) = -ln T(t^2) has psi' = r, the hazard rate f/T of |t| (f = 2 (1-t^2)^k / B(1/2, a)),
    # and r' = r w with w = d + r, d = f'/f = -k (1/(1-t) - 1/(1+t)); Leibniz gives
    # r^(j+1) = sum_i C(j, i) r^(i) w^(j-i), w^(p) = d^(p) + r^(p).
    logf = np.log(2.0) + k * np.log1p(-s0) - special.betaln(0.5, a)
    r = [np.exp(logf - logT)]
    inv_lo, inv_hi = 1.0 / (1.0 - t), 1.0 / (1.0 + t)
    pow_lo, pow_hi = inv_lo, inv_hi
    d = []
    for p in range(_TAYLOR_ORDER - 1):
        d.append((-math.factorial(p) * k) * (pow_lo - pow_hi if p % 2 == 0 else pow_lo + pow_hi))
        pow_lo, pow_hi = pow_lo * inv_lo, pow_hi * inv_hi
    for j in range(_TAYLOR_ORDER - 1):
        r.append(sum(math.comb(j, i) * r[i] * (d[j - i] + r[j - i]) for i in range(j + 1)))
    # Taylor coefficients a_j = psi^(j) / j! of psi(t0 + x) - psi(t0), then series reversion
    # (Abramowitz & Stegun 3.6.25) for t(g) - t0 = sum_j b_j (g - gamma)^j
    # normalised coefficients e_j = a_j / a_1 (so b_j = beta_j(e) / a_1^j, A&S 3.6.25)
    h = 1.0 / r[0]  # 1 / a_1
    e2, e3, e4, e5, e6 = (r[j - 1] * (h / math.factorial(j)) for j in range(2, 7))
    e2s = e2 * e2
    beta2 = -e2
    beta3 = 2.0 * e2s - e3
    beta4 = 5.0 * e2 * e3 - e4 - 5.0 * e2s * e2
    beta5 = 6.0 * e2 * e4 + 3.0 * e3 * e3 + 14.0 * e2s * e2s - e5 - 21.0 * e2s * e3
    beta6 = (
        7.0 * (e2 * e5 + e3 * e4)
        + 84.0 * e2s * e2 * e3
        - e6
        - 28.0 * (e2s * e4 + e2 * e3 * e3)
        - 42.0 * e2s * e2s * e2
    )
    mu2, mu3, mu4, mu5, mu6 = _GUMBEL_MOMENTS
    # sum_j beta_j mu_j h^j, by Horner in h
    poly = beta6 * mu6
    for beta, mu in ((beta5, mu5), (beta4, mu4), (beta3, mu3), (beta2, mu2)):
        poly = poly * h + beta * mu
    out: np.ndarray = t + poly * (h * h)
    return out


def _expected_quadrature(lam: np.ndarray, a: np.ndarray) -> np.ndarray:
    # E L = E t(G) = int t(g) exp(-g - e^-g) dg over the Gumbel variable g, with t(g) from
    # the (cheap) inverse tail at T = -expm1(-e^-g / C) (independent pairs). Below g = -ln 40
    # the Gumbel mass is e^-40, above g = 40 it is 4e-18. Gauss-Legendre on [g_lo, 5] (32
    # nodes, the bulk) and [5, 40] (16 nodes, the exponential tail): ~1e-9 relative.
    out = np.zeros(lam.shape)
    g_lo = np.full(lam.shape, -np.log(40.0))
    for lo, hi, (nodes, weights) in (
        (g_lo, np.maximum(5.0, g_lo), _GL_BULK),
        (np.maximum(5.0, g_lo), np.maximum(40.0, g_lo), _GL_TAIL),
    ):
        g = lo[None, :] + 0.5 * (nodes[:, None] + 1.0) * (hi - lo)[None, :]
        logy = np.minimum(_log_tail_at_quantile(lam[None, :], -g), 0.0)
        s = _inverse_log_tail(logy, np.broadcast_to(a[None, :], g.shape))
        out += 0.5 * (hi - lo) * (weights @ (np.sqrt(s) * np.exp(-g - np.exp(-g))))
    return np.minimum(out, 1.0)  # the weights' rounding may carry t = 1 a few ulps above 1


def max_coherence_asymptotic(m: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Cai and Jiang's asymptotic largest overlap among ``m`` random directions in R^n.

    .. math::

        L \approx \sqrt{\frac{4 \ln m}{n}} \qquad (\ln(m)/n \to 0),

    with a Gumbel limit :math:`n L^2 - 4 \ln m + \ln\ln m \Rightarrow
    \exp(-(8\pi)^{-1/2} e^{-y/2})`. It is 5-30% high at practical sizes: use
    :func:`max_coherence_random` for numbers.

    Parameters
    ----------
    m : array_like
        Number of directions, ``>= 1``.
    n : array_like
        Width ``> 0``.

    Returns
    -------
    float or numpy.ndarray
        :math:`\sqrt{4 \ln m / n}` (not clipped to 1).

    References
    ----------
    Cai & Jiang (2012), JMVA 107, 24-39, Theorem 1.

    Examples
    --------
    >>> print(round(max_coherence_asymptotic(16384, 768), 4))
    0.2248
    """
    mm = _count(m)
    w = as_real(n, "n", low=0.0, low_open=True)
    (mm, w), scalar = broadcast(mm, w, names=("m", "n"))
    with np.errstate(over="ignore"):  # 4 ln m / n overflows at n ~ 0: then the split form
        out = np.sqrt(4.0 * np.log(mm) / w)
    return wrap(np.where(np.isinf(out), np.sqrt(4.0 * np.log(mm)) / np.sqrt(w), out), scalar)
