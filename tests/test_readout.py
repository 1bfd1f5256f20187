"""Read-out models: formulas against independent references, laws, bad and extreme input."""
# ruff: noqa: E741  (l is the project's name for the number of active features)

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

import suptheory as st_
from suptheory.theory.bounds import coherence_lower_bound
from suptheory.theory.compressed_sensing import cs_phase_transition
from suptheory.theory.overlaps import max_coherence_random
from tests.helpers import actives, snrs

MODELS = ("random", "optimal", "linsefors", "worst", "packing")
PROXIES = ("linsefors", "worst", "packing")
CAPS = (*MODELS, "l1")

widths_ = st.floats(min_value=8.0, max_value=1e5)
feats_ = st.floats(min_value=2.0, max_value=1e9)


# ------------------------------------------------------------------ the formulas themselves


def test_linsefors_verbatim():
    n, m, l = 768.0, 16384.0, 5.0
    eps = math.sqrt(8 * math.log(m) / n)
    assert st_.pair_interference(n, m, model="linsefors") == pytest.approx(eps, rel=1e-15)
    assert st_.interference(n, m, l, a=2, model="linsefors") == pytest.approx(
        2 * eps * math.sqrt(l)
    )
    assert st_.max_active(n, m, model="linsefors") == pytest.approx(n / (8 * math.log(m)))
    assert st_.max_features(n, 1, model="linsefors") == pytest.approx(math.exp(n / 8))
    assert st_.distinguishable_levels(n, m, l, model="linsefors") == pytest.approx(
        math.sqrt(n / (8 * l * math.log(m)))
    )
    assert st_.min_width(m, l, model="linsefors") == pytest.approx(8 * l * math.log(m))


def test_random_noise_against_monte_carlo():
    # read-out noise sum_j a <w_i, w_j> for uniform random unit directions: variance a^2 l / n
    rng = np.random.default_rng(1)
    n, l, a, trials = 48, 6, 1.5, 20000
    w = rng.standard_normal((trials, l + 1, n))
    w /= np.linalg.norm(w, axis=2, keepdims=True)
    noise = a * np.einsum("tn,tjn->t", w[:, 0], w[:, 1:])
    sd = noise.std()
    se = sd / math.sqrt(2 * (trials - 1))
    expected = st_.interference(n, 1000, l, a=a, model="random")
    assert abs(sd - expected) < 4 * se
    assert expected == pytest.approx(a * math.sqrt(l / n), rel=1e-15)


def test_linsefors_over_random_is_sqrt_8_ln_m():
    # smaller than Linsefors's by sqrt(8 ln m): 8.6x at m = 10^4
    ratio = st_.interference(100, 1e4, 3, model="linsefors") / st_.interference(100, 1e4, 3)
    assert ratio == pytest.approx(math.sqrt(8 * math.log(1e4)))
    assert round(ratio, 1) == 8.6


def test_worst_and_packing_use_the_overlap_law_and_bounds():
    n, m, l = 256.0, 5000.0, 4.0
    assert st_.pair_interference(n, m, model="worst", q=0.9) == max_coherence_random(m, n, q=0.9)
    assert st_.interference(n, m, l, model="packing") == pytest.approx(
        coherence_lower_bound(m, n) * 2.0
    )


