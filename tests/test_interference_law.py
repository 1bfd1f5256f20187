"""The exact interference law of random directions: references, Monte Carlo, tails, laws."""
# ruff: noqa: E741  (l is the project's name for the number of active features)

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate, special, stats

import suptheory as st_
from suptheory.theory.interference_law import log_sf_exact
from suptheory.theory.overlaps import log_overlap_tail, overlap_tail

# P(Z > 1/2) at five settings, each confirmed by a 10^7-draw Monte Carlo (the project's
# mathematics sheet, section 5)
REFERENCE = [(64, 4, 0.022645), (64, 2, 0.0021392), (128, 5, 0.0056519),
             (512, 16, 0.0023357), (768, 32, 0.0071515)]  # fmt: skip


@pytest.mark.parametrize(("n", "l", "p"), REFERENCE)
def test_reference_tail_values(n, l, p):
    assert st_.interference_distribution(n, l).sf(0.5) == pytest.approx(p, rel=1e-3)
    assert st_.readout_error(n, 1e4, l) == pytest.approx(p, rel=1e-3)


def test_lighter_tail_than_the_normal_at_small_l():
    # n = 64, l = 1: P(Z > 1/2) = 1.114e-5 exactly, the normal law says 3.17e-5
    d = st_.interference_distribution(64, 1)
    assert d.sf(0.5) == pytest.approx(1.114e-5, rel=1e-3)
    assert stats.norm.sf(0.5 * 8) == pytest.approx(3.17e-5, rel=1e-3)


@pytest.mark.parametrize("n", [2.0, 3.0, 5.5, 64.0, 768.0, 1e5])
def test_l_one_is_the_beta_overlap_tail_exactly(n):
    for x in (0.01, 0.2, 0.5, 0.9):
        expected = 0.5 * overlap_tail(x, n)
        assert st_.readout_error(n, 10, 1, threshold=x) == pytest.approx(expected, rel=1e-14)
        assert st_.interference_distribution(n, 1).logsf(x) == pytest.approx(
            log_overlap_tail(x, n) - math.log(2), rel=1e-14
        )


@pytest.mark.parametrize(("n", "l", "draws"), [(64, 4, 10**7), (128, 5, 10**7), (768, 32, 10**6)])
def test_against_monte_carlo_draws(n, l, draws):
    d = st_.interference_distribution(n, l)
    z = d.rvs(draws, random_state=np.random.default_rng(n + l))
    assert z.var() == pytest.approx(l / n, rel=4 * math.sqrt(2 / draws))
    for x in (0.1, 0.25, 0.5):
        p = d.sf(x)
        se = math.sqrt(p * (1 - p) / draws)
        assert abs(np.mean(z > x) - p) < 4 * se


def _ref_two(n, x):
    """ln P(t1 + t2 > x) by quadrature of the exact density against the exact Beta tail."""
    c = special.gammaln(n / 2) - 0.5 * math.log(math.pi) - special.gammaln((n - 1) / 2)
    ts = np.linspace(x - 1, 1, 40001)[1:-1]
    tail = np.where(
        x - ts > 0,
        np.asarray(log_overlap_tail(np.abs(x - ts), n)) - math.log(2),
        np.log1p(-0.5 * np.asarray(overlap_tail(np.abs(x - ts), n))),
    )
    v = c + 0.5 * (n - 3) * np.log1p(-ts * ts) + tail
    top = v.max()
    return top + math.log(integrate.simpson(np.exp(v - top), x=ts))


@pytest.mark.parametrize(("n", "x"), [(64, 1.0), (768, 0.5), (768, 1.0), (768, 1.5), (100, 1.9)])
def test_deep_tails_against_quadrature(n, x):
    # far below the float range of a plain FFT (768, 1.5: e^-638): exponential tilting
    assert log_sf_exact(n, 2, x) == pytest.approx(_ref_two(n, x), rel=1e-5)


def test_variance_is_exact_and_law_symmetric():
    d = st_.interference_distribution(768, 32, a=2.0)
    assert d.var() == 32 * 4 / 768
    assert d.std() == pytest.approx(math.sqrt(32 * 4 / 768), rel=1e-15)
    assert d.mean() == 0.0
    x = np.array([0.05, 0.3, 1.0])
    assert_allclose(d.cdf(-x), d.sf(x), rtol=1e-12)
    assert_allclose(d.cdf(x) + d.sf(x), 1.0, rtol=1e-12)
    # the density integrates to the tail
    grid = np.linspace(0.3, 3.0, 4001)
    assert integrate.simpson(d.pdf(grid), x=grid) == pytest.approx(d.sf(0.3), rel=1e-4)


def test_isf_and_ppf_invert_the_tails():
    d = st_.interference_distribution(128, 5)
    for q in (1e-12, 1e-3, 0.2, 0.7):
        assert d.sf(d.isf(q)) == pytest.approx(q, rel=1e-6)
        assert d.cdf(d.ppf(q)) == pytest.approx(q, rel=1e-6)


def test_support_ends_at_l_a():
    d = st_.interference_distribution(64, 3, a=0.5)
    assert d.sf(1.5) == 0.0
    assert d.sf(-1.5) == 1.0
    assert d.support() == (-1.5, 1.5)
    assert st_.interference_distribution(64, 0).sf(0.1) == 0.0


