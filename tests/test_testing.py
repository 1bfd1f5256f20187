"""suptheory.testing: each strategy's guarantee on >= 200 examples, the assertions, the plugin."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from suptheory import interference, welch_bound
from suptheory.analysis.coherence import coherence
from suptheory.testing import assert_coherence, assert_matches, assert_within_capacity
from suptheory.testing import strategies as sts

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def gram(W):
    return W @ W.T


def cosines(W):
    U = W / np.linalg.norm(W, axis=1)[:, None]
    return U @ U.T


# ------------------------------------------------------------------ strategies


@pytest.mark.parametrize("model", sts.REGIME_MODELS)
@EXAMPLES
@given(data=st.data())
def test_regimes_are_inside_the_models_valid_region(model, data):
    realistic = data.draw(st.booleans())
    superposition = data.draw(st.booleans())
    n, m, ell = r = data.draw(sts.regimes(model, realistic=realistic, superposition=superposition))
    assert isinstance(r, sts.Regime) and all(type(v) is int for v in r)
    assert n >= 1 and m >= 2 and 0 <= ell <= m - 1
    if realistic:
        assert 64 <= n <= 16_384 and n <= m <= 128 * n and 1 <= ell <= 1024
    else:
        assert n <= 10**6 and m <= 10**12
    if superposition:
        assert m > n
    sigma = interference(n, m, ell, model=model)
    assert math.isfinite(sigma) and sigma >= 0
    if ell == 0:
        assert sigma == 0
    elif model in ("random", "linsefors"):
        assert sigma > 0


def test_regimes_bounds_and_bad_arguments():
    narrow = sts.regimes(min_n=3, max_n=3, min_m=5, max_m=5, min_l=4)

    @settings(max_examples=10)
    @given(narrow)
    def check(r):
        assert r == (3, 5, 4)

    check()
    with pytest.raises(InvalidArgument, match="model"):
        sts.regimes("l1")
    with pytest.raises(InvalidArgument, match="min_n"):
        sts.regimes(min_n=0)


@EXAMPLES
@given(W=sts.random_dictionaries(), seed=sts.seeds)
def test_random_dictionaries_have_unit_rows(W, seed):
    m, n = W.shape
    assert W.dtype == np.float64 and 2 <= m <= 64 and 1 <= n <= 16
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, rtol=0, atol=1e-15)
    # a function of (m, n, seed): the documented recipe
    g = np.random.default_rng(seed).standard_normal((m, n))
    np.testing.assert_array_equal(
        sts._unit_gaussian_rows(np.random.default_rng(seed), m, n),
        g / np.linalg.norm(g, axis=1)[:, None],
    )


def test_random_dictionaries_are_uniform_on_the_sphere():
    # pooled over one large draw: overlaps have mean 0 and variance 1/n (docs/theory.md section 2)
    @settings(max_examples=1, database=None)
    @given(sts.random_dictionaries(m=2000, n=16, seed=7))
    def check(W):
        G = gram(W)[np.triu_indices(2000, 1)]
        se = math.sqrt(2 / 16**2 / 2000)  # rough: ~2000 independent rows' worth
        assert abs(G.mean()) < 5 * math.sqrt(1 / 16 / 2000)
        assert abs((G**2).mean() - 1 / 16) < 5 * se
        # coordinates of uniform unit vectors: each has mean 0 and variance 1/n
        assert np.allclose((W**2).mean(axis=0), 1 / 16, atol=5 * math.sqrt(2 / 16**2 / 2000))

    check()


@EXAMPLES
@given(sts.tight_frames())
def test_tight_frames_sit_on_the_rms_floor(W):
    m, n = W.shape
    assert m >= n
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(W.T @ W, (m / n) * np.eye(n), rtol=0, atol=1e-12)
    G = gram(W)
    off = G - np.diag(np.diag(G))
    floor = math.sqrt((m - n) / (n * (m - 1)))
    rms = np.sqrt((off**2).sum(axis=1) / (m - 1))
    np.testing.assert_allclose(rms, floor, rtol=0, atol=1e-12)
    assert float(np.sum(G * G)) == pytest.approx(m * m / n, rel=1e-12)


def test_tight_frames_rejects_too_few_vectors():
    with pytest.raises(InvalidArgument, match="m >= n"):
        sts.harmonic_frame(2, 3)

    @settings(max_examples=30)
    @given(sts.tight_frames(m=st.integers(1, 6), n=st.integers(1, 6)))
    def check(W):
        assert W.shape[0] >= W.shape[1]

    check()


@EXAMPLES
@given(sts.equiangular_tight_frames())
def test_etfs_meet_the_welch_bound(etf):
    W, m, n, mu = etf.W, etf.m, etf.n, etf.coherence
    assert W.shape == (m, n) and m > n
    assert mu == pytest.approx(float(welch_bound(m, n)), rel=0, abs=1e-12)
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, rtol=0, atol=1e-14)
    G = gram(W)
    off = np.abs(G[~np.eye(m, dtype=bool)])
    np.testing.assert_allclose(off, mu, rtol=0, atol=1e-12)  # equiangular
    np.testing.assert_allclose(W.T @ W, (m / n) * np.eye(n), rtol=0, atol=1e-12)  # tight
    assert coherence(W, progress=False).value == pytest.approx(mu, rel=0, abs=1e-12)


def test_etf_constructions_without_transform_cover_the_table():
    seen = {}

    @settings(max_examples=200, database=None)
    @given(sts.equiangular_tight_frames(transform=False, max_simplex=5))
    def check(etf):
        seen[(etf.m, etf.n)] = etf.name
        assert coherence(etf.W, progress=False).value == pytest.approx(etf.coherence, abs=1e-12)

    check()
    assert {(3, 2), (6, 3), (16, 6), (28, 7)} <= set(seen)


@EXAMPLES
@given(data=st.data())
def test_planted_duplicates_sit_at_the_chosen_overlap(data):
    use_overlap = data.draw(st.booleans())
    if use_overlap:
        p = data.draw(sts.planted_duplicates(k=st.integers(1, 3), overlap=st.floats(-1, 1)))
    else:
        p = data.draw(sts.planted_duplicates(k=st.integers(1, 3), angle=st.floats(0, math.pi)))
    W, pairs, c = p
    assert pairs.shape[1] == 2 and len(set(pairs.ravel().tolist())) == pairs.size
    C = cosines(W)
    for i, j in pairs:
        assert C[i, j] == pytest.approx(c, rel=0, abs=1e-12)
    assert coherence(W, progress=False).value >= abs(c) - 1e-12


@EXAMPLES
@given(W=sts.random_dictionaries(m=st.integers(4, 30), n=st.integers(2, 8)), data=st.data())
def test_planted_duplicates_leave_the_other_rows_alone(W, data):
    scaled = W * np.arange(1, len(W) + 1)[:, None]  # rows of different norms
    p = data.draw(sts.planted_duplicates(scaled, k=st.integers(1, 2)))
    changed = np.flatnonzero(np.any(p.W != scaled, axis=1))
    assert set(changed.tolist()) <= set(p.pairs[:, 1].tolist())
    np.testing.assert_allclose(
        np.linalg.norm(p.W, axis=1), np.linalg.norm(scaled, axis=1), rtol=1e-13
    )
    C = cosines(p.W)
    for i, j in p.pairs:
        assert C[i, j] == pytest.approx(p.overlap, abs=1e-12)


def test_planted_duplicates_bad_arguments():
    @settings(max_examples=5)
    @given(sts.planted_duplicates(np.eye(3), k=2))
    def too_many(p):
        pass

    with pytest.raises(InvalidArgument, match="4 nonzero rows"):
        too_many()

    @settings(max_examples=5)
    @given(sts.planted_duplicates(np.ones((4, 1)), overlap=0.5))
    def too_narrow(p):
        pass

    with pytest.raises(InvalidArgument, match="n >= 2"):
        too_narrow()


@EXAMPLES
@given(
    W=sts.random_dictionaries(m=st.integers(2, 32), n=st.integers(8, 32)),
    c=sts.permuted_noisy_copy(
        W=sts.random_dictionaries(m=st.integers(1, 8)), noise=st.floats(0, 0.9)
    ),
    data=st.data(),
)
def test_permuted_noisy_copy_returns_the_true_permutation(W, c, data):
    # the bound on every copy, for any dictionary (here one with arbitrary noise)
    assert sorted(c.perm.tolist()) == list(range(len(c.perm)))
    assert c.min_cosine == pytest.approx(math.sqrt(1 - c.noise**2))
    # and the recovery: distinct rows farther apart than twice the perturbation angle
    noise = data.draw(st.floats(0, 0.2))
    copy = data.draw(sts.permuted_noisy_copy(W, noise=noise))
    assert sorted(copy.perm.tolist()) == list(range(len(W)))
    C = cosines(W)
    for i in range(len(W)):
        got = float(cosines(np.stack([W[i], copy.W[copy.perm[i]]]))[0, 1])
        assert got >= copy.min_cosine - 1e-12
    closest = (C - 2 * np.eye(len(W))).max()
    event("separated" if closest < math.cos(2 * math.asin(noise)) else "too close")
    if closest < math.cos(2 * math.asin(noise)):
        match = assert_matches(W, copy.W, min_cosine=copy.min_cosine - 1e-12)
        np.testing.assert_array_equal(match, copy.perm)


def test_permuted_noisy_copy_large_and_zero_rows():
    W = np.vstack([np.eye(300, 40), np.zeros((1, 40))])

    @settings(max_examples=3, database=None)
    @given(sts.permuted_noisy_copy(W, noise=0.3))
    def check(c):
        assert sorted(c.perm.tolist()) == list(range(301))
        assert not np.any(c.W[c.perm[300]])  # a zero row stays zero

    check()


def _hoeffding(N, failure=1e-9):
    return math.sqrt(math.log(2 / failure) / (2 * N))


@EXAMPLES
@given(data=st.data())
def test_sparse_activations_follow_the_toy_model_law(data):
    amplitude = data.draw(st.sampled_from(sts.AMPLITUDE_LAWS))
    a = data.draw(st.sampled_from([1.0, 0.5, 3.0]))
    if data.draw(st.booleans()):
        p = data.draw(st.floats(0, 1))
        X = data.draw(
            sts.sparse_activations(p=p, amplitude=amplitude, a=a, batch=st.integers(1, 64))
        )
    else:
        m = data.draw(st.integers(1, 64))
        ell = data.draw(st.floats(0, m))
        X = data.draw(sts.sparse_activations(m, l=ell, amplitude=amplitude, a=a))
        p = ell / m
    assert X.dtype == np.float64 and X.ndim == 2
    active = X != 0
    if amplitude == "fixed":
        assert np.all((X == 0) | (X == a))
    else:
        assert np.all((X >= 0) & (X < a))
    # the law: active w.p. p (Hoeffding at failure probability 1e-9 per example)
    N = X.size
    assert abs(active.mean() - p) <= _hoeffding(N)
    if amplitude == "uniform" and active.sum() > 0:
        assert abs(X[active].mean() / a - 0.5) <= _hoeffding(int(active.sum()))
    if p == 0:
        assert not active.any()
    if p == 1 and amplitude == "fixed":
        assert active.all()


def test_sparse_activations_bad_arguments():
    with pytest.raises(InvalidArgument, match="amplitude"):
        find(sts.sparse_activations(amplitude="normal"), lambda X: True)
    with pytest.raises(InvalidArgument, match="p or l"):
        find(sts.sparse_activations(p=0.1, l=1), lambda X: True)


# ------------------------------------------------------------------ assertions


def test_assert_coherence_passes_and_reports_the_numbers():
    assert_coherence(np.eye(4) - 0.25, 1 / 3)
    with pytest.raises(
        AssertionError,
        match=r"4 x 4 dictionary is 0\.333333 \(rows 0 and 1, overlap "
        r"-0\.333333\), expected 0\.3: \|difference\| 0\.0333 > allowed "
        r"3e-13",
    ):
        assert_coherence(np.eye(4) - 0.25, 0.3)
    with pytest.raises(AssertionError, match="no pair of nonzero rows"):
        assert_coherence([[1.0, 0.0]], 0.5)
    with pytest.raises(AssertionError, match="expected nan"):
        assert_coherence(np.eye(2), float("nan"))


def test_assert_within_capacity_measures_the_readout_error():
    # 4 unit vectors in R^2 at 0, 30, 90, 100 degrees, l = 1: the read-out of i errs when
    # |cos(w_i, w_j)| >= 1/2 for the one active j, uniform over the ordered pairs
    ang = np.radians([0.0, 30.0, 90.0, 100.0])
    W = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    C = np.abs(cosines(W))[~np.eye(4, dtype=bool)]
    exact = float(np.mean(C >= 0.5))
    trials = 40_000
    rate = assert_within_capacity(W, l=1, error=0.99, trials=trials)
    assert abs(rate - exact) < 5 * math.sqrt(exact * (1 - exact) / trials)
    with pytest.raises(AssertionError) as info:
        assert_within_capacity(W, l=1, error=0.1, trials=trials)
    msg = str(info.value)
    assert f"is {rate:.6g} +- " in msg and "allowed 0.1" in msg
    assert "4 x 2 dictionary with l = 1" in msg and "random directions" in msg
    with pytest.raises(ValueError, match="error must be"):
        assert_within_capacity(W, l=1, error=0.0)


def test_assert_within_capacity_random_dictionary_against_the_random_law():
    # many weak overlaps: close to the normal law 2 Phi(-sqrt(n / l) / 2) of the random model
    from scipy.special import ndtr

    W = np.random.default_rng(0).standard_normal((2000, 64))
    predicted = float(2 * ndtr(-math.sqrt(64 / 16) / 2))  # 2 Phi(-1) = 0.317
    rate = assert_within_capacity(W, l=16, error=0.5, trials=20_000, seed=1)
    assert rate == pytest.approx(predicted, abs=0.02)
    with pytest.raises(AssertionError, match=r"allowed 0\.01; noise std"):
        assert_within_capacity(W, l=16, error=0.01, trials=20_000, seed=1)


def test_assert_matches_messages():
    A = np.eye(3)
    np.testing.assert_array_equal(assert_matches(A, A[[2, 0, 1]]), [1, 2, 0])
    with pytest.raises(
        AssertionError,
        match=r"1 of 3 features of A have no match in B with "
        r"cosine >= 0\.9: A\[2\] best cosine 0\.6 \(B\[2\]\)",
    ):
        assert_matches(A, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.8, 0.6]])
    with pytest.raises(AssertionError, match=r"B\[0\] for A\[0, 1\]"):
        assert_matches([[1.0, 0.0], [1.0, 0.01]], [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(
        assert_matches([[1.0, 0.0], [1.0, 0.01]], [[1.0, 0.0], [0.0, 1.0]], one_to_one=False),
        [0, 0],
    )
    with pytest.raises(AssertionError, match=r"A\[0\] is a zero row"):
        assert_matches([[0.0, 0.0], [1.0, 0.0]], np.eye(2))
    with pytest.raises(ValueError, match="same width"):
        assert_matches(np.eye(2), np.eye(3))


# ------------------------------------------------------------------ optional hypothesis, plugin


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_suptheory_does_not_import_hypothesis():
    # the package and its assertions do not (the plugin tries it, for its profile)
    out = _run("""
        import sys
        import suptheory, suptheory.testing
        suptheory.coherence  # the lazy layers too
        print([m for m in sys.modules if m.split('.')[0] == 'hypothesis'])
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_without_hypothesis_the_plugin_and_assertions_work_and_strategies_say_so():
    out = _run("""
        import sys
        sys.modules['hypothesis'] = None  # as if not installed
        import numpy as np
        from suptheory.testing import assert_coherence, _plugin
        assert_coherence(np.eye(2), 0.0)
        assert _plugin.settings is None and 'npy' in _plugin.FORMATS
        try:
            from suptheory.testing import strategies
        except ImportError:
            print('strategies need hypothesis')
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "strategies need hypothesis"


def test_plugin_fixture_and_profile_in_a_fresh_pytest_run(tmp_path):
    # as a user's test run would see it: only the plugin, no project conftest
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent("""
        import numpy as np
        from hypothesis import settings
        from suptheory import load_embedding

        def test_profile():
            assert settings.default.max_examples == 200 and settings.default.deadline is None

        def test_my_loader(embedding_file):
            W = load_embedding(embedding_file.path, key=embedding_file.key)
            assert W.shape == (32, 8) and embedding_file.path.exists()
            np.testing.assert_array_equal(W, embedding_file.W)
    """)
    )
    # and the plugin example of the docs page, as it is printed there
    page = (ROOT / "docs" / "testing-your-code.md").read_text(encoding="utf-8")
    blocks = [
        b
        for b in re.findall(r"^```python\n(.*?)^```", page, re.M | re.S)
        if "def test_" in b and "embedding_file" in b
    ]
    assert len(blocks) == 1
    (tmp_path / "test_docs_example.py").write_text(blocks[0])
    out = subprocess.run(
        # the plugin comes in through its pytest11 entry point, as in a user's environment
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-profile=suptheory",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    from suptheory.testing._plugin import FORMATS

    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{2 * len(FORMATS) + 1} passed" in out.stdout


def test_embedding_file_fixture_is_active_here(embedding_file):
    # this repository's own run loads the plugin too (conftest.py or the entry point)
    from suptheory import load_embedding

    W = load_embedding(embedding_file.path, key=embedding_file.key)
    np.testing.assert_array_equal(W, embedding_file.W)
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, rtol=1e-6)
