r"""The exact law of one read-out's interference under random feature directions.

Reading feature ``i`` back with ``w_i . h`` while ``l`` other features are active at amplitude
``a`` adds the interference :math:`Z = a \sum_{j} \langle w_i, w_j \rangle`. For independent
uniform random directions the overlaps :math:`t_j = \langle w_i, w_j \rangle` are, given
``w_i``, independent with the exact Beta law of :func:`~suptheory.overlaps.overlap_distribution`
(:math:`(1 + t)/2 \sim \mathrm{Beta}((n-1)/2, (n-1)/2)`), so ``Z / a`` is the **l-fold
convolution** of that law: mean 0, variance exactly ``l / n``, normal only as ``n -> inf``,
with lighter tails than the normal at small ``l``.

How it is computed. The overlap law is discretised into cell masses on a fine grid (a
sixty-fourth of its standard deviation) and convolved ``l`` times with one real FFT. Tails are
computed by **exponential tilting** (the Esscher transform): for any ``s``,

.. math::

    P(Z > z) = M(s)^l\, E_s\!\left[e^{-s Z}\, 1\{Z > z\}\right],

where ``M`` is the moment generating function of one overlap and ``E_s`` the law with every
overlap tilted by ``e^{s t}``. With ``s`` chosen so that the tilted law is centred at ``z``, the
FFT works where the tilted law has its bulk, so deep tails (``1e-300`` and far beyond, in log
space) keep full relative accuracy and no probability is ever negative.

Fractional ``l`` (an expected count). ``l = k + f`` with ``k`` an integer and ``0 < f < 1``
means that ``k + 1`` features are active with probability ``f`` and ``k`` otherwise: the
law is the mixture ``(1 - f) law_k + f law_{k+1}``. It has mean count ``l``, the least count
variance of any such choice, the exact variance ``l a^2 / n``, equals the convolution at every
integer and is continuous and increasing in ``l``. For ``l < 1`` it has an atom of mass
``1 - l`` at 0 (``pdf`` gives the continuous part).

References
----------
.. [1] F. Esscher, "On the probability function in the collective theory of risk",
   Skandinavisk Aktuarietidskrift 15 (1932) 175-195 (exponential tilting).
.. [2] T. T. Cai, J. Fan and T. Jiang, "Distributions of angles in random packing on spheres",
   JMLR 14 (2013) 1837-1864 (the law of the overlap of random directions).
"""

# ruff: noqa: E741  (l is the project's name for the number of active features)
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import fft, special

from suptheory._validate import as_real, broadcast
from suptheory.theory._types import FloatOrArray, wrap
from suptheory.theory.overlaps import log_overlap_tail

__all__ = ["InterferenceDistribution", "interference_distribution", "log_sf_exact"]

_PER_SD = 64  # grid cells per standard deviation of one (tilted) overlap
_HALF_WIDTH = 40.0  # standard deviations of one overlap kept on each side of its window
_SUM_WIDTH = 12.0  # standard deviations of the sum kept by the circular FFT (wrap-around of
# the mass beyond, below e^-72 of the peak, is far under the FFT's round-off)
_MAX_FFT = 1 << 20  # above this the cells widen (k > ~4e5): accuracy degrades gracefully
_BODY_MIN = 1e-6  # below this tail the untilted grid hands over to the tilted one


def _log_density(t: np.ndarray, n: float) -> np.ndarray:
    """``ln`` of the overlap density ``Gamma(n/2)/(sqrt(pi) Gamma((n-1)/2)) (1-t^2)^((n-3)/2)``."""
    c = special.gammaln(n / 2.0) - 0.5 * math.log(math.pi) - special.gammaln((n - 1.0) / 2.0)
    with np.errstate(divide="ignore"):
        out: np.ndarray = c + 0.5 * (n - 3.0) * np.log1p(-t * t)
    return out


def _log_cell_masses(edges: np.ndarray, n: float, s: float) -> np.ndarray:
    """``ln`` of the overlap law's mass in each cell between ``edges``, tilted by ``e^{s c}``."""
    centres = 0.5 * (edges[1:] + edges[:-1])
    h = edges[1] - edges[0]
    if n >= 4.0:
        # smooth density: the midpoint rule, in log space (no underflow far in the tail)
        log_p = _log_density(centres, n) + math.log(h)
    else:
        # n < 4: the density is flat or singular at +-1; exact cell masses from the Beta law
        cdf = special.betainc((n - 1.0) / 2.0, (n - 1.0) / 2.0, (1.0 + edges) / 2.0)
        with np.errstate(divide="ignore"):
            log_p = np.log(np.maximum(np.diff(cdf), 0.0))
    out: np.ndarray = log_p + s * centres
    return out


