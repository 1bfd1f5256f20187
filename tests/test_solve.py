"""solve(): every parameter of every relation round-trips; errors are exceptions, not warnings."""
# ruff: noqa: E741  (l is the project's name for the number of active features)

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import suptheory as st_
from suptheory import NoSolutionError, solve

MODELS = ("random", "optimal", "linsefors", "worst", "packing")
widths_ = st.floats(min_value=16.0, max_value=1e5)
ratios = st.floats(min_value=1.5, max_value=1e6)  # m / n
actives_ = st.floats(min_value=0.5, max_value=500.0)


def _roundtrip(base, model, targets, rtol):
    for target in targets:
        params = dict(base)
        original = params[target]
        params[target] = None
        got = solve(model=model, **params)
        assert isinstance(got, float)
        assert got == pytest.approx(original, rel=rtol), (target, base)


def _in_smooth_region(model, n, m):
    # the packing model's bounds jump where the orthoplex bound switches on, m = n (n + 1) / 2;
    # solving for m (or n) at a jump returns the jump, so keep the round trip off it
    if model == "packing":
        return n + 1 < m < n * (n + 1) / 2 * 0.999
    if model == "optimal":  # below m = n the rms floor is 0: nothing to invert
        return m > n * 1.001
    return True


@pytest.mark.parametrize("model", MODELS)
@given(n=widths_, r=ratios, l=actives_)
@example(n=768.0, r=32.0, l=32.0)
def test_snr_relation_roundtrips(model, n, r, l):
    m = n * r
    assume(_in_smooth_region(model, n, m) and l <= m - 1)
    snr = st_.distinguishable_levels(n, m, l, model=model)
    assume(math.isfinite(snr))
    targets = ["n", "l", "snr"] + ([] if model == "random" else ["m"])
    if model == "worst":
        assume(l * snr**2 > 1.0001)  # else the largest overlap (<= 1) never binds: any n works
    _roundtrip({"n": n, "m": m, "l": l, "snr": snr}, model, targets, 1e-7)


@pytest.mark.parametrize("model", MODELS)
# the random model's exact law makes root searches over FFTs: fewer examples. The packing
# model's smooth region is narrow (its bounds switch at m = n(n+1)/2), so most draws are
# filtered there; the ones that remain are still checked.
@settings(max_examples=40, suppress_health_check=[HealthCheck.filter_too_much])
@given(n=widths_, r=ratios, error=st.floats(1e-12, 0.45))
def test_error_relation_roundtrips(model, n, r, error):
    m = n * r
    assume(_in_smooth_region(model, n, m))
    l = st_.max_active(n, m, error=error, model=model)
    assume(1e-6 < l < 1e12 and l < m - 1)  # at the cap l = m - 1 every larger n gives m - 1
    _roundtrip({"n": n, "m": m, "l": l, "error": error}, model, ["n", "m", "l", "error"], 1e-6)


@pytest.mark.parametrize("model", MODELS)
@given(n=widths_, r=ratios, l=actives_, a=st.floats(0.01, 100.0))
def test_noise_relation_roundtrips(model, n, r, l, a):
    m = n * r
    assume(_in_smooth_region(model, n, m) and l <= m - 1)
    noise = st_.interference(n, m, l, a=a, model=model)
    targets = ["n", "l", "a", "noise"] + ([] if model == "random" else ["m"])
    if model == "worst":
        assume(noise / (a * math.sqrt(l)) < 0.9999)
    _roundtrip({"n": n, "m": m, "l": l, "a": a, "noise": noise}, model, targets, 1e-7)


@given(n=widths_, r=st.floats(1.01, 1e8))
def test_l1_relation_roundtrips(n, r):
    m = n * r
    l = st_.max_active(n, m, model="l1")
    assume(l < m - 1)  # at the cap l = m - 1 every larger n gives m - 1
    _roundtrip({"n": n, "m": m, "l": l}, "l1", ["n", "m", "l"], 1e-8)


def test_same_as_the_capacity_functions():
    assert solve(n=None, m=1e6, l=100, snr=2) == pytest.approx(400.0)
    assert solve(n=None, m=1e6, l=100, snr=2, model="worst") == pytest.approx(
        st_.min_width(1e6, 100, snr=2, model="worst")
    )
    assert solve(m=None, n=768, l=1, model="linsefors") == pytest.approx(math.exp(96))
    assert solve(l=None, n=768, m=1e4, error=0.01) == pytest.approx(
        st_.max_active(768, 1e4, error=0.01)
    )
    # snr defaults to 1
    assert solve(l=None, n=768, m=1e4, model="linsefors") == pytest.approx(
        768 / (8 * math.log(1e4))
    )


def test_broadcasting():
    n = solve(n=None, m=np.array([1e4, 1e6]), l=np.array([[1.0], [10.0]]), model="linsefors")
    assert n.shape == (2, 2)
    assert n[1, 0] == pytest.approx(80 * math.log(1e4))


def test_exactly_one_none():
    with pytest.raises(ValueError, match="need exactly one keyword that is None"):
        solve(n=None, m=None, l=3, snr=1)
    with pytest.raises(ValueError, match="need exactly one keyword that is None"):
        solve(n=768, m=1e4, l=3, snr=1)
    with pytest.raises(ValueError, match="missing: l"):
        solve(n=None, m=1e4)


