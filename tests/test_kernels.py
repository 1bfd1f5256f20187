"""The numba kernels run as plain Python (``kernel.py_func``), against numpy references.

Each test runs a kernel's Python source on a tiny input with every other kernel of its
module swapped for its Python source too (:func:`pure_python`), so coverage sees the kernel
code, and checks it against an independent numpy (or exact) recomputation. The compiled
kernel, run on the same input, must agree with the Python run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

import numpy as np
import pytest
from numba.core.dispatcher import Dispatcher

from suptheory._kernels import coherence as KC
from suptheory._kernels import packing as KP
from suptheory._kernels import simulate as KS
from suptheory._kernels import toy as KT
from suptheory.analysis.coherence import screening_error_bound


@contextmanager
def pure_python(monkeypatch: pytest.MonkeyPatch, module) -> Iterator[None]:
    """Replace every compiled function of ``module`` by its Python source meanwhile.

    The kernels call each other through the module's globals, so a ``.py_func`` run is then
    Python from top to bottom. uint64 hashing wraps around on purpose (numpy warns).
    """
    with monkeypatch.context() as mp:
        for name, obj in list(vars(module).items()):
            if isinstance(obj, Dispatcher):
                mp.setattr(module, name, obj.py_func)
        with np.errstate(over="ignore"):
            yield


def _close(a, b, rtol=1e-12, atol=1e-14):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- toy models

_MASK = 2**64 - 1
_G = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB


def _mix(z: int) -> int:
    # splitmix64's finaliser on Python integers
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _word(start: int, j: int) -> tuple[float, float]:
    """The j-th word of a stream (j >= 1) as (u_low, u_high), both in [0, 1)."""
    z = _mix((start + j * _G) & _MASK)
    return (z & 0xFFFFFFFF) * 2.0**-32, (z >> 32) * 2.0**-32


def _samples(key, step, p, m, batch, signed, batch_major):
    """The ``(batch, m)`` data of one instance at one step, from the module docstring's recipe."""
    start = _mix(_mix((int(key) + _G) & _MASK) ^ ((step * _M2 + _G) & _MASK))
    X = np.zeros((batch, m))

    def value(v):
        return 2.0 * v - 1.0 if signed else v

    if batch_major:  # feature i of sample b is word i * batch + b + 1
        for i in range(m):
            for b in range(batch):
                lo, hi = _word(start, i * batch + b + 1)
                X[b, i] = value(hi) if lo < p else 0.0
        return X
    j = 0  # per sample, words consecutive along the stream
    sparse = p < KT.SPARSE_BELOW
    inv = 1.0 / math.log1p(-p) if (sparse and p > 0) else 0.0
    for b in range(batch):
        if p <= 0:
            continue
        if not sparse:
            for i in range(m):
                j += 1
                lo, hi = _word(start, j)
                X[b, i] = value(hi) if lo < p else 0.0
            continue
        pos = -1
        while True:  # geometric gaps between active features
            j += 1
            lo, hi = _word(start, j)
            gap = math.log(1.0 - lo) * inv
            if gap >= m - 1 - pos:
                break
            pos += int(gap) + 1
            X[b, pos] = value(hi)
    return X


def _np_losses(code, W, Wo, b, imp, X):
    """Per-sample loss ``sum_i I_i (y_i - x'_i)^2`` by a numpy forward pass."""
    Z = X @ W
    H = np.maximum(Z, 0.0) if code in (KT.MODEL_HIDDEN_RELU, KT.MODEL_ABS) else Z
    out = H @ Wo.T + b
    Y = out if code == KT.MODEL_LINEAR else np.maximum(out, 0.0)
    T = np.abs(X) if code == KT.MODEL_ABS else X
    return ((Y - T) ** 2 * imp).sum(axis=1)


def _np_objective(code, W, Wo, b, imp, X):
    return _np_losses(code, W, Wo, b, imp, X).mean() / X.shape[1]


def _np_adam(P, G, M, V, lr, t, adamw, wd, b1=0.9, b2=0.999, eps=1e-8):
    """PyTorch's Adam/AdamW step (torch.optim docs), in numpy, in place."""
    if adamw:
        P *= 1.0 - lr * wd
    else:
        G = G + wd * P
    M[:] = b1 * M + (1.0 - b1) * G
    V[:] = b2 * V + (1.0 - b2) * G * G
    P -= lr / (1.0 - b1**t) * M / (np.sqrt(V) / np.sqrt(1.0 - b2**t) + eps)