class _Lattice:
    """The ``k``-fold convolution of the tilted overlap law on a lattice of spacing ``h``."""

    def __init__(self, n: float, k: int, x0: float) -> None:
        # tilt s whose tilted overlap law has its mode at x0 (the saddle point, nearly)
        x0 = min(max(x0, 0.0), 1.0 - 1e-12)
        c = max(n - 3.0, 1.0)
        self.s = s = c * x0 / (1.0 - x0 * x0)
        sd = (1.0 - x0 * x0) / math.sqrt(c * (1.0 + x0 * x0))
        lo = max(-1.0, x0 - _HALF_WIDTH * sd)
        hi = min(1.0, x0 + _HALF_WIDTH * sd)
        per = float(_PER_SD)
        span = 2.0 * _SUM_WIDTH * math.sqrt(k) * sd  # where the tilted sum has its mass
        need = (hi - lo) / sd * per + span / sd * per
        if need > _MAX_FFT:
            per *= _MAX_FFT / need
        cells = max(int(math.ceil((hi - lo) / sd * per)), 16)
        edges = np.linspace(lo, hi, cells + 1)
        h = float(edges[1] - edges[0])
        log_q = _log_cell_masses(edges, n, s)
        top = float(np.max(log_q))
        q = np.exp(log_q - top)
        total = float(q.sum())
        q /= total
        self.log_m = top + math.log(total)  # ln M_h(s): the tilted masses' normaliser
        size = min(k * (cells - 1) + 1, cells + int(math.ceil(span / h)))
        size = fft.next_fast_len(max(size, 16), real=True)
        g = fft.irfft(fft.rfft(q, size) ** k, size)
        g = np.maximum(g, 0.0)  # FFT round-off is ~1e-17 of the peak, never a probability
        mean_index = k * float(np.dot(np.arange(cells), q))
        # unwrap the circular convolution around the tilted mean: index K = base + j
        base = int(round(mean_index)) - size // 2
        self.mass = np.roll(g, -(base % size))
        self.first = k * (lo + 0.5 * h) + base * h  # value of self.mass[0]
        self.h = h
        self.k = k

    def log_sf(self, x: float) -> float:
        """``ln P(Z > x)``.

        The lattice density is smooth on the scale of a cell but the weight ``e^{-s z}`` is
        not, so each cell's weight is integrated exactly over the part of the cell above ``x``
        (with a midpoint value instead the tail would be off by ``(s h)^2 / 24``).
        """
        h, s = self.h, self.s
        vals = self.first + h * np.arange(self.mass.size)
        top = vals + 0.5 * h
        keep = (top > x) & (self.mass > 0.0)
        bottom = np.maximum(vals[keep] - 0.5 * h, x)
        width = top[keep] - bottom
        if s > 0.0:
            w = np.exp(-s * (bottom - x)) * -np.expm1(-s * width) / (s * h)
        else:
            w = width / h
        total = float(np.dot(self.mass[keep], w))
        if total <= 0.0:
            return -math.inf
        return self.k * self.log_m - s * x + math.log(total)

    def log_pdf(self, x: float) -> float:
        """``ln`` of the density at ``x`` (linear interpolation of the lattice masses)."""
        pos = (x - self.first) / self.h
        j = int(math.floor(pos))
        if j < 0 or j + 1 >= self.mass.size:
            return -math.inf
        w = pos - j
        val = (1.0 - w) * self.mass[j] + w * self.mass[j + 1]
        if val <= 0.0:
            return -math.inf
        return self.k * self.log_m - self.s * x + math.log(val / self.h)


#: at these widths or counts the saddle-point form takes over from the lattice: more accurate
#: there (relative 1e-8 against 4e-6 at n = 1e6), and the lattice breaks down further on
#: (cells below float64 resolution at huge n, FFT sizes past memory at huge k)
_ASYM_N = 1e6
_ASYM_K = 1 << 26