def test_fractional_l_is_the_mixture_of_its_neighbours():
    n, x = 256.0, 0.4
    lo, hi = (st_.interference_distribution(n, k).sf(x) for k in (2, 3))
    d = st_.interference_distribution(n, 2.3)
    assert d.sf(x) == pytest.approx(0.7 * lo + 0.3 * hi, rel=1e-12)
    assert d.var() == pytest.approx(2.3 / n, rel=1e-15)  # mean count l: variance l a^2 / n
    draws = d.rvs(400_000, random_state=1)
    assert draws.var() == pytest.approx(2.3 / n, rel=0.02)
    # l < 1: an atom of mass 1 - l at zero
    small = st_.interference_distribution(n, 0.25)
    assert small.sf(0.01) == pytest.approx(0.25 * st_.interference_distribution(n, 1).sf(0.01))
    assert small.cdf(0.0) - small.cdf(-1e-12) == pytest.approx(0.75, rel=1e-9)


@settings(max_examples=40)
@given(n=st.floats(3.0, 1e5), l=st.floats(0.0, 300.0), x=st.floats(0.0, 50.0),
       k=st.floats(1.01, 3.0))  # fmt: skip
def test_tail_laws(n, l, x, k):
    # (n >= 3: below, the overlap law is U-shaped -- arcsine at n = 2 -- and adding a feature
    # can thin the tail; from n = 3 on it is unimodal and symmetric, so tails grow with l)
    # a probability (never negative, never above 1/2 for x >= 0), decreasing in x and n,
    # increasing in l
    p = float(np.exp(log_sf_exact(n, l, x)))
    assert 0.0 <= p <= 0.5 + 1e-12
    assert log_sf_exact(n, l, x * k + 1e-9) <= log_sf_exact(n, l, x) + 1e-9
    assert log_sf_exact(n * k, l, x) <= log_sf_exact(n, l, x) + 1e-6 * max(1, abs(p))
    assert log_sf_exact(n, l * k, x) >= log_sf_exact(n, l, x) - 1e-6


def test_bad_input():
    with pytest.raises(ValueError, match="n must"):
        st_.interference_distribution(0.5, 2)
    with pytest.raises(ValueError, match="l must"):
        st_.interference_distribution(64, -1)
    with pytest.raises(TypeError, match="single number"):
        st_.interference_distribution([64, 128], 2)
    with pytest.raises(ValueError, match="n must be >= 1"):
        st_.readout_error(0.5, 10, 2)


def _two_overlaps_sf(n, x):
    """ln P(t1 + t2 > x) by adaptive quadrature of the exact Beta laws (an independent route)."""
    from scipy import integrate, stats

    a = (n - 1) / 2
    d = stats.beta(a, a, loc=-1, scale=2)
    sd = 1 / math.sqrt(n)
    lo, hi = max(-1.0, x / 2 - 40 * sd), min(1.0, x / 2 + 40 * sd)
    v, _ = integrate.quad(
        lambda t: d.pdf(t) * d.sf(x - t), lo, hi, epsabs=0, epsrel=1e-12, limit=500, points=[x / 2]
    )
    return math.log(v)


@pytest.mark.parametrize("z", [0.01, 0.5, 1.0, 5.0, 20.0])
def test_wide_layers_take_the_saddle_point_form_accurately(z):
    """From n = 1e6 on the law is the saddle-point form: the lattice lost accuracy there
    (relative 1e-4 at n = 1e12, the wrong value at n = 1e15: -0.69 against -1.84, a math
    domain error at n = 1e150). Against quadrature of the exact law at n = 1e6."""
    n = 1e6
    x = z * math.sqrt(2 / n)
    assert log_sf_exact(n, 2.0, x) == pytest.approx(_two_overlaps_sf(n, x), rel=1e-9)


def test_huge_widths_and_counts_give_the_limits():
    """Past any lattice: finite values that meet the normal limit in the body and the
    large-deviation rate (nk/2) ln(1 - (x/k)^2) in the tail (both exact as n -> inf)."""
    from scipy.stats import norm

    for n in (1e12, 1e20, 1e150, 1e300):
        body = log_sf_exact(n, 2.0, math.sqrt(2 / n))
        assert body == pytest.approx(norm.logsf(1.0), rel=1e-8)
        tail = log_sf_exact(n, 3.0, 0.5)
        assert tail == pytest.approx(n * 3 / 2 * math.log1p(-((0.5 / 3) ** 2)), rel=1e-8)
    assert log_sf_exact(1.7e308, 2.0, 1.999) == -math.inf  # ln P below -1.8e308: overflow
    for l in (1e9, 1e12, 1e300):  # l was 1e10 -> -4701 (lattice), 1e300 -> OverflowError
        for n in (7790.0, 1e6):  # the central limit, then the saddle-point form
            got = log_sf_exact(n, l, 0.5)
            assert got == pytest.approx(norm.logsf(0.5 / math.sqrt(l / n)), rel=1e-7)
    assert math.isfinite(log_sf_exact(7790.0, 1e9, 0.5e9))