def test_optimal_is_the_frame_potential_floor():
    # mean squared overlap of any m unit vectors >= (m - n) / (n (m - 1)) (Welch 1974;
    # Benedetto-Fickus 2003): at n = 768, m = 1e6, l = 32 the rms noise floor is 0.20405
    assert st_.interference(768, 1e6, 32, model="optimal") == pytest.approx(0.20405, abs=5e-6)
    assert st_.interference(768, 1e6, 32, model="optimal") < st_.interference(768, 1e6, 32)
    n, m, l, r = 300.0, 5000.0, 7.0, 1.7
    eps2 = (m - n) / (n * (m - 1))
    assert st_.pair_interference(n, m, model="optimal") == pytest.approx(math.sqrt(eps2))
    # closed forms: l_max, n_min, m_max (THEORY sheet section 5), each a round trip
    assert st_.max_active(n, m, snr=r, model="optimal") == pytest.approx(1 / (eps2 * r * r))
    n_min = st_.min_width(m, l, snr=r, model="optimal")
    assert n_min == pytest.approx(l * r * r * m / (m - 1 + l * r * r))
    assert st_.interference(n_min, m, l, model="optimal") == pytest.approx(1 / r)
    l_big = 3 * n / r**2
    m_max = st_.max_features(n, l_big, snr=r, model="optimal")
    assert m_max == pytest.approx(n * (l_big * r * r - 1) / (l_big * r * r - n))
    assert st_.interference(n, m_max, l_big, model="optimal") == pytest.approx(1 / r)
    assert st_.max_features(n, 0.5 * n / r**2, snr=r, model="optimal") == math.inf
    # the issue's example: min_width(m=4096, l=8) is 8 under random, just below under optimal
    assert st_.min_width(4096, 8, model="optimal") == pytest.approx(8 * 4096 / 4103)
    assert st_.min_width(4096, 8, model="optimal") <= st_.min_width(4096, 8)


@given(n=st.floats(1.0, 1e6), m=st.floats(1.0, 1e30), l=actives, s=snrs)
def test_optimal_never_above_random(n, m, l, s):
    assume(l <= m - 1)
    for fn, kw in ((st_.interference, {"m": m, "l": l}), (st_.pair_interference, {"m": m})):
        assert fn(n=n, model="optimal", **kw) <= fn(n=n, model="random", **kw) * (1 + 1e-12)
    assert st_.max_active(n, m, snr=s, model="optimal") >= st_.max_active(n, m, snr=s) * (1 - 1e-12)
    assert st_.min_width(m, l, snr=s, model="optimal") <= st_.min_width(m, l, snr=s) * (1 + 1e-12)
    lo = st_.log_max_features(n, l, snr=s)
    hi = st_.log_max_features(n, l, snr=s, model="optimal")
    assert hi == lo or hi >= lo - 1e-12 * abs(lo)


@pytest.mark.parametrize(("n", "m", "mu2"), [(3, 6, 1 / 5), (7, 28, 1 / 9), (23, 276, 1 / 25)])
def test_packing_capacity_recovers_equiangular_tight_frames(n, m, mu2):
    # Welch's bound is met by ETFs: 6 lines in R^3 at 1/sqrt(5), 28 in R^7 at 1/3, 276 in R^23
    # at 1/5 -- at overlap target mu (l = 1 / mu^2, snr = 1) the packing capacity is exactly m
    assert st_.max_features(n, 1 / mu2, model="packing") == pytest.approx(m, rel=1e-9)


def test_packing_inverse_matches_bounds_everywhere():
    rng = np.random.default_rng(3)
    n = rng.uniform(2, 3000, 400)
    t = rng.uniform(0.01, 0.99, 400)
    lm = st_.log_max_features(n, 1 / t**2, model="packing")
    ok = np.isfinite(lm) & (lm < 700)
    m = np.exp(lm[ok])
    assert np.all(coherence_lower_bound(m * (1 - 1e-9), n[ok]) <= t[ok] + 1e-9)
    assert np.all(coherence_lower_bound(m * (1 + 1e-6), n[ok]) > t[ok])


def test_worst_inverse_matches_overlap_law():
    n = np.array([16.0, 64, 768, 1e5, 1e7])
    l = np.array([2.0, 5, 32, 100, 1e4])
    lm = st_.log_max_features(n, l, model="worst", q=0.25)
    m = np.exp(lm)
    assert_allclose(max_coherence_random(m, n, q=0.25) * np.sqrt(l), 1.0, rtol=1e-9)


