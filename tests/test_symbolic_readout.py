"""The read-out functions against their sympy twins (lambdified) on grids."""
# ruff: noqa: E741  (l is the project's name for the number of active features)

import numpy as np
import pytest
import sympy
from numpy.testing import assert_allclose

import suptheory as st_
import suptheory.symbolic as S
from suptheory.theory.bounds import coherence_lower_bound
from suptheory.theory.compressed_sensing import cs_phase_transition
from suptheory.theory.overlaps import max_coherence_random

rng = np.random.default_rng(11)
N = rng.uniform(16, 1e5, 200)
M = N * rng.uniform(1.5, 1e4, 200)
LL = rng.uniform(0.1, 300, 200)
A = rng.uniform(0.1, 10, 200)
SNR = rng.uniform(0.2, 5, 200)
ERR = 10 ** rng.uniform(-12, -0.1, 200)


def _f(expr, *syms):
    return sympy.lambdify(syms, expr, modules=["scipy", "numpy"])


def _extra(model):
    """Values for the worst / packing models' overlap symbols, from the numeric layer."""
    if model == "worst":
        return {S.L: max_coherence_random(M, N)}
    if model == "packing":
        return {S.mu: coherence_lower_bound(M, N)}
    return {}


@pytest.mark.parametrize("model", ["random", "optimal", "linsefors", "worst", "packing"])
def test_noise_levels_and_max_active(model):
    ex = _extra(model)
    syms = (S.n, S.m, S.l, S.a, S.snr, *ex)
    vals = (N, M, LL, A, SNR, *ex.values())
    noise = _f(S.readout_noise[model], *syms)(*vals)
    assert_allclose(st_.interference(N, M, LL, A, model=model), noise, rtol=1e-12)
    levels = _f(S.readout_levels[model], *syms)(*vals)
    assert_allclose(
        st_.distinguishable_levels(N, M, LL, A, model=model, snr=SNR), levels, rtol=1e-12
    )
    l_max = _f(S.readout_max_active[model], *syms)(*vals)
    assert_allclose(st_.max_active(N, M, snr=SNR, model=model), l_max * np.ones_like(N), rtol=1e-12)
    if model != "random":  # normal noise: the levels equation (with end levels) holds at L
        lev = st_.distinguishable_levels(N, M, LL, A, model=model, error=ERR)
        resid = _f(S.readout_levels_error_equation[model], S.levels, S.error, *syms)(
            lev, ERR, *vals
        )
        assert_allclose(resid / ERR, 0.0, atol=1e-8)


def test_closed_form_inverses():
    lm = _f(S.readout_log_max_features["linsefors"], S.n, S.l, S.snr)(N, LL, SNR)
    assert_allclose(st_.log_max_features(N, LL, SNR, model="linsefors"), lm, rtol=1e-13)
    for model in ("linsefors", "random", "optimal"):
        nm = _f(S.readout_min_width[model], S.m, S.l, S.snr)(M, LL, SNR)
        ok = nm >= 1  # below one neuron the floor is the random value (a convention)
        assert_allclose(st_.min_width(M, LL, SNR, model=model)[ok], nm[ok], rtol=1e-12)
    big = N / SNR**2 * rng.uniform(1.01, 50, 200)  # l snr^2 > n: the floor caps m
    mm = _f(S.readout_max_features["optimal"], S.n, S.l, S.snr)(N, big, SNR)
    assert_allclose(st_.max_features(N, big, SNR, model="optimal"), mm, rtol=1e-9)


def test_error_budget_forms():
    # rms floor: one-sided union bound, a / sigma = 2 Phi^{-1}(1 - error / m)
    z = _f(S.readout_z_rms, S.error, S.m)(ERR, M)
    lmax = _f(S.readout_max_active["optimal"], S.n, S.m, S.snr)(N, M, 2 * z)
    # max_active is the closed form capped at the m - 1 others
    lmax = np.minimum(lmax, M - 1)
    assert_allclose(st_.max_active(N, M, error=ERR, model="optimal"), lmax, rtol=1e-9)
    # largest-overlap proxies: one read-out, a / sigma = 2 Phi^{-1}(1 - error)
    z1 = _f(S.readout_z_proxy, S.error)(ERR)
    lmax = np.minimum(_f(S.readout_max_active["linsefors"], S.n, S.m, S.snr)(N, M, 2 * z1), M - 1)
    got = st_.max_active(N, M, error=ERR, model="linsefors")
    small = ERR < 0.5  # P(Z > a/2) <= 1/2 always: a budget of 1/2 or more never binds
    assert_allclose(got[small], lmax[small], rtol=1e-9)
    assert np.all(got[~small] == M[~small] - 1)  # every other feature may be active
    # random model at l = 1: the exact Beta tail
    nn = N[:40]
    lm = np.array(
        [
            float(S.random_log_max_features_error_l1.subs({S.n: v, S.error: e}).evalf(30))
            for v, e in zip(nn, ERR[:40], strict=True)
        ]
    )
    assert_allclose(st_.log_max_features(nn, 1.0, error=ERR[:40]), lm, rtol=1e-10)


def test_linsefors_is_the_union_bound_at_margin_one_half():
    at_half = S.union_bound_log_m.subs({S.theta: sympy.Rational(1, 2), S.error: 1})
    assert sympy.simplify(at_half - S.readout_log_max_features["linsefors"].subs(S.snr, 1)) == 0


def test_welch_inverse_is_the_packing_capacity_where_welch_binds():
    n = np.array([3.0, 7.0, 23.0, 768.0])
    mu2 = np.array([1 / 5, 1 / 9, 1 / 25, 0.00125])
    m = _f(S.welch_max_features, S.n, S.mu)(n, np.sqrt(mu2))
    assert_allclose(m, [6, 28, 276, n[3] * (1 - mu2[3]) / (1 - n[3] * mu2[3])], rtol=1e-12)
    assert_allclose(st_.max_features(n, 1 / mu2, model="packing"), m, rtol=1e-9)


def test_phase_transition_parametrisation():
    zz = np.linspace(0.05, 8, 60)
    rho = _f(S.cs_rho_z, S.z)(zz)
    delta = _f(S.cs_delta_z, S.z)(zz)
    assert_allclose(cs_phase_transition(delta), rho, rtol=1e-8)
    n = 1000.0
    assert_allclose(st_.max_active(n, n / delta, model="l1"), n * rho, rtol=1e-8)
    assert_allclose(st_.max_features(n, n * rho, model="l1"), n / delta, rtol=1e-8)
