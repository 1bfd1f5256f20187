"""The packing optimiser against published best-known packings, proven bounds and its own laws.

Published references (independent of this code):

- Equiangular tight frames meet the Welch bound: 6 lines in R^3 (icosahedron diagonals) at
  1/sqrt(5), 28 lines in R^7 at 1/3 (Fickus & Mixon, "Tables of the existence of equiangular
  tight frames", 2015), and 16 lines in R^6 at 1/3 (Conway, Hardin & Sloane 1996, section 6):
  sqrt((16 - 6) / (6 * 15)) = 1/3, the Welch bound of a real ETF. (The orthoplex bound needs
  m > n(n+1)/2 = 21 lines in R^6 and does not apply.)
- Lines in R^3: Conway, Hardin & Sloane, "Packing lines, planes, etc.", Exp. Math. 5 (1996),
  Table 1 / Sloane's online table of Grassmannian packings G(3, 1): the largest minimal angle
  (degrees, 4 decimals) for N = 4..10 lines. N = 4..7 are exact (arccos 1/3, arctan 2, arctan 2,
  arccos 1/sqrt 3); N = 8 was proved optimal by Mixon & Parshall (arXiv:1902.10177, 2019).
- Tammes problem (points on S^2): cosines of the optimal minimal angle for N = 4..12 from
  H. Cohn's table of spherical codes (data set hdl.handle.net/1721.1/142661), with minimal
  polynomials 3x^3 - 9x^2 - 3x + 1 (N = 7, Schuette & van der Waerden 1951), 7x^2 + 2x - 1
  (N = 8), 3x - 1 (N = 9); N = 10 from OEIS A340918 (Danzer 1963; Sugimoto & Tanemura,
  arXiv:1509.01768), N = 11, 12 at 1/sqrt(5) (Danzer 1963; Fejes Toth 1943); N = 4, 5, 6 at
  -1/3, 0, 0 (Fejes Toth 1943).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import suptheory
from suptheory import coherence_lower_bound, optimize_packing, welch_bound
from suptheory.cli.main import main
from suptheory.testing import strategies
from tests.helpers import interrupt_on_call

TOL = 1e-3  # best-known packings are published to about this many digits


def _independent_max(W, signed=False):
    """Largest (absolute or signed) off-diagonal inner product, recomputed from scratch."""
    m = W.shape[0]
    best = -np.inf
    for i in range(m):
        for j in range(i + 1, m):
            v = float(np.dot(W[i], W[j]))
            best = max(best, v if signed else abs(v))
    return best


def _check_result(res, m, n):
    assert res.W.shape == (m, n)
    np.testing.assert_allclose(np.linalg.norm(res.W, axis=1), 1.0, atol=1e-12)
    assert res.coherence == pytest.approx(_independent_max(res.W), abs=1e-12)
    i, j = res.pair
    assert 0 <= i < j < m


# ------------------------------------------------------------------ equiangular tight frames


@pytest.mark.parametrize(
    ("m", "n", "best", "restarts", "seed"),
    [
        (6, 3, 1 / math.sqrt(5), 4, 0),  # ETF: icosahedron diagonals
        (28, 7, 1 / 3, 2, 0),  # ETF (Fickus & Mixon table)
        (16, 6, 1 / 3, 16, 3),  # ETF at the Welch bound (Conway-Hardin-Sloane 1996)
    ],
)
def test_reaches_equiangular_tight_frames(m, n, best, restarts, seed):
    res = optimize_packing(m, n, restarts=restarts, steps=1200, seed=seed, progress=False)
    _check_result(res, m, n)
    assert abs(res.coherence - best) < TOL
    # these packings are optimal: the reported lower bound is the same number
    assert res.lower_bound == pytest.approx(best, abs=1e-12)
    assert abs(res.gap) < TOL
    assert res.welch == pytest.approx(math.sqrt((m - n) / (n * (m - 1))), rel=1e-12)


# ------------------------------------------------------------------ lines in R^3 (CHS 1996)

# N -> largest minimal angle in degrees, Conway-Hardin-Sloane Table 1 (4 decimals)
CHS_LINES_R3 = {4: 70.5288, 5: 63.4349, 6: 63.4349, 7: 54.7356, 8: 49.6399, 9: 47.9821, 10: 46.6746}


@pytest.mark.parametrize("N", sorted(CHS_LINES_R3))
def test_line_packings_in_r3_match_conway_hardin_sloane(N):
    res = optimize_packing(N, 3, restarts=6, steps=1000, seed=N, progress=False)
    _check_result(res, N, 3)
    target = math.cos(math.radians(CHS_LINES_R3[N]))
    assert abs(res.coherence - target) < TOL
    assert res.angle == pytest.approx(CHS_LINES_R3[N], abs=0.05)
    assert res.coherence >= res.lower_bound - 1e-12


def test_chs_exact_small_cases_are_the_table_values():
    # the exact forms quoted in the module docstring agree with the 4-decimal table
    exact = {4: math.acos(1 / 3), 5: math.atan(2), 6: math.atan(2), 7: math.acos(3**-0.5)}
    for N, angle in exact.items():
        assert math.degrees(angle) == pytest.approx(CHS_LINES_R3[N], abs=5e-5)


# ------------------------------------------------------------------ Tammes problem (S^2)


def _real_root(coeffs, near):
    roots = np.roots(coeffs)
    roots = roots[np.abs(roots.imag) < 1e-12].real
    return float(roots[np.argmin(np.abs(roots - near))])


def _tammes_cosines():
    # N = 10: OEIS A340918, angle = atan(sqrt((4/sqrt 3) cos(atan(sqrt(3*229)/9)/3) + 3))
    a10 = math.atan(math.sqrt(4 / math.sqrt(3) * math.cos(math.atan(math.sqrt(687) / 9) / 3) + 3))
    return {
        4: -1 / 3,
        5: 0.0,
        6: 0.0,
        7: _real_root([3, -9, -3, 1], 0.21),
        8: _real_root([7, 2, -1], 0.26),
        9: 1 / 3,
        10: math.cos(a10),
        11: 1 / math.sqrt(5),
        12: 1 / math.sqrt(5),
    }


TAMMES = _tammes_cosines()


def test_tammes_references_agree_with_cohns_table():
    # Cohn's table of spherical codes (cosines to 32 digits)
    assert TAMMES[7] == pytest.approx(0.21013831273060308486, abs=1e-15)
    assert TAMMES[8] == pytest.approx(0.26120387496374144251, abs=1e-15)
    assert TAMMES[10] == pytest.approx(0.40439432521625075685, abs=1e-14)


@pytest.mark.parametrize("N", sorted(TAMMES))
def test_tammes_optimum(N):
    res = optimize_packing(
        N, 3, "spherical-code", restarts=6, steps=1000, seed=100 + N, progress=False
    )
    assert res.W.shape == (N, 3)
    assert res.value == pytest.approx(_independent_max(res.W, signed=True), abs=1e-12)
    assert abs(res.value - TAMMES[N]) < TOL
    # proven bounds: simplex -1/(m-1); Rankin 0 for m > n + 1
    assert res.value >= res.lower_bound - 1e-9
    assert res.angle == pytest.approx(math.degrees(math.acos(res.value)), abs=1e-9)


# ------------------------------------------------------------------ frame potential


@pytest.mark.parametrize(("m", "n"), [(5, 3), (7, 2), (3, 5)])
def test_frame_potential_reaches_tight_frame(m, n):
    res = optimize_packing(m, n, "frame-potential", restarts=2, steps=600, seed=1, progress=False)
    bound = max(m, m * m / n)  # Benedetto & Fickus 2003
    assert res.lower_bound == pytest.approx(bound)
    assert res.value == pytest.approx(bound, rel=1e-6)
    G = res.W @ res.W.T
    assert res.value == pytest.approx(float(np.sum(G * G)), rel=1e-12)
    if m >= n:  # a unit-norm tight frame: W^T W = (m/n) I
        np.testing.assert_allclose(res.W.T @ res.W, (m / n) * np.eye(n), atol=1e-4)
        # the harmonic frame attains the same bound exactly
        H = find(strategies.tight_frames(m, n), lambda W: True)
        assert float(np.sum((H @ H.T) ** 2)) == pytest.approx(bound, rel=1e-12)


@settings(max_examples=50)
@given(strategies.equiangular_tight_frames())
def test_the_lower_bound_is_attained_by_every_known_etf(etf):
    # what optimize_packing reports as the lower bound is met by the ETFs: no packing can do
    # better, and the bound is not loose there
    assert float(coherence_lower_bound(etf.m, etf.n)) == pytest.approx(etf.coherence, abs=1e-12)
    assert _independent_max(etf.W) == pytest.approx(etf.coherence, abs=1e-12)


# ------------------------------------------------------------------ laws and edge cases


def test_orthonormal_when_m_at_most_n():
    res = optimize_packing(3, 5, restarts=1, steps=400, seed=0, progress=False)
    assert res.coherence < 1e-6
    assert res.lower_bound == 0.0


def test_single_dimension_all_lines_coincide():
    res = optimize_packing(3, 1, restarts=1, steps=5, seed=0, progress=False)
    assert res.coherence == pytest.approx(1.0)
    assert res.lower_bound == pytest.approx(1.0)


def test_deterministic_given_seed_and_history():
    a = optimize_packing(9, 3, restarts=3, steps=300, seed=7, progress=False)
    b = optimize_packing(9, 3, restarts=3, steps=300, seed=7, progress=False)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.history.shape == (a.history_steps.size, 3)
    # history ends at the per-restart values; the descent improves on the random start
    np.testing.assert_allclose(a.history[-1], a.values, atol=1e-12)
    assert np.all(a.values < a.history[0])
    # the reported packing is no worse than the best restart (polishing only helps)
    assert a.value <= a.values.min() + 1e-15


def test_generator_seed_accepted_and_repr():
    res = optimize_packing(
        4, 2, restarts=1, steps=50, seed=np.random.default_rng(1), progress=False
    )
    text = str(res)
    assert "coherence" in text and "lower bound" in text
    d = res.to_dict()
    assert d["m"] == 4 and d["n"] == 2 and isinstance(d["seed"], str)


def test_interrupt_returns_best_so_far(monkeypatch):
    import suptheory._kernels.packing as kernels

    flaky, _ = interrupt_on_call(kernels.descend, 3)
    monkeypatch.setattr(kernels, "descend", flaky)
    res = optimize_packing(6, 3, restarts=2, steps=500, seed=0, progress=False)
    assert res.interrupted
    assert res.W.shape == (6, 3)
    assert np.isfinite(res.coherence)
    # checkpoints after the interruption hold the state it stopped at
    assert np.all(np.isfinite(res.history))


def test_identical_across_thread_counts():
    from suptheory._kernels.jit import max_threads

    a = optimize_packing(10, 3, restarts=4, steps=300, seed=5, threads=1, progress=False)
    b = optimize_packing(
        10, 3, restarts=4, steps=300, seed=5, threads=max(2, max_threads()), progress=False
    )
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.history, b.history)


def test_chunking_does_not_change_the_result():
    # the kernel runs in chunks of steps; one call over all steps gives the same embedding
    import suptheory._kernels.packing as kernels
    import suptheory.empirical.packing as packing

    rng = np.random.default_rng(3)
    W0 = packing._normalize(rng.standard_normal((2, 7, 3)))
    steps = 120
    checkpoints = np.arange(steps + 1)
    slot = np.arange(steps + 1, dtype=np.int64)
    W1 = W0.copy()
    hist = np.full((steps + 1, 2), np.nan)
    kernels.descend(
        W1,
        kernels.COHERENCE,
        0,
        steps,
        steps,
        packing._T_START,
        packing._T_END,
        packing._LR_START,
        packing._LR_END,
        slot,
        hist,
    )

    class Bar:
        def update(self, k):
            pass

    W2, hist2, _ = packing._descend(W0.copy(), "coherence", steps, checkpoints, Bar())
    np.testing.assert_array_equal(W1, W2)
    np.testing.assert_array_equal(hist[:steps], hist2[:steps])
    # the kernel's recorded history is the exact max |overlap| before each step
    G = W2 @ W2.transpose(0, 2, 1)
    final = np.array([np.abs(g - np.diag(np.diag(g))).max() for g in G])
    np.testing.assert_allclose(hist2[steps], final, atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"m": 1, "n": 3}, ValueError, "m must be"),
        ({"m": 5, "n": 0}, ValueError, "n must be"),
        ({"m": 5.5, "n": 3}, ValueError, "m must be"),
        ({"m": "5", "n": 3}, TypeError, "m must be"),
        ({"m": 5, "n": 3, "objective": "tammes"}, ValueError, "objective must be one of"),
        ({"m": 5, "n": 3, "restarts": 0}, ValueError, "restarts must be"),
        ({"m": 5, "n": 3, "steps": 0}, ValueError, "steps must be"),
        ({"m": 5, "n": 3, "polish": "yes"}, TypeError, "polish"),
        ({"m": 5, "n": 3, "seed": "x"}, TypeError, "seed"),
        ({"m": 5, "n": 3, "threads": 0}, ValueError, "threads must be"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        optimize_packing(progress=False, **kwargs)


def test_counts_as_floats():
    res = optimize_packing(4.0, 2.0, restarts=1.0, steps=1e2, seed=0, progress=False)
    assert res.W.shape == (4, 2)


@settings(max_examples=12)
@given(
    regime=strategies.regimes(min_n=2, max_n=4, max_m=9, superposition=True),
    seed=st.integers(0, 2**16),
)
def test_bounds_keep_their_order(regime, seed):
    # lower bound <= found <= random start (docs/theory.md section 4)
    n, m, _ = regime
    res = optimize_packing(m, n, restarts=1, steps=150, seed=seed, polish=False, progress=False)
    assert res.coherence >= float(coherence_lower_bound(m=m, n=n)) - 1e-9
    assert res.coherence >= float(welch_bound(m=m, n=n)) - 1e-9
    assert res.coherence <= res.history[0, 0] + 1e-12


def test_lazy_public_names():
    assert suptheory.optimize_packing is optimize_packing
    assert "PackingResult" in dir(suptheory)


# ------------------------------------------------------------------ CLI


def test_cli_pack_json_and_save(tmp_path, capsys):
    out = tmp_path / "w.npy"
    code = main(
        [
            "pack",
            "--m",
            "6",
            "--n",
            "3",
            "--restarts",
            "2",
            "--steps",
            "400",
            "--json",
            "--no-progress",
            "--save",
            str(out),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert abs(data["coherence"] - 1 / math.sqrt(5)) < TOL
    assert data["lower_bound"] == pytest.approx(1 / math.sqrt(5))
    W = np.load(out)
    assert W.shape == (6, 3)
    assert _independent_max(W) == pytest.approx(data["coherence"], abs=1e-12)


def test_cli_pack_text_and_bad_input(capsys):
    assert (
        main(["pack", "--m", "4", "--n", "2", "--steps", "100", "--restarts", "1", "--no-progress"])
        == 0
    )
    text = capsys.readouterr().out
    assert "gap to the bound" in text and "Welch bound" in text
    assert main(["pack", "--m", "4", "--n", "2", "--objective", "nope", "--no-progress"]) == 2
    assert "objective must be one of" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"steps": 10**400}, "steps"),  # was a numpy UFuncTypeError
        ({"restarts": 10**400}, "restarts"),  # was "Maximum allowed dimension exceeded"
        ({"m": 10**400}, "m"),
        ({"m": 20_000}, "m"),  # a 20,000 x 20,000 Gram per step
    ],
)
def test_sizes_past_memory_are_a_value_error_naming_the_parameter(kwargs, name):
    args = {"m": 6, "n": 3, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        optimize_packing(progress=False, **args)