def _cgf(n: float, z: float) -> tuple[float, float, float]:
    """``K, dK/dz, d2K/dz2``, each over ``nu``, of ``K(s) = ln E e^{s t}`` at ``s = nu z >= 0``.

    ``t`` has density ``(1 - t^2)^{(n-3)/2}`` and ``E e^{s t} = Gamma(nu + 1) (2/s)^nu
    I_nu(s)``, ``nu = n/2 - 1``. With Debye's uniform expansion of ``I_nu(nu z)`` and
    Stirling's series, in a form without cancellation (``r = sqrt(1 + z^2)``,
    ``w = r - 1``, ``p = 1/r``, ``q = 1 - p``):
    ``K = nu (w - ln(1 + w/2)) - ln(1 + z^2)/4 + (12 q - 15 q^2 + 5 q^3) / (24 nu)
    + p^4 z^2 (1 - 5 p^2) / (16 nu^2)``, error ``O(nu^-3)``; the derivatives leave out the
    last term (relative ``O(nu^-3)``).
    """
    nu = n / 2.0 - 1.0
    zz = z * z
    r = math.sqrt(1.0 + zz)
    w = zz / (r + 1.0)
    p = 1.0 / r
    q = w / r
    k0 = (  # K / nu: K itself overflows at n near 1.8e308
        (w - math.log1p(w / 2.0))
        + (
            -0.25 * math.log1p(zz)
            + (12.0 * q - 15.0 * q * q + 5.0 * q**3) / 24.0 / nu
            + p**4 * zz * (1.0 - 5.0 * p * p) / 16.0 / nu / nu
        )
        / nu
    )
    dq = z * p**3
    d2q = p**3 * (1.0 - 3.0 * zz * p * p)
    c1 = (12.0 - 30.0 * q + 15.0 * q * q) / 24.0
    k1 = z / (1.0 + r) + (-z / (2.0 * (1.0 + zz)) + c1 * dq / nu) / nu
    k2 = (
        1.0 / (r * (1.0 + r))
        + (
            -(1.0 - zz) / (2.0 * (1.0 + zz) ** 2)
            + ((-30.0 + 30.0 * q) / 24.0 * dq * dq + c1 * d2q) / nu
        )
        / nu
    )
    return k0, k1, k2


def _saddle(n: float, k: int, x: float) -> tuple[float, float, float]:
    """``(u, k K(s) - s x, ln(k K''(s)))`` at the saddle point ``k K'(s) = x``, ``0 < x < k``.

    Worked in ``z = s / nu`` (``s`` itself and its squares overflow at huge ``n``), with
    ``u = s sqrt(k K''(s))``.
    """
    nu = n / 2.0 - 1.0
    y = x / k
    z = 2.0 * y / ((1.0 - y) * (1.0 + y))  # the leading order: K'(s) = z / (1 + sqrt(1 + z^2))
    for _ in range(20):  # Newton on k dK/dz / nu = x
        _, k1, k2 = _cgf(n, z)
        if not k2 > 0.0:
            break
        step = (k * k1 - x) / (k * k2)
        z = max(z - step, 0.5 * z)
        if abs(step) <= 4e-16 * z:
            break
    k0, _, k2 = _cgf(n, z)
    k2 = max(k2, 1e-300)  # (d2K/dz2) / nu = nu K''(s)
    with np.errstate(over="ignore"):
        logm = float(nu * (k * k0 - z * x))  # -inf only on true overflow
    return z * math.sqrt(k * k2) * math.sqrt(nu), logm, math.log(k * k2) - math.log(nu)


def _log_sf_saddle(n: float, k: int, x: float) -> float:
    """``ln P(S_k > x)``, ``x > 0``, by Lugannani and Rice's saddle-point formula.

    ``P = Q(w) + phi(w) (1/u - 1/w)``, ``w = sqrt(2 (s x - k K(s)))``, ``u = s sqrt(k K''(s))``
    (relative error ``O(1/k)`` and, with these near-normal overlaps, ``O(1/n)``); within
    ``|w| < 1e-4`` of the centre, where the two terms cancel, the normal law with the exact
    variance ``k / n`` (error ``O(x^3)`` against ``1/2``).
    """
    z0 = x / math.sqrt(k / n)
    if n < 100.0 or z0 < 1e-4 or (n < 1e4 and z0 < 8.0):
        # the centre, or the body at huge k and small n: the central limit (the kurtosis
        # term is below 1e-8 at k >= 2^26, where the expansion's own error is larger)
        return float(special.log_ndtr(-z0))
    u, logm, _ = _saddle(n, k, x)
    if not logm > -math.inf:  # ln P below -1.8e308: a true overflow of the log
        return -math.inf
    w = math.sqrt(max(-2.0 * logm, 0.0))
    if w < 1e-4:
        return float(special.log_ndtr(-z0))
    log_q = float(special.log_ndtr(-w))
    if w < 30.0:
        mills = math.exp(-0.5 * w * w - 0.5 * math.log(2.0 * math.pi) - log_q)  # phi / Q
    else:  # Q / phi = 1/w - 1/w^3 + 3/w^5 - 15/w^7 ...: no difference of huge logs
        r = 1.0 / (w * w)
        mills = w / (1.0 - r * (1.0 - 3.0 * r * (1.0 - 5.0 * r)))
    corr = mills * (1.0 / u - 1.0 / w)
    return log_q + math.log1p(max(corr, -1.0 + 1e-300))


