r"""What no arrangement of feature directions can beat, and what some arrangement achieves.

Lower bounds on the coherence :math:`\mu = \max_{i \ne j} |\langle w_i, w_j \rangle|` of
``m`` unit vectors in :math:`\mathbb{R}^n` (Welch, higher-order Welch, orthoplex,
Levenshtein), the largest of them (:func:`coherence_lower_bound`), Gerzon's bound on
equiangular lines, the rank lemma and its inverse, and two counts of lines with small
overlap: one that some arrangement achieves (greedy / maximality) and one that none can
beat (Kabatiansky-Levenshtein, asymptotic). See the theory page of the docs.

Every function broadcasts like a numpy ufunc. A bound that does not apply at a point
(for instance the orthoplex bound for ``m <= n (n + 1)/2``) is NaN there;
:func:`coherence_lower_bound` takes the largest bound that applies.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln

from suptheory._validate import MAX_COUNT, as_real, broadcast, check_int
from suptheory.theory._types import CountOrArray, FloatOrArray, wrap, wrap_int
from suptheory.theory.overlaps import _log_tail_s

__all__ = [
    "welch_bound",
    "higher_order_welch_bound",
    "orthoplex_bound",
    "levenshtein_bound",
    "coherence_lower_bound",
    "gerzon_bound",
    "rank_bound",
    "rank_max_features",
    "greedy_existence",
    "log_greedy_existence",
    "kabatiansky_levenshtein_rate",
    "kabatiansky_levenshtein_cheap",
]

#: largest order k of the higher-order Welch bounds that coherence_lower_bound tries
MAX_WELCH_ORDER = 64


def _mn(m: ArrayLike, n: ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    mm = as_real(m, "m", low=1.0)
    nn = as_real(n, "n", low=1.0)
    (mm, nn), scalar = broadcast(mm, nn, names=("m", "n"))
    return mm, nn, scalar


def _eps(eps: ArrayLike) -> np.ndarray:
    return as_real(eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)


def _welch(m: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``sqrt((m - n) / (n (m - 1)))``; past ``m n ~ 1.8e308`` as ``((m - n) / (m - 1)) / n``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        den = n * (m - 1.0)
        ratio = np.where(np.isinf(den), (m - n) / (m - 1.0) / n, (m - n) / den)
        out: np.ndarray = np.sqrt(ratio)
    return out


def welch_bound(m: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Welch's lower bound on the coherence of ``m`` unit vectors in R^n.

    .. math::

        \mu \ge \sqrt{\frac{m - n}{n (m - 1)}}, \qquad m > n,

    with equality iff the vectors form an equiangular tight frame (3 lines in R^2, 6 in
    R^3, 28 in R^7, 276 in R^23, ...).

    Parameters
    ----------
    m : array_like
        Number of vectors, ``>= 1``.
    n : array_like
        Width, ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        The bound; NaN where ``m <= n`` (there ``m`` orthonormal vectors exist, ``mu = 0``).

    References
    ----------
    Welch, L. (1974). Lower bounds on the maximum cross correlation of signals. IEEE Trans.
    Inf. Theory 20(3), 397-399. Strohmer & Heath (2003), Appl. Comput. Harmon. Anal. 14.

    Examples
    --------
    >>> print(round(welch_bound(6, 3), 6), round(1 / 5 ** 0.5, 6))
    0.447214 0.447214
    >>> print(round(welch_bound(16384, 768), 4))
    0.0352
    """
    mm, nn, scalar = _mn(m, n)
    ok = mm > nn
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ok, _welch(mm, nn), np.nan)
    return wrap(out, scalar)


