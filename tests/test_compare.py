"""compare(A, B): exact best matches both ways against a float64 brute force, permutation
recovery (dogfooding suptheory.testing.strategies), the matching, MMCS, zero rows, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from suptheory import compare
from suptheory.analysis.compare import ONE_TO_ONE_MAX, Comparison
from suptheory.testing import assert_matches
from suptheory.testing import strategies as sts


def unit(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    nrm = np.linalg.norm(X, axis=1)
    return np.where(nrm[:, None] > 0, X / np.where(nrm > 0, nrm, 1.0)[:, None], 0.0)


def brute(
    A: np.ndarray, B: np.ndarray, absolute: bool = False, tie: float = 1e-12
) -> tuple[np.ndarray, np.ndarray]:
    """Best match of each row of A in B by a float64 GEMM: the smallest index within ``tie``
    of the row's maximum (exact ties, e.g. duplicated rows, differ by a few ulps in a GEMM)."""
    C = unit(A) @ unit(B).T
    S = np.abs(C) if absolute else C.copy()
    S[:, np.linalg.norm(B, axis=1) == 0] = -np.inf  # a zero row matches nothing
    mx = S.max(axis=1)
    arg = np.argmax(S >= mx[:, None] - tie, axis=1)
    return arg, C[np.arange(len(A)), arg]


def check_against_brute(A: np.ndarray, B: np.ndarray, c: Comparison) -> None:
    for X, Y, best, cos, zero in (
        (A, B, c.best_b, c.cos_ab, c.zero_rows_a),
        (B, A, c.best_a, c.cos_ba, c.zero_rows_b),
    ):
        arg, val = brute(X, Y, c.abs)
        live = np.linalg.norm(X, axis=1) > 0
        np.testing.assert_array_equal(best[live], arg[live])
        np.testing.assert_allclose(cos[live], val[live], rtol=0, atol=1e-14)
        assert np.all(best[~live] == -1) and np.all(cos[~live] == 0)
        assert zero == tuple(np.flatnonzero(~live))
        sim = np.abs(cos[live]) if c.abs else cos[live]
        mmcs = c.mmcs_ab if X is A else c.mmcs_ba
        assert mmcs == pytest.approx(float(sim.mean()), abs=1e-14)
        frac = c.matched_ab if X is A else c.matched_ba
        assert frac == tuple(float(np.mean(sim >= t)) for t in c.thresholds)


# --------------------------------------------------------------------------- brute force