def test_l1_capacities_match_the_phase_transition():
    n, m = 190.0, 1000.0
    # Donoho-Maleki-Montanari at delta = 0.19: rho = 0.318 for non-negative features
    assert st_.max_active(n, m, model="l1") == pytest.approx(n * 0.3179, rel=1e-3)
    assert st_.max_active(n, m, model="l1") == pytest.approx(n * cs_phase_transition(0.19))
    ns = np.array([768.0, 100, 1e4, 50])
    ls = np.array([32.0, 10, 30, 49])
    m_max = st_.max_features(ns, ls, model="l1")
    assert_allclose(ns * cs_phase_transition(ns / m_max), ls, rtol=1e-10)
    ms = np.array([24576.0, 1e3, 1e9, 60])
    n_min = st_.min_width(ms, ls, model="l1")
    assert_allclose(n_min * cs_phase_transition(np.minimum(n_min / ms, 1)), ls, rtol=1e-10)
    # small delta: rho ~ 1 / (2 ln(1/delta)), so l_max ~ n / (2 ln(m/n)) to leading order
    big = st_.max_active(1e3, 1e300, model="l1")
    assert big == pytest.approx(1e3 / (2 * math.log(1e297)), rel=0.1)


def test_l1_has_no_noise():
    for fn in (st_.interference, st_.distinguishable_levels, st_.bits_per_feature):
        with pytest.raises(ValueError, match="no linear read-out noise"):
            fn(768, 1e4, 5, model="l1")
    with pytest.raises(ValueError, match="snr and error do not apply"):
        st_.max_active(768, 1e4, snr=2, model="l1")


# ------------------------------------------------------------------ error budget


def test_linsefors_is_union_bound_with_margin_one_half():
    # P(any of m wrong) <= m P(Z > a/2) and, for a normal Z, P(Z > a/2) <= exp(-n / (8 l))
    # (Chernoff at margin 1/2); at error -> 1 this is exactly ln m = n / (8 l), Linsefors's.
    n, l = np.array([100.0, 768, 4096, 1e5]), np.array([1.0, 32, 5, 1000])
    chernoff_log_m = n / (8 * l)
    assert_allclose(chernoff_log_m, st_.log_max_features(n, l, model="linsefors"), rtol=1e-15)
    # the Chernoff step: Phi(-x) <= exp(-x^2 / 2) at x = sqrt(n / l) / 2
    assert np.all(stats.norm.logsf(np.sqrt(n / l) / 2) <= -chernoff_log_m)
    # the exact law keeps the exponent and allows more (its tails are lighter still)
    exact = st_.log_max_features(n, l, error=1 - 1e-12, model="random")
    assert np.all(exact >= chernoff_log_m)
    normal = -stats.norm.logsf(np.sqrt(n / l) / 2)
    assert np.all(exact >= normal - 1e-9)


def test_random_error_capacity_is_the_one_sided_union_bound():
    n, l, error = 4096.0, 16.0, 0.05
    m = st_.max_features(n, l, error=error)
    # m P(Z > a/2) = error with the exact law; one-sided, not 2 Phi
    p_one = st_.readout_error(n, l + 1.0, l)  # the random model's law does not depend on m
    assert m * p_one == pytest.approx(error, rel=1e-10)
    assert st_.capacity_error(n, m, l) == pytest.approx(error, rel=1e-10)
    # the same condition through max_active and min_width
    assert st_.max_active(n, m, error=error) == pytest.approx(l, rel=1e-6)
    assert st_.min_width(m, l, error=error) == pytest.approx(n, rel=1e-6)
    # the normal law would give a smaller capacity at this l (its tails are heavier)
    assert m > error / stats.norm.sf(0.5 / math.sqrt(l / n))


def test_issue_examples():
    # n = 256, m = 4096, error = 0.01: l = 3 works (whole-dictionary Monte Carlo: 0.00695)
    assert st_.capacity_error(256, 4096, 3) == pytest.approx(0.00695, abs=3 * 0.0002)
    assert math.floor(st_.max_active(256, 4096, error=0.01)) == 3
    # n = 64, m = 256: l = 1 works (P = 0.0026)
    assert st_.capacity_error(64, 256, 1) < 0.01
    assert st_.max_active(64, 256, error=0.01) >= 1
    # levels with their end levels: 3.52 (without them 3.41)
    assert st_.distinguishable_levels(768, 16384, 5, error=0.01) == pytest.approx(3.52, abs=0.005)


