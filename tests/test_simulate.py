"""Monte Carlo twins against their closed forms and against independent brute-force references.

Agreement is asserted within 3 standard errors on fixed seeds (deterministic); each reference
is computed independently of the code under test: scipy's beta law and incomplete beta,
brute-force numpy geometry, exact enumeration of small embeddings, and the closed forms of
``suptheory.theory.readout`` / ``suptheory.theory.overlaps``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import suptheory
from suptheory._kernels import simulate as K
from suptheory._kernels.jit import num_threads
from suptheory.empirical import simulate as S
from suptheory.theory.overlaps import (
    expected_max_coherence_random,
    max_coherence_random,
    overlap_tail,
)
from suptheory.theory.readout import distinguishable_levels, interference
from tests.helpers import interrupt_on_call

Q = dict(progress=False)


# ----------------------------------------------------------------------------- interference


@pytest.mark.parametrize(
    "n, l, count, amplitudes",
    [
        (1, 3.0, "fixed", "fixed"),
        (2, 1.0, "binomial", "fixed"),
        (16, 0.3, "binomial", "fixed"),
        (16, 2.5, "fixed", "uniform"),
        (64, 7.0, "poisson", "fixed"),
        (256, 16.0, "binomial", "fixed"),
        (256, 16.0, "fixed", "fixed"),
        (256, 40.5, "poisson", "uniform"),
        (1024, 100.0, "binomial", "uniform"),
        (4096, 1.0, "fixed", "fixed"),
    ],
)
def test_random_noise_std_matches_random_model(n, l, count, amplitudes):  # noqa: E741
    a = 1.7
    r = S.simulate_interference(
        n, 1000, l, a, trials=20_000, seed=n + int(10 * l), count=count, amplitudes=amplitudes, **Q
    )
    # docs/theory.md §2: Var = E|S| E x^2 / n exactly; E x^2 = a^2 (fixed) or a^2 / 3 (uniform)
    factor = 1.0 if amplitudes == "fixed" else 1 / math.sqrt(3)
    expected = interference(n, 1000, l, a, model="random") * factor
    assert r.theory == pytest.approx(expected, rel=1e-12)
    assert r.random_law == pytest.approx(expected, rel=1e-12)
    assert abs(r.std - expected) < 3 * r.std_se
    assert abs(r.mean) < 3 * r.mean_se
    assert r.trials == 20_000 and r.source == "random" and not r.interrupted
    assert float(r) == r.std


def test_random_noise_single_overlap_has_the_exact_beta_law():
    # l = 1 fixed: the noise is one overlap t, (1 + t) / 2 ~ Beta((n-1)/2, (n-1)/2) (§2)
    for n in (3, 10, 64):
        r = S.simulate_interference(
            n, 100, 1, count="fixed", trials=4000, seed=n, return_samples=True, **Q
        )
        assert r.samples is not None and r.samples.shape == (4000,)
        p = stats.kstest((1 + r.samples) / 2, stats.beta((n - 1) / 2, (n - 1) / 2).cdf).pvalue
        assert p > 1e-3
        # E t^4 = 3 / (n (n + 2)), a moment the variance check does not see
        x4 = r.samples**4
        assert abs(x4.mean() - 3 / (n * (n + 2))) < 3 * x4.std() / math.sqrt(x4.size)


def test_random_noise_law_matches_brute_force_geometry():
    # the two-number construction against explicit unit vectors in R^n (three active)
    n, l, T = 8, 3, 3000  # noqa: E741
    rng = np.random.default_rng(7)
    V = rng.standard_normal((T, l + 1, n))
    V /= np.linalg.norm(V, axis=2, keepdims=True)
    brute = np.einsum("tn,tjn->t", V[:, 0], V[:, 1:])
    r = S.simulate_interference(n, 50, l, count="fixed", trials=T, seed=8, return_samples=True, **Q)
    assert stats.ks_2samp(brute, r.samples).pvalue > 1e-3


def test_large_m_falls_back_to_poisson_and_stays_exact():
    r = S.simulate_interference(128, 1e30, 12, trials=20_000, seed=3, **Q)
    assert abs(r.std - math.sqrt(12 / 128)) < 3 * r.std_se
    r = S.simulate_interference(1e7, 1e6, 1, trials=5000, seed=3, **Q)
    assert abs(r.std - math.sqrt(1 / 1e7)) < 3 * r.std_se


def test_amplitude_scales_noise_exactly():
    r1 = S.simulate_interference(64, 100, 5, 1.0, trials=3000, seed=1, return_samples=True, **Q)
    r4 = S.simulate_interference(64, 100, 5, 4.0, trials=3000, seed=1, return_samples=True, **Q)
    np.testing.assert_array_equal(4 * r1.samples, r4.samples)


def test_no_active_features_means_no_noise():
    r = S.simulate_interference(64, 100, 0, trials=100, seed=0, **Q)
    assert r.std == 0.0 and r.std_se == 0.0 and r.theory == 0.0 and r.z == 0.0


# ----------------------------------------------------------------------------- embeddings


def _exact_embedding_moments(W, l, count, amplitudes, a=1.0):  # noqa: E741
    """Exact mean and std by enumerating every read-out row and every active subset."""
    W = W / np.linalg.norm(W, axis=1, keepdims=True)
    m = W.shape[0]
    N = m - 1
    G = W @ W.T
    a1, a2 = (a, a * a) if amplitudes == "fixed" else (a / 2, a * a / 3)
    if count == "fixed":
        lo = math.floor(l)
        sizes = {lo: 1 - (l - lo)}
        if l > lo:
            sizes[lo + 1] = l - lo
    first = second = 0.0
    for i in range(m):
        others = [j for j in range(m) if j != i]
        for size in range(N + 1):
            for S_ in itertools.combinations(others, size):
                if count == "binomial":
                    p = l / N
                    w = p**size * (1 - p) ** (N - size)
                else:
                    w = sizes.get(size, 0.0) / math.comb(N, size)
                if w == 0:
                    continue
                y = G[i, list(S_)]
                mean = a1 * y.sum()
                # E (sum x_j y_j)^2 = a1^2 (sum y)^2 + (a2 - a1^2) sum y^2
                sec = a1**2 * y.sum() ** 2 + (a2 - a1**2) * (y**2).sum()
                first += w * mean / m
                second += w * sec / m
    return first, math.sqrt(second - first**2)


@pytest.mark.parametrize("count", ["binomial", "fixed"])
@pytest.mark.parametrize("amplitudes", ["fixed", "uniform"])
@pytest.mark.parametrize("l", [0.7, 2.0, 3.4])
def test_embedding_closed_moments_equal_enumeration(count, amplitudes, l):  # noqa: E741
    W = np.random.default_rng(5).standard_normal((6, 3)) + 0.4
    mean, std = S._embedding_moments(
        W / np.linalg.norm(W, axis=1, keepdims=True),
        l,
        *((1.0, 1.0) if amplitudes == "fixed" else (0.5, 1 / 3)),
        count,
    )
    ref_mean, ref_std = _exact_embedding_moments(W, l, count, amplitudes)
    assert mean == pytest.approx(ref_mean, rel=1e-12, abs=1e-14)
    assert std == pytest.approx(ref_std, rel=1e-12)


def _simplex(k):
    # k unit vectors in R^(k-1) with every overlap -1/(k-1) (an ETF); stored in R^k
    E = np.eye(k) - 1.0 / k
    return E / np.linalg.norm(E, axis=1, keepdims=True)


@pytest.mark.parametrize(
    "name, W, l, count, amplitudes",
    [
        (
            "gaussian+offset",
            np.random.default_rng(3).standard_normal((200, 32)) + 0.3,
            3.0,
            "binomial",
            "fixed",
        ),
        (
            "gaussian+offset",
            np.random.default_rng(3).standard_normal((200, 32)) + 0.3,
            7.3,
            "fixed",
            "uniform",
        ),
        (
            "gaussian wide",
            np.random.default_rng(4).standard_normal((40, 64)),
            0.5,
            "binomial",
            "uniform",
        ),
        ("simplex ETF", _simplex(12), 4.0, "fixed", "fixed"),
        (
            "duplicated rows",
            np.repeat(np.random.default_rng(5).standard_normal((10, 8)), 3, axis=0),
            5.0,
            "binomial",
            "fixed",
        ),
        (
            "dense subsets",
            np.random.default_rng(6).standard_normal((30, 16)),
            26.0,
            "fixed",
            "fixed",
        ),
    ],
)
def test_embedding_noise_matches_exact_moments(name, W, l, count, amplitudes):  # noqa: E741
    r = S.simulate_interference(
        l=l, embedding=W, trials=20_000, seed=11, count=count, amplitudes=amplitudes, **Q
    )
    assert r.source == "embedding" and (r.m, r.n) == W.shape
    # (+1e-12: the simplex with a fixed count has no noise at all, only rounding)
    assert abs(r.std - r.theory) < 3 * r.std_se + 1e-12, name
    assert abs(r.mean - r.theory_mean) < 3 * r.mean_se + 1e-12, name
    # same width, random directions: the random law (reported for comparison)
    assert r.random_law == pytest.approx(
        interference(W.shape[1], W.shape[0], l, model="random")
        * (1 if amplitudes == "fixed" else 3**-0.5)
    )


def test_embedding_too_large_for_exact_moments_reports_nan(monkeypatch):
    monkeypatch.setattr(S, "_EXACT_FLOPS", 0.0)
    W = np.random.default_rng(2).standard_normal((50, 16))
    r = S.simulate_interference(l=4, embedding=W, trials=2000, seed=0, **Q)
    assert math.isnan(r.theory) and math.isnan(r.theory_mean) and r.std > 0
    lv = S.simulate_levels(l=4, embedding=W, trials=2000, seed=0, **Q)
    assert lv.levels[-1] == max(4, math.ceil(1 + 1 / r.random_law)) and np.isnan(lv.theory).all()
    mx = S.simulate_max_levels(l=4, embedding=W, trials=2000, seed=0, **Q)
    assert mx.theory_levels is None and math.isnan(mx.theory) and mx.levels >= 1


def test_orthonormal_embedding_has_no_interference():
    W = np.linalg.qr(np.random.default_rng(1).standard_normal((32, 32)))[0]
    r = S.simulate_interference(l=10, embedding=W, trials=500, seed=0, **Q)
    assert r.std < 1e-14 and r.theory < 1e-14


@pytest.mark.parametrize("N, k", [(6, 3), (20, 18), (5, 5), (7, 0)])
def test_subset_sampler_is_uniform(N, k):
    # rows are 1-D: W[0] = 1 is the read-out row, W[j] = 2^(j-1); the noise is then the
    # bitmask of the chosen subset, which identifies it exactly. Covers both Floyd branches.
    W = np.concatenate([[1.0], 2.0 ** np.arange(N)])[:, None]
    T = 6000
    rng = np.random.default_rng(2)
    out = np.empty(T)
    K.embedding_noise(
        W,
        np.zeros(T, np.int64),
        np.arange(T + 1, dtype=np.int64) * k,
        rng.random(T * k),
        np.empty(0),
        1.0,
        out,
    )
    masks = out.astype(np.int64)
    assert np.all(np.array([bin(x).count("1") for x in masks]) == k)
    counts = np.bincount(np.unique(masks, return_inverse=True)[1])
    assert counts.size == math.comb(N, k)
    if counts.size > 1:
        assert stats.chisquare(counts).pvalue > 1e-3


# ----------------------------------------------------------------------------- levels


def test_level_decoding_kernel_equals_numpy():
    rng = np.random.default_rng(0)
    noise = rng.normal(scale=0.2, size=5000)
    u = rng.random(5000)
    lv = np.array([2, 3, 5, 17], dtype=np.int64)
    got = S._decode(noise, u, lv, 1.5)
    for L, g in zip(lv, got, strict=True):
        step = 1.5 / (L - 1)
        k = np.floor(u * L).astype(int)
        dec = np.clip(np.rint((k * step + noise) / step), 0, L - 1)
        assert g == np.count_nonzero(dec != k)


@pytest.mark.parametrize("n", [8, 64, 512])
def test_levels_single_overlap_exact(n):
    # l = 1 fixed, amplitude a: noise a t with t's exact beta tail, so a level errs with
    # probability P(|t| > h / a) (interior) or half of it (ends): (L-1)/L * tail, exactly
    lv = np.array([2, 3, 4, 6, 8])
    r = S.simulate_levels(n, 100, 1, 2.0, levels=lv, count="fixed", trials=20_000, seed=n, **Q)
    eps = 1 / (2 * (lv - 1))
    tail = special.betainc((n - 1) / 2, 0.5, 1 - eps**2)  # I_{1-eps^2}((n-1)/2, 1/2)
    np.testing.assert_allclose(overlap_tail(eps, n), tail, rtol=1e-10)
    exact = (lv - 1) / lv * tail
    assert np.all(np.abs(r.error - exact) <= 3 * np.sqrt(exact * (1 - exact) / r.trials))


@pytest.mark.parametrize(
    "n, l, count",
    [
        (256, 64.0, "binomial"),
        (1024, 100.0, "poisson"),
        (4096, 256.0, "fixed"),
        (64, 16.0, "fixed"),
    ],
)
def test_levels_normal_approximation_at_large_l(n, l, count):  # noqa: E741
    # many active features: the noise is close to normal (excess kurtosis ~ 3 / l or less)
    sigma = interference(n, 10_000, l, model="random")
    lv = np.unique(np.round(1 + np.array([0.5, 1.0, 2.0, 3.0]) / sigma).astype(int))
    lv = lv[lv >= 2]
    r = S.simulate_levels(n, 10_000, l, levels=lv, count=count, trials=30_000, seed=1, **Q)
    normal = (lv - 1) / lv * 2 * stats.norm.sf(1 / (2 * (lv - 1) * sigma))
    np.testing.assert_allclose(r.theory, normal, rtol=1e-12)
    assert np.all(np.abs(r.error - normal) <= 3 * np.sqrt(normal * (1 - normal) / r.trials))
    # docs/theory.md's two-sided form 2 Phi(-h / sigma) is the same up to the end-level factor
    np.testing.assert_allclose(
        r.theory * lv / (lv - 1), 2 * stats.norm.cdf(-(1 / (lv - 1)) / (2 * sigma)), rtol=1e-12
    )


def test_levels_default_grid_and_max_levels_at():
    r = S.simulate_levels(256, 1000, 16, trials=5000, seed=0, **Q)
    assert r.levels[0] == 2 and r.levels[-1] == math.ceil(1 + 1 / 0.25)
    assert np.all(np.diff(r.theory) > 0)
    L = r.max_levels_at(0.1)
    assert np.all(r.error[r.levels <= L] <= 0.1)
    assert L == r.levels[-1] or r.error[r.levels == L + 1][0] > 0.1
    assert r.max_levels_at(1e-9) == 1


def test_levels_on_embedding_uses_exact_moments():
    W = np.random.default_rng(3).standard_normal((300, 64)) + 0.05
    r = S.simulate_levels(l=30, embedding=W, levels=[2, 3, 4], trials=30_000, seed=2, **Q)
    assert r.mu != 0
    assert np.all(np.abs(r.error - r.theory) <= 3 * np.sqrt(r.theory * (1 - r.theory) / r.trials))


@pytest.mark.parametrize("n, l, error", [(1024, 64.0, 0.05), (4096, 16.0, 0.01), (256, 100.0, 0.2)])
def test_max_levels_against_closed_form(n, l, error):  # noqa: E741
    r = S.simulate_max_levels(n, 1e5, l, error=error, trials=40_000, seed=4, **Q)
    # the normal law (end levels counted) at the exact sigma; the random model's exact law
    # differs from it by little at these l
    assert r.theory == pytest.approx(
        distinguishable_levels(n, 1e5, l, error=error, model="random"), rel=2e-3
    )
    # the whole-number answer under the normal law lies inside the simulation's 95% band
    assert r.levels_low <= r.theory_levels <= r.levels_high
    assert r.levels_low <= r.levels <= r.levels_high
    # the continuous closed form and its whole-number answer agree
    assert math.floor(r.theory) == r.theory_levels
    assert int(r) == r.levels and not r.censored
    assert r.curve.error[r.curve.levels == r.levels + 1][0] > error


def test_max_levels_without_noise_is_censored():
    W = np.eye(8)
    r = S.simulate_max_levels(l=3, embedding=W, error=0.01, trials=200, seed=0, **Q)
    assert r.censored and r.levels == 1 << 24 and r.theory == math.inf


# ----------------------------------------------------------------------------- max coherence


@pytest.mark.parametrize("m, n", [(20, 16), (100, 16), (60, 64), (150, 256)])
def test_max_coherence_matches_finite_n_law(m, n):
    trials = 600
    r = S.simulate_max_coherence(m, n, trials=trials, seed=m + n, quantiles=[0.1, 0.5, 0.9], **Q)
    assert r.theory_mean == pytest.approx(expected_max_coherence_random(m, n), rel=1e-12)
    assert abs(r.mean - r.theory_mean) < 3 * r.mean_se
    # the law's CDF at its own quantiles: the fraction below is binomial(trials, q)
    for q in (0.1, 0.5, 0.9):
        t = max_coherence_random(m, n, q)
        frac = np.mean(r.samples <= t)
        assert abs(frac - q) < 3 * math.sqrt(q * (1 - q) / trials)
    assert np.all(r.quantiles_low <= r.quantiles) and np.all(r.quantiles <= r.quantiles_high)
    np.testing.assert_allclose(r.theory_quantiles, max_coherence_random(m, n, r.q))


def test_max_coherence_kernel_equals_exact_coherence(monkeypatch):
    small = S.simulate_max_coherence(40, 12, trials=20, seed=9, **Q)
    monkeypatch.setattr(S, "_SMALL_M", 0)  # force the blocked coherence() path
    big = S.simulate_max_coherence(40, 12, trials=20, seed=9, **Q)
    np.testing.assert_allclose(small.samples, big.samples, rtol=4e-16, atol=0)
    rng = np.random.default_rng(9)
    first = rng.standard_normal((40, 12))
    assert float(suptheory.coherence(first, progress=False)) == big.samples[0]


def test_max_coherence_one_dimension():
    r = S.simulate_max_coherence(3, 1, trials=5, seed=0, **Q)
    assert np.all(r.samples == 1.0)


# ----------------------------------------------------------------------------- reproducibility


def _all_results(seed):
    W = np.random.default_rng(0).standard_normal((80, 20))
    return (
        S.simulate_interference(
            64, 1000, 9.5, trials=40_000, seed=seed, return_samples=True, **Q
        ).samples,
        S.simulate_interference(
            l=6, embedding=W, trials=40_000, seed=seed, count="fixed", return_samples=True, **Q
        ).samples,
        S.simulate_levels(64, 1000, 9.5, levels=[2, 5, 9], trials=40_000, seed=seed, **Q).errors,
        S.simulate_max_coherence(50, 10, trials=64, seed=seed, **Q).samples,
    )


def test_reproducible_from_seed_and_independent_of_threads():
    with num_threads(1):
        one = _all_results(5)
    with num_threads(2):
        two = _all_results(5)
        again = _all_results(np.random.SeedSequence(5))
    for x, y, z in zip(one, two, again, strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    other = S.simulate_interference(64, 1000, 9.5, trials=100, seed=6, return_samples=True, **Q)
    assert not np.array_equal(other.samples, one[0][:100])


def test_generator_seed_advances():
    g = np.random.default_rng(1)
    a = S.simulate_interference(16, 10, 2, trials=50, seed=g, return_samples=True, **Q)
    b = S.simulate_interference(16, 10, 2, trials=50, seed=g, return_samples=True, **Q)
    assert not np.array_equal(a.samples, b.samples)


def test_interrupt_returns_finished_chunks(monkeypatch):
    flaky, calls = interrupt_on_call(K.random_noise, 2)
    monkeypatch.setattr(K, "random_noise", flaky)
    r = S.simulate_interference(16, 100, 2, trials=3 * S._CHUNK, seed=0, **Q)
    assert r.interrupted and r.trials == S._CHUNK
    del calls[1:]  # the next call is the 2nd again: the very first chunk is interrupted
    with pytest.raises(KeyboardInterrupt):
        S.simulate_interference(16, 100, 2, trials=3 * S._CHUNK, seed=0, **Q)


def test_progress_bar_path_runs():
    r = S.simulate_levels(16, 100, 2, levels=2, trials=100, seed=0, progress=True)
    assert r.trials == 100


def test_lazy_public_names():
    for name in (
        "simulate_interference",
        "simulate_levels",
        "simulate_max_levels",
        "simulate_max_coherence",
    ):
        assert getattr(suptheory, name) is getattr(S, name)


# ----------------------------------------------------------------------------- bad input


W_OK = np.random.default_rng(0).standard_normal((10, 4))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(n=0, m=10, l=1), ValueError, "^n must"),
        (dict(n=2.5, m=10, l=1), ValueError, "^n must be a whole"),
        (dict(n=np.nan, m=10, l=1), ValueError, "^n must"),
        (dict(n="8", m=10, l=1), TypeError, "^n must"),
        (dict(n=[8, 9], m=10, l=1), ValueError, "^n must be a single number"),
        (dict(n=8, m=0.5, l=1), ValueError, "^m must"),
        (dict(n=8, m=np.inf, l=1), ValueError, "^m must"),
        (dict(n=8, m=10, l=-1), ValueError, "^l must"),
        (dict(n=8, m=10, l=9.5), ValueError, r"^l must be in \[0, m - 1\]"),
        (dict(n=8, m=10, l=None), TypeError, "^l "),
        (dict(n=None, m=10, l=1), TypeError, "^n and m are required"),
        (dict(n=8, m=10, l=1, a=0), ValueError, "^a must"),
        (dict(n=8, m=10, l=1, trials=1), ValueError, "^trials must"),
        (dict(n=8, m=10, l=1, trials=10.5), ValueError, "^trials must"),
        (dict(n=8, m=10, l=1, trials=True), TypeError, "^trials must"),
        (dict(n=8, m=10, l=1, seed="x"), TypeError, "^seed must"),
        (dict(n=8, m=10, l=1, count="gauss"), ValueError, "^count must be one of"),
        (dict(n=8, m=10, l=1, amplitudes="normal"), ValueError, "^amplitudes must be one of"),
        (dict(l=1, embedding=W_OK, count="poisson"), ValueError, "count='poisson'"),
        (dict(n=5, l=1, embedding=W_OK), ValueError, "^n must equal the embedding's columns"),
        (dict(m=11, l=1, embedding=W_OK), ValueError, "^m must equal the embedding's rows"),
        (dict(l=1, embedding=W_OK[0]), ValueError, "^embedding must be a 2-D"),
        (dict(l=1, embedding=np.where(W_OK > 1, np.nan, W_OK)), ValueError, "finite"),
        (dict(l=1, embedding=np.vstack([W_OK, np.zeros(4)])), ValueError, "zero row"),
        (dict(l=10, embedding=W_OK), ValueError, "^l must be in"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, exc, match):
    kwargs = {"trials": 10, **kwargs}
    for fn in (S.simulate_interference, S.simulate_levels, S.simulate_max_levels):
        with pytest.raises(exc, match=match):
            fn(**kwargs, progress=False)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: S.simulate_levels(8, 10, 1, levels=1, trials=10, **Q), "^levels must"),
        (lambda: S.simulate_levels(8, 10, 1, levels=[2, 2.5], trials=10, **Q), "^levels must"),
        (lambda: S.simulate_levels(8, 10, 1, levels=[[2]], trials=10, **Q), "^levels must"),
        (lambda: S.simulate_max_levels(8, 10, 1, error=0, trials=10, **Q), "^error must"),
        (lambda: S.simulate_max_levels(8, 10, 1, error=1.0, trials=10, **Q), "^error must"),
        (lambda: S.simulate_max_coherence(1, 8, trials=10, **Q), "^m must"),
        (lambda: S.simulate_max_coherence(10, 0, trials=10, **Q), "^n must"),
        (lambda: S.simulate_max_coherence(10, 8, trials=1, **Q), "^trials must"),
        (lambda: S.simulate_max_coherence(10, 8, quantiles=1.5, trials=10, **Q), "^quantiles must"),
        (
            lambda: S.simulate_max_coherence(10, 8, quantiles=[[0.5]], trials=10, **Q),
            "^quantiles must",
        ),
        (lambda: S.simulate_max_coherence(10**6, 10**5, trials=10, **Q), "too large"),
    ],
)
def test_bad_input_other_parameters(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_max_levels_at_validates_error():
    r = S.simulate_levels(16, 10, 1, levels=2, trials=10, seed=0, **Q)
    with pytest.raises(ValueError, match="^error must"):
        r.max_levels_at(1.5)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=15)
@given(
    n=st.integers(min_value=1, max_value=512),
    l=st.floats(min_value=0.05, max_value=40),
    count=st.sampled_from(["binomial", "poisson", "fixed"]),
    amplitudes=st.sampled_from(["fixed", "uniform"]),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_noise_std_agrees_with_theory_anywhere(n, l, count, amplitudes, seed):  # noqa: E741
    # random settings: 5 standard errors (a false alarm about once in 2 million examples)
    r = S.simulate_interference(
        n, 100, l, trials=4000, seed=seed, count=count, amplitudes=amplitudes, **Q
    )
    if r.std_se > 0:
        assert abs(r.std - r.theory) < 5 * r.std_se + 1e-12
    assert abs(r.mean) < 5 * r.mean_se + 1e-12


@settings(max_examples=30)
@given(m=st.integers(min_value=2, max_value=40), data=st.data())
def test_subset_sampler_draws_distinct_others(m, data):
    # W[j] = 2^j: the noise of read-out row i is 2^i times the bitmask of the chosen rows
    k = data.draw(st.integers(min_value=0, max_value=m - 1), label="k")
    i = data.draw(st.integers(min_value=0, max_value=m - 1), label="i")
    T = 50
    W = (2.0 ** np.arange(m))[:, None]
    out = np.empty(T)
    K.embedding_noise(
        W,
        np.full(T, i, np.int64),
        np.arange(T + 1, dtype=np.int64) * k,
        np.random.default_rng(k).random(T * k),
        np.empty(0),
        1.0,
        out,
    )
    masks = (out / 2.0**i).astype(np.int64)
    assert np.all(out / 2.0**i == masks)
    assert all(bin(x).count("1") == k and not (x >> i) & 1 for x in masks)


@settings(max_examples=30)
@given(
    L=st.integers(min_value=2, max_value=300),
    scale=st.floats(min_value=1e-4, max_value=10.0),
    a=st.floats(min_value=1e-3, max_value=1e3),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_level_decoding_kernel_equals_numpy_anywhere(L, scale, a, seed):
    rng = np.random.default_rng(seed)
    noise = rng.normal(scale=scale * a / L, size=300)
    u = rng.random(300)
    step = a / (L - 1)
    k = np.minimum(np.floor(u * L).astype(int), L - 1)
    dec = np.clip(np.floor(k + noise / step + 0.5), 0, L - 1)
    assert S._decode(noise, u, np.array([L], np.int64), a)[0] == np.count_nonzero(dec != k)


def test_max_coherence_interrupt_keeps_finished_trials(monkeypatch):
    flaky, _ = interrupt_on_call(S._max_abs_cos, 4)
    monkeypatch.setattr(S, "_SMALL_M", 0)
    monkeypatch.setattr(S, "_max_abs_cos", flaky)
    r = S.simulate_max_coherence(20, 8, trials=10, seed=0, **Q)
    assert r.interrupted and r.trials == 3 and r.samples.shape == (3,)


def test_max_levels_interrupt_keeps_finished_chunks(monkeypatch):
    flaky, _ = interrupt_on_call(K.random_noise, 2)
    monkeypatch.setattr(K, "random_noise", flaky)
    r = S.simulate_max_levels(1024, 100, 4, error=0.05, trials=2 * S._CHUNK, seed=0, **Q)
    assert r.curve.interrupted and r.curve.trials == S._CHUNK


@pytest.mark.parametrize("scale", [1e155, 1e-170])
def test_an_embedding_with_huge_or_tiny_entries_reads_like_its_directions(scale):
    # was: std 0.0 at 1e155 (the squared norms overflowed) and "zero rows" at 1e-170
    R = np.random.default_rng(3).standard_normal((40, 8))
    ref = suptheory.simulate_interference(l=2, embedding=R, trials=2000, seed=1, progress=False)
    got = suptheory.simulate_interference(
        l=2, embedding=R * scale, trials=2000, seed=1, progress=False
    )
    assert got.std == pytest.approx(ref.std, rel=1e-12) and got.std > 0.1
    assert got.theory == pytest.approx(ref.theory, rel=1e-12)


def test_an_amplitude_whose_square_overflows_is_a_value_error():
    # was: OverflowError (34, 'Numerical result out of range') from a**2
    with pytest.raises(ValueError, match=r"^a must be in \(0, 1e\+150\]"):
        suptheory.simulate_interference(16, 32, 2, a=1e300, trials=100, progress=False)