def _log_pdf_saddle(n: float, k: int, x: float) -> float:
    """``ln`` density of ``S_k`` at ``x >= 0``: ``e^{k K(s) - s x} / sqrt(2 pi k K''(s))``."""
    z0 = x / math.sqrt(k / n)
    if n < 100.0 or z0 < 1e-4 or (n < 1e4 and z0 < 8.0):
        return -0.5 * z0 * z0 - 0.5 * math.log(2.0 * math.pi * k / n)
    _, logm, log_v = _saddle(n, k, x)
    if not logm > -math.inf:
        return -math.inf
    return logm - 0.5 * (math.log(2.0 * math.pi) + log_v)


@functools.lru_cache(maxsize=32)
def _lattice(n: float, k: int, x0: float) -> _Lattice:
    return _Lattice(n, k, x0)


def _log_sf_int(n: float, k: int, x: float) -> float:
    """``ln P(S_k > x)`` for ``S_k`` the sum of ``k`` overlaps in R^n (unit amplitude)."""
    if k == 0:
        return 0.0 if x < 0.0 else -math.inf
    if x >= k:
        return -math.inf
    if x <= -k:
        return 0.0
    if x < 0.0:
        return float(np.log1p(-math.exp(_log_sf_int(n, k, -x)))) if x > -k else 0.0
    if x == 0.0:
        return -math.log(2.0)  # symmetric and continuous
    if k >= _ASYM_K:  # before the binomial of n = 1 too: its counts overflow a C long
        return _log_sf_saddle(n, k, x)
    if n == 1.0:  # t = +-1: S_k = 2 B - k with B ~ Binomial(k, 1/2)
        j = math.floor((x + k) / 2.0)  # P(B > j)
        return float(np.log(special.bdtrc(j, k, 0.5))) if j < k else -math.inf
    if k == 1:  # exactly the Beta tail: P(t > x) = P(|t| >= x) / 2
        return float(log_overlap_tail(x, n)) - math.log(2.0)
    if n >= _ASYM_N or k >= _ASYM_K:
        return _log_sf_saddle(n, k, x)
    body = _lattice(n, k, 0.0).log_sf(x)
    if body > math.log(_BODY_MIN):
        return min(body, -math.log(2.0))  # symmetric: no x > 0 has more than half the mass
    return _lattice(n, k, float(np.float32(x / k))).log_sf(x)


def _log_pdf_int(n: float, k: int, x: float) -> float:
    if k == 0 or abs(x) >= k:
        return -math.inf
    x = abs(x)
    if k == 1:
        return float(_log_density(np.asarray(x), n))
    if n >= _ASYM_N or k >= _ASYM_K:
        return _log_pdf_saddle(n, k, x)
    body = _lattice(n, k, 0.0)
    if body.log_sf(x) > math.log(_BODY_MIN):
        return body.log_pdf(x)
    return _lattice(n, k, float(np.float32(x / k))).log_pdf(x)


def _mix(f: float, lo: float, hi: float) -> float:
    """``ln((1 - f) e^lo + f e^hi)``."""
    if f == 0.0:
        return lo
    return float(np.logaddexp(math.log1p(-f) + lo, math.log(f) + hi))


def _log_sf_one(n: float, l: float, x: float) -> float:
    k = math.floor(l)
    f = l - k
    lo = _log_sf_int(n, k, x)
    return lo if f == 0.0 else _mix(f, lo, _log_sf_int(n, k + 1, x))


