"""Sticky dimensionalities and tegum factors on constructed embeddings with known geometry.

References: each construction's D_i follows by hand from D_i = 1 / sum_j cos^2(w_i, w_j) for
unit rows (Elhage et al. 2022, "Feature dimensionality"); for k unit vectors forming a tight
frame of an r-dimensional space, sum_j cos^2 = k / r, so D_i = r / k (pentagon 2/5, triangle 2/3,
tetrahedron 3/4, antipodal pair 1/2, square antiprism with height 1/sqrt(3): 3/8).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import suptheory
from suptheory.empirical.geometry import (
    STICKY_DIMENSIONALITIES,
    classify_dimensionality,
    describe_geometry,
    nearest_sticky,
    tegum_factors,
)


def polygon(k):
    t = 2 * np.pi * np.arange(k) / k
    return np.c_[np.cos(t), np.sin(t)]


def tetrahedron():
    return np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / math.sqrt(3)


def square_antiprism():
    # two squares at heights +-h, the lower rotated by 45 degrees; h^2 = 1/3 makes the frame
    # tight (sum z^2 = 8/3 = m/n), hence D_i = n/m = 3/8
    h = 1 / math.sqrt(3)
    r = math.sqrt(1 - h * h)
    a = np.pi / 2 * np.arange(4)
    top = np.c_[r * np.cos(a), r * np.sin(a), np.full(4, h)]
    bottom = np.c_[r * np.cos(a + np.pi / 4), r * np.sin(a + np.pi / 4), np.full(4, -h)]
    return np.r_[top, bottom]


def block_diag(*blocks):
    m = sum(b.shape[0] for b in blocks)
    n = sum(b.shape[1] for b in blocks)
    W = np.zeros((m, n))
    r = c = 0
    for b in blocks:
        W[r : r + b.shape[0], c : c + b.shape[1]] = b
        r += b.shape[0]
        c += b.shape[1]
    return W


def random_rotation(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


CASES = [
    ("pentagon", polygon(5), 2 / 5),
    ("triangle", polygon(3), 2 / 3),
    ("antipodal pair", np.array([[1.0, 0.0], [-1.0, 0.0]]), 1 / 2),
    ("tetrahedron", tetrahedron(), 3 / 4),
    ("square antiprism", square_antiprism(), 3 / 8),
    ("dedicated", np.eye(3), 1.0),
]


@pytest.mark.parametrize(("label", "W", "D"), CASES, ids=[c[0] for c in CASES])
def test_constructed_geometries(label, W, D):
    classes = classify_dimensionality(W)
    np.testing.assert_allclose(classes.dimensionality, D, atol=1e-12)
    assert classes.labels == [label] * W.shape[0]
    assert classes.sticky.all()
    np.testing.assert_allclose(classes.nearest, D, atol=1e-15)
    assert classes.counts() == {label: W.shape[0]}
    # independent route: D_i = 1 / sum_j cos^2 for unit rows
    U = W / np.linalg.norm(W, axis=1, keepdims=True)
    np.testing.assert_allclose(1 / np.sum((U @ U.T) ** 2, axis=1), D, atol=1e-12)


def test_sticky_table_matches_the_paper():
    fractions = dict((label, f) for f, label in STICKY_DIMENSIONALITIES)
    assert fractions == {
        "dedicated": 1.0,
        "tetrahedron": 0.75,
        "triangle": 2 / 3,
        "antipodal pair": 0.5,
        "pentagon": 0.4,
        "square antiprism": 0.375,
        "not represented": 0.0,
    }


def test_unrepresented_and_other():
    # a zero row is "not represented"; a generic direction far from every fraction is "other"
    W = np.r_[polygon(5), [[0.0, 0.0]]]
    classes = classify_dimensionality(W)
    assert classes.labels[-1] == "not represented"
    assert classes.counts() == {"pentagon": 5, "not represented": 1}
    nearest, labels, distance = nearest_sticky([0.58, 0.2, 0.39, 0.38])
    assert labels == ["other", "other", "pentagon", "square antiprism"]
    np.testing.assert_allclose(distance, [0.58 - 0.5, 0.375 - 0.2, 0.01, 0.005], atol=1e-12)
    assert nearest_sticky(0.58, tol=0.1)[1] == ["antipodal pair"]


def test_two_orthogonal_antipodal_pairs_are_two_tegum_factors():
    W = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    factors = tegum_factors(W)
    assert [f.tolist() for f in factors] == [[0, 1], [2, 3]]
    s = describe_geometry(W)
    assert s.factor_ranks == [1, 1]
    assert s.factor_dimensionality == pytest.approx([1.0, 1.0])
    assert s.orthogonal
    assert s.classes.counts() == {"antipodal pair": 4}
    assert "tegum factors: 2" in str(s)


def test_tegum_product_of_paper_geometries():
    # pentagon (+) triangle (+) tetrahedron (+) a dedicated feature, each in its own coordinates,
    # then a random rotation of the whole space and a shuffle of the features
    rng = np.random.default_rng(0)
    blocks = [polygon(5), polygon(3), tetrahedron(), np.ones((1, 1))]
    W = block_diag(*blocks) @ random_rotation(8, rng)
    perm = rng.permutation(W.shape[0])
    W = W[perm]
    inverse = np.argsort(perm)
    sizes = np.cumsum([0] + [b.shape[0] for b in blocks])
    expected = sorted(
        (np.sort(inverse[sizes[k] : sizes[k + 1]]).tolist() for k in range(len(blocks))),
        key=lambda f: f[0],
    )
    s = describe_geometry(W)
    assert [f.tolist() for f in s.factors] == expected
    ranks = {len(f): r for f, r in zip(s.factors, s.factor_ranks, strict=True)}
    assert ranks == {5: 2, 3: 2, 4: 3, 1: 1}
    # a tight frame of its span: sum of D_i over a factor is its rank
    assert s.factor_dimensionality == pytest.approx(s.factor_ranks, abs=1e-12)
    assert s.orthogonal
    assert s.classes.counts() == {"dedicated": 1, "tetrahedron": 4, "triangle": 3, "pentagon": 5}


def test_small_rows_are_not_represented_and_overlap_joins():
    W = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0], [0.0, 1e-3, 1e-3]])
    factors = tegum_factors(W)
    assert [f.tolist() for f in factors] == [[0, 1], [2]]
    s = describe_geometry(W)
    assert s.unrepresented.tolist() == [3]
    assert tegum_factors(np.zeros((3, 2))) == []
    # threshold above the overlap 0.6 separates the pair
    assert len(tegum_factors(W, threshold=0.7)) == 3


def test_non_orthogonal_factors_flagged():
    # two lines at 87 degrees (cos = 0.052): one factor at threshold 0.01, two at 0.06
    c, s_ = math.cos(math.radians(87)), math.sin(math.radians(87))
    W = np.array([[1.0, 0.0], [c, s_]])
    assert len(tegum_factors(W, threshold=0.01)) == 1
    assert len(tegum_factors(W, threshold=0.06)) == 2
    assert describe_geometry(W, threshold=0.06).orthogonal
    # every pairwise cosine below 0.05, yet the third direction leans 0.09 into the plane that
    # the first two span: separate factors whose spans are not orthogonal
    v = np.array([0.0, 0.09, 1.0])
    W = np.array([[1.0, 0.0, 0.0], [math.cos(math.pi / 6), 0.5, 0.0], v / np.linalg.norm(v)])
    s = describe_geometry(W)
    assert [f.tolist() for f in s.factors] == [[0, 1], [2]]
    assert not s.orthogonal
    assert "not orthogonal" in str(s)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: classify_dimensionality(polygon(5), tol=-0.1), ValueError, "tol must be"),
        (lambda: classify_dimensionality([1.0, 2.0]), ValueError, "2-D"),
        (lambda: classify_dimensionality("W"), TypeError, "W must be"),
        (lambda: tegum_factors(polygon(5), threshold=1.0), ValueError, "threshold must be"),
        (lambda: tegum_factors(polygon(5), min_norm=float("nan")), ValueError, "min_norm"),
        (lambda: nearest_sticky([1.5]), ValueError, "D must be"),
        (lambda: classify_dimensionality([[np.inf, 0.0]]), ValueError, "finite"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.1, 10.0))
def test_invariant_under_rotation_scaling_and_relabelling(seed, scale):
    rng = np.random.default_rng(seed)
    W = block_diag(polygon(5), np.array([[1.0], [-1.0]]), square_antiprism())
    R = random_rotation(W.shape[1], rng)
    perm = rng.permutation(W.shape[0])
    V = scale * (W @ R)[perm]
    a, b = classify_dimensionality(W), classify_dimensionality(V)
    np.testing.assert_allclose(b.dimensionality, a.dimensionality[perm], atol=1e-9)
    assert b.labels == [a.labels[i] for i in perm]
    fa = {frozenset(perm.tolist().index(i) for i in f) for f in tegum_factors(W)}
    fb = {frozenset(f.tolist()) for f in tegum_factors(V)}
    assert fa == fb


@settings(max_examples=25)
@given(D=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_nearest_is_nearest(D):
    nearest, labels, distance = nearest_sticky(D)
    fractions = np.array([f for f, _ in STICKY_DIMENSIONALITIES])
    for d, f, lab, dist in zip(D, nearest, labels, distance, strict=True):
        assert dist == pytest.approx(np.min(np.abs(d - fractions)))
        assert abs(d - f) == pytest.approx(dist)
        assert (lab == "other") == (dist > 0.02)


def test_lazy_public_names():
    assert suptheory.describe_geometry is describe_geometry
    assert "tegum_factors" in dir(suptheory)


def test_set_cosines_within_and_across():
    from suptheory.empirical.geometry import set_cosines

    # an antipodal pair (set 0) orthogonal to a dedicated feature (set 1); one dead feature
    W = np.array([[1.0, 0.0], [-0.9, 0.0], [0.0, 1.0], [0.0, 0.001]])
    cs = set_cosines(W, [("anticorrelated", 2), ("independent", 2)])
    assert cs.within.tolist() == [-1.0] and cs.within_min == -1.0
    assert cs.across.size == 2 and cs.across_abs == 0.0
    assert np.isnan(set_cosines(W, [4]).across_mean)
    s = describe_geometry(W, sets=[2, 2])
    assert s.set_cosines is not None and "cos within sets" in str(s)
    with pytest.raises(ValueError, match="sum to"):
        set_cosines(W, [2, 1])