@pytest.mark.parametrize("model", MODELS)
def test_error_capacity_meets_its_budget(model):
    n, l, error = 2048.0, 3.0, 0.01
    m = st_.max_features(n, l, error=error, model=model)
    if not np.isfinite(m):
        pytest.skip("no bound caps m")
    sigma = st_.interference(n, m, l, model=model)
    p_one = st_.readout_error(n, m, l, model=model)
    if model != "random":
        assert p_one == pytest.approx(stats.norm.sf(0.5 / sigma), rel=1e-12)
    # rms models: union bound over the m read-outs; proxies: one read-out (no double count)
    budget = m * p_one if model in ("random", "optimal") else p_one
    assert budget == pytest.approx(error, rel=1e-8)


@pytest.mark.parametrize("model", MODELS)
def test_levels_at_error_budget_with_end_levels(model):
    n, m, l, error = 768.0, 16384.0, 5.0, 0.01
    L = st_.distinguishable_levels(n, m, l, error=error, model=model)
    half = 1 / (2 * (L - 1))
    # nearest-level decoding of L equally likely levels: 2 (L - 1) / L P(Z > a / (2 (L - 1)))
    p = st_.readout_error(n, m, l, threshold=half, model=model)
    assert 2 * (L - 1) / L * p == pytest.approx(error, rel=1e-9)
    if model != "random":
        sigma = st_.interference(n, m, l, model=model)
        assert p == pytest.approx(stats.norm.sf(half / sigma), rel=1e-12)
    assert st_.bits_per_feature(n, m, l, error=error, model=model) == pytest.approx(math.log2(L))
    # at L = 2 the levels are the on/off read-out
    e2 = st_.readout_error(n, m, l, model=model)
    assert st_.distinguishable_levels(n, m, l, error=e2, model=model) == pytest.approx(2.0)


def test_levels_error_monte_carlo_with_end_levels():
    # every level equally likely, the end levels included (normal noise: the optimal model)
    rng = np.random.default_rng(7)
    n, m, l, error = 64.0, 1000.0, 2.0, 0.1
    L = st_.distinguishable_levels(n, m, l, error=error, model="optimal")
    sigma = st_.interference(n, m, l, model="optimal")
    k = math.floor(L)  # a whole number of levels below the capacity
    spacing = 1 / (k - 1)
    trials = 400_000
    level = rng.integers(0, k, trials)
    x = level * spacing + rng.normal(0, sigma, trials)
    wrong = np.mean(np.clip(np.rint(x / spacing), 0, k - 1) != level)
    p = 2 * (k - 1) / k * stats.norm.sf(spacing / 2 / sigma)
    assert abs(wrong - p) < 4 * math.sqrt(p * (1 - p) / trials)


# ------------------------------------------------------------------ conventions


def test_zero_active_and_single_feature():
    assert st_.interference(768, 1e4, 0) == 0.0
    assert st_.distinguishable_levels(768, 1e4, 0) == math.inf
    assert st_.bits_per_feature(768, 1e4, 0) == math.inf
    assert st_.max_features(768, 0, model="worst") == math.inf
    assert st_.min_width(1e4, 0, model="linsefors") == 0.0
    for model in ("linsefors", "worst", "optimal"):
        assert st_.interference(768, 1, 0, model=model) == 0.0
        assert st_.max_active(768, 1, model=model) == 0.0  # no other feature to be active
    for model in ("optimal", "packing"):
        assert st_.max_active(768, 700, model=model) == 699.0  # m <= n: all the others


@pytest.mark.parametrize("model", CAPS)
def test_max_active_never_exceeds_the_other_features(model):
    """max_active returned l > m - 1 (inf for m <= n): more active than there are features."""
    kw = {} if model == "l1" else {"snr": 0.5}
    for n, m in [(768, 100), (768, 2), (4096, 1000.5), (10, 1e6)]:
        got = st_.max_active(n, m, model=model, **kw)
        assert 0 <= got <= m - 1
    grid = st_.max_active(np.array([768, 768]), np.array([100, 1e6]), model=model, **kw)
    assert grid.shape == (2,) and grid[0] <= 99
    if model != "l1":
        got = st_.max_active(768, 100, model=model, error=0.4)
        assert got <= 99 and isinstance(got, float)


