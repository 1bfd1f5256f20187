"""The Donoho-Tanner weak threshold against two independent routes and published values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import integrate, optimize, stats

from suptheory import cs_phase_transition


def dmm_direct(delta: float, kappa: float) -> float:
    """Donoho-Maleki-Montanari: maximise the ratio over z numerically (no stationarity)."""

    def ratio(z: float) -> float:
        g = (1 + z * z) * stats.norm.sf(z) - z * stats.norm.pdf(z)
        return (1 - kappa / delta * g) / (1 + z * z - kappa * g)

    res = optimize.minimize_scalar(
        lambda z: -ratio(z), bounds=(0.0, 12.0), method="bounded", options={"xatol": 1e-12}
    )
    return -res.fun


def statistical_dimension(eps: float, kappa: float) -> float:
    """Amelunxen-Lotz-McCoy-Tropp (2014), Prop. 4.5: normalised statistical dimension of the
    l1 descent cone at a vector with a fraction eps of non-zeros (kappa = 2 signed, 1 for the
    non-negative orthant), with the Gaussian integral done by quadrature."""

    def tail_sq(tau: float) -> float:
        f = lambda u: (u - tau) ** 2 * math.exp(-u * u / 2) / math.sqrt(2 * math.pi)  # noqa: E731
        return integrate.quad(f, tau, np.inf, epsabs=1e-14, epsrel=1e-12)[0]

    def objective(tau: float) -> float:
        return eps * (1 + tau * tau) + (1 - eps) * kappa * tail_sq(tau)

    res = optimize.minimize_scalar(
        objective, bounds=(0.0, 10.0), method="bounded", options={"xatol": 1e-10}
    )
    return res.fun


@pytest.mark.parametrize(
    "delta, signed, published",
    # Donoho-Maleki-Montanari (2009) / Donoho-Tanner weak thresholds, 3 decimals
    [(0.19, True, 0.238), (0.19, False, 0.318), (0.5, True, 0.386), (0.5, False, 0.558)],
)
def test_published_values(delta, signed, published):
    assert round(cs_phase_transition(delta, signed=signed), 3) == published


@pytest.mark.parametrize("delta", [1e-4, 0.01, 0.05, 0.19, 0.3, 0.5, 0.7, 0.9, 0.99])
@pytest.mark.parametrize("signed", [True, False])
def test_against_direct_maximisation(delta, signed):
    kappa = 2.0 if signed else 1.0
    assert_allclose(cs_phase_transition(delta, signed=signed), dmm_direct(delta, kappa), rtol=1e-9)


@pytest.mark.parametrize("delta", [0.01, 0.1, 0.19, 0.5, 0.8])
@pytest.mark.parametrize("signed", [True, False])
def test_against_statistical_dimension(delta, signed):
    # the transition is where the measurement count equals the statistical dimension:
    # delta = psi(rho * delta), psi the normalised statistical dimension
    kappa = 2.0 if signed else 1.0
    rho = cs_phase_transition(delta, signed=signed)
    assert_allclose(statistical_dimension(rho * delta, kappa), delta, rtol=1e-7)


def test_limits():
    assert cs_phase_transition(1.0) == 1.0
    assert cs_phase_transition(1.0, signed=True) == 1.0
    # small delta: rho ~ 1 / (2 ln(1/delta)) (the ratio tends to 1, slowly)
    small = np.array([1e-10, 1e-50, 1e-300])
    for signed in (True, False):
        ratio = np.asarray(cs_phase_transition(small, signed=signed)) * 2 * np.log(1 / small)
        gap = np.abs(ratio - 1)
        assert np.all(np.diff(gap) < 0) and gap[-1] < 0.01
    assert np.all(np.isfinite(cs_phase_transition(np.geomspace(1e-300, 1, 50))))


@given(
    delta=st.floats(min_value=1e-200, max_value=1.0, exclude_min=True),
    factor=st.floats(min_value=1.001, max_value=10.0),
)
def test_monotone_and_ordered(delta, factor):
    signed = cs_phase_transition(delta, signed=True)
    nonneg = cs_phase_transition(delta)
    assert 0.0 < signed <= nonneg <= 1.0  # sign information is extra knowledge
    bigger = min(delta * factor, 1.0)
    assert cs_phase_transition(bigger, signed=True) >= signed
    assert cs_phase_transition(bigger) >= nonneg


def test_broadcasts():
    d = np.array([[0.1], [0.5]]) * np.ones((2, 3))
    out = cs_phase_transition(d)
    assert out.shape == (2, 3)
    assert isinstance(cs_phase_transition(0.5), float)


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, np.nan, np.inf, "0.5", None])
def test_bad_delta(bad):
    with pytest.raises((ValueError, TypeError), match="delta must"):
        cs_phase_transition(bad)


def test_bad_signed():
    with pytest.raises(TypeError, match="signed must"):
        cs_phase_transition(0.5, signed="yes")
