"""Exact coherence of an embedding against independent references.

References: exact rational arithmetic (``fractions`` + ``decimal``: the correctly rounded
exact cosine) for small matrices, numpy's float64 brute-force Gram for larger ones, and
matrices whose cosines are exact dyadic numbers (every float64 route gives the same bits).
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from suptheory.analysis.coherence import CoherenceResult, coherence, screening_error_bound
from suptheory.testing import strategies
from suptheory.testing.strategies import ETF_CONSTRUCTIONS
from tests.helpers import interrupt_on_call


def exact_abs_cos(a, b) -> float:
    """Correctly rounded |cos| of two float rows, from exact rationals (60-digit sqrt)."""
    fa = [Fraction(float(t)) for t in a]
    fb = [Fraction(float(t)) for t in b]
    d = sum(p * q for p, q in zip(fa, fb, strict=True))
    c2 = d * d / (sum(p * p for p in fa) * sum(q * q for q in fb))
    with localcontext() as ctx:
        ctx.prec = 60
        return float((Decimal(c2.numerator) / Decimal(c2.denominator)).sqrt())


def exact_reference(W):
    """Brute force over pairs of nonzero rows: (value, i, j), first pair in row-major order."""
    W = np.asarray(W, dtype=np.float64)
    rows = [i for i in range(W.shape[0]) if np.any(W[i] != 0)]
    best, pair = 0.0, (None, None)
    for a, i in enumerate(rows):
        for j in rows[a + 1 :]:
            c = exact_abs_cos(W[i], W[j])
            if pair[0] is None or c > best:
                best, pair = c, (i, j)
    return best, pair


def numpy_reference(W):
    """Naive float64 Gram: (value, i, j) of the first maximum of the strict upper triangle."""
    W = np.asarray(W, dtype=np.float64)
    U = W / np.linalg.norm(W, axis=1)[:, None]
    G = np.abs(U @ U.T)
    G[np.tril_indices(len(G))] = -1.0
    flat = int(np.argmax(G))
    i, j = divmod(flat, G.shape[1])
    return G[i, j], (i, j)


def c(W, **kw) -> CoherenceResult:
    return coherence(W, progress=False, **kw)


@pytest.mark.parametrize("seed", range(40))
def test_equals_exact_rational_reference(seed):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(2, 10)), int(rng.integers(1, 7))
    W = rng.standard_normal((m, n)) * np.exp(rng.uniform(-20, 20, (m, 1)))
    if seed % 3 == 0:
        W = W.astype(np.float32)
    value, pair = exact_reference(W)
    r = c(W)
    assert r.value == value
    assert (r.i, r.j) == pair


@pytest.mark.parametrize(("m", "n"), [(300, 8), (1000, 24), (2500, 64)])
def test_random_agrees_with_numpy_gram_to_rounding(m, n):
    W = np.random.default_rng(m).standard_normal((m, n))
    value, pair = numpy_reference(W)
    r = c(W, block=256)
    assert (r.i, r.j) == pair
    # numpy's normalisation and dgemm round a few times; ours rounds once
    assert abs(r.value - value) <= 4 * np.spacing(value)
    assert r.value == exact_abs_cos(W[r.i], W[r.j])
    assert r.overlap == pytest.approx(
        W[r.i] @ W[r.j] / np.linalg.norm(W[r.i]) / np.linalg.norm(W[r.j]), rel=1e-14
    )


def dyadic_rows(rng, m, n):
    """Rows with four entries +-1 (norm 2): unit rows and their dot products are exact."""
    W = np.zeros((m, n))
    for i in range(m):
        idx = rng.choice(n, 4, replace=False)
        W[i, idx] = rng.choice([-1.0, 1.0], 4)
    return W


@pytest.mark.parametrize("seed", range(4))
def test_dyadic_matrices_equal_numpy_bit_for_bit(seed):
    # every cosine is a multiple of 1/4: any float64 route is exact, ties are everywhere
    W = dyadic_rows(np.random.default_rng(seed), 400, 12)
    value, pair = numpy_reference(W)
    r = c(W, block=64)
    assert r.value == value
    assert (r.i, r.j) == pair


@pytest.mark.parametrize("name", sorted(ETF_CONSTRUCTIONS))
def test_etf_constructions_sit_at_the_welch_bound(name):
    # the icosahedron's diagonals (6, 3), the Mercedes-Benz frame, 16 lines in R^6, 28 in R^7
    m, n, _, build = ETF_CONSTRUCTIONS[name]
    W = build()
    value, pair = exact_reference(W)
    r = c(W)
    assert (r.value, (r.i, r.j)) == (value, pair)
    welch = np.sqrt((m - n) / (n * (m - 1)))  # 1/sqrt(5) for the icosahedron
    assert r.value == pytest.approx(welch, rel=1e-15)


@settings(max_examples=40)
@given(strategies.equiangular_tight_frames())
def test_rotated_etfs_equal_the_exact_reference_and_welch(etf):
    # randomly rotated, signed and shuffled: every pair ties to rounding, the first one wins
    value, pair = exact_reference(etf.W)
    r = c(etf.W)
    assert (r.value, (r.i, r.j)) == (value, pair)
    assert r.value == pytest.approx(etf.coherence, rel=0, abs=1e-12)


def test_simplex_etf_exact():
    # m = 4 rows e_i - 1/4: pairwise cos = -1/3 exactly; all pairs tie, first is (0, 1)
    W = np.eye(4) - 0.25
    r = c(W)
    assert r.value == 1 / 3
    assert r.overlap == -1 / 3
    assert (r.i, r.j) == (0, 1)


def test_duplicated_scaled_and_antipodal_rows():
    rng = np.random.default_rng(7)
    W = rng.standard_normal((50, 10))
    W[31] = 3.0 * W[17]
    r = c(W)
    assert (r.value, r.overlap, r.i, r.j) == (1.0, 1.0, 17, 31)
    W[31] = -0.1 * W[17]
    r = c(W)
    assert (r.value, r.overlap, r.i, r.j) == (1.0, -1.0, 17, 31)


@settings(max_examples=40)
@given(
    strategies.planted_duplicates(
        strategies.random_dictionaries(m=st.integers(2, 40), n=st.integers(2, 6)),
        k=st.integers(1, 2),
        overlap=st.floats(-1, 1),
    )
)
def test_planted_pairs_are_seen_exactly(planted):
    W, pairs, overlap = planted
    value, pair = exact_reference(W)
    r = c(W)
    # correctly rounded unless within about n^2 2^-106 (absolute) of a rounding midpoint:
    # guaranteed where that is below half an ulp of the value, i.e. not for a coherence near
    # 0 (a planted overlap of 0 with m = 2 gives ~1e-17, where it is within that bound)
    bound = W.shape[1] ** 2 * 2.0**-104
    if value >= bound * 2.0**54:
        assert (r.value, (r.i, r.j)) == (value, pair)
    else:
        assert abs(r.value - value) <= bound
    assert r.value >= abs(overlap) - 1e-12


def test_a_coherence_near_zero_is_within_the_documented_absolute_bound():
    """The case the random profile found: two nearly orthogonal rows (cos ~ 1e-17)."""
    W = np.array([[1.0, 1e-17, 0.0], [-1e-17, 1.0, 0.0]]) @ np.diag([1.0, 3.0, 1.0])
    value, _ = exact_reference(W)
    r = c(W)
    assert abs(r.value - value) <= 9 * 2.0**-104


def test_zero_rows_are_excluded_and_listed():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((30, 4))
    W[[0, 5, 29]] = 0.0
    value, pair = exact_reference(W)
    r = c(W)
    assert r.zero_rows == (0, 5, 29)
    assert (r.value, (r.i, r.j)) == (value, pair)
    assert r.pairs == 27 * 26 // 2


@pytest.mark.parametrize("W", [[[1.0, 2.0]], [[0.0, 0.0], [0.0, 0.0]], [[0.0], [3.0]]])
def test_fewer_than_two_nonzero_rows_has_no_pair(W):
    r = c(W)
    assert (r.value, r.i, r.j, r.pairs) == (0.0, None, None, 0)
    assert float(r) == 0.0


def test_width_one():
    # n = 1: every pair of nonzero rows is parallel or antiparallel
    r = c([[2.0], [-3.0], [0.5]])
    assert (r.value, r.overlap, r.i, r.j) == (1.0, -1.0, 0, 1)


def test_float32_input_equals_float64_of_same_values():
    W = np.random.default_rng(11).standard_normal((700, 20)).astype(np.float32)
    assert c(W) == c(W.astype(np.float64))


def test_near_tie_that_float32_alone_gets_wrong():
    # two pairs whose cosines differ by 1e-10: float32 sees a tie and takes the first pair
    cos_a, cos_b = 0.9, 0.9 + 1e-10
    W = np.zeros((4, 4))
    W[0, 0] = 1.0
    W[1, :2] = cos_a, np.sqrt(1 - cos_a**2)
    W[2, 2] = 1.0
    W[3, 2:] = cos_b, np.sqrt(1 - cos_b**2)
    U32 = W.astype(np.float32)
    G32 = np.abs(U32 @ U32.T)
    G32[np.tril_indices(4)] = -1
    assert divmod(int(np.argmax(G32)), 4) == (0, 1)  # the trap
    r = c(W)
    assert (r.i, r.j) == (2, 3)
    assert r.value == exact_abs_cos(W[2], W[3])


def test_identical_for_threads_and_blocks():
    W = np.random.default_rng(5).standard_normal((1500, 16))
    W[1234] = -W[17] * 0.5 + 1e-9  # a near-duplicate far from the diagonal blocks
    ref = c(W, threads=1, block=1500)
    for threads in (1, 2):
        for block in (5, 128, None):
            assert c(W, threads=threads, block=block) == ref
    assert (ref.i, ref.j) == (17, 1234)


def test_result_object():
    r = c([[1.0, 0.0], [1.0, 1.0]])
    assert float(r) == pytest.approx(2**-0.5, rel=1e-15)
    assert "pair=(0, 1)" in repr(r)
    d = r.to_dict()
    assert d["i"] == 0 and d["j"] == 1 and d["zero_rows"] == [] and d["pairs"] == 1


def test_screening_bound_covers_observed_float32_error():
    rng = np.random.default_rng(2)
    for n in (3, 64, 512):
        W = rng.standard_normal((200, n))
        U = W / np.linalg.norm(W, axis=1)[:, None]
        err = np.abs(U.astype(np.float32) @ U.astype(np.float32).T - U @ U.T).max()
        assert err <= screening_error_bound(n)
    with pytest.raises(ValueError, match="too large"):
        screening_error_bound(2**23)


@pytest.mark.parametrize(
    ("W", "match"),
    [
        ([[1.0, np.nan], [1.0, 0.0]], "finite"),
        ([[1.0, np.inf], [1.0, 0.0]], "finite"),
        ([1.0, 2.0], "2-D"),
        (np.ones((2, 2, 2)), "2-D"),
        (np.ones((0, 3)), "at least one row"),
        (np.ones((3, 0)), "at least one row"),
    ],
)
def test_bad_input_raises_value_error(W, match):
    with pytest.raises(ValueError, match=match):
        c(W)


def test_bad_types_and_options():
    with pytest.raises(TypeError):
        c("W")
    with pytest.raises(ValueError, match="threads"):
        c(np.eye(2), threads=0)
    with pytest.raises(ValueError, match="block"):
        c(np.eye(2), block=0)


small = arrays(
    np.float64,
    st.tuples(st.integers(2, 12), st.integers(1, 6)),
    elements=st.floats(-4, 4, allow_nan=False, allow_subnormal=False),
)


@settings(max_examples=40)
@given(small, st.data())
def test_invariances(W, data):
    r = c(W)
    m = W.shape[0]
    signs = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=m, max_size=m)))
    powers = np.array(data.draw(st.lists(st.integers(-30, 30), min_size=m, max_size=m)))
    # sign flips and power-of-two scalings are exact: same bits, same pair
    f = c(W * signs[:, None])
    assert (f.value, f.i, f.j) == (r.value, r.i, r.j)
    if r.i is not None:
        assert f.overlap == r.overlap * signs[r.i] * signs[r.j]
    assert c(np.ldexp(W, powers[:, None])) == r
    # arbitrary positive scaling and rotation round the rows: equal to rounding
    scales = np.array(data.draw(st.lists(st.floats(0.1, 10), min_size=m, max_size=m)))
    assert c(W * scales[:, None]).value == pytest.approx(r.value, abs=1e-14)
    n = W.shape[1]
    Q, _ = np.linalg.qr(np.random.default_rng(m * 7 + n).standard_normal((n, n)))
    assert c(W @ Q).value == pytest.approx(r.value, abs=1e-13)
    # the exact reference
    value, pair = exact_reference(W)
    assert (r.value, (r.i, r.j)) == (value, pair)


def test_interrupt_leaves_no_trace(monkeypatch):
    import numba

    import suptheory.analysis.coherence as metrics

    W = np.random.default_rng(9).standard_normal((600, 8))
    ref = c(W, block=100)
    before = numba.get_num_threads()
    real = metrics._k.scan_block
    interrupted, _ = interrupt_on_call(real, 3)
    monkeypatch.setattr(metrics._k, "scan_block", interrupted)
    with pytest.raises(KeyboardInterrupt):
        c(W, block=100, threads=1)
    assert numba.get_num_threads() == before  # restored on the way out
    monkeypatch.setattr(metrics._k, "scan_block", real)
    assert c(W, block=100) == ref


def test_worker_threads_leave_no_trace(monkeypatch):
    # the tiles run on worker threads with BLAS held to one thread: on return (and on an
    # interrupt) the workers are gone and BLAS has its own thread count back
    import threading

    import suptheory.analysis.coherence as metrics

    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [
            d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"
        ]

    W = np.random.default_rng(11).standard_normal((3000, 8))
    before = blas_threads()
    ref = c(W, threads=1, block=100)
    assert c(W, threads=2, block=100) == ref
    real = metrics._k.scan_block
    interrupted, calls = interrupt_on_call(real, 5)
    monkeypatch.setattr(metrics._k, "scan_block", interrupted)
    with pytest.raises(KeyboardInterrupt):
        c(W, block=100, threads=2)
    assert len(calls) < 15  # of 40 tiles: the queued ones were cancelled, not run
    assert blas_threads() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("suptheory-coherence")]
