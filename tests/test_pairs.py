"""Per-feature pair statistics (:func:`~suptheory.analysis.pairs.pair_statistics`), brute force.

References: numpy's float64 Gram matrix of the unit rows (every per-feature maximum, nearest
neighbour, count and top pair must equal it; the exact values agree with it to rounding) and
``numpy.quantile`` over all pairs (rtol 1e-12).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from suptheory import coherence
from suptheory.analysis.pairs import pair_statistics

Q = (0.01, 0.1, 0.5, 0.9, 0.99, 1.0)


def brute(W):
    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=1)
    keep = norms > 0
    U = np.zeros_like(W)
    U[keep] = W[keep] / norms[keep, None]
    G = U @ U.T
    A = np.abs(G)
    np.fill_diagonal(A, -1.0)
    A[~keep, :] = -1.0
    A[:, ~keep] = -1.0
    return G, A, keep


def check_against_brute(W, s, thresholds=(), top_k=0, decimals=None):
    G, A, keep = brute(W)
    m = len(A)
    mx = A.max(axis=1)
    has = keep & (mx >= 0)
    np.testing.assert_allclose(s.max_overlap[has], mx[has], rtol=1e-13, atol=1e-15)
    assert np.all(s.max_overlap[~has] == 0) and np.all(s.nearest[~has] == -1)
    # the partner: brute force's arg-max, unless another partner ties to rounding
    arg = A.argmax(axis=1)
    for i in np.flatnonzero(has & (s.nearest != arg)):
        assert A[i, s.nearest[i]] == pytest.approx(mx[i], rel=1e-13)
    np.testing.assert_allclose(
        s.nearest_overlap[has], G[np.flatnonzero(has), s.nearest[has]], rtol=1e-13, atol=1e-15
    )
    for t_idx, t in enumerate(thresholds):
        # an exact cos == t may come out of float64 an ulp low: round the reference then
        ref = A if decimals is None else np.round(A, decimals)
        np.testing.assert_array_equal(s.counts[:, t_idx], (ref >= t).sum(axis=1))
    if top_k:
        iu = np.triu_indices(m, 1)
        a = (A if decimals is None else np.round(A, decimals))[iu]
        valid = a >= 0
        order = np.lexsort((iu[1][valid], iu[0][valid], -a[valid]))[:top_k]
        np.testing.assert_array_equal(s.top_pairs["i"], iu[0][valid][order])
        np.testing.assert_array_equal(s.top_pairs["j"], iu[1][valid][order])
        np.testing.assert_allclose(
            np.abs(s.top_pairs["overlap"]), a[valid][order], rtol=1e-12, atol=1e-11
        )


@pytest.mark.parametrize(
    "m,n,shift,block",
    [(300, 16, 0.0, 64), (1500, 48, 0.5, 128), (2500, 6, 0.0, 512), (4200, 96, 0.3, None)],
)
def test_every_statistic_equals_brute_force(m, n, shift, block):
    rng = np.random.default_rng(m)
    W = rng.standard_normal((m, n)) + shift * rng.standard_normal(n)
    W[5] = -2 * W[7]  # an antipodal duplicate
    W[11] = 0.0  # a zero row
    thresholds = (0.2, 0.5)
    s = pair_statistics(
        W, top_k=50, thresholds=thresholds, quantiles=Q, block=block, progress=False
    )
    check_against_brute(W, s, thresholds, 50)
    _, A, _ = brute(W)
    a = A[np.triu_indices(m, 1)]
    a = a[a >= 0]
    np.testing.assert_allclose(list(s.quantiles.values()), np.quantile(a, Q), rtol=1e-12)
    c = coherence(W, progress=False)
    assert (s.coherence, s.pair, s.overlap) == (c.value, (c.i, c.j), c.overlap)
    assert s.zero_rows == (11,) and s.pairs == (m - 1) * (m - 2) // 2


@pytest.mark.parametrize("path", ["sample", "histogram", "missed"])
def test_quantiles_exact_on_every_path(monkeypatch, path):
    """The one-pass quantiles (bands predicted by a sample), the histogram pass, and the
    fallback when a predicted band misses its rank all give numpy.quantile's values."""
    from suptheory.analysis import pairs as P

    monkeypatch.setattr(P, "_COLLECT_CAP", 2**18)
    monkeypatch.setattr(P, "_SAMPLE_PAIRS", 2**15)
    if path == "histogram":
        monkeypatch.setattr(P, "_predict_bands", lambda *a, **k: None)
    elif path == "missed":
        # a band far from every rank: the check after the pass sends it to the histogram
        monkeypatch.setattr(
            P, "_predict_bands", lambda *a, **k: (np.array([0.999]), np.array([1.0]))
        )
    seen = []
    real = P._exact_quantiles
    monkeypatch.setattr(P, "_exact_quantiles", lambda *a, **k: seen.append(1) or real(*a, **k))
    rng = np.random.default_rng(21)
    W = (rng.standard_normal((1200, 32)) + 0.3 * rng.standard_normal(32)).astype(np.float32)
    W[9] = W[4]  # ties
    q = (0.0, 0.25, 0.5, 0.9, 0.99, 1.0)
    s = pair_statistics(W, top_k=5, quantiles=q, progress=False, block=200)
    assert bool(seen) == (path != "sample")
    _, A, _ = brute(W)
    a = A[np.triu_indices(len(W), 1)]
    # atol: the float64 reference is off by ~1e-16 at the smallest |cos| (~1e-7)
    np.testing.assert_allclose(
        list(s.quantiles.values()), np.quantile(a, q), rtol=1e-12, atol=1e-15
    )


