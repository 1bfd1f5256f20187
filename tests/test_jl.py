"""Johnson-Lindenstrauss conventions against scikit-learn and their own definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.random_projection import johnson_lindenstrauss_min_dim

from suptheory import JL_CONVENTIONS, jl_eps, jl_min_dim, linsefors_eps


def test_sklearn_docstring_examples():
    assert jl_min_dim(1e6, eps=0.5, convention="sklearn") == 663
    assert jl_min_dim(1e6, eps=0.5) == 664  # Dasgupta-Gupta: the ceiling
    assert_array_equal(
        jl_min_dim(1e6, eps=[0.5, 0.1, 0.01], convention="sklearn"), [663, 11841, 1112658]
    )
    assert_array_equal(
        jl_min_dim([1e4, 1e5, 1e6], eps=0.1, convention="sklearn"), [7894, 9868, 11841]
    )


def test_sklearn_identical_on_a_grid():
    m = np.unique(np.round(np.geomspace(1, 1e30, 400)))
    eps = np.linspace(0.001, 0.999, 300)
    M, E = np.meshgrid(m, eps)
    ours = jl_min_dim(M, E, convention="sklearn")
    theirs = johnson_lindenstrauss_min_dim(M, eps=E)
    assert_array_equal(ours, theirs.astype(np.float64))


@given(m=st.integers(min_value=1, max_value=10**15), eps=st.floats(0.001, 0.999))
@example(m=1, eps=0.5)
def test_sklearn_identical_hypothesis(m, eps):
    theirs = int(johnson_lindenstrauss_min_dim(m, eps=eps))
    assert jl_min_dim(m, eps, convention="sklearn") == theirs


def test_types():
    assert isinstance(jl_min_dim(1e6, 0.1), int)
    out = jl_min_dim([1e6], 0.1)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    # huge widths stay exact as Python ints (beyond the int64 range)
    big = jl_min_dim(1e30, 1e-9, convention="simple")
    assert isinstance(big, int) and big > 2**63


@given(m=st.floats(min_value=1.0, max_value=1e30), eps=st.floats(0.001, 0.999))
def test_definitions_and_order(m, eps):
    log_m = math.log(m)
    g = eps**2 / 2 - eps**3 / 3
    dg = jl_min_dim(m, eps)
    sk = jl_min_dim(m, eps, convention="sklearn")
    simple = jl_min_dim(m, eps, convention="simple")
    ach = jl_min_dim(m, eps, convention="achlioptas", beta=1.0)
    # each is the smallest whole number satisfying its inequality (tolerance for rounding)
    assert dg >= 4 * log_m / g * (1 - 1e-12) and dg - 1 < 4 * log_m / g * (1 + 1e-12)
    assert simple >= 8 * log_m / eps**2 * (1 - 1e-12)
    assert ach >= 6 * log_m / g * (1 - 1e-12)
    # conventions' order: sklearn <= Dasgupta-Gupta <= Achlioptas, simple <= Dasgupta-Gupta
    assert sk <= dg <= sk + 1
    assert simple <= dg <= ach


@given(beta=st.floats(0.01, 10.0), factor=st.floats(1.01, 10.0))
def test_achlioptas_monotone_in_beta(beta, factor):
    assert jl_min_dim(1e6, 0.2, convention="achlioptas", beta=beta * factor) >= jl_min_dim(
        1e6, 0.2, convention="achlioptas", beta=beta
    )


@pytest.mark.parametrize("convention", JL_CONVENTIONS)
@given(m=st.floats(min_value=2.0, max_value=1e30), eps=st.floats(0.01, 0.99))
def test_jl_eps_inverts_min_dim(convention, m, eps):
    beta = 0.5 if convention == "achlioptas" else None
    n = jl_min_dim(m, eps, convention=convention, beta=beta)
    if n == 0:
        return
    e = jl_eps(m, n, convention=convention, beta=beta)
    # the width certifies e (to rounding) and e is no larger than the eps we started from
    assert e <= eps * (1 + 1e-9)
    assert jl_min_dim(m, min(e * (1 + 1e-9), 0.999999), convention=convention, beta=beta) <= n
    if e > 0.01:
        assert jl_min_dim(m, e * (1 - 1e-6), convention=convention, beta=beta) > n - (
            1 if convention == "sklearn" else 0
        )


def test_jl_eps_cubic_root_exact():
    # eps^2/2 - eps^3/3 = c solved by the trigonometric form: check by substitution
    c = np.array([1e-12, 1e-6, 1e-3, 0.05, 0.1, 1 / 6 - 1e-12])
    n = 4 * np.log(1e6) / c
    e = np.asarray(jl_eps(1e6, n))
    assert_allclose(e**2 / 2 - e**3 / 3, c, rtol=1e-12)
    assert jl_eps(1, 100) == 0.0
    assert math.isnan(jl_eps(1e6, 10))  # no eps < 1 is certified by 10 dimensions
    assert_allclose(jl_eps(1e6, 1000, convention="simple"), linsefors_eps(1e6, 1000))


def test_linsefors_eps_values():
    assert_allclose(linsefors_eps(1e4, 1000), math.sqrt(8 * math.log(1e4) / 1000), rtol=1e-15)
    assert linsefors_eps(1, 10) == 0.0
    assert linsefors_eps(1e30, 1) > 1  # not clipped
    assert math.isfinite(linsefors_eps(1e30, 1e7))


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [0, 1, -0.5, 1.5, np.nan, np.inf, "0.1", None])
def test_bad_eps(bad):
    with pytest.raises((ValueError, TypeError), match="eps must"):
        jl_min_dim(1e6, bad)


@pytest.mark.parametrize("bad", [0, 0.5, -1, np.nan, np.inf, "1e6"])
def test_bad_m(bad):
    with pytest.raises((ValueError, TypeError), match="m must"):
        jl_min_dim(bad, 0.1)
    with pytest.raises((ValueError, TypeError), match="m must"):
        jl_eps(bad, 100)
    with pytest.raises((ValueError, TypeError), match="m must"):
        linsefors_eps(bad, 100)


@pytest.mark.parametrize("bad", [0, -1, np.nan, np.inf, "768"])
def test_bad_n(bad):
    with pytest.raises((ValueError, TypeError), match="n must"):
        jl_eps(1e6, bad)
    with pytest.raises((ValueError, TypeError), match="n must"):
        linsefors_eps(1e6, bad)


def test_bad_convention_and_beta():
    with pytest.raises(ValueError, match="convention must be one of"):
        jl_min_dim(1e6, 0.1, convention="jl")
    with pytest.raises(TypeError, match="convention must be"):
        jl_min_dim(1e6, 0.1, convention=3)
    with pytest.raises(ValueError, match="beta is required"):
        jl_min_dim(1e6, 0.1, convention="achlioptas")
    with pytest.raises(ValueError, match="beta must"):
        jl_min_dim(1e6, 0.1, convention="achlioptas", beta=0)
    with pytest.raises(ValueError, match="beta is only used"):
        jl_min_dim(1e6, 0.1, convention="simple", beta=1.0)
    with pytest.raises(ValueError, match="convention must be one of"):
        jl_eps(1e6, 100, convention="nope")


@pytest.mark.parametrize("convention", ["dasgupta-gupta", "sklearn", "simple"])
def test_jl_min_dim_one_point_tiny_eps(convention):
    """m = 1 needs no width even where eps^2 underflows (was 0 / 0 = NaN)."""
    assert jl_min_dim(1, 1e-300, convention=convention) == 0
    assert jl_min_dim(2, 1e-300, convention=convention) == math.inf
    assert_array_equal(jl_min_dim([1, 2], 1e-300, convention=convention), [0.0, math.inf])