def test_random_snr_capacity_does_not_depend_on_m():
    assert st_.max_features(768, 32) == math.inf
    assert st_.max_features(768, 1000) == 0.0
    assert st_.log_max_features(768, 1000) == -math.inf


def test_worst_with_unit_target_is_unbounded():
    assert st_.max_features(500, 1.0, model="worst") == math.inf
    assert st_.min_width(1e6, 0.5, model="worst") == 0.0


# ------------------------------------------------------------------ laws (hypothesis)


def _mono(f, lo_kw, hi_kw, direction, rtol=1e-9):
    a, b = f(**lo_kw), f(**hi_kw)
    if direction > 0:
        assert b >= a * (1 - rtol) - 1e-300
    else:
        assert b <= a * (1 + rtol) + 1e-300


@pytest.mark.parametrize("model", MODELS)
@given(n=widths_, m=feats_, l=actives, k=st.floats(1.01, 10))
def test_interference_monotone(model, n, m, l, k):
    assume(l * k <= m - 1)
    f = lambda **kw: st_.interference(**{"n": n, "m": m, "l": l, "model": model, **kw})  # noqa: E731
    _mono(f, {}, {"l": l * k}, +1)
    _mono(f, {}, {"n": n * k}, -1)
    _mono(f, {}, {"m": m * k}, +1)


@pytest.mark.parametrize("model", CAPS)
@given(n=widths_, m=feats_, s=snrs, k=st.floats(1.01, 10))
def test_max_active_monotone(model, n, m, s, k):
    # before its cap at m - 1 it falls with m (the cap itself grows with m)
    from suptheory.theory.readout import _max_active_uncapped

    kw = {} if model == "l1" else {"snr": s}
    f = lambda **o: st_.max_active(**{"n": n, "m": m, "model": model, **kw, **o})  # noqa: E731
    g = lambda **o: _max_active_uncapped(**{"n": n, "m": m, "model": model, **kw, **o})  # noqa: E731
    _mono(f, {}, {"n": n * k}, +1)
    _mono(g, {}, {"m": m * k}, -1)
    assert f() == min(g(), m - 1)
    if model != "l1":
        _mono(f, {}, {"snr": s * k}, -1)


@pytest.mark.parametrize("model", CAPS)
@given(n=widths_, l=actives, s=snrs, k=st.floats(1.01, 10))
def test_log_max_features_monotone(model, n, l, s, k):
    kw = {} if model == "l1" else {"snr": s}
    f = lambda **o: st_.log_max_features(**{"n": n, "l": l, "model": model, **kw, **o})  # noqa: E731
    _mono(f, {}, {"n": n * k}, +1, rtol=1e-7)
    _mono(f, {}, {"l": l * k}, -1, rtol=1e-7)
    if model != "l1":
        _mono(f, {}, {"snr": s * k}, -1, rtol=1e-7)


@pytest.mark.parametrize("model", CAPS)
@given(m=feats_, l=actives, s=snrs, k=st.floats(1.01, 10))
def test_min_width_monotone(model, m, l, s, k):
    assume(l * k <= m - 1)
    kw = {} if model == "l1" else {"snr": s}
    f = lambda **o: st_.min_width(**{"m": m, "l": l, "model": model, **kw, **o})  # noqa: E731
    _mono(f, {}, {"m": m * k}, +1, rtol=1e-7)
    _mono(f, {}, {"l": l * k}, +1, rtol=1e-7)
    if model != "l1":
        _mono(f, {}, {"snr": s * k}, +1, rtol=1e-7)


@pytest.mark.parametrize("model", MODELS)
@given(n=widths_, m=feats_, l=actives, s=snrs, k=st.floats(1.01, 10))
def test_levels_monotone(model, n, m, l, s, k):
    assume(l * k <= m - 1)
    f = lambda **o: st_.distinguishable_levels(  # noqa: E731
        **{"n": n, "m": m, "l": l, "model": model, "snr": s, **o}
    )
    _mono(f, {}, {"n": n * k}, +1)
    _mono(f, {}, {"m": m * k}, -1)
    _mono(f, {}, {"l": l * k}, -1)
    _mono(f, {}, {"snr": s * k}, -1)


