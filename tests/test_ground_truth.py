"""Ground truth: the read-out closed forms against a Monte Carlo of the decoding task itself.

Each setting draws whole dictionaries, activates ``l`` features per input, reads back *every*
feature and decodes it (:func:`suptheory.empirical.decoding.simulate_decoding`): on/off with
threshold ``a / 2`` (is any of the ``m`` read-outs wrong?) and nearest-level decoding of
``L`` equally likely levels, end levels included. No overlap law, normal approximation or
union bound enters the simulation. Each test failed on the code before the corrected theory
(two-sided on/off errors, normal law, no end levels, a coherence bound as "optimal").
"""
# ruff: noqa: E741  (l is the project's name for the number of active features)

import math

import pytest

import suptheory as st_
from suptheory.empirical.decoding import harmonic_frame, simulate_decoding

# (n, m, l, levels, trials, dictionaries): P(any wrong) from 0.003 to 0.03, n from 64 to 768
RANDOM = [
    (64, 256, 1, 3, 100_000, 1000),
    (128, 1024, 2, 3, 40_000, 400),
    (512, 1024, 7, 3, 30_000, 300),
    (768, 1024, 11, 3, 20_000, 200),
]
HARMONIC = [(64, 256, 3, 3, 50_000), (64, 4096, 3, 3, 20_000), (256, 1024, 4, 3, 30_000),
            (768, 1024, 11, 3, 20_000)]  # fmt: skip

_cache: dict = {}


def _run(setting, dictionary="random"):
    key = (setting, dictionary)
    if key not in _cache:
        if dictionary == "random":
            n, m, l, L, trials, dicts = setting
            _cache[key] = simulate_decoding(
                n,
                m,
                l,
                levels=L,
                trials=trials,
                dictionaries=dicts,
                seed=RANDOM.index(setting),
                progress=False,
            )
        else:
            n, m, l, L, trials = setting
            _cache[key] = simulate_decoding(
                n,
                m,
                l,
                levels=L,
                trials=trials,
                dictionary="harmonic",
                seed=HARMONIC.index(setting),
                progress=False,
            )
    return _cache[key]


@pytest.mark.parametrize("setting", RANDOM, ids=lambda s: f"n{s[0]}-m{s[1]}-l{s[2]}")
def test_any_wrong_on_random_dictionaries(setting):
    n, m, l = setting[:3]
    r = _run(setting)
    # the union bound m P(Z > a/2) with the exact law: tight at these error levels
    theory = st_.capacity_error(n, m, l)
    assert abs(r.p_any - theory) < 3 * r.p_any_se, (r.p_any, r.p_any_se, theory)
    # so the largest whole l that meets a budget agrees with the decoding task: l meets any
    # budget above the simulated error and fails any budget below it
    assert st_.max_active(n, m, error=r.p_any + 3 * r.p_any_se) >= l
    assert st_.max_active(n, m, error=max(r.p_any - 3 * r.p_any_se, 1e-12)) < l


@pytest.mark.parametrize("setting", RANDOM, ids=lambda s: f"n{s[0]}-m{s[1]}-l{s[2]}")
def test_level_error_on_random_dictionaries(setting):
    n, m, l, L = setting[:4]
    r = _run(setting)
    # L equally likely levels, nearest-level decoding: 2 (L - 1) / L P(Z > a / (2 (L - 1)))
    theory = 2 * (L - 1) / L * st_.readout_error(n, m, l, threshold=1 / (2 * (L - 1)))
    assert abs(r.p_level - theory) < 3 * r.p_level_se, (r.p_level, r.p_level_se, theory)
    hi = st_.distinguishable_levels(n, m, l, error=r.p_level + 3 * r.p_level_se)
    lo = st_.distinguishable_levels(n, m, l, error=r.p_level - 3 * r.p_level_se)
    assert lo <= L <= hi, (lo, hi)
    # the rms of the interference is the random model's a sqrt(l / n)
    assert abs(r.rms - st_.interference(n, m, l)) < 3 * r.rms_se


@pytest.mark.parametrize("setting", HARMONIC, ids=lambda s: f"n{s[0]}-m{s[1]}-l{s[2]}")
def test_harmonic_tight_frame_sits_on_the_rms_floor(setting):
    n, m, l = setting[:3]
    W = harmonic_frame(m, n)
    G = W @ W.T
    # a unit-norm tight frame: its mean squared overlap is exactly the floor (m - n)/(n (m - 1))
    mean_sq = ((G * G).sum() - m) / (m * (m - 1))
    assert mean_sq == pytest.approx((m - n) / (n * (m - 1)), rel=1e-12)
    assert st_.pair_interference(n, m, model="optimal") == pytest.approx(math.sqrt(mean_sq))
    r = _run(setting, "harmonic")
    floor = st_.interference(n, m, l, model="optimal")
    # with l features active at +a the noise also has the cross terms <w_i,w_j><w_i,w_k>; for
    # a harmonic frame sum_j w_j = 0, so they are -(m/n - 2) / ((m - 1)(m - 2)) per pair: O(l/m)
    cross = l * (l - 1) * (2 - m / n) / ((m - 1) * (m - 2))
    assert abs(r.rms**2 - (floor**2 + cross)) < 3 * 2 * r.rms * r.rms_se
    assert abs(r.rms / floor - 1) < l / m
    # and it is below random directions' rms, as the floor says
    assert r.rms < st_.interference(n, m, l)


def test_harmonic_frame_errors_near_the_normal_law_at_the_floor():
    # the optimal model puts a normal law on the floor's sigma: for a harmonic frame the level
    # error is within a few per cent of it (the frame's interference is not exactly normal)
    n, m, l, L = 256, 1024, 4, 3
    r = _run(HARMONIC[2], "harmonic")
    theory = 2 * (L - 1) / L * st_.readout_error(n, m, l, threshold=0.25, model="optimal")
    assert r.p_level == pytest.approx(theory, rel=0.06)
