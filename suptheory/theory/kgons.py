r"""Regular k-gons: critical points of the two-neuron toy model on 1-sparse data, in closed form.

The model is the ReLU output model ``x' = ReLU(W W^T x + b)`` with ``W`` of shape ``(c, 2)``
(rows = features) and importance 1. The data are 1-sparse: exactly one of the ``c``
features is active, chosen uniformly, with a value uniform on ``[0, 1]``. The loss is the
expected squared error summed over features, per input (the trainer's units,
:func:`suptheory.train_toy_models` with ``data="1-sparse"``).

When feature ``i`` is active with value ``x``, output ``j`` is ``ReLU(x a_ij + b_j)`` with
``a_ij = W_i . W_j``, so the expected loss is a sum of one-dimensional integrals of
piecewise quadratics, each in closed form (:func:`one_sparse_loss`).

Regular k-gons (Chen, Lau, Mendel, Wei & Murfet 2023). Put ``k`` features at
``W_i = l (cos 2 pi i / k, sin 2 pi i / k)`` with one bias ``b`` and give the other ``c - k``
features zero weight and bias ``b_0``. Its loss separates:

.. math::

    L = \frac{k}{c} A_k(l^2, b) + \frac{(c - k) k}{c} \mathrm{ReLU}(b)^2
        + (c - k) \Big( b_0^2 - \frac{b_0}{c} + \frac{1}{3c} \Big), \qquad
    A_k(t, b) = \int_0^1 \big(\mathrm{ReLU}(t x + b) - x\big)^2 dx
        + \sum_{j=1}^{k-1} \int_0^1 \mathrm{ReLU}\big(t \cos\tfrac{2\pi j}{k} x + b\big)^2 dx

(the last term for ``b_0 >= 0``). The dead features' bias is optimal at ``b_0 = 1/(2c)``, each
costing ``1/(3c) - 1/(4c^2)``. For ``k <= 4`` every other vertex of the polygon is at an angle
of at least 90 degrees, so ``l = 1``, ``b = 0`` makes ``A_k = 0``:

.. math:: L_k = (c - k) \Big( \frac{1}{3c} - \frac{1}{4c^2} \Big), \qquad k \in \{2, 3, 4\};

for ``k >= 5`` the neighbours interfere, the optimal bias is negative (so the middle term
vanishes) and ``(l^2, b)`` minimises the piecewise-cubic closed form of ``A_k`` (its
stationarity conditions, solved numerically with the exact gradient), independently of ``c``:
``L_k = (k / c) min A_k + (c - k)(1/(3c) - 1/(4c^2))``. The gradient with respect to the dead
features' weights vanishes because the k-gon's vertices sum to zero; the tangential gradient of
the k-gon's features by its mirror symmetry. ``k = 0`` (``W = 0``) is a critical point too;
``k = 1`` is not (a dead feature with a positive bias is pulled toward the lone feature).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from suptheory._validate import MAX_COUNT, as_real, broadcast, check_int

__all__ = ["one_sparse_loss", "kgon", "kgon_loss", "dead_feature_loss"]


def _segment(alpha: np.ndarray, beta: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``int_u^v (alpha x + beta)^2 dx`` (0 where ``v <= u``)."""
    v = np.maximum(u, v)
    return np.asarray(
        alpha * alpha * (v**3 - u**3) / 3.0
        + alpha * beta * (v * v - u * u)
        + beta * beta * (v - u),
        dtype=np.float64,
    )


