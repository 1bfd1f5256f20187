"""The k-gon critical points and the exact 1-sparse loss, against gradients, Monte Carlo,
quadrature and the trainer's evaluator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

import suptheory as st
from suptheory.theory.kgons import dead_feature_loss, kgon, kgon_loss, one_sparse_loss

KS = [0, 2, 3, 4, 5, 6]


def _grad(W, b, h=1e-7):
    c, n = W.shape
    theta = np.r_[W.ravel(), b]

    def f(t):
        return one_sparse_loss(t[: c * n].reshape(c, n), t[c * n :])

    return np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])


@pytest.mark.parametrize("c", [5, 6, 8])
def test_gradient_of_exact_loss_vanishes_at_kgons(c):
    for k in [0, *range(2, c + 1)]:
        W, b = kgon(k, c)
        # ReLU(b)^2 at b = 0 (k <= 4) is C^1: the central difference there is O(h)
        assert np.abs(_grad(W, b)).max() < 1e-6, k
        # a perturbation raises the loss along a random direction of the k-gon's norm/bias
        assert one_sparse_loss(W, b) == pytest.approx(kgon_loss(k, c), abs=1e-15)


def test_kgon_losses_closed_forms():
    c = 6
    for k in (2, 3, 4):
        assert kgon_loss(k, c) == pytest.approx((c - k) * (1 / (3 * c) - 1 / (4 * c * c)))
    assert kgon_loss(0, c) == pytest.approx(1 / 3 - 1 / (4 * c))
    assert dead_feature_loss(c) == pytest.approx(7 / 144)
    losses = kgon_loss(np.array(KS), 6)
    assert np.all(np.diff(losses) < 0)  # more vertices, lower loss, for c = 6
    # the k-gon part is independent of c for k >= 5: L_k(c) c / k - (c - k) dead / k ... same A
    a6 = (kgon_loss(5, 6) - dead_feature_loss(6)) * 6 / 5
    a9 = (kgon_loss(5, 9) - 4 * dead_feature_loss(9)) * 9 / 5
    assert a6 == pytest.approx(a9, rel=1e-10)
    W, b = kgon(6, 6)
    assert np.all(b < 0) and np.allclose(np.linalg.norm(W, axis=1), np.linalg.norm(W[0]))


@pytest.mark.parametrize("k", [2, 4, 5, 6])
def test_kgon_loss_equals_monte_carlo(k):
    W, b = kgon(k, 6)
    rng = np.random.default_rng(k)
    N = 10**6
    i = rng.integers(0, 6, N)
    x = rng.random(N)
    out = np.maximum(x[:, None] * (W @ W.T)[i] + b, 0.0)
    out[np.arange(N), i] -= x
    losses = (out**2).sum(1)
    se = losses.std() / np.sqrt(N)
    assert abs(losses.mean() - kgon_loss(k, 6)) < 4 * se


def test_one_sparse_loss_equals_quadrature():
    rng = np.random.default_rng(0)
    c, n = 5, 3
    W = rng.standard_normal((c, n)) * 0.7
    b = rng.standard_normal(c) * 0.3
    imp = rng.uniform(0.5, 2, c)
    total = 0.0
    for i in range(c):
        for j in range(c):
            a = W[i] @ W[j]
            tgt = 1.0 if i == j else 0.0
            val, _ = integrate.quad(
                lambda x, a=a, j=j, t=tgt: (max(a * x + b[j], 0) - t * x) ** 2,
                0,
                1,
                points=[min(max(-b[j] / a, 0), 1)] if a else None,
                epsabs=1e-13,
            )
            total += imp[j] * val
    assert one_sparse_loss(W, b, imp) == pytest.approx(total / c, rel=1e-10)


@pytest.mark.parametrize("k", [3, 5, 6])
def test_kgon_loss_equals_trainers_evaluator(k):
    from suptheory._kernels import toy as K

    W, b = kgon(k, 6)
    sets = np.array([0, 6], dtype=np.int64)
    mode = np.array([K.SET_ANTICORRELATED], dtype=np.int64)
    mean, se = np.zeros(1), np.zeros(1)
    K.evaluate(
        W[None].copy(),
        np.zeros((1, 1, 1)),
        b[None].copy(),
        np.ones((1, 6)),
        np.ones(1),
        sets,
        mode,
        np.array([12345 + k], dtype=np.uint64),
        400_000,
        K.MODEL_RELU,
        mean,
        se,
    )
    assert abs(mean[0] - kgon_loss(k, 6)) < 4 * se[0]


def test_public_names_and_bad_input():
    assert st.kgon is kgon and st.kgon_loss is kgon_loss and st.one_sparse_loss is one_sparse_loss
    with pytest.raises(ValueError, match="k = 1"):
        kgon(1, 6)
    with pytest.raises(ValueError, match="k"):
        kgon_loss(7, 6)
    with pytest.raises(ValueError, match="shape"):
        one_sparse_loss(np.zeros((3, 2)), np.zeros(2))
    assert kgon_loss(np.array([2, 3]), 6).shape == (2,)


def test_negative_bias_variants_are_critical():
    for k, s in [(0, 3), (3, 3), (4, 2), (5, 1)]:
        W, b = kgon(k, 6, negative=s)
        assert np.abs(_grad(W, b)).max() < 1e-6
        assert one_sparse_loss(W, b) == pytest.approx(kgon_loss(k, 6, negative=s), abs=1e-15)
        assert kgon_loss(k, 6, s) - kgon_loss(k, 6) == pytest.approx(s / (4 * 36))
    with pytest.raises(ValueError, match="negative"):
        kgon(5, 6, negative=2)


def test_kgon_closed_form_against_sympy():
    import sympy

    from suptheory.theory.kgons import _kgon_A

    x, b0, c = sympy.symbols("x b0 c", positive=True)
    # a dead feature's loss on 1-sparse data, minimised over its (positive) bias
    dead = (sympy.integrate((b0 - x) ** 2, (x, 0, 1)) + (c - 1) * b0**2) / c
    best = sympy.solve(sympy.diff(dead, b0), b0)[0]
    assert sympy.simplify(best - 1 / (2 * c)) == 0
    assert sympy.simplify(dead.subs(b0, best) - (1 / (3 * c) - 1 / (4 * c**2))) == 0
    # the pentagon's A_5 at a rational point, integrated exactly piece by piece
    t, b = sympy.Rational(7, 5), sympy.Rational(-3, 10)
    own = sympy.integrate(x**2, (x, 0, -b / t)) + sympy.integrate(
        ((t - 1) * x + b) ** 2, (x, -b / t, 1)
    )
    inter = 0
    for j in range(1, 5):
        kappa = sympy.cos(2 * sympy.pi * j / 5)
        if float(kappa) > 0:
            inter += sympy.integrate((t * kappa * x + b) ** 2, (x, -b / (t * kappa), 1))
    assert _kgon_A(1.4, -0.3, 5) == pytest.approx(float(own + inter), rel=1e-12)