def test_float32_input_with_shared_direction_and_ties():
    rng = np.random.default_rng(3)
    W = (rng.standard_normal((900, 24)) + 2.0 * rng.standard_normal(24)).astype(np.float32)
    W[100:110] = W[3]  # a block of exact duplicates: ties everywhere
    s = pair_statistics(
        W, top_k=60, thresholds=[0.9, 0.99], quantiles=(0.5, 0.999), progress=False, block=100
    )
    check_against_brute(W, s, (0.9, 0.99), 60)
    assert s.nearest[3] == 100 and s.nearest[100] == 3 and s.nearest[105] == 3


def test_identical_for_threads_and_blocks():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((2600, 20))
    ref = pair_statistics(W, top_k=30, thresholds=[0.6], quantiles=[0.5], threads=1, progress=False)
    for kw in ({"threads": 2}, {"block": 77}, {"block": 3000}):
        s = pair_statistics(W, top_k=30, thresholds=[0.6], quantiles=[0.5], progress=False, **kw)
        for name in ("max_overlap", "nearest", "nearest_overlap", "counts", "top_pairs"):
            np.testing.assert_array_equal(getattr(s, name), getattr(ref, name))
        assert s.quantiles == ref.quantiles


@pytest.mark.parametrize("W", [[[1.0, 2.0]], [[0.0, 0.0], [1.0, 0.0]]])
def test_no_pair(W):
    s = pair_statistics(W, thresholds=[0.5], progress=False)
    assert s.pair is None and s.coherence == 0.0 and len(s.top_pairs) == 0
    assert np.all(s.nearest == -1) and np.all(s.counts == 0)
    with pytest.raises(ValueError, match="at least two nonzero rows"):
        pair_statistics(W, quantiles=[0.5], progress=False)


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"top_k": -1}, "top_k"),
        ({"top_k": 1.5}, "top_k"),
        ({"thresholds": [1.5]}, "thresholds"),
        ({"thresholds": [np.nan]}, "thresholds"),
        ({"quantiles": [-0.1]}, "quantiles"),
        ({"threads": 0}, "threads"),
        ({"block": 0}, "block"),
    ],
)
def test_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        pair_statistics(np.eye(3), progress=False, **kw)


def test_bad_matrix():
    with pytest.raises(ValueError, match="W"):
        pair_statistics(np.array([[1.0, np.nan], [0.0, 1.0]]), progress=False)


small = arrays(
    np.float64,
    st.tuples(st.integers(2, 40), st.integers(1, 6)),
    elements=st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, -3.0, 0.25]),
)


@settings(max_examples=40)
@given(small, st.integers(0, 10))
def test_small_matrices_with_many_ties(W, top_k):
    s = pair_statistics(W, top_k=top_k, thresholds=[0.5, 1.0], progress=False, block=7)
    check_against_brute(W, s, (0.5, 1.0), top_k, decimals=12)


def test_one_pass_quantiles_survive_a_shared_direction(monkeypatch):
    """Rows that differ a lot (a shared direction: some rows overlap everything) do not widen
    the predicted bands: every row is in the sample alike, so the row effects cancel and the
    quantiles still take one pass, with numpy.quantile's values."""
    from suptheory.analysis import pairs as P

    rng = np.random.default_rng(8)
    W = (rng.standard_normal((3000, 16)) + 0.5 * rng.standard_normal(16)).astype(np.float32)
    total = 3000 * 2999 // 2
    monkeypatch.setattr(P, "_COLLECT_CAP", int(0.1 * total))  # bands may hold 5% of pairs
    monkeypatch.setattr(P, "_SAMPLE_PAIRS", 2**16)
    seen = []
    real = P._exact_quantiles
    monkeypatch.setattr(P, "_exact_quantiles", lambda *a, **k: seen.append(1) or real(*a, **k))
    q = (0.1, 0.5, 0.99)
    s = pair_statistics(W, quantiles=q, progress=False, block=256)
    assert not seen  # one pass
    _, A, _ = brute(W)
    a = A[np.triu_indices(len(W), 1)]
    np.testing.assert_allclose(list(s.quantiles.values()), np.quantile(a, q), rtol=1e-12)


@pytest.mark.parametrize("cap", [2**18, 2**12])
def test_quantile_passes_predicts_the_passes(monkeypatch, cap):
    """quantile_passes (what --estimate counts) says whether the quantiles took a second
    pass: none when the predicted bands fit the collection cap, one when they do not."""
    from suptheory.analysis import pairs as P

    monkeypatch.setattr(P, "_COLLECT_CAP", cap)
    seen = []
    real = P._exact_quantiles
    monkeypatch.setattr(P, "_exact_quantiles", lambda *a, **k: seen.append(1) or real(*a, **k))
    W = np.random.default_rng(5).standard_normal((1500, 16)).astype(np.float32)
    expected = P.quantile_passes(1500, [0.5])
    assert expected == (1 if cap == 2**12 else 0)
    s = pair_statistics(W, quantiles=[0.5], progress=False)
    assert len(seen) == expected
    _, A, _ = brute(W)
    assert s.quantiles[0.5] == pytest.approx(np.quantile(A[np.triu_indices(1500, 1)], 0.5), 1e-12)
