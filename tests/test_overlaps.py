"""The random-overlap law against quadrature, Monte Carlo, mpmath and its own definitions."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate, special, stats

from suptheory import (
    expected_max_coherence_random,
    log_overlap_tail,
    max_coherence_asymptotic,
    max_coherence_cdf,
    max_coherence_random,
    overlap_distribution,
    overlap_tail,
)

# ----------------------------------------------------------------------------- references


def density(t: float, n: float) -> float:
    """docs/theory.md section 2, written out independently of scipy.stats."""
    logc = math.lgamma(n / 2) - 0.5 * math.log(math.pi) - math.lgamma((n - 1) / 2)
    return math.exp(logc + (n - 3) / 2 * math.log1p(-t * t))


def quad_tail(eps: float, n: float) -> float:
    """P(|t| >= eps) = 1 - 2 int_0^eps f (accurate for small eps), or 2 int_eps^1 f."""
    if eps < 0.5:
        inner = integrate.quad(density, 0.0, eps, args=(n,), epsabs=0, epsrel=1e-13)[0]
        return 1.0 - 2.0 * inner
    # the density is c (1-t)^k (1+t)^k, k = (n-3)/2: let quad take the (1-t)^k weight exactly
    k = (n - 3) / 2
    logc = math.lgamma(n / 2) - 0.5 * math.log(math.pi) - math.lgamma((n - 1) / 2)
    val = integrate.quad(
        lambda t: math.exp(logc + k * math.log1p(t)),
        eps,
        1.0,
        weight="alg",
        wvar=(0, k),
        epsabs=0,
        epsrel=1e-13,
    )[0]
    return 2.0 * val


def mp_log_tail(eps: float, n: float) -> float:
    """ln I_x(a, 1/2), x = 1 - eps^2, by the hypergeometric representation (DLMF 8.17.8)."""
    mpmath.mp.dps = 50
    a = mpmath.mpf(n - 1) / 2
    x = 1 - mpmath.mpf(eps) ** 2
    log_b = mpmath.loggamma(a) + mpmath.loggamma(0.5) - mpmath.loggamma(a + 0.5)
    val = (
        a * mpmath.log(x)
        + mpmath.log(1 - x) / 2
        - mpmath.log(a)
        - log_b
        + mpmath.log(mpmath.hyp2f1(a + 0.5, 1, a + 1, x))
    )
    return float(val)


def unit_rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    x = rng.standard_normal(shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def mc_max_overlap(m: int, n: int, trials: int, seed: int) -> np.ndarray:
    """Largest |<u_i, u_j>| over pairs of m uniform unit vectors in R^n, `trials` times."""
    rng = np.random.default_rng(seed)
    u = unit_rows(rng, (trials, m, n))
    g = np.abs(u @ u.transpose(0, 2, 1))
    iu = np.triu_indices(m, 1)
    return g[:, iu[0], iu[1]].max(axis=1)


def bisect_quantile(m: float, n: float, q: float) -> float:
    """Quantile by bisection on the independent-pairs cdf (1 - T)^C(m, 2), forward tail only."""
    lam = math.log(m) + math.log(m - 1) - math.log(2)
    target = math.log(-math.log(q))
    a = (n - 1) / 2
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        tail = special.betaincc(0.5, a, mid * mid)
        if tail > 0 and lam + math.log(-math.log1p(-tail)) > target:  # too many: go up
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# ----------------------------------------------------------------------------- pair law


@pytest.mark.parametrize("n", [2, 3, 5, 16, 768, 10_000, 2.5])
def test_overlap_distribution_moments_exact(n):
    d = overlap_distribution(n)
    assert_allclose(d.mean(), 0.0, atol=1e-15)
    assert_allclose(d.var(), 1.0 / n, rtol=1e-12)
    # scipy expands the shifted moment from raw Beta moments: ~1e-8 cancellation at n = 1e4
    assert_allclose(d.moment(4), 3.0 / (n * (n + 2)), rtol=1e-6)
    # the density integrates to 1 and matches the closed form of docs/theory.md
    for t in (-0.9, -0.3, 0.0, 0.2, 0.7):
        assert_allclose(d.pdf(t), density(t, n), rtol=1e-9)
    total = integrate.quad(lambda t: density(t, n), -1, 1)[0]
    assert_allclose(total, 1.0, rtol=1e-8)


def test_overlap_distribution_against_monte_carlo():
    n, draws = 16, 200_000
    rng = np.random.default_rng(7)
    u, v = unit_rows(rng, (draws, n)), unit_rows(rng, (draws, n))
    t = np.einsum("ij,ij->i", u, v)
    # variance: exactly 1/n; the MC standard error of mean(t^2) is sd(t^2)/sqrt(draws)
    se2 = np.std(t**2) / np.sqrt(draws)
    assert abs(np.mean(t**2) - 1 / n) < 4 * se2
    se4 = np.std(t**4) / np.sqrt(draws)
    assert abs(np.mean(t**4) - 3 / (n * (n + 2))) < 4 * se4
    # frozen distribution's sampler draws from the same law (two-sample KS)
    from scipy import stats

    sample = overlap_distribution(n).rvs(size=20_000, random_state=3)
    assert stats.ks_2samp(sample, t[:20_000]).pvalue > 1e-3


def test_overlap_distribution_n1_is_two_point_law():
    d = overlap_distribution(1)
    assert d.pmf(1.0) == 0.5 and d.pmf(-1.0) == 0.5
    assert d.var() == 1.0
    assert overlap_tail(0.999, 1) == 1.0
    assert overlap_tail(1.0, 1) == 1.0


@pytest.mark.parametrize("n", [2, 3, 4, 16, 100, 768, 2.5])
@pytest.mark.parametrize("eps", [1e-6, 0.01, 0.1, 0.3, 0.6, 0.95])
def test_overlap_tail_against_quadrature(eps, n):
    expected = quad_tail(eps, n)
    if expected < 1e-250:
        pytest.skip("below quadrature's range")
    assert_allclose(overlap_tail(eps, n), expected, rtol=1e-9, atol=1e-300)
    sf = 2.0 * overlap_distribution(n).sf(eps)
    assert_allclose(overlap_tail(eps, n), sf, rtol=1e-9)


def test_overlap_tail_ends():
    assert overlap_tail(0.0, 50) == 1.0
    assert overlap_tail(1.0, 50) == 0.0
    assert log_overlap_tail(1.0, 50) == -np.inf


@pytest.mark.parametrize(
    "eps, n",
    [
        (0.5, 1e7),
        (0.02, 1e7),
        (0.9, 2000),
        (0.999, 100),
        (0.3, 5e4),
        (0.06, 1e6),
        (0.1, 768),
        (0.2, 16),
    ],
)
def test_log_overlap_tail_against_mpmath(eps, n):
    assert_allclose(log_overlap_tail(eps, n), mp_log_tail(eps, n), rtol=1e-12)


def test_log_overlap_tail_continuous_across_switch():
    # the direct and the continued-fraction routes meet near a tail of 1e-280
    n = 5000.0
    eps = np.linspace(0.3, 0.6, 2001)
    lt = np.asarray(log_overlap_tail(eps, n))
    assert np.all(np.diff(lt) < 0)
    second = np.diff(lt, 2)
    assert np.max(np.abs(second)) < 1e-2  # smooth: no jump where the method changes


# ----------------------------------------------------------------------------- largest overlap


@pytest.mark.parametrize("n", [16, 64, 256])
@pytest.mark.parametrize("m", [10, 40])
def test_max_coherence_against_monte_carlo(m, n):
    trials = 400
    sample = mc_max_overlap(m, n, trials, seed=1000 * m + n)
    # quantiles: the empirical cdf at the predicted q-quantile is q up to the binomial
    # standard error sqrt(q (1-q)/trials) (4 SE), plus the law's own accuracy (0.02, from
    # Kolmogorov distances 0.012-0.019 measured with 2000 draws)
    for q in (0.1, 0.5, 0.9):
        t = max_coherence_random(m, n, q=q)
        frac = np.mean(sample <= t)
        assert abs(frac - q) < 4 * np.sqrt(q * (1 - q) / trials) + 0.02
        assert_allclose(max_coherence_cdf(t, m, n), q, rtol=1e-10)
    # mean: within 4 MC standard errors plus 0.5% (the Poisson approximation's error)
    se = np.std(sample) / np.sqrt(trials)
    mean = expected_max_coherence_random(m, n)
    assert abs(np.mean(sample) - mean) < 4 * se + 0.005 * mean


@pytest.mark.parametrize(
    "m, n, q",
    [
        (1e30, 1e7, 0.5),
        (1e30, 1e7, 0.01),
        (1e30, 1e7, 0.99),
        (16384, 768, 0.5),
        (1e6, 64, 0.5),
        (10, 16, 0.3),
        (1e12, 3, 0.5),
        (2, 2, 0.5),
        (1e100, 1e4, 0.5),
        (50, 1e7, 0.9),
    ],
)
def test_max_coherence_random_against_bisection(m, n, q):
    assert_allclose(max_coherence_random(m, n, q=q), bisect_quantile(m, n, q), rtol=1e-12)


@pytest.mark.parametrize("m, n", [(1e200, 1e4), (1e300, 1e6), (1e200, 200), (1e250, 3e3)])
def test_max_coherence_random_beyond_float_tail(m, n):
    # the pair tail at the quantile is below 1e-300: checked against mpmath's log tail
    t = max_coherence_random(m, n)
    lam = math.log(m) + math.log(m - 1) - math.log(2)
    assert 0 < t < 1
    assert_allclose(mp_log_tail(t, n) + lam, math.log(math.log(2)), atol=1e-9)


def test_max_coherence_extremes():
    t = max_coherence_random(1e30, 1e7)
    asym = max_coherence_asymptotic(1e30, 1e7)
    assert np.isfinite(t) and 0.95 * asym < t < asym  # Cai-Jiang is slightly high
    assert np.isfinite(expected_max_coherence_random(1e30, 1e7))
    assert max_coherence_random(1, 768) == 0.0
    assert expected_max_coherence_random(1, 768) == 0.0
    assert max_coherence_cdf(0.0, 1, 768) == 1.0
    # n = 1: every pair is +-1
    assert max_coherence_random(5, 1) == 1.0
    assert expected_max_coherence_random(5, 1) == 1.0
    assert max_coherence_cdf(0.5, 5, 1) == 0.0


def reference_mean(m: float, n: float) -> float:
    pts = sorted({max_coherence_random(m, n, q) for q in (1e-6, 0.01, 0.5, 0.99, 1 - 1e-9)})
    return integrate.quad(
        lambda t: 1.0 - max_coherence_cdf(t, m, n),
        0,
        1,
        points=pts,
        limit=500,
        epsabs=1e-14,
        epsrel=1e-12,
    )[0]


@pytest.mark.parametrize("n", [2, 5, 16, 256, 1e4, 1e7])
@pytest.mark.parametrize("m", [3, 30, 200, 1e4, 1e8, 1e30])
def test_expected_max_coherence_against_quadrature(m, n):
    # fewer than 1e4 pairs: Gauss-Legendre (exact to ~1e-9); more: 6th-order Gumbel
    # expansion, whose error is below 1.5e-5 at 2e4 pairs and shrinks as ln(m) grows
    rtol = 1e-9 if m * (m - 1) / 2 < 1e4 else (2e-5 if m < 1e3 else 1e-6)
    assert_allclose(expected_max_coherence_random(m, n), reference_mean(m, n), rtol=rtol)


def test_broadcasting_and_types():
    m = np.array([[10.0], [1e4], [1e9]])
    n = np.array([16.0, 768.0])
    for f in (max_coherence_random, expected_max_coherence_random, max_coherence_asymptotic):
        out = f(m, n)
        assert isinstance(out, np.ndarray) and out.shape == (3, 2)
        assert_allclose(out[1, 1], f(1e4, 768.0), rtol=1e-14)
        assert isinstance(f(10, 16), float)
    assert max_coherence_cdf(np.array([0.1, 0.2]), 100, 768).shape == (2,)
    assert isinstance(overlap_tail(0.1, 768), float)


# ----------------------------------------------------------------------------- laws

ms = st.floats(min_value=2.0, max_value=1e15)
ns = st.floats(min_value=2.0, max_value=1e6)
qs = st.floats(min_value=0.01, max_value=0.99)


@given(m=ms, n=ns, q=qs, factor=st.floats(min_value=1.01, max_value=100.0))
@example(m=2.0, n=2.0, q=0.5, factor=1.01)
def test_quantile_monotone(m, n, q, factor):
    base = max_coherence_random(m, n, q=q)
    assert max_coherence_random(m * factor, n, q=q) >= base
    assert max_coherence_random(m, n * factor, q=q) <= base
    assert max_coherence_random(m, n, q=min(q * factor, 0.999)) >= base


@given(m=ms, n=ns, factor=st.floats(min_value=1.01, max_value=100.0))
def test_mean_monotone(m, n, factor):
    base = expected_max_coherence_random(m, n)
    assert expected_max_coherence_random(m * factor, n) >= base * (1 - 1e-9)
    assert expected_max_coherence_random(m, n * factor) <= base * (1 + 1e-9)


@given(eps=st.floats(min_value=0.0, max_value=1.0), n=ns)
def test_log_tail_is_log_of_tail(eps, n):
    tail = overlap_tail(eps, n)
    if tail > 1e-300:
        assert_allclose(log_overlap_tail(eps, n), math.log(tail), rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------- bad input

BAD_N = [0, -1, 0.5, np.nan, np.inf, "768", None]
BAD_M = [0, 0.5, -3, np.nan, np.inf, "1e6"]


@pytest.mark.parametrize("bad", BAD_N)
def test_bad_n(bad):
    calls = [
        lambda: overlap_distribution(bad),
        lambda: overlap_tail(0.1, bad),
        lambda: log_overlap_tail(0.1, bad),
        lambda: max_coherence_cdf(0.1, 10, bad),
        lambda: max_coherence_random(10, bad),
        lambda: expected_max_coherence_random(10, bad),
    ]
    for call in calls:
        with pytest.raises((ValueError, TypeError), match="n must"):
            call()


@pytest.mark.parametrize("bad", BAD_M)
def test_bad_m(bad):
    for f in (max_coherence_random, expected_max_coherence_random, max_coherence_asymptotic):
        with pytest.raises((ValueError, TypeError), match="m must"):
            f(bad, 768)
    with pytest.raises((ValueError, TypeError), match="m must"):
        max_coherence_cdf(0.1, bad, 768)


@pytest.mark.parametrize("bad", [-0.1, 1.1, np.nan, np.inf, "0.1"])
def test_bad_eps_and_t(bad):
    with pytest.raises((ValueError, TypeError), match="eps must"):
        overlap_tail(bad, 768)
    with pytest.raises((ValueError, TypeError), match="eps must"):
        log_overlap_tail(bad, 768)
    with pytest.raises((ValueError, TypeError), match="t must"):
        max_coherence_cdf(bad, 10, 768)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.5, 2.0, np.nan, "half"])
def test_bad_q(bad):
    with pytest.raises((ValueError, TypeError), match="q must"):
        max_coherence_random(10, 768, q=bad)


def test_overlap_distribution_needs_one_width():
    with pytest.raises(ValueError, match="n must be a single number"):
        overlap_distribution([3, 4])


def test_finite_everywhere_without_warnings():
    # m up to 1e300 and n up to 1e7, including tails far below the float64 range
    rng = np.random.default_rng(11)
    m = 10 ** rng.uniform(0, 300, 5000)
    n = 10 ** rng.uniform(0, 7, 5000)
    for f in (max_coherence_random, expected_max_coherence_random):
        out = f(m, n)
        assert np.all(np.isfinite(out)) and np.all((out >= 0) & (out <= 1))
    t = max_coherence_random(m, n, q=0.3)
    assert np.all(np.asarray(max_coherence_random(m, n, q=0.7)) >= t)


@pytest.mark.parametrize("m, n", [(1e200, 50), (1e300, 2)])
def test_quantile_rounds_to_one(m, n):
    # 1 - t^2 is below 1e-300 here: t is 1 to double precision
    assert max_coherence_random(m, n) == 1.0


# ----------------------------------------------------------------------------- small m


def test_largest_overlap_of_two_directions_is_exact():
    # m = 2: L = |<u, v>|, P(L <= t) = 1 - P(|t| >= t) exactly (the Poisson form gave a median
    # of 0.0143 at n = 768; the exact median is 0.02436)
    n = 768
    assert max_coherence_random(2, n) == pytest.approx(0.02436, abs=5e-6)
    for t in (0.01, 0.05, 0.1):
        assert max_coherence_cdf(t, 2, n) == pytest.approx(1 - overlap_tail(t, n), rel=1e-13)
    exact_median = 2 * stats.beta((n - 1) / 2, (n - 1) / 2).ppf(0.75) - 1
    assert max_coherence_random(2, n) == pytest.approx(exact_median, rel=1e-10)
    # E|<u, v>| = Gamma(n/2) / (sqrt(pi) Gamma((n+1)/2))
    mean = math.exp(special.gammaln(n / 2) - special.gammaln((n + 1) / 2)) / math.sqrt(math.pi)
    assert expected_max_coherence_random(2, n) == pytest.approx(mean, rel=1e-8)


def test_largest_overlap_of_three_directions_against_monte_carlo():
    # m = 3: within Monte Carlo error (the three pairs are not independent, but nearly)
    rng = np.random.default_rng(12)
    n, trials = 768, 20_000
    u = rng.standard_normal((trials, 3, n))
    u /= np.linalg.norm(u, axis=2, keepdims=True)
    g = np.einsum("tin,tjn->tij", u, u)
    big = np.max(np.abs(g[:, [0, 0, 1], [1, 2, 2]]), axis=1)
    assert max_coherence_random(3, n) == pytest.approx(0.04562, abs=5e-5)
    # the median's standard error from the order statistic: sqrt(q (1 - q) / T) / f(median)
    med = np.median(big)
    f = np.mean(np.abs(big - med) < 5e-4) / 1e-3
    se = math.sqrt(0.25 / trials) / f
    assert abs(med - max_coherence_random(3, n)) < 3 * se
    assert abs(big.mean() - expected_max_coherence_random(3, n)) < 3 * big.std() / math.sqrt(trials)
    for t in (0.04, 0.06):
        p = max_coherence_cdf(t, 3, n)
        assert abs(np.mean(big <= t) - p) < 3 * math.sqrt(p * (1 - p) / trials)


# ---------------------------------------------------------------- huge widths (no NaN)


def test_log_overlap_tail_huge_width_is_finite():
    """The continued fraction's products overflowed past a ~ 1e154 and gave NaN."""
    from suptheory.theory.overlaps import log_overlap_tail

    a = (1e155 - 1.0) / 2.0
    assert_allclose(log_overlap_tail(0.1, 1e155), a * math.log1p(-0.01), rtol=1e-12)


def test_max_coherence_huge_width_is_finite():
    """At a > 1e15 with a tail below 1e-280 the continued fraction (x ~ 1) gave NaN."""
    from suptheory.theory.overlaps import max_coherence_cdf, max_coherence_random

    assert max_coherence_cdf(0.5, 1, 1e155) == 1.0  # m = 1: no pairs
    got = max_coherence_random(1e141, 1e20)
    # independent pairs, gamma limit: erfc(sqrt(n s / 2)) = ln 2 / C(m, 2)
    assert_allclose(got, 3.5922e-9, rtol=1e-3)
    assert_allclose(max_coherence_cdf(got, 1e141, 1e20), 0.5, rtol=1e-6)
    # continuous across the switch to the gamma limit at a = 1e15
    e = math.sqrt(2e-12)
    from suptheory.theory.overlaps import log_overlap_tail

    assert_allclose(log_overlap_tail(e, 2e15 - 1e3), log_overlap_tail(e, 2e15 + 1e3), rtol=1e-8)