@pytest.mark.parametrize("absolute", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_best_matches_equal_float64_brute_force_on_random_inputs(absolute, dtype):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((700, 24)).astype(dtype)
    B = rng.standard_normal((530, 24)).astype(dtype) * rng.uniform(1e-3, 1e3, (530, 1))
    # small blocks: many tiles, merged across tile boundaries
    c = compare(A, B, abs=absolute, block=64, progress=False)
    check_against_brute(A, B, c)
    assert c.candidates < len(A) * len(B) // 10  # the screen did its job


def test_ties_and_duplicates_go_to_the_smallest_index():
    rng = np.random.default_rng(5)
    B = rng.standard_normal((300, 8))
    B[250] = B[17]  # exact duplicates across tiles
    B[251] = 3.0 * B[17]  # the same direction, another norm
    B[40] = -B[17]  # antipodal: a tie by |cos|
    A = np.concatenate([B[[17, 251, 40]], rng.standard_normal((200, 8))])
    A[100] = A[5]
    for absolute in (False, True):
        c = compare(A, B, abs=absolute, block=16, progress=False)
        check_against_brute(A, B, c)
        assert c.best_b[0] == c.best_b[1] == 17
        assert c.best_b[2] == (17 if absolute else 40)
        assert c.best_a[250] == c.best_a[251] == c.best_a[17] == 0
        assert c.best_b[100] == c.best_b[5]


def test_against_itself_every_feature_is_its_own_best_match():
    W = np.random.default_rng(0).standard_normal((500, 32))
    c = compare(W, W, progress=False)
    assert c.best_b.tolist() == list(range(500)) and c.best_a.tolist() == list(range(500))
    assert np.all(c.cos_ab == 1.0) and c.mmcs_ab == c.mmcs_ba == 1.0
    assert c.match_b.tolist() == list(range(500)) and c.matching_mean == 1.0
    assert c.matched_ab == (1.0, 1.0, 1.0)


@settings(max_examples=60, deadline=None)
@given(
    A=sts.random_dictionaries(m=st.integers(1, 40), n=st.integers(1, 6)),
    B=sts.random_dictionaries(m=st.integers(1, 40), n=6),
    absolute=st.booleans(),
    zeros=st.lists(st.integers(0, 39), max_size=3),
)
def test_brute_force_on_drawn_dictionaries(A, B, absolute, zeros):
    # n = 1 to 6: many near-ties and exact +-1 cosines (all pairs are parallel in R^1)
    B = B[:, : A.shape[1]].copy()
    A = A.copy()
    A[[z for z in zeros if z < len(A) and len(A) > 1][:1]] = 0.0
    if not np.any(np.linalg.norm(B, axis=1) > 0):
        return
    c = compare(A, B, abs=absolute, thresholds=(0.0, 0.5, 1.0), progress=False)
    check_against_brute(A, B, c)


# --------------------------------------------------------------------------- permutations


def _recover(W: np.ndarray, copy: np.ndarray, perm: np.ndarray) -> Comparison:
    c = compare(W, copy, progress=False)
    np.testing.assert_array_equal(c.best_b, perm)
    np.testing.assert_array_equal(c.best_a, np.argsort(perm))
    np.testing.assert_array_equal(c.match_b, perm)
    np.testing.assert_array_equal(assert_matches(W, copy, 0.5), perm)  # the numpy twin
    return c


@settings(max_examples=40, deadline=None)
@given(data=st.data(), noise=st.floats(0.0, 0.1))
def test_recovers_the_permutation_of_a_noisy_copy(data, noise):
    W = data.draw(sts.random_dictionaries(m=st.integers(1, 400), n=st.integers(8, 48)))
    copy = data.draw(sts.permuted_noisy_copy(W, noise=noise))
    # permuted_noisy_copy's guarantee: recoverable when no two rows of W are closer than
    # twice the perturbation angle
    G = unit(W) @ unit(W).T
    np.fill_diagonal(G, -1.0)
    assume(G.max() < np.cos(2 * np.arcsin(noise)) - 1e-9)
    c = _recover(W, copy.W, copy.perm)
    assert c.mmcs_ab >= copy.min_cosine - 1e-12
    event(f"recovered a permutation of {'>= 100' if len(W) >= 100 else '< 100'} rows")


def test_recovers_the_permutation_seeded_sae_sized():
    rng = np.random.default_rng(2024)
    m, n = 4096, 128
    W = rng.standard_normal((m, n)).astype(np.float32)
    perm = rng.permutation(m)
    copy = np.empty_like(W)
    copy[perm] = W + 0.05 * np.linalg.norm(W, axis=1, keepdims=True) * unit(
        rng.standard_normal((m, n))
    ).astype(np.float32)
    c = _recover(W, copy, perm)
    assert c.matched_ab == c.matched_ba == (1.0, 1.0, 1.0)
    assert c.matching_size == m and c.matching_mean == pytest.approx(c.mmcs_ab)
    assert c.mmcs_ab > np.sqrt(1 - 0.05**2) - 1e-6


# --------------------------------------------------------------------------- the matching


def test_matching_is_optimal_and_one_to_one():
    from itertools import permutations

    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 3))
    B = rng.standard_normal((6, 3))
    for absolute in (False, True):
        c = compare(A, B, abs=absolute, progress=False)
        S = unit(A) @ unit(B).T
        S = np.abs(S) if absolute else S
        best = max(sum(S[i, p[i]] for i in range(5)) for p in permutations(range(6), 5))
        assert c.matching_size == 5 and len(set(c.match_b.tolist())) == 5
        assert 5 * c.matching_mean == pytest.approx(best, abs=1e-12)
        np.testing.assert_allclose(
            c.match_cos, (unit(A) @ unit(B).T)[range(5), c.match_b], atol=1e-14
        )
    # more rows in A than in B: the surplus stays unmatched
    c = compare(B, A, progress=False)
    assert c.matching_size == 5 and np.sum(c.match_b == -1) == 1


