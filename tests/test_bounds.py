"""Coherence bounds against explicit constructions, hand derivations and each other."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate

from suptheory import (
    coherence_lower_bound,
    expected_max_coherence_random,
    gerzon_bound,
    greedy_existence,
    higher_order_welch_bound,
    kabatiansky_levenshtein_cheap,
    kabatiansky_levenshtein_rate,
    levenshtein_bound,
    log_greedy_existence,
    orthoplex_bound,
    rank_bound,
    rank_max_features,
    welch_bound,
)

# ----------------------------------------------------------------------------- constructions


def coherence(W: np.ndarray) -> float:
    W = np.asarray(W, dtype=float)
    W = W / np.linalg.norm(W, axis=1, keepdims=True)
    G = np.abs(W @ W.T)
    np.fill_diagonal(G, 0.0)
    return float(G.max())


def three_lines_r2() -> np.ndarray:
    ang = np.pi * np.arange(3) / 3
    return np.c_[np.cos(ang), np.sin(ang)]


def icosahedron_diagonals() -> np.ndarray:
    phi = (1 + 5**0.5) / 2
    return np.array(
        [[0, 1, phi], [0, 1, -phi], [1, phi, 0], [1, -phi, 0], [phi, 0, 1], [-phi, 0, 1]]
    )


def lines_28_in_r7() -> np.ndarray:
    """e_i + e_j - (1/4) 1 in R^8 (i < j): 28 vectors in the hyperplane sum = 0 (R^7)."""
    rows = []
    for i, j in itertools.combinations(range(8), 2):
        v = np.full(8, -0.25)
        v[i] += 1
        v[j] += 1
        rows.append(v)
    W = np.array(rows)
    # coordinates in an orthonormal basis of the hyperplane: an honest (28, 7) embedding
    basis = np.linalg.svd(W)[2][:7]
    return W @ basis.T


def seven_lines_r3() -> np.ndarray:
    """3 axes and 4 cube diagonals: overlaps 0, 1/sqrt(3) and 1/3."""
    axes = np.eye(3)
    diag = np.array([[1, 1, 1], [1, 1, -1], [1, -1, 1], [-1, 1, 1]], dtype=float)
    return np.vstack([axes, diag])


def test_constructions_have_the_right_shape():
    assert lines_28_in_r7().shape == (28, 7)
    assert np.linalg.matrix_rank(lines_28_in_r7()) == 7
    assert icosahedron_diagonals().shape == (6, 3)


@pytest.mark.parametrize(
    "W, n, mu",
    [
        (three_lines_r2(), 2, 1 / 2),
        (icosahedron_diagonals(), 3, 1 / 5**0.5),
        (lines_28_in_r7(), 7, 1 / 3),
    ],
)
def test_equiangular_tight_frames_meet_welch(W, n, mu):
    m = W.shape[0]
    assert_allclose(coherence(W), mu, rtol=1e-12)
    assert_allclose(welch_bound(m, n), mu, rtol=1e-12)
    assert_allclose(coherence_lower_bound(m, n), mu, rtol=1e-12)
    # equiangular: every pair at the same |overlap|
    Wn = W / np.linalg.norm(W, axis=1, keepdims=True)
    G = np.abs(Wn @ Wn.T)[np.triu_indices(m, 1)]
    assert_allclose(G, mu, rtol=1e-10)
    # and Gerzon's bound is attained in R^2, R^3 and R^7
    assert gerzon_bound(n) == m
    # the rank lemma is tight for them too: rank = n exactly
    assert_allclose(rank_bound(m, mu), n, rtol=1e-12)


def test_gerzon_values():
    assert [gerzon_bound(n) for n in (1, 2, 3, 7, 23)] == [1, 3, 6, 28, 276]
    assert isinstance(gerzon_bound(5), int)
    assert_allclose(gerzon_bound(np.array([2, 3])), [3.0, 6.0])


def test_orthoplex_attained_by_seven_lines_in_r3():
    # Conway-Hardin-Sloane: 7 lines in R^3 at arccos(1/sqrt 3) are optimal
    W = seven_lines_r3()
    assert_allclose(coherence(W), 1 / 3**0.5, rtol=1e-12)
    assert_allclose(orthoplex_bound(7, 3), 1 / 3**0.5, rtol=1e-15)
    assert_allclose(coherence_lower_bound(7, 3), 1 / 3**0.5, rtol=1e-15)
    assert math.isnan(orthoplex_bound(6, 3))


def test_levenshtein_hand_values():
    # n = 3, m = 7: (21 - 9 - 6) / (5 * 4) = 3/10
    assert_allclose(levenshtein_bound(7, 3), math.sqrt(0.3), rtol=1e-15)
    # n = 3, m = 100: (300 - 15) / (5 * 97)
    assert_allclose(levenshtein_bound(100, 3), math.sqrt(285 / 485), rtol=1e-15)
    # 276 lines in R^23 at 1/5 (the ETF from the Leech lattice) meet Welch; at m = n(n+1)/2
    # Levenshtein's expression equals Welch's, so just above it both are 1/5
    assert_allclose(welch_bound(276, 23), 0.2, rtol=1e-14)
    assert math.isnan(levenshtein_bound(276, 23))  # applies only for m > n (n + 1)/2
    assert_allclose(levenshtein_bound(276 + 1e-6, 23), 0.2, rtol=1e-7)
    # limit sqrt(3 / (n + 2))
    assert_allclose(levenshtein_bound(1e15, 10), math.sqrt(3 / 12), rtol=1e-12)
    assert math.isnan(levenshtein_bound(6, 3))
    # it beats the orthoplex bound exactly from m = n (n + 2)/2 on
    n = 10
    assert levenshtein_bound(n * (n + 2) / 2 + 1, n) > orthoplex_bound(n * (n + 2) / 2 + 1, n)
    assert levenshtein_bound(n * (n + 1) / 2 + 1, n) < orthoplex_bound(n * (n + 1) / 2 + 1, n)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 100, 2.5])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_higher_order_welch_constant_is_the_overlap_moment(n, k):
    # c_k = E t^{2k} for random unit vectors: recover it from the bound at m -> inf
    m = 1e300
    if n == 1:
        assert higher_order_welch_bound(m, n, k=k) == 1.0
        return
    # E t^{2k} by quadrature of the density (scipy's shifted .moment loses digits here)
    e = (n - 3) / 2  # density c (1 - t)^e (1 + t)^e: quad takes the weight exactly
    c = math.exp(math.lgamma(n / 2) - 0.5 * math.log(math.pi) - math.lgamma((n - 1) / 2))
    if n < 3:  # singular at +-1
        ck = c * integrate.quad(lambda t: t ** (2 * k), -1, 1, weight="alg", wvar=(e, e))[0]
    else:
        f = lambda t: t ** (2 * k) * (1 - t * t) ** e  # noqa: E731
        ck = 2 * c * integrate.quad(f, 0, 1, epsabs=0, epsrel=1e-13)[0]
    assert_allclose(higher_order_welch_bound(m, n, k=k), ck ** (1 / (2 * k)), rtol=1e-9)


def test_higher_order_welch_k1_is_welch():
    m = np.array([10.0, 100.0, 1e6])
    assert_allclose(higher_order_welch_bound(m, 7, k=1), welch_bound(m, 7), rtol=1e-12)
    assert math.isnan(higher_order_welch_bound(3, 7, k=2))  # vacuous: m c_k <= 1


def test_not_applicable_is_nan_and_zero():
    assert math.isnan(welch_bound(5, 5))
    assert coherence_lower_bound(5, 5) == 0.0
    assert coherence_lower_bound(1, 1) == 0.0
    assert coherence_lower_bound(np.array([2.0, 3.0]), 7).tolist() == [0.0, 0.0]


def test_rank_lemma_and_inverse():
    assert_allclose(rank_max_features(rank_bound(1e4, 0.05), 0.05), 1e4, rtol=1e-10)
    assert rank_max_features(100, 0.2) == math.inf
    assert_allclose(rank_max_features(100, 0.05), 100 * (1 - 0.0025) / (1 - 0.25), rtol=1e-15)


def test_greedy_and_kl_numbers():
    # greedy count = 1 / tail, so ln m ~ n eps^2 / 2 for small eps and large n
    assert_allclose(log_greedy_existence(0.01, 1e8) / (1e8 * 1e-4 / 2), 1.0, rtol=2e-3)
    assert_allclose(math.log(greedy_existence(0.2, 768)), log_greedy_existence(0.2, 768))
    assert greedy_existence(0.5, 1e6) == math.inf
    assert math.isfinite(log_greedy_existence(0.5, 1e6))
    # Tao's cheap form: (n eps^2 / 4) ln(4 e / eps^2), hand value
    assert_allclose(kabatiansky_levenshtein_cheap(0.1, 100), 0.25 * math.log(400 * math.e))


def test_kabatiansky_levenshtein_1978_rate():
    # (1/n) log2 M <= ((1+s)/(2s)) log2((1+s)/(2s)) - ((1-s)/(2s)) log2((1-s)/(2s)),
    # s = sin(theta), cos(theta) = eps: 0.025384 bits per dimension at eps 0.1, 0.401414 at 0.5
    bits = np.asarray(kabatiansky_levenshtein_rate([0.1, 0.5], 1.0)) / math.log(2)
    assert_allclose(bits, [0.025384, 0.401414], atol=5e-7)
    # the cheap form is weaker, up to 15% below at eps = 0.5, and agrees in order at small eps
    ratio = kabatiansky_levenshtein_cheap(0.5, 1.0) / kabatiansky_levenshtein_rate(0.5, 1.0)
    assert 0.84 < ratio < 0.86
    eps = np.array([1e-3, 1e-2, 0.1, 0.3, 0.6, 0.9])
    assert np.all(kabatiansky_levenshtein_cheap(eps, 1) <= kabatiansky_levenshtein_rate(eps, 1))
    # no code beats it: the greedy existence bound (achievable) lies below
    assert np.all(
        log_greedy_existence(eps[2:], 4096) <= kabatiansky_levenshtein_rate(eps[2:], 4096)
    )


# ----------------------------------------------------------------------------- laws

int_m = st.integers(min_value=2, max_value=60)
int_n = st.integers(min_value=1, max_value=12)


@given(m=int_m, n=int_n, seed=st.integers(0, 2**32 - 1))
@example(m=28, n=7, seed=0)
def test_lower_bound_below_any_actual_arrangement(m, n, seed):
    W = np.random.default_rng(seed).standard_normal((m, n))
    lb = coherence_lower_bound(m, n)
    assert lb <= coherence(W) + 1e-12
    for f in (welch_bound, orthoplex_bound, levenshtein_bound):
        b = f(m, n)
        assert math.isnan(b) or b <= lb + 1e-15
    for k in (2, 3, 4):
        b = higher_order_welch_bound(m, n, k=k)
        assert math.isnan(b) or b <= lb + 1e-15


@given(m=st.integers(min_value=2, max_value=10**9), n=st.integers(min_value=2, max_value=10**5))
@example(m=2, n=2)
@example(m=3, n=2)
def test_lower_bound_below_random_mean(m, n):
    assert coherence_lower_bound(m, n) <= expected_max_coherence_random(m, n)


@given(
    m=st.floats(min_value=1.0, max_value=1e30),
    n=st.floats(min_value=1.0, max_value=1e6),
    factor=st.floats(min_value=1.0, max_value=100.0),
)
def test_lower_bound_monotone(m, n, factor):
    base = coherence_lower_bound(m, n)
    assert 0.0 <= base <= 1.0
    assert coherence_lower_bound(m * factor, n) >= base - 1e-15
    assert coherence_lower_bound(m, n * factor) <= base + 1e-15


@given(n=st.floats(min_value=1.0, max_value=1e5), eps=st.floats(min_value=1e-4, max_value=0.99))
def test_greedy_below_rank_cap(n, eps):
    # a construction cannot beat an upper bound: greedy count <= rank-lemma maximum
    assert log_greedy_existence(eps, n) <= math.log(rank_max_features(n, eps)) + 1e-9


# ----------------------------------------------------------------------------- bad input

ALL_MN = [
    welch_bound,
    orthoplex_bound,
    levenshtein_bound,
    coherence_lower_bound,
    higher_order_welch_bound,
]


@pytest.mark.parametrize("f", ALL_MN)
@pytest.mark.parametrize("bad", [0, -2, np.nan, np.inf, "7"])
def test_bad_m_n(f, bad):
    with pytest.raises((ValueError, TypeError), match="m must"):
        f(bad, 7)
    with pytest.raises((ValueError, TypeError), match="n must"):
        f(28, bad)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, np.nan, np.inf, "0.1"])
def test_bad_eps(bad):
    for f in (rank_bound,):
        with pytest.raises((ValueError, TypeError), match="eps must"):
            f(100, bad)
    for f in (
        rank_max_features,
        greedy_existence,
        log_greedy_existence,
        kabatiansky_levenshtein_rate,
        kabatiansky_levenshtein_cheap,
    ):
        args = (100, bad) if f is rank_max_features else (bad, 100)
        with pytest.raises((ValueError, TypeError), match="eps must"):
            f(*args)


@pytest.mark.parametrize("bad", [0, -1, np.nan, np.inf, "3"])
def test_bad_n_single(bad):
    for call in (
        lambda: gerzon_bound(bad),
        lambda: rank_max_features(bad, 0.1),
        lambda: greedy_existence(0.1, bad),
        lambda: kabatiansky_levenshtein_rate(0.1, bad),
    ):
        with pytest.raises((ValueError, TypeError), match="n must"):
            call()


def test_bad_k_and_fractional_gerzon():
    with pytest.raises(ValueError, match="k must"):
        higher_order_welch_bound(100, 7, k=0)
    with pytest.raises(TypeError, match="k must"):
        higher_order_welch_bound(100, 7, k="2")
    with pytest.raises(ValueError, match="n must be a whole number"):
        gerzon_bound(2.5)


def test_extremes_finite():
    for f in ALL_MN:
        out = f(1e30, 1e7)
        assert math.isnan(out) or math.isfinite(out)
    assert math.isfinite(coherence_lower_bound(1e300, 2))
    assert math.isfinite(log_greedy_existence(0.999, 1e7))


def test_higher_order_welch_at_large_order_is_the_product_form_in_constant_time():
    # was: k = 10**7 ran a 10**7-step loop (7.7 s); past order 64 the Gamma form is used
    from suptheory.theory.bounds import _log_welch_moment

    n = np.array([1.0, 3.0, 10.0, 768.0, 1e6])
    for k in (65, 200, 1000):
        product = sum(np.log((2.0 * j - 1.0) / (n + 2.0 * j - 2.0)) for j in range(1, k + 1))
        np.testing.assert_allclose(_log_welch_moment(n, k), product, rtol=1e-11, atol=1e-12)
    assert math.isnan(higher_order_welch_bound(100, 10, k=10**7))  # vacuous there: m c_k < 1
    assert 0.99 < higher_order_welch_bound(1e300, 10, k=10**7) <= 1.0


def test_kabatiansky_levenshtein_rate_tiny_eps():
    """Below eps ~ 1e-8, s = sin(theta) rounds to 1 and hi ln hi lost its eps^2/4 term."""
    from suptheory import kabatiansky_levenshtein_cheap, kabatiansky_levenshtein_rate

    assert kabatiansky_levenshtein_rate(1e-300, 768) == 0.0  # underflows: exact value < 1e-590
    # leading order equals the cheap form n eps^2 / 4 (ln(4 / eps^2) + 1)
    assert_allclose(
        kabatiansky_levenshtein_rate(1e-9, 1), kabatiansky_levenshtein_cheap(1e-9, 1), rtol=1e-9
    )
