"""analyze / EmbeddingReport and the ``suptheory analyze`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from suptheory.analysis.analyze import EmbeddingReport, analyze
from suptheory.cli.main import main
from suptheory.testing import strategies

PHI = (1 + 5**0.5) / 2
ICOSAHEDRON = np.array(
    [[0, 1, PHI], [0, 1, -PHI], [1, PHI, 0], [1, -PHI, 0], [PHI, 0, 1], [-PHI, 0, 1]]
)


def test_etf_sits_on_the_lower_bound():
    r = analyze(ICOSAHEDRON, progress=False)
    assert r.coherence == pytest.approx(5**-0.5, rel=1e-15)
    assert r.coherence_lower_bound == pytest.approx(5**-0.5, rel=1e-12)
    assert r.welch_bound == pytest.approx(5**-0.5, rel=1e-12)
    assert r.packing_score == pytest.approx(1.0, abs=1e-12)
    # an ETF is tight: its frame potential is the minimum k^2 / n = 12
    assert r.frame_potential == pytest.approx(r.frame_potential_min, rel=1e-13)
    assert r.overall_rms_overlap == pytest.approx(5**-0.5, rel=1e-12)
    assert r.feature_dimensionality_sum == pytest.approx(3.0, rel=1e-13)  # = rank


@settings(max_examples=30)
@given(strategies.equiangular_tight_frames())
def test_every_etf_sits_on_the_lower_bound(etf):
    # the same laws for all the known ETFs, rotated: (3, 2), (6, 3), (16, 6), (28, 7), simplices
    mu, n = etf.coherence, etf.n
    r = analyze(etf.W, progress=False, quantiles=())
    assert r.coherence == pytest.approx(mu, rel=1e-12)
    assert r.coherence_lower_bound == pytest.approx(mu, rel=1e-12)
    assert r.welch_bound == pytest.approx(mu, rel=1e-12)
    assert r.packing_score == pytest.approx(1.0, abs=1e-9)
    assert r.frame_potential == pytest.approx(r.frame_potential_min, rel=1e-13)
    assert r.rms_overlap == pytest.approx(mu, rel=1e-12)
    assert r.feature_dimensionality_sum == pytest.approx(n, rel=1e-13)  # = rank


@settings(max_examples=30)
@given(strategies.tight_frames(n=st.integers(1, 12)))
def test_tight_frames_sit_on_the_rms_floor(W):
    m, n = W.shape
    r = analyze(W, progress=False, quantiles=())
    assert r.frame_potential == pytest.approx(r.frame_potential_min, rel=1e-12)
    # rms_overlap comes from the frame potential minus the diagonal, (fp - m) / (m (m - 1)):
    # its square is exact to rounding, the root is not near 0 (an orthonormal basis gives ~2e-8)
    assert r.rms_overlap**2 == pytest.approx((m - n) / (n * (m - 1)), abs=1e-13)
    assert r.feature_dimensionality_sum == pytest.approx(n, rel=1e-12)


def test_random_directions_score_near_zero():
    m, n = 400, 16
    W = find(strategies.random_dictionaries(m, n, seed=0), lambda W: True)
    r = analyze(W, progress=False)
    assert isinstance(r, EmbeddingReport)
    assert abs(r.packing_score) < 0.3
    assert r.overall_rms_overlap == pytest.approx(n**-0.5, rel=0.03)
    assert r.quantiles[0.5] == pytest.approx(r.random_quantiles[0.5], abs=0.01)
    assert r.quantiles[0.99] == pytest.approx(r.random_quantiles[0.99], abs=0.02)
    assert r.random_coherence_median == pytest.approx(r.coherence, abs=0.1)
    assert r.dimensions_per_feature == pytest.approx(n / (W**2).sum(), rel=1e-13)
    assert r.notes == ()


@settings(max_examples=20)
@given(
    strategies.planted_duplicates(
        strategies.random_dictionaries(100, 8), overlap=st.floats(1 - 1e-6, 1.0)
    )
)
def test_worse_than_random_scores_negative(planted):
    # a near-duplicate pair (feature splitting) in random directions: the closest pair
    r = analyze(planted.W, progress=False, quantiles=())
    ((i, j),) = planted.pairs
    assert r.packing_score < 0 and r.pair == (min(i, j), max(i, j))
    assert r.quantiles == {}


def test_notes_for_transposed_looking_and_zero_rows():
    W = np.random.default_rng(2).standard_normal((5, 20))
    W[3] = 0
    r = analyze(W, progress=False)
    assert any("transpose" in note for note in r.notes)
    assert any("zero row" in note for note in r.notes)
    assert r.zero_rows == (3,)
    assert r.feature_dimensionality_mean == pytest.approx(
        float(np.mean([1.0 if i != 3 else 0.0 for i in range(5)])), abs=0.2
    )


@pytest.mark.parametrize("W", [[[1.0, 2.0]], [[0.0, 0.0], [1.0, 0.0]]])
def test_no_pair_has_no_nan(W):
    r = analyze(W, progress=False)
    assert r.coherence == 0.0 and r.pair is None and r.overall_rms_overlap is None
    assert r.packing_score is None and r.quantiles == {}
    assert "no pair" in str(r)
    json.dumps(r.to_dict())


def test_width_one_every_pair_is_parallel():
    r = analyze([[1.0], [-2.0], [3.0]], progress=False)
    assert r.coherence == 1.0 and r.random_coherence_mean == 1.0
    assert r.packing_score is None  # random already reaches the bound


def test_report_prints_and_serialises():
    r = analyze(ICOSAHEDRON, progress=False)
    text = str(r)
    assert "max |cos| (coherence)" in text and "packing score" in text
    d = r.to_dict()
    assert d["pair"] == list(r.pair)
    assert json.loads(json.dumps(d))["quantiles"].keys() == {"0.5", "0.99"}


def test_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        analyze([1.0, 2.0])
    with pytest.raises(ValueError, match="quantiles"):
        analyze(np.eye(3), quantiles=(2.0,))


@settings(max_examples=25)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 10), st.integers(1, 4)),
        elements=st.floats(-2, 2, allow_nan=False, allow_subnormal=False),
    )
)
def test_no_embedding_beats_the_lower_bound(W):
    r = analyze(W, progress=False, quantiles=())
    if r.pair is not None:
        assert r.coherence >= r.coherence_lower_bound - 1e-12
        assert r.frame_potential >= r.frame_potential_min * (1 - 1e-12)
        if r.packing_score is not None:
            assert r.packing_score <= 1 + 1e-9


def test_cli_json_and_table(tmp_path, capsys):
    p = tmp_path / "sae.npz"
    np.savez(p, W_dec=ICOSAHEDRON, W_enc=ICOSAHEDRON.T.copy())
    assert main(["analyze", str(p), "--key", "W_dec", "--json", "--no-progress"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["coherence"] == pytest.approx(5**-0.5, rel=1e-15) and d["m"] == 6
    assert (
        main(["analyze", str(p), "--key", "W_enc", "--transpose", "--no-progress", "--quantiles"])
        == 0
    )
    out = capsys.readouterr().out
    assert "EmbeddingReport: m = 6 features, n = 3 dimensions" in out
    assert "quantile" not in out


def test_cli_errors_name_the_keys(tmp_path, capsys):
    p = tmp_path / "sae.npz"
    np.savez(p, W_dec=ICOSAHEDRON, W_enc=ICOSAHEDRON.T.copy())
    assert main(["analyze", str(p), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "W_dec" in err and "W_enc" in err and "--key" in err
    assert main(["analyze", str(tmp_path / "nope.npy")]) == 2


def test_per_feature_fields_noise_and_effective_width():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((600, 32)) + 0.5 * rng.standard_normal(32)
    r = analyze(W, l=8, a=2.0, top_k=5, thresholds=[0.5], quantiles=(), progress=False)
    U = W / np.linalg.norm(W, axis=1, keepdims=True)
    G = U @ U.T
    np.fill_diagonal(G, 0.0)
    rms = np.sqrt((G**2).sum(axis=1) / 599)
    np.testing.assert_allclose(r.rms_overlap, rms, rtol=1e-9)
    np.testing.assert_allclose(r.max_overlap, np.abs(G).max(axis=1), rtol=1e-13)
    np.testing.assert_allclose(r.noise, 2.0 * np.sqrt(8) * rms, rtol=1e-9)
    assert r.noise_random == pytest.approx(2.0 * np.sqrt(8 / 32))
    assert r.effective_width == pytest.approx(1 / np.mean(rms**2))
    assert r.effective_width < 32 and any("times the random-direction law" in x for x in r.notes)
    assert len(r.top_pairs) == 5 and r.counts.shape == (600, 1)
    cols = r.per_feature()
    assert set(cols) >= {
        "feature",
        "max_overlap",
        "nearest",
        "rms_overlap",
        "noise",
        "count_ge_0.5",
    }
    assert "top_pairs" in r.to_dict() and "max_overlap" not in r.to_dict()


def test_noise_matches_simulation_with_random_signs():
    # a sqrt(l) rms_i is exact for zero-mean (random-sign) activity; simulate_interference
    # draws positive amplitudes, whose coherent part nearly cancels for random directions:
    # a loose check only (the exact positive-amplitude law is sim.theory)
    from suptheory.empirical.simulate import simulate_interference

    rng = np.random.default_rng(6)
    W = rng.standard_normal((400, 24))
    r = analyze(W, l=6, quantiles=(), progress=False)
    sim = simulate_interference(
        l=6, embedding=W, count="fixed", trials=40_000, seed=1, progress=False
    )
    # mean square over features and active sets; the bias part is the coherent term
    assert abs(sim.std - sim.theory) < 3 * sim.std_se
    assert r.noise_rms == pytest.approx(sim.std, rel=0.1)


@pytest.mark.parametrize("signs", ["random", "positive"])
def test_noise_both_sign_conventions_match_simulation(signs):
    """noise (random signs) and noise_positive (every amplitude +a) against simulation.

    A shared direction makes the positive amplitudes' coherent term large. The simulation
    reads out a uniform feature, so its raw second moment E nu^2 is the mean over features of
    E Z_i^2; it must agree within 3 standard errors (z printed with -s), and with the
    simulation's exact moments (count="fixed": exactly l others, as in analyze) to rounding.
    """
    from suptheory.empirical.simulate import simulate_interference

    rng = np.random.default_rng(7)
    W = rng.standard_normal((300, 24)) + 0.4 * rng.standard_normal(24)
    l, a = 9, 1.5  # noqa: E741
    r = analyze(W, l=l, a=a, quantiles=(), top_k=0, progress=False)
    ours = r.noise if signs == "random" else r.noise_positive
    expect = float(np.mean(ours**2))
    sim = simulate_interference(
        l=l,
        a=a,
        embedding=W,
        count="fixed",
        trials=200_000,
        seed=3,
        progress=False,
        return_samples=True,
        signs=signs,
    )
    x2 = sim.samples**2
    z = (x2.mean() - expect) / (x2.std() / np.sqrt(len(x2)))
    print(f"noise ({signs} signs): E Z^2 {expect:.6g}, simulated {x2.mean():.6g}, z = {z:+.2f}")
    assert abs(z) < 3
    assert sim.theory**2 + sim.theory_mean**2 == pytest.approx(expect, rel=1e-10)
    if signs == "positive":  # the shared direction's bias: far above the random-sign value
        assert r.noise_positive_rms > 1.5 * r.noise_rms
        assert "noise_positive" in r.per_feature()


def test_cli_per_feature_csv_and_json(tmp_path, capsys):
    from suptheory.cli.main import main

    path = tmp_path / "W.npy"
    np.save(path, np.random.default_rng(0).standard_normal((50, 8)))
    out = tmp_path / "pf.csv"
    assert (
        main(
            [
                "analyze",
                str(path),
                "--per-feature",
                str(out),
                "--top-k",
                "3",
                "--l",
                "4",
                "--no-progress",
            ]
        )
        == 0
    )
    lines = out.read_text().splitlines()
    assert lines[0].startswith("feature,max_overlap,nearest") and len(lines) == 51
    assert (
        main(
            [
                "analyze",
                str(path),
                "--per-feature",
                str(tmp_path / "pf.json"),
                "--quantiles",
                "--no-progress",
            ]
        )
        == 0
    )
    assert (
        main(["analyze", str(path), "--per-feature", str(tmp_path / "pf.txt"), "--no-progress"])
        == 2
    )
    assert "--per-feature" in capsys.readouterr().err


def test_the_report_shows_its_table_in_notebooks():
    import html

    W = np.random.default_rng(0).standard_normal((64, 8))
    r = analyze(W, progress=False)
    assert html.unescape(r._repr_html_()[5:-6]) == str(r)