@given(n=widths_, m=st.floats(min_value=math.exp(1 / 8), max_value=1e30), l=actives)
def test_linsefors_noise_at_least_random(n, m, l):
    assume(l <= m - 1)
    assert st_.interference(n, m, l, model="linsefors") >= st_.interference(n, m, l) * (1 - 1e-12)


def test_linsefors_below_random_only_for_tiny_m():
    assert st_.interference(100, 1.1, 0.1, model="linsefors") < st_.interference(100, 1.1, 0.1)


@given(n=widths_, m=st.floats(2.0, 1e9))
def test_model_order_of_pair_interference(n, m):
    assume(m > 2)
    packing = st_.pair_interference(n, m, model="packing")
    worst = st_.pair_interference(n, m, model="worst")
    assert packing <= worst + 1e-12
    # rms floor <= rms of random <= largest overlap of random directions
    rms = st_.pair_interference(n, m, model="optimal")
    assert rms <= st_.pair_interference(n, m, model="random") * (1 + 1e-12)


# ------------------------------------------------------------------ broadcasting


@pytest.mark.parametrize("model", MODELS)
def test_broadcasting_matches_scalar_calls(model):
    n = np.array([[64.0], [768.0], [4096.0]])
    m = np.array([1e3, 1e5])
    out = st_.interference(n, m, 5.0, model=model)
    assert out.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            v = st_.interference(float(n[i, 0]), float(m[j]), 5.0, model=model)
            assert isinstance(v, float)
            assert out[i, j] == pytest.approx(v, rel=1e-12)
    lm = st_.log_max_features(n, np.array([2.0, 8.0]), model=model, error=0.1)
    assert lm.shape == (3, 2)
    assert lm[1, 1] == pytest.approx(st_.log_max_features(768, 8, model=model, error=0.1), rel=1e-9)
    nm = st_.min_width(m[:, None], np.array([2.0, 8.0, 30.0]), model=model)
    assert nm.shape == (2, 3)
    assert nm[1, 2] == pytest.approx(st_.min_width(1e5, 30, model=model), rel=1e-9)


def test_array_in_array_out_scalar_in_float_out():
    assert isinstance(st_.max_active(768, 1e4), float)
    assert isinstance(st_.max_features(768, 2, model="l1"), float)
    assert st_.max_active([768, 1024], 1e4).shape == (2,)


# ------------------------------------------------------------------ bad and extreme input

BAD = [
    ({"n": 0}, ValueError, "n must"),
    ({"n": -1}, ValueError, "n must"),
    ({"n": float("nan")}, ValueError, "n must not be NaN"),
    ({"n": float("inf")}, ValueError, "n must be finite"),
    ({"n": "768"}, TypeError, "n must be a real"),
    ({"n": None}, TypeError, "n must be a real"),
    ({"m": 0.5}, ValueError, r"m must be in \[1, inf\)"),
    ({"l": -1}, ValueError, r"l must be in \[0, inf\)"),
    ({"a": 0}, ValueError, r"a must be in \(0, inf\)"),
    ({"snr": 0}, ValueError, "snr must"),
    ({"error": 0}, ValueError, r"error must be in \(0, 1\)"),
    ({"error": 1}, ValueError, r"error must be in \(0, 1\)"),
    ({"q": 1.0}, ValueError, r"q must be in \(0, 1\)"),
    ({"model": "bogus"}, ValueError, "model must be one of"),
    ({"model": 3}, TypeError, "model must be a string"),
    ({"snr": 2, "error": 0.1}, ValueError, "either snr or error"),
]
FUNCS = {
    st_.interference: ("n", "m", "l", "a", "model", "q"),
    st_.pair_interference: ("n", "m", "model", "q"),
    st_.max_active: ("n", "m", "snr", "error", "model", "q"),
    st_.max_features: ("n", "l", "snr", "error", "model", "q"),
    st_.log_max_features: ("n", "l", "snr", "error", "model", "q"),
    st_.min_width: ("m", "l", "snr", "error", "model", "q"),
    st_.distinguishable_levels: ("n", "m", "l", "a", "snr", "error", "model", "q"),
    st_.bits_per_feature: ("n", "m", "l", "a", "snr", "error", "model", "q"),
}
BASE = {"n": 768.0, "m": 1e4, "l": 5.0, "a": 1.0}