def _log_welch_moment(n: np.ndarray, k: int) -> np.ndarray:
    """``ln c_k = ln E t^{2k}`` for the overlap of random unit vectors in R^n."""
    # t^2 ~ Beta(1/2, (n-1)/2), so c_k = (2k-1)!! / (n (n+2) ... (n+2k-2))
    #                                  = B(k + 1/2, (n-1)/2) / B(1/2, (n-1)/2)
    # (the product form also covers n = 1, where c_k = 1). Past MAX_WELCH_ORDER factors the
    # Gamma form costs O(1) instead of O(k): Gamma(k+1/2) Gamma(n/2) / (Gamma(1/2) Gamma(n/2+k))
    if k > MAX_WELCH_ORDER:
        half = 0.5 * np.asarray(n, dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = gammaln(half) - gammaln(half + k)  # inf - inf past n ~ 1e307
            # far past k: ln Gamma(h) - ln Gamma(h + k) = -k ln h - k (k - 1) / (2 h) + ...
            far = half > 1e12 * k
            diff = np.where(far, -k * np.log(np.where(far, half, 1.0)), diff)
        return np.asarray(gammaln(k + 0.5) - gammaln(0.5) + diff)
    out = np.zeros(np.shape(n))
    for j in range(1, k + 1):
        out = out + np.log((2.0 * j - 1.0) / (n + 2.0 * j - 2.0))
    return out


def _higher_order_welch(mm: np.ndarray, nn: np.ndarray, log_ck: np.ndarray, k: int) -> np.ndarray:
    log_mc = np.log(mm) + log_ck
    ok = (log_mc > 0.0) & (mm > 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # (m c_k - 1)/(m - 1) in log space: ln(expm1(ln m c_k)) - ln(m - 1)
        big = log_mc > 30.0
        log_num = np.where(big, log_mc, np.log(np.expm1(np.where(big, 0.0, log_mc))))
        log_ratio = log_num - np.log(mm - 1.0)
        out = np.where(ok, np.exp(log_ratio / (2.0 * k)), np.nan)
    return out


def higher_order_welch_bound(m: ArrayLike, n: ArrayLike, k: int = 2) -> FloatOrArray:
    r"""Higher-order Welch bound (real case) on the coherence of ``m`` unit vectors in R^n.

    .. math::

        \mu^{2k} \ge \frac{m c_k - 1}{m - 1}, \qquad
        c_k = \frac{(2k-1)!!}{n (n+2) \cdots (n+2k-2)}
            = \frac{B(k + 1/2, (n-1)/2)}{B(1/2, (n-1)/2)} = E\, t^{2k},

    where :math:`c_k` is the ``2k``-th moment of the overlap of two random unit vectors
    (so ``k = 1`` is :func:`welch_bound`). It follows from
    :math:`\sum_{i,j} \langle w_i, w_j\rangle^{2k} \ge m^2 c_k`.

    Parameters
    ----------
    m : array_like
        Number of vectors, ``>= 1``.
    n : array_like
        Width, ``>= 1`` (real ``n`` through the Beta form of ``c_k``).
    k : int, optional
        Order, a whole number ``>= 1``; default 2.

    Returns
    -------
    float or numpy.ndarray
        The bound; NaN where ``m c_k <= 1`` (the bound is vacuous there).

    References
    ----------
    Welch (1974), IEEE Trans. Inf. Theory 20(3); Datta, Howard & Cochran (2012), "Geometry
    of the Welch bounds", Linear Algebra Appl. 437.

    Examples
    --------
    >>> print(round(higher_order_welch_bound(1e6, 100, k=2), 4))
    0.1308
    >>> print(round(higher_order_welch_bound(6, 3, k=1), 6))
    0.447214
    """
    kk = check_int(k, "k", low=1, high=MAX_COUNT)
    mm, nn, scalar = _mn(m, n)
    out = _higher_order_welch(mm, nn, _log_welch_moment(nn, kk), kk)
    return wrap(out, scalar)


def orthoplex_bound(m: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Orthoplex (Rankin) bound on the coherence of ``m`` unit vectors in R^n.

    .. math::

        \mu \ge \frac{1}{\sqrt{n}}, \qquad m > \frac{n (n+1)}{2}.

    Parameters
    ----------
    m : array_like
        Number of vectors, ``>= 1``.
    n : array_like
        Width, ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        The bound; NaN where ``m <= n (n + 1)/2``.

    References
    ----------
    Rankin, R. A. (1955). The closest packing of spherical caps in n dimensions. Proc.
    Glasgow Math. Assoc. 2; Conway, Hardin & Sloane (1996), Exp. Math. 5(2).

    Examples
    --------
    >>> print(round(orthoplex_bound(7, 3), 6))
    0.57735
    >>> print(orthoplex_bound(6, 3))
    nan
    """
    mm, nn, scalar = _mn(m, n)
    with np.errstate(over="ignore"):  # n (n + 1) / 2 = inf past n ~ 1.9e154: m is below it
        out = np.where(mm > nn * (nn + 1.0) / 2.0, 1.0 / np.sqrt(nn), np.nan)
    return wrap(out, scalar)


def _levenshtein_sq(m: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``(3m - n^2 - 2n) / ((n + 2)(m - n))``; past ``3 m ~ 1.8e308`` over ``m`` top and bottom."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        direct = (3.0 * m - n * n - 2.0 * n) / ((n + 2.0) * (m - n))
        scaled = (3.0 - n * (n + 2.0) / m) / ((n + 2.0) * (1.0 - n / m))
        out: np.ndarray = np.where(np.isfinite(3.0 * m) & np.isfinite(n * n), direct, scaled)
    return out


def levenshtein_bound(m: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Levenshtein's bound (real case) on the coherence of ``m`` unit vectors in R^n.

    .. math::

        \mu^2 \ge \frac{3m - n^2 - 2n}{(n + 2)(m - n)}, \qquad m > \frac{n (n+1)}{2}.

    It exceeds the orthoplex bound once ``m >= n (n + 2)/2`` and tends to
    :math:`\sqrt{3/(n+2)}` as ``m`` grows.

    Parameters
    ----------
    m : array_like
        Number of vectors, ``>= 1``.
    n : array_like
        Width, ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        The bound; NaN where ``m <= n (n + 1)/2``.

    References
    ----------
    Levenshtein, V. I. (1983). Bounds for packings of metric spaces and some of their
    applications. Probl. Cybern. 40; Haas, Hammen & Mixon (2017), "The Levenstein bound for
    packings in projective spaces", Proc. SPIE 10394.

    Examples
    --------
    >>> print(round(levenshtein_bound(1e6, 100), 4))
    0.1712
    """
    mm, nn, scalar = _mn(m, n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ok = mm > nn * (nn + 1.0) / 2.0  # n (n + 1) / 2 = inf past n ~ 1.9e154: m is below it
        out = np.where(ok, np.sqrt(_levenshtein_sq(mm, nn)), np.nan)
    return wrap(out, scalar)


def coherence_lower_bound(m: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""The largest rigorous lower bound on the coherence of ``m`` unit vectors in R^n.

    .. math::

        \mu_{\min}(m, n) \ge \max\left\{\text{Welch}, \text{orthoplex}, \text{Levenshtein},
        \max_{2 \le k \le 64} \text{higher-order Welch}_k\right\},

    taking each bound only where it applies, and 0 where ``m <= n`` (``m`` orthonormal
    vectors exist). This is the ``"optimal"`` read-out model's interference per pair: no
    arrangement does better, though the best known one may do worse.

    Parameters
    ----------
    m : array_like
        Number of vectors, ``>= 1``.
    n : array_like
        Width, ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        The bound, in [0, 1].

    References
    ----------
    Welch (1974); Rankin (1955); Levenshtein (1983); Conway, Hardin & Sloane (1996), Exp.
    Math. 5(2); Datta, Howard & Cochran (2012).

    Examples
    --------
    >>> print(round(coherence_lower_bound(16384, 768), 4))
    0.0352
    >>> print(coherence_lower_bound(100, 768))
    0.0
    """
    mm, nn, scalar = _mn(m, n)
    best = np.zeros(mm.shape)
    more = mm > nn
    if more.any():
        sub_m, sub_n = mm[more], nn[more]
        cands = [
            _welch(sub_m, sub_n),  # Welch (k = 1)
        ]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            packed = sub_m > sub_n * (sub_n + 1.0) / 2.0  # as levenshtein_bound: no overflow
            lev = _levenshtein_sq(sub_m, sub_n)
            cands.append(np.where(packed, np.sqrt(np.maximum(lev, 0.0)), 0.0))
        cands.append(np.where(packed, 1.0 / np.sqrt(sub_n), 0.0))
        val = np.max(np.stack(cands), axis=0)
        # higher orders: c_k = c_{k-1} (2k - 1)/(n + 2k - 2); stop once no point can use k
        # m c_k falls with k (for n > 1), so a point that drops out stays out: keep the live set
        idx = np.arange(sub_m.size)
        lm, ln_, log_ck = sub_m, sub_n, -np.log(sub_n)
        for k in range(2, MAX_WELCH_ORDER + 1):
            log_ck = log_ck + np.log((2.0 * k - 1.0) / (ln_ + 2.0 * k - 2.0))
            live = np.log(lm) + log_ck > 0.0
            if not live.all():
                idx, lm, ln_, log_ck = idx[live], lm[live], ln_[live], log_ck[live]
            if idx.size == 0:
                break
            val[idx] = np.fmax(val[idx], _higher_order_welch(lm, ln_, log_ck, k))
        best[more] = np.minimum(val, 1.0)  # rounding only: no bound exceeds 1
    return wrap(best, scalar)


def gerzon_bound(n: ArrayLike) -> CountOrArray:
    r"""Gerzon's bound: at most :math:`n(n+1)/2` equiangular lines fit in R^n.

    .. math::

        m_{\mathrm{equiangular}} \le \frac{n (n + 1)}{2},

    attained in R^2 (3 lines at 60 degrees), R^3 (the 6 diagonals of the icosahedron),
    R^7 (28) and R^23 (276).

    Parameters
    ----------
    n : array_like
        Width, a whole number ``>= 1``.

    Returns
    -------
    int or numpy.ndarray
        The bound (Python int for scalar input, float64 array of whole numbers otherwise).

    References
    ----------
    Lemmens, P. W. H. & Seidel, J. J. (1973). Equiangular lines. J. Algebra 24, 494-512.

    Examples
    --------
    >>> gerzon_bound(3), gerzon_bound(23)
    (6, 276)
    """
    nn = as_real(n, "n", low=1.0, integer=True)
    scalar = nn.ndim == 0
    with np.errstate(over="ignore"):  # inf past n ~ 1.9e154: true overflow
        return wrap_int(nn * (nn + 1.0) / 2.0, scalar)


def rank_bound(m: ArrayLike, eps: ArrayLike) -> FloatOrArray:
    r"""Rank lemma: the smallest width that holds ``m`` unit vectors with overlaps <= ``eps``.

    A symmetric ``m x m`` matrix with unit diagonal and off-diagonal entries
    :math:`|a_{ij}| \le \varepsilon` has

    .. math::

        \operatorname{rank} \ge \frac{m}{1 + (m - 1)\varepsilon^2},

    so a Gram matrix of such vectors needs :math:`n` at least this (real-valued; the width
    is its ceiling).

    Parameters
    ----------
    m : array_like
        Number of vectors, ``>= 1``.
    eps : array_like
        Largest allowed overlap, in (0, 1).

    Returns
    -------
    float or numpy.ndarray
        The lower bound on the rank.

    References
    ----------
    Alon, N. (2009). Perturbed identity matrices have high rank: proof and applications.
    Combin. Probab. Comput. 18, 3-15 (Lemma 2.1).

    Examples
    --------
    >>> print(round(rank_bound(1e6, 0.1), 2))
    99.99
    """
    mm = as_real(m, "m", low=1.0)
    ee = _eps(eps)
    (mm, ee), scalar = broadcast(mm, ee, names=("m", "eps"))
    return wrap(mm / (1.0 + (mm - 1.0) * ee * ee), scalar)


def rank_max_features(n: ArrayLike, eps: ArrayLike) -> FloatOrArray:
    r"""Inverse of the rank lemma: the most unit vectors with overlaps <= ``eps`` in R^n.

    .. math::

        m \le \frac{n (1 - \varepsilon^2)}{1 - n \varepsilon^2}
        \quad \text{if } n \varepsilon^2 < 1, \qquad \text{else no bound } (\infty).

    Parameters
    ----------
    n : array_like
        Width, ``>= 1``.
    eps : array_like
        Largest allowed overlap, in (0, 1).

    Returns
    -------
    float or numpy.ndarray
        The largest ``m`` (real-valued; the count is its floor); ``inf`` where
        ``n eps^2 >= 1``.

    References
    ----------
    Alon (2009), Combin. Probab. Comput. 18, Lemma 2.1.

    Examples
    --------
    >>> print(round(rank_max_features(100, 0.05), 2))
    133.0
    >>> rank_max_features(100, 0.2)
    inf
    """
    nn = as_real(n, "n", low=1.0)
    ee = _eps(eps)
    (nn, ee), scalar = broadcast(nn, ee, names=("n", "eps"))
    ne2 = nn * ee * ee
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ne2 < 1.0, nn * (1.0 - ee * ee) / (1.0 - ne2), np.inf)
    return wrap(out, scalar)


def log_greedy_existence(eps: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Natural log of :func:`greedy_existence` (finite where the count overflows).

    .. math::

        \ln m_{\text{greedy}} = -\ln I_{1-\varepsilon^2}\left(\frac{n-1}{2}, \frac12\right)
        \approx \frac{n \varepsilon^2}{2} \quad (n \varepsilon^2 \gg 1).

    Parameters
    ----------
    eps : array_like
        Overlap level, in (0, 1).
    n : array_like
        Width, ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        ``ln`` of the guaranteed number of lines.

    References
    ----------
    See :func:`greedy_existence`.

    Examples
    --------
    >>> print(round(log_greedy_existence(0.1, 1e5), 1))
    506.2
    """
    ee = _eps(eps)
    nn = as_real(n, "n", low=1.0)
    (ee, nn), scalar = broadcast(ee, nn, names=("eps", "n"))
    return wrap(-_log_tail_s(ee * ee, (nn - 1.0) / 2.0), scalar)


def greedy_existence(eps: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""How many lines with pairwise overlap below ``eps`` certainly fit in R^n.

    A maximal set of lines with overlaps :math:`< \varepsilon` has caps of angular radius
    :math:`\arccos\varepsilon` around its ``+-`` points covering the sphere, so (greedy /
    maximality argument, the caps' measure being the random-overlap tail)

    .. math::

        m \ge \frac{1}{I_{1-\varepsilon^2}\left(\frac{n-1}{2}, \frac12\right)}
        = \frac{1}{P(|\langle u, v\rangle| \ge \varepsilon)},

    so :math:`\ln m \approx n\varepsilon^2/2` is achievable (a random dictionary needs
    :math:`\ln m \approx n\varepsilon^2/4`: :math:`\sqrt2` worse in :math:`\varepsilon`).

    Parameters
    ----------
    eps : array_like
        Overlap level, in (0, 1).
    n : array_like
        Width, ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        The guaranteed number of lines (real-valued); ``inf`` only where it exceeds the
        float64 range (use :func:`log_greedy_existence` there).

    References
    ----------
    Gilbert (1952) / Varshamov (1957) greedy argument, for spherical codes see Conway &
    Sloane, "Sphere Packings, Lattices and Groups", ch. 1; Cai & Jiang (2012) for the cap
    measure.

    Examples
    --------
    >>> print(round(greedy_existence(0.2, 768), -5))
    45000000.0
    """
    ee = _eps(eps)
    nn = as_real(n, "n", low=1.0)
    (ee, nn), scalar = broadcast(ee, nn, names=("eps", "n"))
    with np.errstate(over="ignore"):
        out = np.exp(-_log_tail_s(ee * ee, (nn - 1.0) / 2.0))
    return wrap(out, scalar)


def kabatiansky_levenshtein_rate(eps: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Kabatiansky-Levenshtein (1978) bound on the log-count of lines with overlap <= ``eps``.

    **Asymptotic** (``n -> inf`` at fixed ``eps``): no arrangement fits more than :math:`M`
    lines in R^n with pairwise overlaps :math:`|\langle w_i, w_j\rangle| \le \varepsilon`,
    where, with :math:`\cos\theta = \varepsilon` and :math:`s = \sin\theta`,

    .. math::

        \frac{1}{n} \log_2 M \le R(\varepsilon) = \frac{1 + s}{2 s} \log_2 \frac{1 + s}{2 s}
            - \frac{1 - s}{2 s} \log_2 \frac{1 - s}{2 s}

    (the linear-programming bound for spherical codes of minimal angle :math:`\theta`; for
    lines, angles :math:`\theta` and :math:`\pi - \theta` are both allowed and the rate is
    the same). Returned as :math:`\ln M = n R(\varepsilon) \ln 2` (natural log, to compare
    with :func:`log_greedy_existence`, which some arrangement achieves); ``R`` itself is the
    value divided by ``n ln 2``. Tao's cheap form ``n eps^2 / 4 ln(4 e / eps^2)``, a weaker
    statement, is :func:`kabatiansky_levenshtein_cheap`. Not a rigorous finite-``n`` bound
    (lower-order terms are dropped).

    Parameters
    ----------
    eps : array_like
        Overlap level, in (0, 1).
    n : array_like
        Width, ``> 0``.

    Returns
    -------
    float or numpy.ndarray
        The asymptotic upper bound on :math:`\ln M`.

    References
    ----------
    .. [1] G. A. Kabatiansky and V. I. Levenshtein, "Bounds for packings on a sphere and in
       space", Probl. Inf. Transm. 14(1) (1978) 1-17.

    Examples
    --------
    >>> print(round(kabatiansky_levenshtein_rate(0.1, 1) / np.log(2), 6))   # bits per dim
    0.025384
    >>> print(round(kabatiansky_levenshtein_rate(0.5, 1) / np.log(2), 6))
    0.401414
    >>> print(round(kabatiansky_levenshtein_rate(0.1, 768), 2))
    13.51
    """
    ee = _eps(eps)
    nn = as_real(n, "n", low=0.0, low_open=True)
    (ee, nn), scalar = broadcast(ee, nn, names=("eps", "n"))
    s = np.sqrt((1.0 - ee) * (1.0 + ee))  # sin(theta), without cancellation at small eps
    lo = ee * ee / (2.0 * s * (1.0 + s))  # (1 - s) / (2 s) = eps^2 / (2 s (1 + s))
    hi = 1.0 + lo  # (1 + s) / (2 s); its log as log1p(lo): s rounds to 1 below eps ~ 1e-8
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        rate_nats = hi * np.log1p(lo) - np.where(lo > 0, lo * np.log(lo), 0.0)
    return wrap(nn * rate_nats, scalar)


def kabatiansky_levenshtein_cheap(eps: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Tao's cheap form of the Kabatiansky-Levenshtein bound: a weaker, simpler statement.

    .. math::

        \ln M \lesssim \frac{n \varepsilon^2}{4} \ln\frac{4 e}{\varepsilon^2}

    It is below the 1978 rate :func:`kabatiansky_levenshtein_rate` (up to 15% at
    ``eps = 0.5``) and matches its order :math:`\varepsilon^2 \ln(1/\varepsilon)` at small
    ``eps``. Asymptotic, constants and lower-order terms dropped.

    Parameters
    ----------
    eps : array_like
        Overlap level, in (0, 1).
    n : array_like
        Width, ``> 0``.

    Returns
    -------
    float or numpy.ndarray
        The cheap bound on :math:`\ln M`.

    References
    ----------
    .. [1] T. Tao, "A cheap version of the Kabatjanskii-Levenstein bound for almost orthogonal
       vectors", blog post (2013).

    Examples
    --------
    >>> print(round(kabatiansky_levenshtein_cheap(0.1, 768), 1))
    13.4
    """
    ee = _eps(eps)
    nn = as_real(n, "n", low=0.0, low_open=True)
    (ee, nn), scalar = broadcast(ee, nn, names=("eps", "n"))
    e2 = ee * ee  # may underflow to 0 (eps < 1e-162): ln(4 / eps^2) is taken from ln eps
    return wrap(nn * e2 / 4.0 * (np.log(4.0) - 2.0 * np.log(ee) + 1.0), scalar)
