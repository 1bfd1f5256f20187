"""Metrics of an embedding against brute-force m x m references and the paper's geometry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from suptheory.analysis.coherence import overlap_histogram, overlap_quantiles
from suptheory.analysis.metrics import (
    dimensions_per_feature,
    feature_dimensionality,
    frame_potential,
    row_norms,
    superposition,
    zero_rows,
)


def brute(W):
    """Direct m x m definitions (docs/theory.md section 6): D_i, superposition, unit Gram."""
    W = np.asarray(W, dtype=np.float64)
    norms = np.linalg.norm(W, axis=1)
    nz = norms > 0
    Wh = np.zeros_like(W)
    Wh[nz] = W[nz] / norms[nz, None]
    P = (Wh @ W.T) ** 2  # P[i, j] = (W^_i . W_j)^2
    D = np.zeros(len(W))
    D[nz] = norms[nz] ** 2 / P[nz].sum(axis=1)
    S = P.sum(axis=1) - np.diag(P)
    U = Wh[nz]
    return D, S, U @ U.T


def pairs_abs_cos(W):
    _, _, G = brute(W)
    return np.abs(G[np.triu_indices(len(G), 1)])


@pytest.mark.parametrize(("m", "n"), [(1, 3), (7, 3), (200, 10), (50, 80)])
def test_against_brute_force(m, n):
    rng = np.random.default_rng(m + n)
    W = rng.standard_normal((m, n)) * rng.uniform(0.1, 3, (m, 1))
    if m > 5:
        W[3] = 0.0
    D, S, G = brute(W)
    np.testing.assert_allclose(feature_dimensionality(W), D, rtol=1e-12, atol=0)
    np.testing.assert_allclose(superposition(W), S, rtol=1e-10, atol=1e-12 * S.max(initial=1))
    assert frame_potential(W) == pytest.approx((G**2).sum(), rel=1e-12)
    assert frame_potential(W, normalize=False) == pytest.approx(((W @ W.T) ** 2).sum(), rel=1e-12)
    assert dimensions_per_feature(W) == pytest.approx(n / (W**2).sum(), rel=1e-14)
    np.testing.assert_allclose(row_norms(W), np.linalg.norm(W, axis=1), rtol=1e-15)


def test_zero_rows_give_zero_not_nan():
    W = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert zero_rows(W).tolist() == [0, 2]
    assert feature_dimensionality(W).tolist() == [0.0, 1.0, 0.0]
    assert superposition(W).tolist() == [0.0, 0.0, 0.0]
    assert dimensions_per_feature(np.zeros((3, 2))) == np.inf
    assert frame_potential(np.zeros((3, 2))) == 0.0


@pytest.mark.parametrize(
    ("k", "expected"),
    # sticky dimensionalities of the toy-models paper: regular k-gons in the plane
    # (antipodal pair 1/2, triangle 2/3, pentagon 2/5) -- a k-gon in R^2 gives 2/k
    [(2, 1.0), (3, 2 / 3), (5, 2 / 5), (8, 1 / 4)],
)
def test_polygons(k, expected):
    t = 2 * np.pi * np.arange(k) / k
    W = np.c_[np.cos(t), np.sin(t)]
    if k == 2:  # an antipodal pair on one neuron
        W = np.array([[1.0], [-1.0]])
        expected = 0.5
    np.testing.assert_allclose(feature_dimensionality(W), expected, rtol=1e-13)


def test_tetrahedron_and_identity():
    tet = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)
    np.testing.assert_allclose(feature_dimensionality(tet), 0.75, rtol=1e-14)
    np.testing.assert_array_equal(feature_dimensionality(np.eye(4)), 1.0)
    np.testing.assert_array_equal(superposition(np.eye(4)), 0.0)


def test_sum_of_dimensionalities_is_at_most_the_rank():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 6))  # rank 2 in R^6
    assert feature_dimensionality(W).sum() <= 2 + 1e-9
    t = 2 * np.pi * np.arange(7) / 7  # a unit-norm tight frame reaches it: 7 * 2/7 = 2
    assert feature_dimensionality(np.c_[np.cos(t), np.sin(t)]).sum() == pytest.approx(2, rel=1e-14)


def test_rows_of_wildly_different_scales():
    # squares of the small row underflow in the common scale: handled in its own scale
    np.testing.assert_array_equal(feature_dimensionality([[1e-200, 0.0], [0.0, 1.0]]), [1, 1])
    np.testing.assert_allclose(
        feature_dimensionality([[1e-160, 0.0], [1e-155, 1.0]]), [1 / (1 + 1e10), 1.0], rtol=1e-12
    )
    assert frame_potential([[1.0], [1e-186]]) == 4.0
    np.testing.assert_allclose(
        superposition([[1e-160, 0.0], [1e-155, 1.0]]), [1e-310, 0.0], rtol=1e-9
    )  # (1e-315)^2 underflows


def test_extreme_scales_do_not_overflow():
    W = np.random.default_rng(0).standard_normal((30, 5))
    for s in (1e-300, 1e300):
        np.testing.assert_allclose(
            feature_dimensionality(W * s), feature_dimensionality(W), rtol=1e-12
        )
    assert dimensions_per_feature(W * 1e-300) == np.inf  # n / 1e-600: a true overflow
    for s in (1e-150, 1e150):
        assert dimensions_per_feature(W * s) == pytest.approx(
            dimensions_per_feature(W) / s**2, rel=1e-12
        )
        np.testing.assert_allclose(superposition(W * s) / s**2, superposition(W), rtol=1e-10)


@pytest.mark.parametrize("bins", [10, np.array([0.0, 0.05, 0.1, 0.3, 1.0]), [0.2, 0.4]])
def test_histogram_matches_numpy(bins):
    W = np.random.default_rng(1).standard_normal((300, 12))
    a = pairs_abs_cos(W)
    counts, edges = overlap_histogram(W, bins, progress=False, block=64)
    ref, ref_edges = np.histogram(a, bins=bins if np.ndim(bins) else np.linspace(0, 1, bins + 1))
    np.testing.assert_array_equal(edges, ref_edges)
    np.testing.assert_array_equal(counts, ref)


def test_quantiles_match_numpy():
    W = np.random.default_rng(2).standard_normal((500, 16))
    W[10] = 0
    a = pairs_abs_cos(W)
    q = [0.0, 0.01, 0.5, 0.9, 0.99, 1.0]
    np.testing.assert_allclose(
        overlap_quantiles(W, q, progress=False, block=100),
        np.quantile(a, q),
        rtol=1e-13,
        atol=1e-15,
    )
    assert overlap_quantiles(W, 0.5, progress=False) == pytest.approx(np.median(a), rel=1e-13)
    with pytest.raises(ValueError, match="at least two nonzero rows"):
        overlap_quantiles([[1.0, 0.0]], 0.5)
    with pytest.raises(ValueError, match="q must be in"):
        overlap_quantiles(W, 1.5)


def test_random_quantiles_follow_the_beta_law():
    # |<u, v>| of random directions: median = F^-1(3/4) of the exact overlap law (THEORY 2)
    from scipy import stats

    n, m = 20, 600
    W = np.random.default_rng(3).standard_normal((m, n))
    law = stats.beta((n - 1) / 2, (n - 1) / 2, loc=-1, scale=2)
    med = overlap_quantiles(W, 0.5, progress=False)
    # 179,700 dependent pairs; the median's sd is well under 0.005 here
    assert med == pytest.approx(law.ppf(0.75), abs=0.005)


def test_threads_do_not_change_histograms():
    W = np.random.default_rng(4).standard_normal((700, 8))
    ref = overlap_histogram(W, 20, threads=1, progress=False)[0]
    np.testing.assert_array_equal(overlap_histogram(W, 20, threads=2, progress=False)[0], ref)


def test_bad_input():
    with pytest.raises(ValueError, match="finite"):
        feature_dimensionality([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="2-D"):
        superposition([1.0, 2.0])
    with pytest.raises(ValueError, match="at least one row"):
        frame_potential(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="bins"):
        overlap_histogram(np.eye(3), [0.5, 0.1])
    with pytest.raises(ValueError, match="bins"):
        overlap_histogram(np.eye(3), 0)


# entries 0 or of magnitude >= 0.01: D_i of a row ~1e-18 times smaller than the others is
# ill-conditioned (rotating W moves it by rounding), so invariance is stated for sane scales
entries = st.one_of(st.just(0.0), st.floats(0.01, 3), st.floats(-3, -0.01))
embeddings = arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 5)), elements=entries)
any_embeddings = arrays(
    np.float64,
    st.tuples(st.integers(1, 12), st.integers(1, 5)),
    elements=st.floats(-3, 3, allow_nan=False, allow_subnormal=False),
)


@settings(max_examples=50)
@given(any_embeddings)
def test_bounds_hold_at_any_scale(W):
    D = feature_dimensionality(W)
    assert np.all(D >= 0) and np.all(D <= 1)
    assert D.sum() <= min(W.shape[1], np.count_nonzero(W.any(axis=1))) + 1e-9
    assert np.all(superposition(W) >= 0)


@settings(max_examples=50)
@given(embeddings, st.integers(0, 2**32 - 1))
def test_laws_of_feature_dimensionality(W, seed):
    D = feature_dimensionality(W)
    assert np.all(D >= 0) and np.all(D <= 1 + 1e-12)
    assert D.sum() <= min(W.shape[1], np.count_nonzero(W.any(axis=1))) + 1e-9
    # invariant under rotations of R^n, sign flips and positive rescaling of the whole W
    rng = np.random.default_rng(seed)
    n = W.shape[1]
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    signs = rng.choice([-1.0, 1.0], (W.shape[0], 1))
    np.testing.assert_allclose(
        feature_dimensionality(W @ Q * signs * 3.7), D, rtol=1e-9, atol=1e-12
    )
    S = superposition(W)
    assert np.all(S >= 0)


# --- wide embeddings (m < n) go through the m x m Gram: same sums, memory O(m n) -----------


def _through_n_by_n(W):
    """q_i = W^_i^T (W^T W) W^_i and the frame potential ||U^T U||_F^2, via n x n Grams."""
    norms = np.linalg.norm(W, axis=1)
    Wh = W / norms[:, None]
    q = np.einsum("ij,ij->i", Wh @ (W.T @ W), Wh)
    A = Wh.T @ Wh
    return norms**2 / q, q - norms**2, float(np.sum(A * A))


def _through_m_by_m(W):
    norms = np.linalg.norm(W, axis=1)
    Wh = W / norms[:, None]
    q = np.sum((Wh @ W.T) ** 2, axis=1)
    G = Wh @ Wh.T
    return norms**2 / q, q - norms**2, float(np.sum(G * G))


@pytest.mark.parametrize(("m", "n"), [(5, 40), (30, 300), (40, 5), (300, 30), (17, 17)])
def test_wide_and_tall_routes_agree_with_both_grams(m, n):
    W = np.random.default_rng(m * n).standard_normal((m, n)) * 3.0
    D, sup, fp = feature_dimensionality(W), superposition(W), frame_potential(W)
    for route in (_through_n_by_n, _through_m_by_m):
        D_ref, sup_ref, fp_ref = route(W)
        np.testing.assert_allclose(D, D_ref, rtol=1e-12)
        np.testing.assert_allclose(sup, sup_ref, rtol=1e-12)
        assert fp == pytest.approx(fp_ref, rel=1e-12)
    W32 = W.astype(np.float32)  # float32 input: computed in float64 all the same
    np.testing.assert_allclose(
        feature_dimensionality(W32), _through_n_by_n(W32.astype(np.float64))[0], rtol=1e-12
    )


def test_wide_inputs_need_memory_o_mn_not_n_squared():
    # n = 200000: an n x n Gram would be 298 GiB; the child may grow by 512 MiB at most
    import subprocess
    import sys
    import textwrap

    from tests.test_loading import _child_env

    code = textwrap.dedent("""
        import resource
        import numpy as np
        from suptheory import analyze
        from suptheory.analysis.metrics import (
            feature_dimensionality, frame_potential, superposition)
        analyze(np.ones((4, 10)) + np.eye(4, 10), progress=False)  # compile numba first
        with open("/proc/self/status") as fh:
            vm = next(int(l.split()[1]) for l in fh if l.startswith("VmSize:")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + 512 * 2**20, vm + 512 * 2**20))
        W = np.ones((4, 200000))
        W[1, :100000] = -1.0
        print(feature_dimensionality(W).round(6).tolist(), superposition(W).round(6).tolist())
        print(frame_potential(W), frame_potential(W, normalize=False))
        r = analyze(W, progress=False)
        print(r.frame_potential, round(r.feature_dimensionality_sum, 6))
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=_child_env()
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # rows 0, 2, 3 are equal, row 1 orthogonal to them: D = 1/3 and 1
    assert lines[0] == "[0.333333, 1.0, 0.333333, 0.333333] [400000.0, 0.0, 400000.0, 400000.0]"
    assert [float(v) for v in lines[1].split()] == pytest.approx([10.0, 10.0 * 200000**2])
    assert [float(v) for v in lines[2].split()] == pytest.approx([10.0, 2.0])