def test_bad_keywords_and_mixtures():
    with pytest.raises(TypeError, match="unknown keyword"):
        solve(n=None, m=1e4, l=3, width=5)
    with pytest.raises(ValueError, match="do not belong"):
        solve(n=None, m=1e4, l=3, snr=1, error=0.1)
    with pytest.raises(ValueError, match="a cannot be solved"):
        solve(n=768, m=1e4, l=3, snr=1, a=None)
    with pytest.raises(ValueError, match="model 'l1'"):
        solve(n=None, m=1e4, l=3, snr=2, model="l1")
    with pytest.raises(ValueError, match="model must be one of"):
        solve(n=None, m=1e4, l=3, model="best")
    with pytest.raises(ValueError, match="m must be in"):
        solve(n=None, m=0.5, l=3)
    with pytest.raises(ValueError, match=r"error must be in \(0, 1\)"):
        solve(n=None, m=1e4, l=3, error=2.0)


def test_no_solution_is_an_exception():
    with pytest.raises(NoSolutionError, match="does not depend on m"):
        solve(m=None, n=768, l=32, snr=1)  # random: every m works
    with pytest.raises(NoSolutionError):
        solve(m=None, n=768, l=1000, snr=1)  # random: no m works
    with pytest.raises(NoSolutionError, match="union bound"):
        solve(error=None, n=100, m=1e6, l=50)
    with pytest.raises(NoSolutionError):
        solve(n=None, m=1e4, l=0.5, model="worst")  # the largest overlap never exceeds 1
    with pytest.raises(NoSolutionError):
        solve(m=None, n=10, l=20, model="l1")  # l > n
    with pytest.raises(NoSolutionError, match="at 1 of 2 points"):
        solve(m=None, n=768, l=np.array([32.0, 0.5]), model="worst", snr=[1.0, 1.0])
    assert issubclass(NoSolutionError, ValueError)


# ------------------------------------------------------------------ the vectorised root finder


def test_find_root_against_brentq():
    from scipy.optimize import brentq

    from suptheory.theory._rootfind import find_root

    rng = np.random.default_rng(5)
    c = rng.uniform(-50, 50, 300)
    k = rng.uniform(0.1, 5, 300)

    def f(x, c, k):
        return np.sinh(k * x) + x**3 - c

    x = find_root(f, np.full(300, -20.0), np.full(300, 20.0), (c, k))
    ref = [brentq(f, -20, 20, args=(ci, ki), xtol=1e-15) for ci, ki in zip(c, k, strict=True)]
    np.testing.assert_allclose(x, ref, rtol=1e-13, atol=1e-14)


def test_find_root_step_function_and_no_bracket():
    from suptheory.theory._rootfind import find_root

    jump = np.array([0.3, 2.0, 7.5])
    x = find_root(lambda x, j: np.where(x < j, -1.0, 1.0), np.zeros(3), np.full(3, 10.0), (jump,))
    np.testing.assert_allclose(x, jump, rtol=1e-14)
    x = find_root(lambda x: x**2 + 1, np.zeros(2), np.ones(2))
    assert np.isnan(x).all()  # no sign change: no root claimed


def test_expand_bracket():
    from suptheory.theory._rootfind import expand_bracket

    c = np.array([5.0, 1e300, -1.0])
    b, found = expand_bracket(lambda x, c: x - c, np.zeros(3), np.ones(3), (c,), limit=1e308)
    assert found.tolist() == [True, True, False]
    assert b[0] >= 5 and b[1] >= 1e300 and b[2] == 1e308


# ------------------------------------------------------------------ jumps: relation holds or none


def _holds_or_none(model, kind, **params):
    """solve's answer satisfies the relation it was asked for, or it says none exists."""
    target = next(k for k, v in params.items() if v is None)
    try:
        got = solve(model=model, **params)
    except NoSolutionError:
        return
    params[target] = got
    if kind == "snr":
        back = 1.0 / st_.interference(params["n"], params["m"], params["l"], model=model)
    else:
        back = st_.interference(params["n"], params["m"], params["l"], params["a"], model=model)
    assert back == pytest.approx(params[kind], rel=1e-6), (target, got, back)


def test_jump_examples():
    # worst at n = 1: m = 1 has no pairs (snr inf), every m > 1 puts overlaps at 1 (snr 1)
    with pytest.raises(NoSolutionError, match="no m solves"):
        solve(m=None, n=1, l=1, snr=10, model="worst")
    with pytest.raises(ValueError, match=r"l must be in \[0, m - 1\]"):
        solve(n=None, m=2, l=2, snr=1, model="optimal")  # returned the jump point before
    n = solve(n=None, m=3, l=2, snr=1, model="optimal")
    assert 1.0 / st_.interference(n, 3, 2, model="optimal") == pytest.approx(1.0, rel=1e-12)
    # packing: the orthoplex bound switches on above m = n (n + 1) / 2 = 55 at n = 10
    below = 1.0 / st_.interference(10, 55, 1, model="packing")
    above = 1.0 / st_.interference(10, 55.001, 1, model="packing")
    assert above < below * 0.99
    with pytest.raises(NoSolutionError, match="jumps over"):
        solve(m=None, n=10, l=1, snr=(above + below) / 2, model="packing")


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=60)
@given(
    n=st.floats(1.0, 40.0),
    m=st.floats(1.0, 2000.0),
    l=st.floats(0.01, 50.0),
    f=st.floats(0.2, 5.0),
)
@example(n=1.0, m=2.0, l=1.0, f=10.0)
def test_solve_near_jumps_holds_or_raises(model, n, m, l, f):
    """Small n, m (the jumps at n = 1, m = 1, m = n (n + 1) / 2): snr near the forward value."""
    assume(l <= m - 1)
    noise = st_.interference(n, m, l, model=model)
    snr = f / noise if noise > 0 else f
    for target in ("n", "m", "l"):
        params = {"n": n, "m": m, "l": l, "snr": snr}
        params[target] = None
        _holds_or_none(model, "snr", **params)