CASES = [
    pytest.param(fn, bad, exc, msg, id=f"{fn.__name__}-{'-'.join(map(str, bad.items()))}")
    for fn, params in FUNCS.items()
    for bad, exc, msg in BAD
    if set(bad) <= set(params)
]


@pytest.mark.parametrize(("fn", "bad", "exc", "msg"), CASES)
def test_bad_input(fn, bad, exc, msg):
    kwargs = {k: v for k, v in BASE.items() if k in FUNCS[fn]}
    kwargs.update(bad)
    with pytest.raises(exc, match=msg):
        fn(**kwargs)


@pytest.mark.parametrize("model", MODELS)
def test_extreme_input_is_finite(model):
    big = {"n": 1e7, "m": 1e30, "l": 1e-6}
    for fn in (st_.interference, st_.distinguishable_levels, st_.bits_per_feature):
        assert math.isfinite(fn(**big, model=model))
    assert math.isfinite(st_.max_active(1e7, 1e30, model=model))
    assert math.isfinite(st_.max_active(1e7, 1e30, model=model, error=1e-9))
    assert math.isfinite(st_.min_width(1e30, 50.0, model=model))
    assert math.isfinite(st_.min_width(1e30, 50.0, model=model, error=1e-9))
    lm = st_.log_max_features(1e7, 1e3, model=model, error=1e-6)
    assert math.isfinite(lm) or model in ("optimal", "packing")
    mm = st_.max_features(1e7, 1e3, model=model, error=1e-6)
    assert (mm == math.inf) == (lm > math.log(np.finfo(float).max))


def test_max_features_is_inf_only_on_overflow():
    lm = st_.log_max_features(1e7, 1e-6, model="linsefors")
    assert lm == pytest.approx(1e7 / (8e-6))
    assert st_.max_features(1e7, 1e-6, model="linsefors") == math.inf
    assert st_.max_features(5600, 1, model="linsefors") == pytest.approx(math.exp(700))
    assert math.isfinite(st_.log_max_features(1e7, 1e-6, model="random", error=0.5))
    assert math.isfinite(st_.log_max_features(1e7, 1e-6, model="l1"))


@pytest.mark.parametrize("model", ["linsefors", "worst"])
def test_error_capacity_beyond_the_float_range_stays_finite(model):
    from suptheory.theory.overlaps import log_overlap_tail

    n, l, error = 1e9, 1.0, 1e-3
    u = st_.log_max_features(n, l, error=error, model=model)
    assert 709.8 < u < 1e9
    assert st_.max_features(n, l, error=error, model=model) == math.inf
    # proxies: one read-out, Phi(-a / (2 sigma)) = error, so the target overlap is
    # t = 1 / (2 sqrt(l) z) with z = Phi^{-1}(1 - error), whatever m
    t = 1 / (2 * math.sqrt(l) * stats.norm.isf(error))
    if model == "worst":  # Poisson-Beta law: C(m, 2) P(|<u,v>| >= t) = ln 2 at the median
        log_pairs = 2 * u - math.log(2)
        assert log_pairs + log_overlap_tail(t, n) == pytest.approx(math.log(math.log(2)), abs=1e-6)
    elif model == "linsefors":
        assert u == pytest.approx(n * t**2 / 8, rel=1e-10)


def test_optimal_error_capacity_beyond_the_float_range():
    # rms floor with a union bound: m_max = n (l r^2 - 1) / (l r^2 - n), r = 2 z(error / m);
    # l is chosen so that l r^2 = n at m = e^800: the capacity lies beyond the float range
    from scipy.optimize import brentq
    from scipy.special import log_ndtr

    def z_of(u, error):
        log_p = math.log(error) - u
        return brentq(lambda x: log_ndtr(-x) - log_p, 1.0, 1e4, xtol=1e-14, rtol=1e-15)

    n, error = 1e4, 1e-3
    l = n / (4 * z_of(800.0, error) ** 2)
    u = st_.log_max_features(n, l, error=error, model="optimal")
    assert u == pytest.approx(800, rel=1e-9)  # m_max -> inf as l r^2 -> n from above
    assert st_.max_features(n, l, error=error, model="optimal") == math.inf
    # away from that pole the root is the closed form at r(u)
    l = 2 * n / (4 * z_of(5.0, error) ** 2)
    u = st_.log_max_features(n, l, error=error, model="optimal")
    lr2 = l * (2 * z_of(u, error)) ** 2
    assert u == pytest.approx(math.log(n * (lr2 - 1) / (lr2 - n)), rel=1e-8)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=25)  # each example runs four root searches