def _relu_square_integral(a: ArrayLike, beta: ArrayLike, target: ArrayLike) -> np.ndarray:
    r"""``int_0^1 (ReLU(a x + beta) - target x)^2 dx`` in closed form, broadcasting.

    The ReLU is on where ``a x + beta > 0``: ``x > -beta / a`` for ``a > 0``, ``x < -beta/a``
    for ``a < 0``, everywhere or nowhere for ``a = 0``. On that interval the integrand is
    ``((a - target) x + beta)^2``, elsewhere ``target^2 x^2``.
    """
    a, beta, target = np.broadcast_arrays(
        *(np.asarray(z, dtype=np.float64) for z in (a, beta, target))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.where(a != 0, -beta / np.where(a != 0, a, 1.0), 0.0)
    root = np.clip(root, 0.0, 1.0)
    zero = np.zeros_like(a)
    one = np.ones_like(a)
    u = np.where(a > 0, root, np.where(a < 0, zero, np.where(beta > 0, zero, one)))
    v = np.where(a > 0, one, np.where(a < 0, root, one))
    on = _segment(a - target, beta, u, v)
    off = target * target * (1.0 / 3.0 - _segment(one, zero, u, v))
    return np.asarray(on + off, dtype=np.float64)


def one_sparse_loss(W: Any, b: Any, importance: Any = 1.0) -> float:
    r"""Exact expected loss of ``x' = ReLU(W W^T x + b)`` on 1-sparse data.

    One of the ``c`` features is active, chosen uniformly, with value ``x ~ U[0, 1]``; the
    loss is the expected squared error summed over features (weights ``I_j``), per input:

    .. math::

        L(W, b) = \frac{1}{c} \sum_{i=1}^{c} \Big[ I_i \int_0^1
            \big(\mathrm{ReLU}(a_{ii} x + b_i) - x\big)^2 dx
            + \sum_{j \ne i} I_j \int_0^1 \mathrm{ReLU}(a_{ij} x + b_j)^2 dx \Big],
        \qquad a_{ij} = W_i \cdot W_j ,

    each integral in closed form (the integrand is quadratic on the interval where the ReLU
    is on, and ``x^2`` or 0 elsewhere).

    Parameters
    ----------
    W : array_like, shape (c, n)
        Weights, rows = features (any width ``n``).
    b : array_like, shape (c,)
        Output biases.
    importance : float or array_like, shape (c,)
        ``I_j >= 0`` (default 1).

    Returns
    -------
    float

    References
    ----------
    Chen, Lau, Mendel, Wei & Murfet, "Dynamical versus Bayesian Phase Transitions in a Toy
    Model of Superposition", arXiv:2310.06301 (2023) (the data law); Elhage et al., "Toy
    Models of Superposition" (2022) (the model).

    Examples
    --------
    Zero weights, zero biases: every input costs ``E x^2 = 1/3``.

    >>> import numpy as np
    >>> round(one_sparse_loss(np.zeros((6, 2)), np.zeros(6)), 6)
    0.333333
    >>> W, b = kgon(5, 6)
    >>> round(one_sparse_loss(W, b), 6) == round(kgon_loss(5, 6), 6)
    True
    """
    W = np.asarray(as_real(W, "W"), dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must be a (c, n) array; got shape {W.shape}")
    c = W.shape[0]
    b = np.asarray(as_real(b, "b"), dtype=np.float64)
    if b.shape != (c,):
        raise ValueError(f"b must have shape ({c},) to match W; got {b.shape}")
    imp = np.asarray(as_real(importance, "importance", low=0), dtype=np.float64)
    if imp.ndim > 1 or imp.size not in (1, c):
        raise ValueError(f"importance must be a number or have shape ({c},); got {imp.shape}")
    imp = np.broadcast_to(imp.reshape(-1) if imp.ndim else imp, (c,))
    A = W @ W.T  # A[i, j]: output j's slope when feature i is active
    target = np.eye(c)
    with np.errstate(over="ignore"):  # inf only where the loss itself overflows
        per = _relu_square_integral(A, b[None, :], target) * (imp / c)[None, :]
        return float(per.sum())


def dead_feature_loss(c: Any) -> float:
    r"""Loss of one zero-weight feature at its optimal bias ``b_0 = 1/(2c)``, on 1-sparse data.

    Its output is ``b_0`` always; the target is ``x`` with probability ``1/c``, else 0:

    .. math:: \min_{b_0} \Big( b_0^2 - \frac{b_0}{c} + \frac{1}{3c} \Big)
              = \frac{1}{3c} - \frac{1}{4c^2}.

    Parameters
    ----------
    c : int
        Number of features, ``>= 1`` (at most ``2^63 - 1``, as every count).

    Returns
    -------
    float

    References
    ----------
    Chen, Lau, Mendel, Wei & Murfet, arXiv:2310.06301 (2023).

    Examples
    --------
    >>> round(dead_feature_loss(6), 6)
    0.048611
    """
    count: int = check_int(c, "c", low=1, high=MAX_COUNT)
    return 1.0 / (3 * count) - 1.0 / (4 * count * count)


def _check_kc(k: Any, c: Any, negative: Any = 0, high: int = MAX_COUNT) -> tuple[int, int, int]:
    c = check_int(c, "c", low=2, high=high)
    k = check_int(k, "k", low=0, high=c)
    if k == 1:
        raise ValueError(
            "k must be 0 or 2..c: a lone feature (k = 1) is not a critical point "
            "(the dead features' positive biases pull on it)"
        )
    negative = check_int(negative, "negative", low=0, high=c - k)
    return k, c, negative


#: the most features :func:`kgon` builds (its ``W`` has ``2 c`` entries: 2 GiB at the cap)
_MAX_KGON_FEATURES = 2**27


def _kgon_A(t: float, b: float, k: int) -> float:
    """``A_k(t, b)``: the k-gon's own and interference integrals (module docstring)."""
    cos = np.cos(2 * np.pi * np.arange(1, k) / k)
    own = _relu_square_integral(np.float64(t), np.float64(b), np.float64(1.0))
    inter = _relu_square_integral(t * cos, np.full(k - 1, b), np.zeros(k - 1))
    return float(own + inter.sum())


def _kgon_A_grad(t: float, beta: float, k: int) -> tuple[float, float, float]:
    """``A_k`` at ``b = -beta < 0`` and its derivatives in ``t = l^2`` and ``beta``.

    Own output: ``x^2`` below ``u = beta / t``, ``((t - 1) x - beta)^2`` above. Neighbour at
    ``cos = kappa > 0``: ``(t kappa x - beta)^2`` above ``beta / (t kappa)`` (the neighbours
    at ``kappa <= 0`` are off). The integrands are continuous at the kinks, so the
    derivatives are the integrals of the derivatives (the moving kinks add nothing).
    """

    def piece(alpha: float, u: float) -> tuple[float, float, float]:
        # int_u^1 (alpha x - beta)^2, int_u^1 2 (alpha x - beta) x, -int_u^1 2 (alpha x - beta)
        val = alpha * alpha * (1 - u**3) / 3 - alpha * beta * (1 - u * u) + beta * beta * (1 - u)
        dx = 2 * (alpha * (1 - u**3) / 3 - beta * (1 - u * u) / 2)
        d1 = -2 * (alpha * (1 - u * u) / 2 - beta * (1 - u))
        return val, dx, d1

    u = min(beta / t, 1.0)
    val, dt, db = piece(t - 1.0, u)
    val += u**3 / 3
    for j in range(1, k):
        kappa = math.cos(2 * math.pi * j / k)
        if kappa <= 0 or beta >= t * kappa:
            continue
        a = t * kappa
        v, dxa, d1 = piece(a, beta / a)
        val += v
        dt += dxa * kappa
        db += d1
    return val, dt, db


@lru_cache(maxsize=64)
def _kgon_optimum(k: int) -> tuple[float, float, float]:
    """``(l^2, b, min A_k)`` of the k-gon part, ``k >= 2``.

    ``(1, 0, 0)`` for ``k <= 4``; for ``k >= 5`` BFGS on the closed form with its exact
    gradient (the stationarity conditions), in ``log l^2`` and ``log(-b)``.
    """
    if k <= 4:
        return 1.0, 0.0, 0.0
    from scipy.optimize import minimize

    def f(z: np.ndarray) -> tuple[float, np.ndarray]:
        t, beta = float(np.exp(z[0])), float(np.exp(z[1]))
        val, dt, db = _kgon_A_grad(t, beta, k)
        return val, np.array([dt * t, db * beta])

    best = None
    for start in ((0.3, -1.2), (0.6, -0.5), (1.0, 0.0)):
        res = minimize(
            f, np.array(start), jac=True, method="BFGS", options={"gtol": 1e-14, "maxiter": 2000}
        )
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    t, beta = float(np.exp(best.x[0])), float(np.exp(best.x[1]))
    return t, -beta, _kgon_A(t, -beta, k)


def kgon(k: Any, c: Any, negative: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""The regular k-gon critical point ``(W, b)`` of the two-neuron toy model on 1-sparse data.

    Features ``0..k-1`` sit on a regular k-gon with one norm ``l`` and one bias ``b``, both
    optimal; features ``k..c-1`` have zero weight and the bias ``1/(2c)`` optimal for them:

    .. math::

        W_i = l \Big(\cos\frac{2\pi i}{k}, \sin\frac{2\pi i}{k}\Big),\ b_i = b
        \quad (i < k), \qquad W_i = 0,\ b_i = \frac{1}{2c} \quad (i \ge k),

    with ``(l^2, b) = (1, 0)`` for ``k <= 4`` and, for ``k >= 5``, the minimiser of the
    closed-form ``A_k(l^2, b)`` (module docstring), which has ``b < 0``.

    With ``negative = s > 0`` the last ``s`` dead features get the bias ``-1/(2c)`` instead:
    their output is then always 0, each costs ``1/(3c)`` instead of ``1/(3c) - 1/(4c^2)``, and
    the point is still critical (any bias ``<= 0`` is; a flat direction). These are Chen et
    al.'s variants with dead features of negative bias, where training also pauses.

    Parameters
    ----------
    k : int
        Vertices: 0 (``W = 0``) or ``2 <= k <= c``.
    c : int
        Features, ``2 <= c <= 2^27`` (``W`` has ``2 c`` entries).
    negative : int
        Dead features with a negative bias, ``0 <= negative <= c - k`` (default 0).

    Returns
    -------
    W : numpy.ndarray, shape (c, 2)
        Rows = features.
    b : numpy.ndarray, shape (c,)

    References
    ----------
    Chen, Lau, Mendel, Wei & Murfet, "Dynamical versus Bayesian Phase Transitions in a Toy
    Model of Superposition", arXiv:2310.06301 (2023), section on the k-gon critical points.

    Examples
    --------
    >>> import numpy as np
    >>> W, b = kgon(5, 6)
    >>> np.linalg.norm(W, axis=1).round(4).tolist()
    [1.1705, 1.1705, 1.1705, 1.1705, 1.1705, 0.0]
    >>> b.round(4).tolist()
    [-0.2823, -0.2823, -0.2823, -0.2823, -0.2823, 0.0833]
    """
    k, c, negative = _check_kc(k, c, negative, high=_MAX_KGON_FEATURES)
    W = np.zeros((c, 2))
    b = np.full(c, 0.5 / c)
    b[c - negative :] = -0.5 / c
    if k >= 2:
        t, bias, _ = _kgon_optimum(k)
        angle = 2 * np.pi * np.arange(k) / k
        W[:k] = math.sqrt(t) * np.c_[np.cos(angle), np.sin(angle)]
        b[:k] = bias
    return W, b


def kgon_loss(k: ArrayLike, c: ArrayLike, negative: ArrayLike = 0) -> Any:
    r"""Loss of the k-gon critical point :func:`kgon` on 1-sparse data, per input.

    .. math::

        L_k = \frac{k}{c} \min_{t, b} A_k(t, b)
              + (c - k - s) \Big( \frac{1}{3c} - \frac{1}{4c^2} \Big) + \frac{s}{3c},

    with ``min A_k = 0`` for ``k <= 4`` (so ``L_k = (c - k)(1/(3c) - 1/(4c^2))``) and the
    piecewise-cubic ``A_k`` of the module docstring otherwise. Units: the expected squared
    error summed over the ``c`` features, per input (the trainer's reported loss). ``s`` is
    ``negative``, the dead features with a negative bias (:func:`kgon`); 0 by default.

    Parameters
    ----------
    k : int or array_like of int
        Vertices: 0 or ``2 <= k <= c``.
    c : int or array_like of int
        Features, ``2 <= c <= 2^63 - 1``. Broadcasts with ``k``.
    negative : int or array_like of int
        Dead features with a negative bias, ``0 <= negative <= c - k``. Broadcasts.

    Returns
    -------
    float or numpy.ndarray

    References
    ----------
    Chen, Lau, Mendel, Wei & Murfet, "Dynamical versus Bayesian Phase Transitions in a Toy
    Model of Superposition", arXiv:2310.06301 (2023).

    Examples
    --------
    >>> [round(float(kgon_loss(k, 6)), 5) for k in (0, 2, 3, 4, 5, 6)]
    [0.29167, 0.19444, 0.14583, 0.09722, 0.0618, 0.04819]

    The square with both dead features at a negative bias (a plateau of training):

    >>> round(float(kgon_loss(4, 6, negative=2)), 5)
    0.11111
    """
    (kk, cc, ss), _ = broadcast(
        np.asarray(k), np.asarray(c), np.asarray(negative), names=("k", "c", "negative")
    )
    out = np.empty(kk.shape)
    for idx in np.ndindex(kk.shape):
        ki, ci, si = _check_kc(kk[idx], cc[idx], ss[idx])
        A = _kgon_optimum(ki)[2] if ki >= 2 else 0.0
        out[idx] = ki / ci * A + (ci - ki - si) * dead_feature_loss(ci) + si / (3 * ci)
    return float(out) if out.ndim == 0 else out