def test_one_to_one_switch():
    A = np.eye(4)
    assert compare(A, A, one_to_one=False, progress=False).match_b is None
    c = compare(A, A, one_to_one=False, progress=False)
    assert c.matching_mean is None and c.matching_size == 0
    assert "not computed" in str(c)
    assert ONE_TO_ONE_MAX == 20_000


# --------------------------------------------------------------------------- zero rows, output


def test_zero_rows_match_nothing_and_are_left_out():
    A = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])
    B = np.array([[0.0, 0.0], [0.0, 2.0], [3.0, 0.1]])
    c = compare(A, B, thresholds=[0.9], progress=False)
    assert c.zero_rows_a == (1,) and c.zero_rows_b == (0,)
    assert c.best_b.tolist() == [2, -1, 1] and c.best_a.tolist() == [-1, 2, 0]
    assert c.cos_ab[1] == 0.0 and c.mmcs_ab == pytest.approx((1.0 + 3 / np.hypot(3, 0.1)) / 2)
    assert c.matched_ab == (1.0,) and c.match_b.tolist() == [2, -1, 1]
    assert "zero row(s) of A" in str(c) and "zero row(s) of B" in str(c)


def test_per_feature_to_frame_and_to_dict():
    import json

    A = np.eye(3)
    c = compare(A, A[::-1], progress=False)
    cols = c.per_feature()
    assert list(cols) == ["feature", "best", "cos", "match", "match_cos"]
    assert cols["best"].tolist() == [2, 1, 0]
    assert list(c.per_feature("b")) == ["feature", "best", "cos"]
    with pytest.raises(ValueError, match="side must be"):
        c.per_feature("c")
    df = c.to_frame()
    assert df.index.name == "feature" and df["best"].tolist() == [2, 1, 0]
    d = json.loads(json.dumps(c.to_dict()))
    assert d["mmcs_ab"] == 1.0 and d["matched_ab"] == [1.0, 1.0, 1.0] and d["abs"] is False


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.eye(3), np.ones((3, 4))), {}, ValueError, "same width n"),
        ((np.eye(3), np.zeros((2, 3))), {}, ValueError, "B has no nonzero row"),
        ((np.zeros((2, 3)), np.eye(3)), {}, ValueError, "A has no nonzero row"),
        ((np.eye(3), [1.0, 2.0, 3.0]), {}, ValueError, "B must be a 2-D array"),
        ((np.eye(3), np.full((2, 3), np.nan)), {}, ValueError, "finite"),
        ((np.eye(3), np.eye(3)), {"thresholds": [1.5]}, ValueError, "thresholds"),
        ((np.eye(3), np.eye(3)), {"abs": "yes"}, TypeError, "abs must be"),
        ((np.eye(3), np.eye(3)), {"one_to_one": 1}, TypeError, "one_to_one must be"),
        ((np.eye(3), np.eye(3)), {"block": 0}, ValueError, "block"),
    ],
)
def test_bad_inputs(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        compare(*args, progress=False, **kwargs)


# --------------------------------------------------------------------------- command line


def test_cli_compare_table_json_and_per_feature(tmp_path, capsys):
    import json

    from suptheory.cli.main import main

    rng = np.random.default_rng(4)
    W = rng.standard_normal((80, 12))
    perm = rng.permutation(80)
    copy = np.empty_like(W)
    copy[perm] = -W  # negated: matched only by |cos|
    np.savez(tmp_path / "a.npz", W_dec=W, W_enc=W.T.copy())
    np.save(tmp_path / "b.npy", copy)
    a, b = str(tmp_path / "a.npz"), str(tmp_path / "b.npy")
    assert main(["compare", a, b, "--key-a", "W_dec", "--abs", "--json", "--no-progress"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["mmcs_ab"] == 1.0 and d["abs"] is True and d["matching_size"] == 80
    out = tmp_path / "pf.csv"
    assert (
        main(
            [
                "compare",
                a,
                b,
                "--key-a",
                "W_enc",
                "--transpose-a",
                "--abs",
                "--per-feature",
                str(out),
                "--thresholds",
                "0.99",
                "--no-progress",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "best match |cos| >= 0.99  100.0%" in text
    lines = out.read_text().splitlines()
    assert lines[0] == "feature,best,cos,match,match_cos" and len(lines) == 81
    assert [int(x.split(",")[1]) for x in lines[1:]] == perm.tolist()
    assert main(["compare", a, b, "--key-a", "W_dec", "--no-one-to-one", "--no-progress"]) == 0
    assert "not computed" in capsys.readouterr().out


def test_cli_compare_errors(tmp_path, capsys):
    from suptheory.cli.main import main

    np.save(tmp_path / "a.npy", np.eye(4))
    np.save(tmp_path / "b.npy", np.eye(5))
    a, b = str(tmp_path / "a.npy"), str(tmp_path / "b.npy")
    assert main(["compare", a, b, "--no-progress"]) == 2
    assert "same width n" in capsys.readouterr().err
    assert main(["compare", a, a, "--per-feature", str(tmp_path / "x.txt")]) == 2
    assert "--per-feature" in capsys.readouterr().err
    assert not (tmp_path / "x.txt").exists()
    assert main(["compare", a, str(tmp_path / "nope.npy")]) == 2


# --------------------------------------------------------------------------- the report's plot


def test_plot_embedding_report_panels_and_errors(tmp_path):
    from suptheory import analyze, overlap_histogram, plot_embedding_report

    rng = np.random.default_rng(0)
    W = rng.standard_normal((400, 16))
    W[7] = 0.0
    r = analyze(W, progress=False)
    fig = plot_embedding_report(
        r, tmp_path / "r.png", histogram=overlap_histogram(W, 50, progress=False), bins=50
    )
    assert len(fig.axes) == 3 and (tmp_path / "r.png").stat().st_size > 15_000
    # the histogram bars hold every pair of nonzero rows
    bars = sum(p.get_height() for p in fig.axes[0].patches)
    assert bars == 399 * 398 // 2
    with pytest.raises(ValueError, match="not both"):
        plot_embedding_report(r, W=W, histogram=overlap_histogram(W, progress=False))
    with pytest.raises(ValueError, match="shape"):
        plot_embedding_report(r, W=W[:10])


def test_cli_analyze_plot(tmp_path, capsys):
    from suptheory.cli.main import main

    path = tmp_path / "W.npy"
    np.save(path, np.random.default_rng(1).standard_normal((300, 12)))
    out = tmp_path / "report.png"
    assert main(["analyze", str(path), "--plot", str(out), "--quantiles", "--no-progress"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "EmbeddingReport" in capsys.readouterr().out
    # a bad path fails before any computation
    assert main(["analyze", str(tmp_path / "missing.npy"), "--plot", str(tmp_path / "r.xyz")]) == 2
    assert "--plot must name an image file" in capsys.readouterr().err
    assert main(["analyze", str(path), "--plot", str(tmp_path / "no" / "r.png")]) == 2
    assert "no such directory" in capsys.readouterr().err
