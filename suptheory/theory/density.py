r"""Capacity at a given sparsity: how many features fit when each is active with density ``p``.

With ``m`` features each active with probability ``p``, about ``l = p m`` are active at once;
the capacity is the ``m`` at which the read-out's largest ``l`` (:func:`suptheory.max_active`)
just carries ``p m``. This is the closed form a toy model trained at density ``p`` is compared
against (:func:`suptheory.check`).
"""

# ruff: noqa: E741  (l is the name of the number of active features throughout)
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from suptheory._validate import as_real, broadcast
from suptheory.theory._types import CapacityModel, FloatOrArray, wrap
from suptheory.theory.readout import CAPACITY_MODELS, _max_active_uncapped, _model

__all__ = ["capacity_at_density"]


def capacity_at_density(
    n: ArrayLike,
    p: ArrayLike,
    snr: ArrayLike = 1.0,
    model: CapacityModel = "random",
    *,
    q: float = 0.5,
) -> FloatOrArray:
    r"""Largest number of features ``m`` a read-out supports when each is active with density ``p``.

    With ``m`` features at density ``p``, about ``l = p m`` are active at once, so the
    capacity is the fixed point

    .. math:: m^* = \max\{m : l_{\max}(n, m) \ge p\, m\}, \qquad
              \text{i.e.}\ m^* = m_{\max}(n, l = p\, m^*),

    where :math:`l_{\max}` is :func:`suptheory.max_active` under ``model`` at ``snr``
    (decreasing in ``m``, so the fixed point is unique). Closed forms: random directions
    :math:`m^* = n / (p\,\mathrm{snr}^2)`; Linsefors's (2024) model :math:`m^* \ln m^* =
    n / (8 p\, \mathrm{snr}^2)`, i.e. :math:`m^* = \exp W_0(n / (8 p\, \mathrm{snr}^2))`.
    Solved for every model by bisection in ``ln m`` on ``[0, 700]``: ``inf`` where even
    ``m = e^700`` fits (e.g. ``optimal`` once no bound caps ``m``), 0 where not even one
    feature fits.

    This is the closed form a toy model trained at density ``p`` is compared against: its
    features represented (Elhage et al. 2022) are at most ``min(m, m*)`` if the model holds.

    Parameters
    ----------
    n : array_like
        Width, ``n > 0``.
    p : array_like
        Density, in ``(0, 1]``.
    snr : array_like
        Required ``a / sigma`` of one read-out, ``> 0`` (ignored by ``"l1"``: exact recovery).
    model : {"random", "optimal", "linsefors", "worst", "packing", "l1"}
        The read-out model.
    q : float
        Quantile of the largest overlap for ``model="worst"``.

    Returns
    -------
    float or numpy.ndarray
        ``m*``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024); the theory
       page of the docs derives the density form.
    .. [2] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> round(capacity_at_density(64, 1 / 64, model="random"))     # n / p
    4096
    >>> round(capacity_at_density(64, 1 / 64, model="linsefors"), 1)   # m ln m = 512
    109.1
    """
    model = _model(model, CAPACITY_MODELS)
    (nv, pv, sv), scalar = broadcast(
        as_real(n, "n", low=0, low_open=True),
        as_real(p, "p", low=0, high=1, low_open=True),
        as_real(snr, "snr", low=0, low_open=True),
        names=("n", "p", "snr"),
    )
    shape = np.shape(nv)
    nv, pv, sv = (np.ascontiguousarray(x, dtype=np.float64).reshape(-1) for x in (nv, pv, sv))

    def gap(x: np.ndarray) -> np.ndarray:
        # ln l_max(n, e^x) - ln(p e^x): decreasing in x; +inf where l_max is infinite
        with np.errstate(divide="ignore", over="ignore"):
            lmax = np.asarray(
                _max_active_uncapped(nv, np.exp(x), None if model == "l1" else sv, model, q=q),
                dtype=np.float64,
            )
            diff: np.ndarray = np.log(lmax) - np.log(pv) - x
        return diff

    lo = np.zeros(nv.shape)
    hi = np.full(nv.shape, 700.0)
    g_lo, g_hi = gap(lo), gap(hi)
    out = np.empty(nv.shape)
    none = g_lo < 0
    every = g_hi >= 0
    for _ in range(64):  # bisection: width 700 / 2^64, below float64 resolution of ln m
        mid = 0.5 * (lo + hi)
        up = gap(mid) >= 0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    out[:] = np.exp(0.5 * (lo + hi))
    out[every] = np.inf
    out[none & ~every] = 0.0
    return wrap(out.reshape(shape), scalar)
