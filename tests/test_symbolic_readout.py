"""The read-out functions against their sympy twins (lambdified) on grids."""
# ruff: noqa: E741  (l is THEORY.md's name for the number of active features)

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
    """Values for the worst / optimal models' overlap symbols, from the numeric layer."""
    if model == "worst":
        return {S.L: max_coherence_random(M, N)}
    if model == "optimal":
        return {S.mu: coherence_lower_bound(M, N)}
    return {}


@pytest.mark.parametrize("model", ["linsefors", "random", "worst", "optimal"])
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
    lev_err = _f(S.readout_levels_error[model], S.error, *syms)(ERR, *vals)
    assert_allclose(
        st_.distinguishable_levels(N, M, LL, A, model=model, error=ERR), lev_err, rtol=1e-10
    )


def test_closed_form_inverses():
    lm = _f(S.readout_log_max_features["linsefors"], S.n, S.l, S.snr)(N, LL, SNR)
    assert_allclose(st_.log_max_features(N, LL, SNR, model="linsefors"), lm, rtol=1e-13)
    for model in ("linsefors", "random"):
        nm = _f(S.readout_min_width[model], S.m, S.l, S.snr)(M, LL, SNR)
        assert_allclose(st_.min_width(M, LL, SNR, model=model), nm, rtol=1e-13)


def test_error_budget_forms():
    z = _f(S.readout_z_union, S.error, S.m)(ERR, M)
    # random model, capacity under the union bound: a / sigma = 2 z(error / m)
    assert_allclose(st_.max_active(N, M, error=ERR), N / (2 * z) ** 2, rtol=1e-10)
    with np.errstate(divide="ignore"):  # erfc underflows for wide layers: compare the rest
        lm = _f(S.random_log_max_features_error, S.n, S.l, S.a, S.error)(N, LL, A, ERR)
    ok = np.isfinite(lm)
    assert ok.sum() > 50
    got = st_.log_max_features(N, LL, error=ERR)
    assert_allclose(got[ok], lm[ok], rtol=1e-9, atol=1e-9)


def test_seed_is_the_union_bound_at_margin_one_half():
    at_half = S.union_bound_log_m.subs({S.theta: sympy.Rational(1, 2), S.error: 1})
    assert sympy.simplify(at_half - S.readout_log_max_features["linsefors"].subs(S.snr, 1)) == 0


def test_welch_inverse_is_the_optimal_capacity_where_welch_binds():
    n = np.array([3.0, 7.0, 23.0, 768.0])
    mu2 = np.array([1 / 5, 1 / 9, 1 / 25, 0.00125])
    m = _f(S.welch_max_features, S.n, S.mu)(n, np.sqrt(mu2))
    assert_allclose(m, [6, 28, 276, n[3] * (1 - mu2[3]) / (1 - n[3] * mu2[3])], rtol=1e-12)
    assert_allclose(st_.max_features(n, 1 / mu2, model="optimal"), m, rtol=1e-9)


def test_phase_transition_parametrisation():
    zz = np.linspace(0.05, 8, 60)
    rho = _f(S.cs_rho_z, S.z)(zz)
    delta = _f(S.cs_delta_z, S.z)(zz)
    assert_allclose(cs_phase_transition(delta), rho, rtol=1e-8)
    n = 1000.0
    assert_allclose(st_.max_active(n, n / delta, model="l1"), n * rho, rtol=1e-8)
    assert_allclose(st_.max_features(n, n * rho, model="l1"), n / delta, rtol=1e-8)
