r"""The compressed-sensing phase transition: how many active features an l1 decoder recovers.

Non-linear read-out (the ``"l1"`` read-out model): an l1-minimisation or AMP
decoder recovers ``k`` active features out of ``N = m`` from ``n`` linear measurements
(Gaussian measurement matrix, large-system limit) when ``k/n < rho(n/N)``, the
Donoho-Tanner weak threshold.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from suptheory._validate import as_real
from suptheory.theory._types import FloatOrArray, wrap

__all__ = ["cs_phase_transition"]

_SQRT_HALF_PI = float(np.sqrt(np.pi / 2.0))
_LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))


def _rho_of_z(z: np.ndarray) -> np.ndarray:
    # rho(z) = 1 - z Phi(-z) / phi(z), with Mills' ratio Phi(-z)/phi(z) = sqrt(pi/2) erfcx(z/sqrt 2)
    rho: np.ndarray = 1.0 - z * _SQRT_HALF_PI * special.erfcx(z / np.sqrt(2.0))
    return rho


def _log_delta_of_z(z: np.ndarray, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    """``ln delta(z)`` on the optimal curve and its derivative in ``z``."""
    mills = _SQRT_HALF_PI * special.erfcx(z / np.sqrt(2.0))
    rho = 1.0 - z * mills
    # delta = kappa / (z / phi(z) + kappa rho), z / phi(z) = z sqrt(2 pi) e^{z^2/2}
    with np.errstate(divide="ignore"):
        log_zphi = np.log(z) + _LOG_SQRT_2PI + 0.5 * z * z
    log_den = np.logaddexp(log_zphi, np.log(kappa * rho))
    log_delta = np.log(kappa) - log_den
    # derivative: rho' = z - R (1 + z^2); d ln(z/phi + kappa rho) = ((1+z^2) + kappa rho' phi)
    #             / (z + kappa rho phi)
    drho = z - mills * (1.0 + z * z)
    phi = np.exp(-0.5 * z * z - _LOG_SQRT_2PI)
    slope = -((1.0 + z * z) + kappa * drho * phi) / (z + kappa * rho * phi)
    return log_delta, slope


def cs_phase_transition(delta: ArrayLike, signed: bool = False) -> FloatOrArray:
    r"""Donoho-Tanner weak phase transition :math:`\rho(\delta)` of l1 recovery.

    With :math:`\delta = n/N` (measurements per feature) and :math:`\rho = k/n` (active
    features per measurement), l1 minimisation recovers a typical ``k``-sparse vector when
    :math:`\rho < \rho(\delta)`, where

    .. math::

        \rho(\delta) = \max_{z \ge 0}
        \frac{1 - (\kappa/\delta)\, G(z)}{1 + z^2 - \kappa\, G(z)},
        \qquad G(z) = (1 + z^2)\,\Phi(-z) - z\,\varphi(z),

    :math:`\kappa = 2` for signed and :math:`\kappa = 1` for non-negative features
    (Donoho-Maleki-Montanari's formula). Setting the derivative to zero gives the maximiser
    in parametric form, which is what is evaluated (root of a monotone equation, safeguarded
    Newton, vectorised):

    .. math::

        \delta = \frac{\kappa\,\varphi(z)}{z + \kappa\,(\varphi(z) - z\Phi(-z))},
        \qquad
        \rho = 1 - \frac{z\,\Phi(-z)}{\varphi(z)}.

    For small :math:`\delta`, :math:`\rho \sim 1 / (2 \ln(1/\delta))`.

    Parameters
    ----------
    delta : array_like
        Undersampling ratio ``n / m``, in (0, 1].
    signed : bool, optional
        ``True`` for features of either sign (:math:`\kappa = 2`), ``False`` (default) for
        non-negative features such as post-ReLU activations (:math:`\kappa = 1`).

    Returns
    -------
    float or numpy.ndarray
        :math:`\rho(\delta)` in (0, 1]; ``rho(1) = 1``.

    References
    ----------
    Donoho, D. L., Maleki, A. & Montanari, A. (2009). Message-passing algorithms for
    compressed sensing. PNAS 106(45), 18914-18919, eq. (6). Donoho, D. L. & Tanner, J.
    (2009). Counting faces of randomly projected polytopes when the projection radically
    lowers dimension. J. AMS 22(1), 1-53. Amelunxen, D., Lotz, M., McCoy, M. B. & Tropp,
    J. A. (2014). Living on the edge: phase transitions in convex programs with random
    data. Inf. Inference 3(3), 224-294.

    Examples
    --------
    >>> print(round(cs_phase_transition(0.5, signed=True), 4))
    0.3857
    >>> print(round(cs_phase_transition(0.5), 4))
    0.5582
    """
    if not isinstance(signed, (bool, np.bool_)):
        raise TypeError(f"signed must be True or False; got {signed!r}")
    d = as_real(delta, "delta", low=0.0, high=1.0, low_open=True)
    scalar = d.ndim == 0
    kappa = 2.0 if signed else 1.0
    log_target = np.log(d)
    # bracket: delta(z) <= kappa phi(z)/z, so delta(zmax) <= target for this zmax
    lo = np.zeros(d.shape)
    hi = np.sqrt(2.0 * (np.log(kappa) - log_target)) + 1.0
    # start from the small-delta asymptote z ~ sqrt(2 ln(1/delta))
    z = np.clip(np.sqrt(np.maximum(-2.0 * log_target, 0.0)), 0.0, hi) * 0.9
    for _ in range(100):
        with np.errstate(divide="ignore", invalid="ignore"):
            f, slope = _log_delta_of_z(z, kappa)
        f = f - log_target
        # f is decreasing in z: f > 0 means the root lies above z
        above = f > 0.0
        lo = np.where(above, z, lo)
        hi = np.where(above, hi, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = z - f / slope
        inside = np.isfinite(newton) & (newton >= lo) & (newton <= hi)
        z_new = np.where(inside, newton, 0.5 * (lo + hi))
        done = np.abs(z_new - z) <= 1e-12 * np.maximum(z, 1.0)
        z = z_new
        if np.all(done):
            break
    # one last Newton step from within 1e-12 of the root: quadratic convergence
    with np.errstate(divide="ignore", invalid="ignore"):
        f, slope = _log_delta_of_z(z, kappa)
        newton = z - (f - log_target) / slope
    z = np.where(np.isfinite(newton) & (newton >= 0.0), newton, z)
    rho = np.where(d == 1.0, 1.0, _rho_of_z(z))
    return wrap(rho, scalar)
