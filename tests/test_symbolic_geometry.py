"""Numeric geometry functions held to their sympy twins (lambdified) on grids."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from numpy.testing import assert_allclose

import suptheory as st
from suptheory import symbolic as sy


def lam(expr, *symbols):
    return sympy.lambdify(symbols, expr, modules=["scipy", "numpy"])


N = np.array([2.0, 3.0, 7.0, 16.0, 100.0, 768.0, 1e4])[:, None]
M = np.array([2.0, 10.0, 300.0, 1e4, 1e6, 1e12])[None, :]
EPS = np.array([0.01, 0.05, 0.1, 0.3, 0.7, 0.95])[None, :]


def test_overlap_density_and_tail():
    dens = lam(sy.overlap_density, sy.t, sy.n)
    tt = np.linspace(-0.95, 0.95, 9)[None, :]
    for n in (3.0, 16.0, 100.0):
        assert_allclose(dens(tt, n), st.overlap_distribution(n).pdf(tt), rtol=1e-10)
    tail = lam(sy.overlap_tail_expr, sy.eps, sy.n)
    ref = tail(EPS, N)
    assert_allclose(st.overlap_tail(EPS, N), ref, rtol=1e-9, atol=1e-300)
    # sympy 1.14's lambdify drops the parentheses of betainc_regularized(...)**(-1), so the
    # greedy twin is checked as the tail's reciprocal: symbolically, then numerically
    assert sympy.simplify(sy.greedy_existence_expr * sy.overlap_tail_expr) == 1
    ok = ref > 1e-300
    assert_allclose(np.asarray(st.greedy_existence(EPS, N))[ok], 1 / ref[ok], rtol=1e-9)


def test_max_coherence_law_and_inverse():
    cdf = lam(sy.max_coherence_cdf_expr, sy.t, sy.m, sy.n)
    tt = np.array([0.05, 0.1, 0.2, 0.4])[:, None, None]
    mm = np.array([10.0, 1e3, 1e5])[None, :, None]
    nn = np.array([64.0, 768.0])[None, None, :]
    # the twin's (1 - T)^C in float64 loses C * 1e-16 relatively (5e-7 at m = 1e5): the
    # library evaluates exp(C log1p(-T)) instead
    assert_allclose(st.max_coherence_cdf(tt, mm, nn), cdf(tt, mm, nn), rtol=1e-6, atol=1e-300)
    # the quantile solves the law; the derived inverse in m recovers m from it
    # 1 - q^(1/C) and log(1 - y) cancel in float64 at large m: evaluate the twins in mpmath
    import mpmath

    mpmath.mp.dps = 40
    level = sympy.lambdify((sy.q, sy.m), sy.max_coherence_tail_level, "mpmath")
    inv_m = sympy.lambdify((sy.tail_level, sy.q), sy.max_coherence_inverse_m, "mpmath")
    for m, n, q in [(1e3, 768.0, 0.5), (1e6, 100.0, 0.9), (50.0, 16.0, 0.1)]:
        t = st.max_coherence_random(m, n, q=q)
        y = st.overlap_tail(t, n)
        assert_allclose(y, float(level(mpmath.mpf(q), mpmath.mpf(m))), rtol=1e-8)
        assert_allclose(float(inv_m(mpmath.mpf(y), mpmath.mpf(q))), m, rtol=1e-7)
    asym = lam(sy.max_coherence_asymptotic_expr, sy.m, sy.n)
    assert_allclose(st.max_coherence_asymptotic(M, N), asym(M, N), rtol=1e-14)


def test_linsefors_and_jl():
    f = lam(sy.linsefors_eps_expr, sy.m, sy.n)
    assert_allclose(st.linsefors_eps(M, N), f(M, N), rtol=1e-14)
    eps = np.asarray(st.linsefors_eps(M, N))
    inv_m = lam(sy.linsefors_inverse_m, sy.eps, sy.n)(eps, N)
    assert_allclose(inv_m, np.broadcast_to(M, eps.shape), rtol=1e-9)
    inv_n = lam(sy.linsefors_inverse_n, sy.eps, sy.m)(eps, M)
    assert_allclose(inv_n, np.broadcast_to(N, eps.shape), rtol=1e-12)
    for convention, expr in sy.jl_exprs.items():
        width = lam(expr, sy.m, sy.eps, sy.beta)(M, EPS.T, 1.5)
        beta = 1.5 if convention == "achlioptas" else None
        ours = st.jl_min_dim(M, EPS.T, convention=convention, beta=beta)
        rounded = np.floor(width) if convention == "sklearn" else np.ceil(width)
        # ceil/floor of the same real number, up to one unit where the expression rounds
        assert np.all(np.abs(ours - rounded) <= (np.abs(width - np.round(width)) < 1e-9))
    # the cubic root: substitute back
    cs = np.array([1e-9, 1e-4, 0.01, 0.1, 0.16])
    root = lam(sy.jl_eps_root, sy.c)(cs)
    assert_allclose(lam(sy.jl_cubic, sy.eps, sy.c)(root, cs), 0.0, atol=1e-15)
    n = 4 * np.log(1e6) / cs
    assert_allclose(st.jl_eps(1e6, n), root, rtol=1e-12)
    simple = lam(sy.jl_simple_eps, sy.m, sy.n)(M, N * 100)
    simple = np.where(simple < 1, simple, np.nan)  # jl_eps: NaN where no eps < 1 is certified
    assert_allclose(st.jl_eps(M, N * 100, convention="simple"), simple, rtol=1e-13)
    e = np.asarray(st.jl_eps(1e6, np.array([1e3, 1e4, 1e5])))
    assert_allclose(
        lam(sy.jl_dasgupta_gupta_inverse_m, sy.eps, sy.n)(e, np.array([1e3, 1e4, 1e5])),
        1e6,
        rtol=1e-9,
    )


def test_bounds_against_twins():
    mm = np.array([3.0, 6.0, 28.0, 100.0, 1e4, 1e9])[None, :]
    nn = np.array([2.0, 3.0, 7.0, 23.0])[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        welch = np.where(mm > nn, lam(sy.welch_bound_expr, sy.m, sy.n)(mm, nn), np.nan)
    assert_allclose(st.welch_bound(mm, nn), welch, rtol=1e-13)
    packed = mm > nn * (nn + 1) / 2
    assert_allclose(
        st.orthoplex_bound(mm, nn),
        np.where(packed, lam(sy.orthoplex_bound_expr, sy.n)(nn + 0 * mm), np.nan),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        lev = np.where(packed, lam(sy.levenshtein_bound_expr, sy.m, sy.n)(mm, nn), np.nan)
    assert_allclose(st.levenshtein_bound(mm, nn), lev, rtol=1e-13)
    for k in (1, 2, 3, 5):
        with np.errstate(invalid="ignore", divide="ignore"):
            how = lam(sy.higher_order_welch_expr.subs(sy.k, k), sy.m, sy.n)(mm, nn)
        how = np.where(how > 0, how, np.nan)  # vacuous (m c_k <= 1): NaN by contract
        assert_allclose(st.higher_order_welch_bound(mm, nn, k=k), how, rtol=1e-10)
    assert_allclose(st.gerzon_bound(nn), lam(sy.gerzon_bound_expr, sy.n)(nn))
    assert_allclose(
        st.rank_bound(M, EPS.T), lam(sy.rank_bound_expr, sy.m, sy.eps)(M, EPS.T), rtol=1e-14
    )
    small = np.array([0.001, 0.01, 0.05])
    assert_allclose(
        st.rank_max_features(100.0, small),
        lam(sy.rank_max_features_expr, sy.n, sy.eps)(100.0, small),
        rtol=1e-13,
    )
    assert_allclose(
        st.kabatiansky_levenshtein_rate(EPS, N),
        lam(sy.kabatiansky_levenshtein_expr, sy.eps, sy.n)(EPS, N),
        rtol=1e-12,
    )
    assert_allclose(
        st.kabatiansky_levenshtein_cheap(EPS, N),
        lam(sy.kabatiansky_levenshtein_cheap_expr, sy.eps, sy.n)(EPS, N),
        rtol=1e-13,
    )


@pytest.mark.parametrize("mu", [0.05, 0.1, 0.2])
def test_bound_inverses_in_m(mu):
    n = 23.0
    m_w = lam(sy.welch_inverse_m, sy.mu_level, sy.n)(mu, n)
    if m_w > n:
        assert_allclose(st.welch_bound(m_w, n), mu, rtol=1e-12)
    m_l = lam(sy.levenshtein_inverse_m, sy.mu_level, sy.n)(mu, n)
    if m_l > n * (n + 1) / 2:
        assert_allclose(st.levenshtein_bound(m_l, n), mu, rtol=1e-12)


def test_dmm_twin():
    delta_z = lam(sy.dmm_delta_of_zeta, sy.zeta, sy.kappa)
    rho_z = lam(sy.dmm_rho_of_zeta, sy.zeta)
    ratio = lam(sy.dmm_ratio, sy.zeta, sy.delta, sy.kappa)
    zs = np.array([0.1, 0.5, 0.877, 1.5, 3.0])
    for kappa, signed in ((2.0, True), (1.0, False)):
        d = delta_z(zs, kappa)
        assert_allclose(st.cs_phase_transition(d, signed=signed), rho_z(zs), rtol=1e-9)
        # at the optimum the ratio equals rho(z): the parametric form is the maximum
        assert_allclose(ratio(zs, d, kappa), rho_z(zs), rtol=1e-9)