def log_sf_exact(n: ArrayLike, l: ArrayLike, x: ArrayLike) -> FloatOrArray:
    r"""``ln P(Z > x)`` for the interference ``Z`` of ``l`` random directions at unit amplitude.

    .. math::

        Z = \sum_{j=1}^{l} t_j, \qquad \frac{1 + t_j}{2} \sim
        \mathrm{Beta}\!\left(\tfrac{n-1}{2}, \tfrac{n-1}{2}\right)\ \text{iid}

    Parameters
    ----------
    n : array_like
        Width, ``n >= 1``.
    l : array_like
        Number of active features, ``l >= 0`` (fractional: module docstring).
    x : array_like
        Threshold.

    Returns
    -------
    float or numpy.ndarray
        ``ln P(Z > x)``; ``-inf`` where ``x >= l`` (the support ends there).

    Examples
    --------
    >>> print(f"{np.exp(log_sf_exact(64, 4, 0.5)):.4g}")
    0.02265
    """
    (nv, lv, xv), scalar = broadcast(_width(n), _count(l), as_real(x, "x"), names=("n", "l", "x"))
    out = np.empty(nv.shape)
    flat = out.reshape(-1)
    for i, (ni, li, xi) in enumerate(zip(nv.flat, lv.flat, xv.flat, strict=True)):
        flat[i] = _log_sf_one(float(ni), float(li), float(xi))
    return wrap(out, scalar)


def _width(n: ArrayLike) -> np.ndarray:
    return as_real(n, "n", low=1.0)


def _count(l: ArrayLike) -> np.ndarray:
    return as_real(l, "l", low=0.0)


class InterferenceDistribution:
    """Frozen law of one read-out's interference (``scipy.stats`` style); see the module.

    Built by :func:`interference_distribution`; methods broadcast over ``x`` / ``q``.
    """

    def __init__(self, n: float, l: float, a: float) -> None:
        self.n, self.l, self.a = n, l, a
        self._k = math.floor(l)
        self._f = l - self._k

    def __repr__(self) -> str:
        return f"interference_distribution(n={self.n:g}, l={self.l:g}, a={self.a:g})"

    # --- moments (exact) --------------------------------------------------------------
    def mean(self) -> float:
        """0: the law is symmetric."""
        return 0.0

    def var(self) -> float:
        """``l a^2 / n`` exactly (``inf`` only where it overflows)."""
        with np.errstate(over="ignore"):
            return float(self.l * np.float64(self.a) ** 2 / self.n) if self.l else 0.0

    def std(self) -> float:
        """``a sqrt(l / n)`` (no square of ``a``: finite wherever the value is)."""
        return float(self.a * math.sqrt(self.l / self.n))

    def support(self) -> tuple[float, float]:
        """``(-l a, l a)`` (``ceil(l) a`` for fractional ``l``)."""
        top = math.ceil(self.l) * self.a
        return -top, top

    # --- tails and density ------------------------------------------------------------
    def _map(self, fn: Any, x: ArrayLike) -> FloatOrArray:
        arr = np.asarray(x, dtype=np.float64)
        out = np.array([fn(float(v)) for v in arr.reshape(-1)], dtype=np.float64)
        return wrap(out.reshape(arr.shape), arr.ndim == 0)

    def logsf(self, x: ArrayLike) -> FloatOrArray:
        """``ln P(Z > x)``, accurate far into the tail."""
        return self._map(lambda v: _log_sf_one(self.n, self.l, v / self.a), x)

    def sf(self, x: ArrayLike) -> FloatOrArray:
        """``P(Z > x)``."""
        return wrap(np.exp(np.asarray(self.logsf(x))), np.ndim(x) == 0)

    def logcdf(self, x: ArrayLike) -> FloatOrArray:
        """``ln P(Z <= x)`` (``= ln P(Z >= -x)``: the law is symmetric)."""

        def one(v: float) -> float:
            if v < 0.0:
                return _log_sf_one(self.n, self.l, -v / self.a)
            tail = _log_sf_one(self.n, self.l, v / self.a)
            return float(np.log1p(-math.exp(tail))) if tail > -math.inf else 0.0

        return self._map(one, x)

    def cdf(self, x: ArrayLike) -> FloatOrArray:
        """``P(Z <= x)``."""
        return wrap(np.exp(np.asarray(self.logcdf(x))), np.ndim(x) == 0)

    def pdf(self, x: ArrayLike) -> FloatOrArray:
        """Density (of the continuous part, for ``l < 1``)."""

        def one(v: float) -> float:
            v = v / self.a
            lo = _log_pdf_int(self.n, self._k, v)
            if self._f:
                lo = _mix(self._f, lo, _log_pdf_int(self.n, self._k + 1, v))
            return math.exp(lo) / self.a

        return self._map(one, x)

    def isf(self, q: ArrayLike) -> FloatOrArray:
        """``x`` with ``P(Z > x) = q``."""
        qa = as_real(q, "q", low=0.0, high=1.0, low_open=True, high_open=True)
        lo_s, hi_s = self.support()

        def one(p: float) -> float:
            if p >= 0.5:
                return -self._isf_pos(1.0 - p, hi_s)
            return self._isf_pos(p, hi_s)

        out = np.array([one(float(p)) for p in qa.reshape(-1)])
        return wrap(out.reshape(qa.shape), qa.ndim == 0)

    def _isf_pos(self, p: float, top: float) -> float:
        if p >= 0.5:
            return 0.0
        target = math.log(p)
        lo, hi = 0.0, top
        for _ in range(200):  # bisection on the monotone log tail (robust; ~60 suffice)
            mid = 0.5 * (lo + hi)
            if float(self.logsf(mid)) > target:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-13 * max(1.0, hi):
                break
        return 0.5 * (lo + hi)

    def ppf(self, q: ArrayLike) -> FloatOrArray:
        """``x`` with ``P(Z <= x) = q``."""
        qa = as_real(q, "q", low=0.0, high=1.0, low_open=True, high_open=True)
        return self.isf(1.0 - qa if qa.ndim else float(1.0 - qa))

    def rvs(
        self, size: int | tuple[int, ...] = 1, random_state: int | np.random.Generator | None = None
    ) -> np.ndarray:
        """Exact draws: a sum of ``l`` (or ``floor(l)`` / ``ceil(l)``) Beta overlaps."""
        rng = np.random.default_rng(random_state)
        shape = (size,) if isinstance(size, int) else tuple(size)
        count = int(np.prod(shape))
        k = np.full(count, self._k, dtype=np.int64)
        if self._f:
            k += rng.random(count) < self._f
        out = np.zeros(count)
        half = (self.n - 1.0) / 2.0
        for j in range(int(k.max(initial=0))):
            live = k > j
            if self.n == 1.0:
                t = np.where(rng.random(int(live.sum())) < 0.5, -1.0, 1.0)
            else:
                t = 2.0 * rng.beta(half, half, size=int(live.sum())) - 1.0
            out[live] += t
        return (self.a * out).reshape(shape)