def _toy_setup(code, m=5, n=3, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((m, n)) * 0.6
    Wo = rng.standard_normal((m, n)) * 0.6 if code == KT.MODEL_ABS else W
    b = rng.standard_normal(m) * 0.1
    imp = rng.uniform(0.5, 1.5, m)
    return W, Wo, b, imp


_CODES = [KT.MODEL_RELU, KT.MODEL_LINEAR, KT.MODEL_HIDDEN_RELU, KT.MODEL_ABS]


def test_model_codes_are_distinct_and_named():
    assert sorted(KT.MODELS.values()) == [0, 1, 2, 3]
    assert KT.MODELS == {
        "relu": KT.MODEL_RELU,
        "linear": KT.MODEL_LINEAR,
        "hidden-relu": KT.MODEL_HIDDEN_RELU,
        "abs": KT.MODEL_ABS,
    }
    assert [KT.use_gram(c, 0.01, 40, 3) for c in _CODES] == [True, True, False, False]


@pytest.mark.parametrize("gram", [False, True])
@pytest.mark.parametrize("code", _CODES)
def test_loss_and_grad_py_func(monkeypatch, code, gram):
    W, Wo, b, imp = _toy_setup(code)
    m = W.shape[0]
    rng = np.random.default_rng(1)
    low = -1.0 if code == KT.MODEL_ABS else 0.0
    X = np.where(rng.random((4, m)) < 0.5, rng.uniform(low, 1.0, (4, m)), 0.0)
    untied = code == KT.MODEL_ABS

    def run(fn):
        gW = np.zeros_like(W)
        gWo = np.zeros_like(W) if untied else gW
        gb = np.zeros_like(b)
        f = fn(W, Wo, b, imp, X, code, gW, gWo, gb, gram)
        return f, gW, gWo, gb

    compiled = run(KT.loss_and_grad)
    loss_and_grad_py = KT.loss_and_grad.py_func
    with pure_python(monkeypatch, KT):
        f, gW, gWo, gb = run(loss_and_grad_py)
    for a, c in zip((f, gW, gWo, gb), compiled, strict=True):
        _close(a, c)
    _close(f, _np_objective(code, W, Wo, b, imp, X))
    # central differences of the numpy objective
    h = 1e-6
    params = [(W, gW), (b, gb)] + ([(Wo, gWo)] if untied else [])
    for P, grad in params:
        num = np.zeros_like(P)
        for j in np.ndindex(P.shape):
            old = P[j]
            P[j] = old + h
            fp = _np_objective(code, W, Wo, b, imp, X)
            P[j] = old - h
            fm = _np_objective(code, W, Wo, b, imp, X)
            P[j] = old
            num[j] = (fp - fm) / (2 * h)
        _close(grad, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("code", _CODES)
def test_batch_loss_and_grad_py_func(monkeypatch, code):
    W, Wo, b, imp = _toy_setup(code)
    m, n = W.shape
    untied = code == KT.MODEL_ABS
    key, step, B, p = np.uint64(2**63 + 12345), 7, 6, 0.6

    def run(fn):
        gW = np.zeros_like(W)
        gWo = np.zeros_like(W) if untied else gW
        gb = np.zeros_like(b)
        f, X = fn(W, Wo, b, imp, p, key, step, B, code, gW, gWo, gb)
        return f, X, gW, gWo, gb

    compiled = run(KT.batch_loss_and_grad)
    batch_loss_and_grad_py = KT.batch_loss_and_grad.py_func
    with pure_python(monkeypatch, KT):
        f, X, gW, gWo, gb = run(batch_loss_and_grad_py)
    for a, c in zip((f, X, gW, gWo, gb), compiled, strict=True):
        _close(a, c)
    np.testing.assert_array_equal(X, _samples(key, step, p, m, B, untied, batch_major=True))
    _close(f, _np_objective(code, W, Wo, b, imp, X))
    # the same gradient as the per-sample kernel on the same data
    rW, rWo = np.zeros_like(W), np.zeros_like(W) if untied else None
    rb = np.zeros_like(b)
    KT.loss_and_grad(W, Wo, b, imp, X, code, rW, rWo if untied else rW, rb, False)
    _close(gW, rW, rtol=1e-10, atol=1e-14)
    _close(gb, rb, rtol=1e-10, atol=1e-14)
    if untied:
        _close(gWo, rWo, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("code", [KT.MODEL_RELU, KT.MODEL_HIDDEN_RELU, KT.MODEL_ABS])
def test_train_chunk_py_func(monkeypatch, code):
    # m n > 64, so p = 0.5 is batch-major, 0.15 per-sample dense (Gram for relu) and 0.05
    # per-sample sparse; the reference redraws the data, runs a numpy forward pass and
    # numpy Adam on the per-sample kernel's gradient
    m, n, B, steps, step0 = 9, 8, 4, 2, 5
    p = np.array([0.5, 0.15, 0.05])
    assert [KT.use_batch(q, m, n) for q in p] == [True, False, False]
    J = p.size
    rng = np.random.default_rng(3)
    untied = code == KT.MODEL_ABS
    W0 = rng.standard_normal((J, m, n)) * 0.4
    Wo0 = rng.standard_normal((J, m, n)) * 0.4 if untied else np.zeros((1, 1, 1))
    imp = rng.uniform(0.5, 1.5, (J, m))
    keys = rng.integers(0, 2**64, J, dtype=np.uint64)
    lr = np.array([1e-2, 5e-3])
    wd = 0.01

    def run(fn):
        W, Wo, b = W0.copy(), Wo0.copy(), np.zeros((J, m))
        state = [
            np.zeros_like(W),
            np.zeros_like(W),
            np.zeros_like(Wo),
            np.zeros_like(Wo),
            np.zeros_like(b),
            np.zeros_like(b),
        ]
        losses = np.zeros((J, steps))
        fn(
            W,
            Wo,
            b,
            *state,
            imp,
            p,
            KT.NO_SETS,
            KT.NO_SET_MODE,
            keys,
            step0,
            lr,
            B,
            code,
            True,
            wd,
            0.9,
            0.999,
            1e-8,
            losses,
        )
        return W, Wo, b, losses

    compiled = run(KT.train_chunk)
    train_chunk_py = KT.train_chunk.py_func
    with pure_python(monkeypatch, KT):
        got = run(train_chunk_py)
    for a, c in zip(got, compiled, strict=True):
        _close(a, c)
    W, Wo, b, losses = got
    for k in range(J):
        rW, rb = W0[k].copy(), np.zeros(m)
        rWo = Wo0[k].copy() if untied else rW
        mom = [np.zeros((m, n)) for _ in range(4)] + [np.zeros(m), np.zeros(m)]
        for s in range(steps):
            X = _samples(keys[k], step0 + s, p[k], m, B, untied, KT.use_batch(p[k], m, n))
            _close(losses[k, s], _np_losses(code, rW, rWo, rb, imp[k], X).mean(), rtol=1e-10)
            gW, gWo, gb = np.zeros((m, n)), np.zeros((m, n)), np.zeros(m)
            KT.loss_and_grad(rW, rWo, rb, imp[k], X, code, gW, gWo if untied else gW, gb, False)
            t = step0 + s + 1
            _np_adam(rW, gW, mom[0], mom[1], lr[s], t, True, wd)
            if untied:
                _np_adam(rWo, gWo, mom[2], mom[3], lr[s], t, True, wd)
            _np_adam(rb, gb, mom[4], mom[5], lr[s], t, True, wd)
        _close(W[k], rW, rtol=1e-9)
        _close(b[k], rb, rtol=1e-9)
        if untied:
            _close(Wo[k], rWo, rtol=1e-9)


@pytest.mark.parametrize("code", [KT.MODEL_LINEAR, KT.MODEL_ABS])
def test_evaluate_py_func(monkeypatch, code):
    m, n, batch = 6, 2, 12
    p = np.array([0.6, 0.05, 0.0])  # dense draws, sparse draws, no feature ever active
    J = p.size
    rng = np.random.default_rng(4)
    untied = code == KT.MODEL_ABS
    W = rng.standard_normal((J, m, n)) * 0.5
    Wo = rng.standard_normal((J, m, n)) * 0.5 if untied else np.zeros((1, 1, 1))
    b = rng.standard_normal((J, m)) * 0.1
    imp = rng.uniform(0.5, 1.5, (J, m))
    keys = rng.integers(0, 2**64, J, dtype=np.uint64)

    def run(fn):
        mean, se = np.zeros(J), np.zeros(J)
        fn(W, Wo, b, imp, p, KT.NO_SETS, KT.NO_SET_MODE, keys, batch, code, mean, se)
        return mean, se

    compiled = run(KT.evaluate)
    evaluate_py = KT.evaluate.py_func
    with pure_python(monkeypatch, KT):
        mean, se = run(evaluate_py)
    _close(mean, compiled[0])
    _close(se, compiled[1])
    for k in range(J):
        X = _samples(keys[k], 0, p[k], m, batch, untied, batch_major=False)
        ls = _np_losses(code, W[k], Wo[k] if untied else W[k], b[k], imp[k], X)
        _close(mean[k], ls.mean(), rtol=1e-10)
        # the kernel's one-pass variance cancels: sqrt(eps) times the mean, absolutely
        _close(se[k], ls.std(ddof=1) / np.sqrt(batch), rtol=1e-7, atol=1e-7 * ls.mean())


@pytest.mark.parametrize("adamw,wd", [(True, 0.01), (False, 0.0), (False, 0.05)])
def test_adam_update_py_func(adamw, wd):
    rng = np.random.default_rng(5)
    P0 = rng.standard_normal(7)
    grads = rng.standard_normal((3, 7))
    state = {name: [P0.copy(), np.zeros(7), np.zeros(7)] for name in ("py", "jit", "np")}
    for t, g in enumerate(grads, start=1):
        P, M, V = state["py"]
        KT.adam_update.py_func(P, g.copy(), M, V, 1e-2, t, adamw, wd, 0.9, 0.999, 1e-8)
        P, M, V = state["jit"]
        KT.adam_update(P, g.copy(), M, V, 1e-2, t, adamw, wd, 0.9, 0.999, 1e-8)
        P, M, V = state["np"]
        _np_adam(P, g.copy(), M, V, 1e-2, t, adamw, wd)
    for a, c in zip(state["py"], state["jit"], strict=True):
        _close(a, c)
    for a, c in zip(state["py"], state["np"], strict=True):
        _close(a, c, rtol=1e-12)


def test_tree_size_and_pairwise_sums(monkeypatch):
    assert [KT.tree_size(b) for b in (1, 2, 3, 4, 5, 1024, 1025)] == [1, 2, 4, 4, 8, 1024, 2048]
    a = np.random.default_rng(6).standard_normal((2, 5))
    T = np.zeros(KT.tree_size(5))
    tsum_py = KT._tsum.py_func
    tdot_py = KT._tdot.py_func
    with pure_python(monkeypatch, KT):
        assert tsum_py(a, 1, 5, T) == pytest.approx(a[1].sum(), rel=1e-14)
        assert tdot_py(a, 0, a, 1, 5, T) == pytest.approx(a[0] @ a[1], rel=1e-14)


# ---------------------------------------------------------------- coherence


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def exact_sq(row):
    return sum(Fraction(float(v)) ** 2 for v in row)


def test_row_sumsq_dd_and_pair_cos_py_func(monkeypatch):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 5)) * np.array([[1.0], [1e-3], [1e3], [1.0], [1.0]])
    x[3] = x[0] * -3.0  # exactly antiparallel to row 0 (the factor is exact)
    x[4] = [x[0, 1], -x[0, 0], 0.0, 0.0, 0.0]  # exactly orthogonal to row 0
    hi, lo = np.empty(5), np.empty(5)
    chi, clo = np.empty(5), np.empty(5)
    KC.row_sumsq_dd(x, chi, clo)
    row_sumsq_dd_py = KC.row_sumsq_dd.py_func
    pair_cos_py = KC.pair_cos.py_func
    with pure_python(monkeypatch, KC):
        row_sumsq_dd_py(x, hi, lo)
        cos = {(i, j): pair_cos_py(x, hi, lo, i, j) for i in range(5) for j in range(5)}
    np.testing.assert_array_equal(hi, chi)
    np.testing.assert_array_equal(lo, clo)
    for i in range(5):
        exact = exact_sq(x[i])
        assert abs(Fraction(float(hi[i])) + Fraction(float(lo[i])) - exact) <= exact * 2**-100
    for (i, j), c in cos.items():
        assert c == KC.pair_cos(x, hi, lo, i, j)
        dot = sum(Fraction(float(a)) * Fraction(float(b)) for a, b in zip(x[i], x[j], strict=True))
        ref = float(dot) / math.sqrt(float(exact_sq(x[i]) * exact_sq(x[j])))
        assert c == pytest.approx(ref, rel=1e-15, abs=1e-300)
    assert cos[0, 3] == -1.0 and cos[0, 0] == 1.0 and cos[0, 4] == 0.0


def _rowset(x, hi, lo):
    """The kernels' row-set tuple of the prescaled rows ``x`` (no scaling)."""
    k = len(x)
    return (x, np.arange(k, dtype=np.int64), np.ones(k), hi, lo, np.sqrt(hi))


def _scan(fn, c, row0, col0, x, hi, lo, err):
    nchunks = -(-c.shape[1] // KC.CHUNK)
    out = (
        np.empty(nchunks),
        np.empty(nchunks),
        np.empty(nchunks, np.int64),
        np.empty(nchunks, np.int64),
        np.empty(nchunks, np.int64),
    )
    fn(c, c.view(np.int32), row0, col0, -1.0, err, 2.0**-40, _rowset(x, hi, lo), *out)
    return out


@pytest.mark.parametrize("row0,rows", [(0, 12), (4, 5)])
def test_scan_block_py_func_finds_the_brute_force_maximum(monkeypatch, row0, rows):
    rng = np.random.default_rng(9)
    k, n = 12, 4
    x = rng.standard_normal((k, n))
    hi, lo = np.empty(k), np.empty(k)
    KC.row_sumsq_dd(x, hi, lo)
    v = (x / np.sqrt(hi)[:, None]).astype(np.float32)
    # the tile of rows row0.. and columns row0.. (the upper triangle from the tile's row)
    c = np.ascontiguousarray(v[row0 : row0 + rows] @ v[row0:].T)
    err = screening_error_bound(n, 2.0**-24)
    compiled = _scan(KC.scan_block, c, row0, row0, x, hi, lo, err)
    scan_block_py = KC.scan_block.py_func
    with pure_python(monkeypatch, KC):
        val, cs, bi, bj, ncand = _scan(scan_block_py, c, row0, row0, x, hi, lo, err)
    for a, b in zip((val, cs, bi, bj, ncand), compiled, strict=True):
        np.testing.assert_array_equal(a, b)
    U = _unit(x)
    A = np.abs(U @ U.T)
    mask = np.zeros_like(A, dtype=bool)
    mask[row0 : row0 + rows, :] = True
    A = np.where(np.triu(mask, 1), A, -1.0)
    i, j = np.unravel_index(np.argmax(A), A.shape)
    assert val[0] == pytest.approx(A[i, j], rel=1e-14)
    assert (bi[0], bj[0]) == (i, j)
    assert cs[0] == pytest.approx((U @ U.T)[i, j], rel=1e-14)
    assert 1 <= ncand[0] <= np.count_nonzero(A >= 0)


def test_scan_block_empty_chunk(monkeypatch):
    # a single row has no pair j > i: nothing can win
    x = np.array([[1.0, 0.0]])
    hi, lo = np.empty(1), np.empty(1)
    KC.row_sumsq_dd(x, hi, lo)
    c = np.ones((1, 1), np.float32)
    scan_block_py = KC.scan_block.py_func
    with pure_python(monkeypatch, KC):
        val, _, bi, bj, ncand = _scan(scan_block_py, c, 0, 0, x, hi, lo, 1e-6)
    assert (val[0], bi[0], bj[0], ncand[0]) == (-1.0, -1, -1, 0)


def test_f32_from_bits_py_func():
    vals = np.array([0.0, 1e-45, 1e-40, 0.5, 1.0, 3.25, 3e38], np.float32)
    bits = vals.view(np.int32)
    for v, bb in zip(vals, bits, strict=True):
        assert KC._f32_from_bits.py_func(int(bb)) == float(v)


def test_histogram_and_collect_block_py_func(monkeypatch):
    rng = np.random.default_rng(10)
    U = _unit(rng.standard_normal((9, 3)))
    row0 = 2
    G = U[row0:6] @ U[row0:].T
    edges = np.linspace(0.0, 1.0, 6)
    iu = [(r, k) for r in range(G.shape[0]) for k in range(G.shape[1]) if k > r]
    vals = np.minimum(np.abs([G[r, k] for r, k in iu]), 1.0)
    ref = np.histogram(vals, edges)[0]
    out_c = np.zeros((3, 5), np.int64)
    KC.histogram_block(G, row0, row0, edges, out_c)
    out = np.zeros((3, 5), np.int64)
    wanted = np.array([False, True, False, True, True])
    got = np.zeros(vals.size)
    fill = np.zeros(1, np.int64)
    histogram_block_py = KC.histogram_block.py_func
    collect_block_py = KC.collect_block.py_func
    bin_index_py = KC._bin_index.py_func
    with pure_python(monkeypatch, KC):
        histogram_block_py(G, row0, row0, edges, out)
        collect_block_py(G, row0, row0, edges, wanted, got, fill)
        assert bin_index_py(1.0, edges) == 4
        assert bin_index_py(1.5, edges) == -1
    np.testing.assert_array_equal(out, out_c)
    np.testing.assert_array_equal(out.sum(axis=0), ref)
    bins = np.minimum(np.searchsorted(edges, vals, side="right") - 1, 4)
    sel = np.sort(vals[wanted[bins]])
    assert fill[0] == sel.size
    np.testing.assert_array_equal(np.sort(got[: fill[0]]), sel)


def test_warm_compiles_row_sumsq():
    KC._warm()


# ---------------------------------------------------------------- simulate


@pytest.mark.parametrize("uniform", [False, True])
def test_random_noise_py_func(uniform):
    rng = np.random.default_rng(11)
    counts = np.array([0, 3, 1, 5])
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    K = int(offsets[-1])
    g = rng.standard_normal(K)
    chi = rng.chisquare(3, K)
    g[0], chi[0] = 0.0, 0.0  # the null event d = 0 counts as overlap 0
    amp = rng.random(K) * 2.0 if uniform else np.empty(0)
    a = 2.0
    out, out_c = np.empty(4), np.empty(4)
    KS.random_noise.py_func(offsets, g, chi, amp, a, out)
    KS.random_noise(offsets, g, chi, amp, a, out_c)
    _close(out, out_c)
    w = amp if uniform else np.full(K, a)
    with np.errstate(invalid="ignore"):
        terms = np.where(g**2 + chi > 0, w * g / np.sqrt(g**2 + chi), 0.0)
    ref = [terms[offsets[t] : offsets[t + 1]].sum() for t in range(4)]
    _close(out, ref)


def _floyd(u, N):
    """Floyd's algorithm as in Bentley & Floyd (1987), with a Python set."""
    K = len(u)
    seen, picks = set(), []
    for k in range(K):
        top = N - K + k
        r = min(int(u[k] * (top + 1)), top)
        pick = top if r in seen else r
        seen.add(pick)
        picks.append(pick)
    return picks


@pytest.mark.parametrize("uniform", [False, True])
def test_embedding_noise_py_func(monkeypatch, uniform):
    rng = np.random.default_rng(12)
    m, n = 21, 4
    W = rng.standard_normal((m, n))
    counts = np.array([2, 0, 19, 5, 3])  # 19^2 > 16 (m - 1): the mark-array branch
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    targets = np.array([3, 0, 20, 7, 5], np.int64)
    u = rng.random(int(offsets[-1]))
    # repeated draws (Floyd then takes `top`), and u = 1, clamped (outside [0, 1), the guard
    # against u (top + 1) rounding up)
    u[-3:] = [0.0, 0.0, 1.0]
    u[2:5] = [0.0, 0.0, 1.0]
    amp = rng.random(u.size) if uniform else np.empty(0)
    a = 0.7
    out, out_c = np.empty(5), np.empty(5)
    KS.embedding_noise(W, targets, offsets, u, amp, a, out_c)
    embedding_noise_py = KS.embedding_noise.py_func
    with pure_python(monkeypatch, KS):
        embedding_noise_py(W, targets, offsets, u, amp, a, out)
    _close(out, out_c)
    for t in range(5):
        i, lo, hi = targets[t], offsets[t], offsets[t + 1]
        picks = _floyd(u[lo:hi], m - 1)
        assert len(set(picks)) == len(picks)
        rows = [j + (j >= i) for j in picks]
        w = amp[lo:hi] if uniform else np.full(hi - lo, a)
        _close(out[t], float(np.dot(w, W[rows] @ W[i])) if rows else 0.0)


def test_level_errors_py_func():
    rng = np.random.default_rng(13)
    T, a, blocks = 50, 1.0, 4
    noise = rng.normal(0.0, 0.15, T)
    u = rng.random(T)
    u[0] = 1.0  # outside [0, 1): the level is clamped to L - 1
    levels = np.array([2, 3, 7], np.int64)
    counts, counts_c = np.zeros((blocks, 3), np.int64), np.zeros((blocks, 3), np.int64)
    KS.level_errors.py_func(noise, u, levels, a, blocks, counts)
    KS.level_errors(noise, u, levels, a, blocks, counts_c)
    np.testing.assert_array_equal(counts, counts_c)
    for q, L in enumerate(levels):
        grid = np.linspace(0.0, a, L)
        sent = np.minimum((u * L).astype(np.int64), L - 1)
        decoded = np.argmin(np.abs(grid[sent][:, None] + noise[:, None] - grid[None, :]), axis=1)
        assert counts[:, q].sum() == np.count_nonzero(decoded != sent)
    # level 0 of 2 errs exactly when noise > a / 2, level 1 when noise < -a / 2
    sent = np.minimum((u * 2).astype(np.int64), 1)
    errs = np.where(sent == 0, noise > 0.5 * a, noise < -0.5 * a)
    bounds = [(b * T) // blocks for b in range(blocks + 1)]
    assert counts[:, 0].tolist() == [
        int(errs[bounds[b] : bounds[b + 1]].sum()) for b in range(blocks)
    ]


def test_max_abs_cos_py_func():
    rng = np.random.default_rng(14)
    X = rng.standard_normal((3, 4, 6))
    X[1, 2] = 0.0  # a zero row has cosine 0 with every row
    X[2, 3] = -2.0 * X[2, 0]  # antiparallel: |cos| = 1, clamped
    out, out_c = np.empty(3), np.empty(3)
    KS.max_abs_cos.py_func(X, out)
    KS.max_abs_cos(X, out_c)
    _close(out, out_c)
    for t in range(3):
        norms = np.linalg.norm(X[t], axis=1)
        U = X[t] / np.where(norms > 0, norms, 1.0)[:, None]
        A = np.abs(U @ U.T)
        ref = min(A[np.triu_indices(4, 1)].max(), 1.0)
        _close(out[t], ref, rtol=1e-14)
    assert out[2] == 1.0


# ---------------------------------------------------------------- packing


def _np_descent_step(W, kind, t, lr):
    """One phase-1 step in numpy: smoothed-max gradient, tangent projection, retraction."""
    m = W.shape[0]
    G = W @ W.T
    iu = np.triu_indices(m, 1)
    g = G[iu]
    if kind == KP.FRAME_POTENTIAL:
        c = g
        value = m + 2.0 * np.sum(g**2)
    else:
        x = g**2 if kind == KP.COHERENCE else g
        e = np.exp(t * (x - x.max()))
        c = e / e.sum() * (2.0 * g if kind == KP.COHERENCE else 1.0)
        value = np.sqrt(x.max()) if kind == KP.COHERENCE else x.max()
    C = np.zeros((m, m))
    C[iu] = c
    C = C + C.T
    grad = C @ W
    grad -= np.sum(grad * W, axis=1, keepdims=True) * W
    norm = np.linalg.norm(grad)
    new = W - lr * grad / (norm if norm > 0 else 1.0)
    return new / np.linalg.norm(new, axis=1, keepdims=True), value


def _np_smoothed(W, kind, t):
    G = W @ W.T
    g = G[np.triu_indices(W.shape[0], 1)]
    if kind == KP.FRAME_POTENTIAL:
        return np.sum(g**2)
    x = g**2 if kind == KP.COHERENCE else g
    return x.max() + np.log(np.sum(np.exp(t * (x - x.max())))) / t


@pytest.mark.parametrize("kind", [KP.COHERENCE, KP.SPHERICAL_CODE, KP.FRAME_POTENTIAL])
def test_descend_py_func_matches_numpy_and_descends(monkeypatch, kind):
    rng = np.random.default_rng(15)
    R, m, n, steps = 2, 5, 3, 3
    W0 = _unit(rng.standard_normal((R * m, n))).reshape(R, m, n)
    t0, t1, lr0, lr1 = 5.0, 50.0, 1e-3, 5e-4
    slot = np.array([0, -1, 1, -1], np.int64)

    def run(fn):
        W = W0.copy()
        hist = np.full((2, R), np.nan)
        fn(W, kind, 0, steps, steps, t0, t1, lr0, lr1, slot, hist)
        return W, hist

    Wc, hc = run(KP.descend)
    descend_py = KP.descend.py_func
    with pure_python(monkeypatch, KP):
        W, hist = run(descend_py)
    _close(W, Wc)
    _close(hist, hc)
    for r in range(R):
        ref = W0[r].copy()
        for s in range(steps):
            frac = s / (steps - 1)
            t = t0 * (t1 / t0) ** frac
            lr = lr0 * (lr1 / lr0) ** frac
            new, value = _np_descent_step(ref, kind, t, lr)
            if slot[s] >= 0:
                _close(hist[slot[s], r], value)
            # a short step along the negative Riemannian gradient lowers the smoothed objective
            assert _np_smoothed(new, kind, t) < _np_smoothed(ref, kind, t)
            ref = new
        _close(W[r], ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.linalg.norm(W[r], axis=1), 1.0, rtol=1e-14)


def test_descend_py_func_stationary_point(monkeypatch):
    # orthonormal rows: the frame potential's gradient vanishes and W stays put
    W = np.eye(3)[None, :2].copy()
    hist = np.zeros((1, 1))
    descend_py = KP.descend.py_func
    with pure_python(monkeypatch, KP):
        descend_py(W, KP.FRAME_POTENTIAL, 0, 1, 1, 5.0, 5.0, 0.1, 0.1, np.zeros(2, np.int64), hist)
    np.testing.assert_array_equal(W[0], np.eye(3)[:2])
    assert hist[0, 0] == 2.0  # m + 2 sum_{i<j} <w_i, w_j>^2


@pytest.mark.parametrize(
    "row0,col0,upper,signed",
    [(0, 0, True, False), (3, 2, True, False), (0, 0, False, True), (2, 1, False, False)],
)
def test_stats_block_and_collect_bins_py_func(monkeypatch, row0, col0, upper, signed):
    from suptheory._kernels import pairs as KPR

    rng = np.random.default_rng(11)
    k, n = 10, 3
    x = rng.standard_normal((k, n))
    x[7] = -x[2]
    hi, lo = np.empty(k), np.empty(k)
    KC.row_sumsq_dd(x, hi, lo)
    u = x / np.sqrt(hi)[:, None]
    v = u.astype(np.float32)
    c = np.ascontiguousarray(v[row0 : row0 + 5] @ v[col0:].T)
    err = screening_error_bound(n, 2.0**-24)
    lower = np.full(k, -np.inf)
    thr = np.array([0.3, 0.7])
    R = _rowset(x, hi, lo)
    args = (
        c,
        c.view(np.int32),
        row0,
        col0,
        upper,
        signed,
        err,
        2.0**-40,
        R,
        R,
        1e-12,
        lower,
        lower,
        3,
        -np.inf,
        thr,
    )
    hist_c = np.zeros(16, np.int64)
    compiled = KPR.stats_block(*args, hist_c, 16.0)
    stats_py = KPR.stats_block.py_func
    band_py = KPR.band_block.py_func
    blo, bhi = np.array([0.1, 0.5]), np.array([0.2, 0.9])
    with pure_python(monkeypatch, KPR):
        hist = np.zeros(16, np.int64)
        out = stats_py(*args, hist, 16.0)
        got = band_py(c, row0, col0, upper, blo, bhi)
    for a, b in zip(out, compiled, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(hist, hist_c)
    for a, b in zip(got, KPR.band_block(c, row0, col0, upper, blo, bhi), strict=True):
        np.testing.assert_array_equal(a, b)
    # references from the float64 Gram block
    G = u[row0 : row0 + 5] @ u[col0:].T
    V = G if signed else np.abs(G)
    rr, kk = np.indices(V.shape)
    valid = (kk + col0 > rr + row0) if upper else np.ones(V.shape, bool)
    Vm = np.where(valid, V, -np.inf)
    row_best, row_arg, col_best, col_arg, row_count, col_count = (
        out[0],
        out[2],
        out[3],
        out[5],
        out[6],
        out[7],
    )
    np.testing.assert_allclose(row_best, Vm.max(axis=1), rtol=1e-14)
    np.testing.assert_allclose(col_best, Vm.max(axis=0), rtol=1e-14)
    has_r = np.isfinite(Vm.max(axis=1))
    np.testing.assert_array_equal(row_arg[has_r], Vm.argmax(axis=1)[has_r] + col0)
    has_c = np.isfinite(Vm.max(axis=0))
    np.testing.assert_array_equal(col_arg[has_c], Vm.argmax(axis=0)[has_c] + row0)
    for t, th in enumerate(thr):
        np.testing.assert_array_equal(row_count[:, t], (Vm >= th).sum(axis=1))
        np.testing.assert_array_equal(col_count[:, t], (Vm >= th).sum(axis=0))
    top = np.sort(Vm[valid])[::-1][:3]
    np.testing.assert_allclose(np.sort(out[8])[::-1][:3], top, rtol=1e-14)
    Vs = np.abs(c.astype(np.float64)) if not signed else c.astype(np.float64)
    bins = np.clip((Vs * 16.0).astype(int), 0, 15)
    np.testing.assert_array_equal(hist, np.bincount(bins[valid], minlength=16))
    Va = np.abs(c.astype(np.float64))
    sel = valid & (((Va >= 0.1) & (Va <= 0.2)) | ((Va >= 0.5) & (Va <= 0.9)))
    assert sorted(zip(got[0], got[1], strict=True)) == sorted(
        zip(rr[sel] + row0, kk[sel] + col0, strict=True)
    )
    np.testing.assert_array_equal(got[2], np.abs(c[got[0] - row0, got[1] - col0]))
    assert got[3].tolist() == [int((valid & (Va < 0.1)).sum()), int((valid & (Va < 0.5)).sum())]


def test_pair_cos2_many_and_dot_many_py_func(monkeypatch):
    from suptheory._kernels import pairs as KPR

    rng = np.random.default_rng(12)
    x = rng.standard_normal((6, 4))
    y = rng.standard_normal((5, 4))
    hx, lx, hy, ly = np.empty(6), np.empty(6), np.empty(5), np.empty(5)
    KC.row_sumsq_dd(x, hx, lx)
    KC.row_sumsq_dd(y, hy, ly)
    ii = np.array([0, 5, 3])
    jj = np.array([4, 0, 2])
    ux = x / np.sqrt(hx)[:, None]
    uy = y / np.sqrt(hy)[:, None]
    ref = np.einsum("ij,ij->i", ux[ii], uy[jj])
    out, out2 = np.empty(3), np.empty(3)
    many_py, dot_py = KPR.pair_cos2_many.py_func, KPR.pair_dot_many.py_func
    X, Y = _rowset(x, hx, lx), _rowset(y, hy, ly)
    with pure_python(monkeypatch, KPR):
        many_py(X, ii, Y, jj, out)
        dot_py(X, ii, Y, jj, out2)
    np.testing.assert_allclose(out, ref, rtol=1e-14)
    np.testing.assert_allclose(out2, ref, rtol=1e-14)
    out3 = np.empty(3)
    KPR.pair_dot_many(X, ii, Y, jj, out3)
    np.testing.assert_array_equal(out2, out3)
    KPR.pair_cos2_many(X, ii, Y, jj, out2)
    np.testing.assert_array_equal(out, out2)


# ---------------------------------------------------------------- feature-set data laws


def _samples_sets(key, step, p, sets, modes, batch, signed):
    """The ``(batch, m)`` per-sample data of the feature-set law (the module docstring)."""
    start = _mix(_mix((int(key) + _G) & _MASK) ^ ((step * _M2 + _G) & _MASK))
    X = np.zeros((batch, int(sets[-1])))
    j = 0

    def value(v):
        return 2.0 * v - 1.0 if signed else v

    for b in range(batch):
        for s, mode in enumerate(modes):
            lo, hi = int(sets[s]), int(sets[s + 1])
            if mode == KT.SET_INDEPENDENT:
                for i in range(lo, hi):
                    j += 1
                    u, v = _word(start, j)
                    X[b, i] = value(v) if u < p else 0.0
                continue
            j += 1
            u, v = _word(start, j)
            if not u < p:
                continue
            members = range(lo, hi)
            if mode == KT.SET_ANTICORRELATED:
                pick = lo + min(int(v * (hi - lo)), hi - lo - 1)
                members = range(pick, pick + 1)
            for i in members:
                j += 1
                X[b, i] = value(_word(start, j)[1])
    return X


_SETS = np.array([0, 2, 5, 6, 8], dtype=np.int64)
_MODES = np.array(
    [KT.SET_CORRELATED, KT.SET_ANTICORRELATED, KT.SET_INDEPENDENT, KT.SET_ANTICORRELATED],
    dtype=np.int64,
)


@pytest.mark.parametrize("code", [KT.MODEL_RELU, KT.MODEL_ABS])
def test_evaluate_py_func_feature_sets(monkeypatch, code):
    m, n, batch = 8, 3, 30
    p = np.array([0.6, 1.0])
    J = p.size
    rng = np.random.default_rng(6)
    untied = code == KT.MODEL_ABS
    W = rng.standard_normal((J, m, n)) * 0.5
    Wo = rng.standard_normal((J, m, n)) * 0.5 if untied else np.zeros((1, 1, 1))
    b = rng.standard_normal((J, m)) * 0.1
    imp = rng.uniform(0.5, 1.5, (J, m))
    keys = rng.integers(0, 2**64, J, dtype=np.uint64)

    def run(fn):
        mean, se = np.zeros(J), np.zeros(J)
        fn(W, Wo, b, imp, p, _SETS, _MODES, keys, batch, code, mean, se)
        return mean, se

    compiled = run(KT.evaluate)
    evaluate_py = KT.evaluate.py_func
    with pure_python(monkeypatch, KT):
        mean, se = run(evaluate_py)
    _close(mean, compiled[0])
    _close(se, compiled[1])
    for k in range(J):
        X = _samples_sets(keys[k], 0, p[k], _SETS, _MODES, batch, untied)
        active = X != 0
        # correlated: all or none; anticorrelated: at most one (exactly one at p = 1)
        assert np.all(active[:, 0] == active[:, 1])
        assert np.all(active[:, 2:5].sum(1) <= 1) and np.all(active[:, 6:8].sum(1) <= 1)
        if p[k] == 1.0:
            assert np.all(active[:, 2:5].sum(1) == 1) and np.all(active[:, 0])
        ls = _np_losses(code, W[k], Wo[k] if untied else W[k], b[k], imp[k], X)
        _close(mean[k], ls.mean(), rtol=1e-10)


def test_train_chunk_py_func_feature_sets(monkeypatch):
    # the 1-sparse law (one anticorrelated set, p = 1) and a mixed law, through train_chunk
    m, n, B, steps, step0 = 8, 2, 5, 2, 3
    code = KT.MODEL_RELU
    rng = np.random.default_rng(7)
    W0 = rng.standard_normal((1, m, n)) * 0.4
    imp = np.ones((1, m))
    keys = rng.integers(0, 2**64, 1, dtype=np.uint64)
    lr = np.array([1e-2, 5e-3])
    for sets, modes, p in [
        (np.array([0, m]), np.array([KT.SET_ANTICORRELATED]), 1.0),
        (_SETS, _MODES, 0.5),
    ]:
        sets = sets.astype(np.int64)
        modes = modes.astype(np.int64)

        def run(fn, sets=sets, modes=modes, p=p):
            W, b = W0.copy(), np.zeros((1, m))
            Wo = np.zeros((1, 1, 1))
            state = [
                np.zeros_like(W),
                np.zeros_like(W),
                np.zeros_like(Wo),
                np.zeros_like(Wo),
                np.zeros_like(b),
                np.zeros_like(b),
            ]
            losses = np.zeros((1, steps))
            fn(
                W,
                Wo,
                b,
                *state,
                imp,
                np.array([p]),
                sets,
                modes,
                keys,
                step0,
                lr,
                B,
                code,
                True,
                0.01,
                0.9,
                0.999,
                1e-8,
                losses,
            )
            return W, b, losses

        compiled = run(KT.train_chunk)
        train_chunk_py = KT.train_chunk.py_func
        with pure_python(monkeypatch, KT):
            got = run(train_chunk_py)
        for a, c in zip(got, compiled, strict=True):
            _close(a, c)
        W, b, losses = got
        rW, rb = W0[0].copy(), np.zeros(m)
        mom = [np.zeros((m, n)), np.zeros((m, n)), np.zeros(m), np.zeros(m)]
        for s in range(steps):
            X = _samples_sets(keys[0], step0 + s, p, sets, modes, B, False)
            if modes.size == 1:
                assert np.all((X != 0).sum(1) == 1)
            _close(losses[0, s], _np_losses(code, rW, rW, rb, imp[0], X).mean(), rtol=1e-10)
            gW, gb = np.zeros((m, n)), np.zeros(m)
            KT.loss_and_grad(rW, rW, rb, imp[0], X, code, gW, gW, gb, False)
            _np_adam(rW, gW, mom[0], mom[1], lr[s], step0 + s + 1, True, 0.01)
            _np_adam(rb, gb, mom[2], mom[3], lr[s], step0 + s + 1, True, 0.01)
        _close(W[0], rW, rtol=1e-9)
        _close(b[0], rb, rtol=1e-9)


def test_row_set_kernels_scale_in_place_exactly(monkeypatch):
    # rows read from a float32 matrix and scaled on the fly equal a prescaled float64 copy
    rng = np.random.default_rng(13)
    W = (
        rng.standard_normal((6, 5)) * np.array([[1.0], [1e-30], [1e30], [1.0], [3.0], [1e-3]])
    ).astype(np.float32)
    rid = np.array([0, 2, 3, 5, 1], dtype=np.int64)
    amax = np.abs(W[rid]).max(axis=1).astype(np.float64)
    p = 1 - np.frexp(amax)[1]
    sc = np.ldexp(1.0, p)
    x = np.ldexp(W[rid].astype(np.float64), p[:, None])
    hi, lo, hx, lx = np.empty(5), np.empty(5), np.empty(5), np.empty(5)
    KC.row_sumsq_dd(x, hx, lx)
    KC.rows_sumsq_dd(W, rid, sc, hi, lo)
    np.testing.assert_array_equal(hi, hx)
    np.testing.assert_array_equal(lo, lx)
    A = (W, rid, sc, hi, lo, np.sqrt(hi))
    out = np.empty((5, 5), np.float32)
    KC.unit_block(A, 0, 5, out)
    np.testing.assert_array_equal(out, (x / np.sqrt(hx)[:, None]).astype(np.float32))
    py = (KC.rows_sumsq_dd.py_func, KC.unit_block.py_func, KC.rows_cos.py_func)
    with pure_python(monkeypatch, KC):
        py[0](W, rid, sc, hi, lo)
        out_py = np.empty((5, 5), np.float32)
        py[1](A, 0, 5, out_py)
        cos = [py[2](A, i, A, j) for i in range(5) for j in range(5)]
    np.testing.assert_array_equal(hi, hx)
    np.testing.assert_array_equal(out_py, out)
    assert cos == [KC.pair_cos(x, hx, lx, i, j) for i in range(5) for j in range(5)]