@given(n=widths_, m=feats_, l=st.floats(1e-3, 2e3), e=st.floats(1e-12, 0.5), k=st.floats(1.01, 1.9))
def test_error_budget_monotone(model, n, m, l, e, k):
    assume(l <= m - 1)
    # a larger error budget never lowers a capacity nor raises the width needed
    lo = st_.log_max_features(n, l, error=e, model=model)
    hi = st_.log_max_features(n, l, error=e * k, model=model)
    assert hi == lo or hi >= lo - 1e-7 * max(1.0, abs(lo))
    assert st_.max_active(n, m, error=e * k, model=model) >= st_.max_active(
        n, m, error=e, model=model
    ) * (1 - 1e-12)
    assert st_.min_width(m, l, error=e * k, model=model) <= st_.min_width(
        m, l, error=e, model=model
    ) * (1 + 1e-9)
    assert st_.distinguishable_levels(n, m, l, error=e * k, model=model) >= (
        st_.distinguishable_levels(n, m, l, error=e, model=model) * (1 - 1e-12)
    )


@pytest.mark.parametrize("model", ["random", "optimal", "linsefors", "worst", "packing"])
def test_min_width_huge_snr(model):
    """snr = 1e300: m = 1 needs no width (linsefors gave 0 / 0 = NaN); no NaN anywhere."""
    assert st_.min_width(1, 0, snr=1e300, model=model) == 0.0
    with pytest.raises(ValueError, match=r"l must be in \[0, m - 1\]"):
        st_.min_width(1, 1, snr=1e300, model=model)  # one feature: no other can be active
    for m in (2.0, 7.0, 1e6):
        got = st_.min_width(m, 1, snr=1e300, model=model)
        want = {"optimal": m, "packing": m}.get(model, math.inf)
        assert got == want  # packing gave 0 past snr ~ 1e8 for m = 1e6 (rounded bound)


def test_l_above_m_minus_1_is_rejected_everywhere():
    """512 active out of 100 features was accepted by calculate, interference, solve (l1)."""
    msg = r"l must be in \[0, m - 1\] = \[0, 99\]"
    calls = [
        lambda: st_.calculate(768, 100, 512),
        lambda: st_.interference(768, 100, 512),
        lambda: st_.readout_error(768, 100, 512),
        lambda: st_.capacity_error(768, 100, 512),
        lambda: st_.min_width(100, 512),
        lambda: st_.min_width(100, 512, model="l1"),
        lambda: st_.distinguishable_levels(768, 100, 512),
        lambda: st_.bits_per_feature(768, 100, 512),
        lambda: st_.solve(n=None, m=100, l=512),
        lambda: st_.solve(snr=None, n=768, m=100, l=512),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=msg):
            call()
    with pytest.raises(st_.NoSolutionError, match=r"l = 768 > m - 1 = 99"):
        st_.solve(l=None, n=768, m=100, model="l1")
    assert st_.interference(768, 100, 99) > 0  # the edge l = m - 1 is allowed


@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_negative_zero_active_is_zero(zero):
    """l = -0.0 gave levels -inf and bits NaN where l = 0 gives inf."""
    assert st_.interference(768, 1e4, zero) == 0.0
    assert math.copysign(1.0, st_.interference(768, 1e4, zero)) == 1.0
    assert st_.distinguishable_levels(768, 1e4, zero) == math.inf
    assert st_.bits_per_feature(768, 1e4, zero) == math.inf
    assert st_.min_width(1e4, zero) == 0.0
    bits = st_.calculate(768, 1e4, zero).bits
    assert all(v == math.inf for k, v in bits.items() if k != "l1")