def interference_distribution(n: float, l: float, a: float = 1.0) -> InterferenceDistribution:
    r"""Exact law of one read-out's interference from ``l`` active random directions.

    .. math::

        Z = a \sum_{j=1}^{l} \langle w_i, w_j \rangle, \qquad
        \operatorname{Var} Z = \frac{l a^2}{n}\ \text{exactly}

    the ``l``-fold convolution of the overlap law (FFT on a fine grid; tails by exponential
    tilting, in log space). Fractional ``l`` mixes ``floor(l)`` and ``ceil(l)`` active features
    with mean ``l`` (module docstring). The theory page of the docs derives it.

    Parameters
    ----------
    n : float
        Width, ``n >= 1``.
    l : float
        Number of active features, ``l >= 0`` (an expected count).
    a : float
        Amplitude of the active features, ``a > 0``.

    Returns
    -------
    InterferenceDistribution
        With ``pdf``, ``cdf``, ``sf``, ``logsf``, ``isf``, ``ppf``, ``mean``, ``var``, ``std``,
        ``rvs``.

    References
    ----------
    .. [1] T. T. Cai, J. Fan and T. Jiang, "Distributions of angles in random packing on
       spheres", JMLR 14 (2013) 1837-1864.

    Examples
    --------
    >>> d = interference_distribution(64, 1)
    >>> print(f"{d.sf(0.5):.4g}")    # the Beta tail; the normal law says 3.17e-05
    1.114e-05
    >>> round(interference_distribution(768, 32).var(), 6)     # l / n exactly
    0.041667
    >>> print(f"{interference_distribution(768, 32).sf(0.5):.5g}")
    0.0071515
    """
    nv = as_real(n, "n", low=1.0)
    lv = as_real(l, "l", low=0.0)
    av = as_real(a, "a", low=0.0, low_open=True)
    for name, v in (("n", nv), ("l", lv), ("a", av)):
        if v.ndim:
            raise TypeError(f"{name} must be a single number; got an array of shape {v.shape}")
    return InterferenceDistribution(float(nv), float(lv), float(av))
