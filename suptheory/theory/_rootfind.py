"""Vectorised bracketed root finding: one call solves a million scalar equations at once.

``scipy.optimize.brentq`` solves one equation per Python call, which is far too slow for a
broadcast grid of 10^6 points (and importing ``scipy.optimize`` costs the command line time).
Here every iteration acts on whole arrays: an expanding bracket search, then Chandrupatla's
method -- inverse quadratic interpolation where it is safe, bisection where it is not -- with
the same guarantee as Brent's method (the root stays bracketed; convergence is at worst that
of bisection) and superlinear convergence on smooth functions. Converged elements drop out
of later evaluations, so a few slow elements do not cost the whole array.

References
----------
.. [1] T. R. Chandrupatla, "A new hybrid quadratic/bisection algorithm for finding the zero
   of a nonlinear function without using derivatives", Advances in Engineering Software 28
   (1997) 145-149.
.. [2] P. Scherer, "Computational Physics", 2nd ed., Springer (2013), section 6.1.7.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["expand_bracket", "find_root"]

_EPS = np.finfo(np.float64).eps


def _take(args: Sequence[Any], idx: np.ndarray) -> tuple[Any, ...]:
    return tuple(a[idx] if np.ndim(a) else a for a in args)


def expand_bracket(
    f: Callable[..., np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    args: Sequence[Any] = (),
    *,
    limit: float | np.ndarray = np.inf,
    maxiter: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """Move ``b`` away from ``a`` (doubling the distance) until ``f`` changes sign.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` evaluated elementwise on 1-D arrays.
    a, b : numpy.ndarray
        1-D arrays: the fixed end and the first trial of the moving end (``b != a``).
    args : sequence of arrays
        Extra arguments, each a scalar or a 1-D array of the same length as ``a``.
    limit : float or array
        The moving end never passes ``limit`` (the last trial is ``limit`` itself).
    maxiter : int
        Largest number of doublings.

    Returns
    -------
    b : numpy.ndarray
        The moving end; ``f(a)`` and ``f(b)`` have opposite signs (or one is zero) where found.
    found : numpy.ndarray of bool
        Where a sign change was found.

    Examples
    --------
    >>> b, found = expand_bracket(lambda x: x - 100.0, np.array([0.0]), np.array([1.0]))
    >>> float(b[0]), bool(found[0])
    (128.0, True)
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.array(b, dtype=np.float64)
    limit_arr = np.broadcast_to(np.asarray(limit, dtype=np.float64), a.shape)
    fa = f(a, *args)
    b = np.where((b - a) * (limit_arr - a) > 0, np.minimum(np.abs(b - a), np.abs(limit_arr - a)), 0)
    b = a + np.sign(limit_arr - a) * b
    found = np.zeros(a.shape, dtype=bool)
    active = np.flatnonzero(b != a)
    step = np.abs(b - a)
    for _ in range(maxiter):
        if active.size == 0:
            break
        fb = f(b[active], *_take(args, active))
        hit = ((np.sign(fb) != np.sign(fa[active])) | (fb == 0)) & np.isfinite(fb)
        found[active[hit]] = True
        at_limit = b[active] == limit_arr[active]
        keep = ~hit & ~at_limit & np.isfinite(fb)
        active = active[keep]
        with np.errstate(over="ignore"):  # a step past the float range lands on the limit
            step[active] *= 2.0
            direction = np.sign(limit_arr[active] - a[active])
            trial = a[active] + direction * step[active]
        past = (trial - limit_arr[active]) * direction >= 0
        b[active] = np.where(past, limit_arr[active], trial)
    return b, found


def find_root(
    f: Callable[..., np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    args: Sequence[Any] = (),
    *,
    xtol: float = 0.0,
    rtol: float = 4 * _EPS,
    maxiter: int = 200,
) -> np.ndarray:
    """Solve ``f(x, *args) = 0`` elementwise for ``x`` between ``a`` and ``b`` (Chandrupatla).

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` evaluated elementwise on 1-D arrays; continuous or monotone with jumps
        (then the location of the sign change is returned).
    a, b : numpy.ndarray
        1-D arrays bracketing a root: ``f(a)`` and ``f(b)`` of opposite signs or zero.
    args : sequence of arrays
        Extra arguments, each a scalar or a 1-D array of the same length as ``a``.
    xtol, rtol : float
        Stop when the bracket is narrower than ``xtol + rtol |x|`` (about 4 ulp by default).
    maxiter : int
        Largest number of iterations (bisection alone needs at most about 2100 for float64
        over any bracket; the default suffices for brackets spanning ~60 binary orders).

    Returns
    -------
    numpy.ndarray
        The roots; NaN where ``a, b`` do not bracket a sign change.

    Examples
    --------
    >>> c = np.array([2.0, 9.0, 50.0])
    >>> x = find_root(lambda x, c: x**2 - c, np.zeros(3), np.full(3, 10.0), (c,))
    >>> np.round(x, 12).tolist()
    [1.414213562373, 3.0, 7.071067811865]
    """
    x1 = np.array(a, dtype=np.float64)
    x2 = np.array(b, dtype=np.float64)
    f1 = np.asarray(f(x1, *args), dtype=np.float64).copy()
    f2 = np.asarray(f(x2, *args), dtype=np.float64).copy()
    out = np.full(x1.shape, np.nan)
    zero1 = f1 == 0
    zero2 = (f2 == 0) & ~zero1
    out[zero1] = x1[zero1]
    out[zero2] = x2[zero2]
    valid = (np.sign(f1) * np.sign(f2) < 0) & np.isfinite(f1) & np.isfinite(f2)
    idx = np.flatnonzero(valid)
    x1, x2, f1, f2 = x1[idx], x2[idx], f1[idx], f2[idx]
    x3 = x2.copy()
    f3 = f2.copy()
    t = np.full(idx.shape, 0.5)
    ex = _take(args, idx)
    for _ in range(maxiter):
        if idx.size == 0:
            break
        xt = x1 + t * (x2 - x1)
        ft = np.asarray(f(xt, *ex), dtype=np.float64)
        same = np.sign(ft) == np.sign(f1)
        # keep the bracket [x1, x2] with x1 the newest point; x3 the one dropped
        x3 = np.where(same, x1, x2)
        f3 = np.where(same, f1, f2)
        x2 = np.where(same, x2, x1)
        f2 = np.where(same, f2, f1)
        x1, f1 = xt, ft
        better1 = np.abs(f1) <= np.abs(f2)
        xm = np.where(better1, x1, x2)
        fm = np.where(better1, f1, f2)
        tol = 2.0 * rtol * np.abs(xm) + xtol
        width = np.abs(x2 - x1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tl = tol / width
            done = (tl > 0.5) | (fm == 0) | ~np.isfinite(tl)
            xi = (x1 - x2) / (x3 - x2)
            phi = (f1 - f2) / (f3 - f2)
            iqi = (phi**2 < xi) & ((1.0 - phi) ** 2 < 1.0 - xi)
            t_iqi = f1 / (f2 - f1) * f3 / (f2 - f3) + (x3 - x1) / (x2 - x1) * f1 / (f3 - f1) * (
                f2 / (f3 - f2)
            )
        t = np.where(iqi & np.isfinite(t_iqi), t_iqi, 0.5)
        t = np.clip(t, tl, 1.0 - tl)
        if done.any():
            out[idx[done]] = xm[done]
            keep = ~done
            idx = idx[keep]
            x1, x2, x3 = x1[keep], x2[keep], x3[keep]
            f1, f2, f3 = f1[keep], f2[keep], f3[keep]
            t = t[keep]
            ex = _take(ex, np.flatnonzero(keep))
    if idx.size:  # out of iterations: the midpoint of what is left is still bracketed
        out[idx] = 0.5 * (x1 + x2)
    return out
