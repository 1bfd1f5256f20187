r"""Solve a read-out relation for its one missing parameter (like statsmodels' ``solve_power``).

Give every parameter of one relation, one of them as ``None``; :func:`solve` returns that one.
The relation is chosen by the keywords given (``model`` as in :mod:`suptheory.theory.readout`):

=================  =============================================  ================================
keywords           relation                                       same as
=================  =============================================  ================================
n, m, l, snr       ``a / sigma(n, m, l) = snr``                   :func:`min_width`,
                   (``snr`` defaults to 1 if omitted)             :func:`max_features`,
                                                                  :func:`max_active`,
                                                                  :func:`distinguishable_levels`
n, m, l, error     ``a / sigma = 2 Phi^{-1}(1 - error / (2m))``   the capacities with ``error=``
                   (union bound over the ``m`` read-outs)
n, m, l, a, noise  ``sigma(n, m, l, a) = noise``                  :func:`interference`
n, m, l            ``l = n rho(n / m)`` (``model="l1"``)          the ``l1`` capacities
=================  =============================================  ================================

Closed-form inverses are used where they exist (``linsefors``, ``random``, the ``worst``
model's Poisson--Beta law and the ``optimal`` model's bounds in ``m``, the parametric
Donoho--Tanner curve for ``l1``); otherwise (``n`` under ``worst``/``optimal``, ``m`` under an
error budget) an expanding bracket and a vectorised bracketed root finder in ``ln m`` or
``ln n``.
Where a monotone relation jumps (the ``optimal`` model's bounds switch on at
``m = n (n + 1) / 2``) the answer is the jump: the largest ``m`` (smallest ``n``) that
satisfies the inequality. Where no value of the parameter solves the relation -- or every
value does, as for ``m`` under the ``random`` model, whose noise does not depend on ``m`` --
:class:`NoSolutionError` is raised; never a warning, never a NaN.
"""

# ruff: noqa: E741  (l is THEORY.md's name for the number of active features)
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict, Unpack

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from suptheory._validate import as_real, broadcast
from suptheory.theory import readout as _ro
from suptheory.theory._types import CapacityModel, FloatOrArray, wrap

__all__ = ["NoSolutionError", "SolveParams", "solve"]

_ALL = ("n", "m", "l", "a", "snr", "error", "noise")
_DOMAIN = {
    "n": "(0, inf)",
    "m": "[1, inf)",
    "l": "(0, inf)",
    "a": "(0, inf)",
    "snr": "(0, inf)",
    "error": "(0, 1)",
    "noise": "(0, inf)",
}


class SolveParams(TypedDict, total=False):
    """The keywords :func:`solve` accepts; the one to solve for is given as ``None``."""

    n: ArrayLike | None
    m: ArrayLike | None
    l: ArrayLike | None
    a: ArrayLike | None
    snr: ArrayLike | None
    error: ArrayLike | None
    noise: ArrayLike | None
    model: CapacityModel
    q: float


class NoSolutionError(ValueError):
    """No value of the missing parameter satisfies the relation (or every value does).

    A subclass of ``ValueError``, so ``except ValueError`` catches it too.

    Examples
    --------
    >>> issubclass(NoSolutionError, ValueError)
    True
    """


def _check_result(name: str, value: np.ndarray, why: str, scalar: bool) -> None:
    v = np.asarray(value, dtype=np.float64)
    ok = np.isfinite(v)
    if name == "m":
        ok &= v >= 1.0 - 1e-12
    elif name == "error":
        ok &= (v > 0.0) & (v < 1.0)
    else:
        ok &= v > 0.0
    if not ok.all():
        bad = int((~ok).sum())
        first = float(v[~ok].flat[0]) if v.ndim else float(v)
        where = "" if scalar else f" at {bad} of {v.size} points"
        raise NoSolutionError(
            f"no {name} in {_DOMAIN[name]} solves the relation{where} (the solution would be "
            f"{first:g}): {why}"
        )


def _flat(*arrays: np.ndarray) -> tuple[list[np.ndarray], tuple[int, ...], bool]:
    bc, scalar = broadcast(*arrays)
    shape = bc[0].shape
    return [np.ascontiguousarray(x, dtype=np.float64).reshape(-1) for x in bc], shape, scalar


def solve(**kwargs: Unpack[SolveParams]) -> FloatOrArray:
    r"""Return the one parameter given as ``None``.

    .. math::

        \frac{a}{\sigma(n, m, l)} = \mathrm{snr}, \qquad
        \frac{a}{\sigma(n, m, l)} = 2\,\Phi^{-1}\!\left(1 - \frac{\mathrm{error}}{2m}\right),
        \qquad \sigma(n, m, l, a) = \mathrm{noise}, \qquad l = n\, \rho(n/m)

    Parameters
    ----------
    **kwargs
        The relation's parameters (:class:`SolveParams`), exactly one of them ``None`` (module
        docstring): ``n`` (width), ``m`` (features), ``l`` (active features), ``snr``,
        ``error``, ``a`` (amplitude; only in the ``noise`` relation, where it does not cancel),
        ``noise`` (read-out noise standard deviation), each array_like; plus ``model`` (default
        ``"random"``) and ``q`` (quantile for ``model="worst"``, default 0.5). Values broadcast
        like numpy.

    Returns
    -------
    float or numpy.ndarray
        The missing parameter.

    Raises
    ------
    ValueError
        If not exactly one parameter is ``None``, if parameters of different relations are
        mixed, or a value is out of range.
    TypeError
        For an unknown keyword.
    NoSolutionError
        If no value of the missing parameter (or every value) satisfies the relation.

    References
    ----------
    .. [1] statsmodels, ``statsmodels.stats.power.solve_power`` (the interface).
    .. [2] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> round(solve(n=None, m=1e6, l=100, snr=2, model="random"), 1)
    400.0
    >>> print(f'{solve(m=None, n=768, l=1, model="linsefors"):.4g}')  # the seed's exp(n / 8)
    4.923e+41
    >>> round(solve(l=None, n=768, m=16384, snr=1, model="linsefors"), 2)
    9.89
    >>> round(solve(a=None, n=768, m=16384, l=5, noise=0.1), 3)
    1.239
    >>> solve(m=None, n=768, l=32, snr=1, model="random")
    Traceback (most recent call last):
    ...
    suptheory.theory.solve.NoSolutionError: no m in [1, inf) solves the relation ...
    """
    # a plain dict: keywords are checked at run time too (untyped callers may pass any)
    params: dict[str, Any] = dict(kwargs)
    model = params.pop("model", "random")
    q = params.pop("q", 0.5)
    unknown = sorted(set(params) - set(_ALL))
    if unknown:
        raise TypeError(
            f"solve() got unknown keyword(s) {', '.join(map(repr, unknown))}; the parameters are "
            f"{', '.join(_ALL)} (plus model and q)"
        )
    model = _ro._model(model, _ro.CAPACITY_MODELS)
    qv = _ro._q(q)
    if model == "l1":
        relation: tuple[str, ...] = ("n", "m", "l")
        extra = set(params) - set(relation)
        if extra:
            raise ValueError(
                f"model 'l1' is noiseless exact recovery: its relation l = n rho(n/m) has only "
                f"n, m, l; got also {', '.join(sorted(extra))}"
            )
    elif "noise" in params:
        relation = ("n", "m", "l", "a", "noise")
        params.setdefault("a", 1.0)
    elif "error" in params:
        relation = ("n", "m", "l", "error")
    else:
        relation = ("n", "m", "l", "snr")
        params.setdefault("snr", 1.0)
    if "a" in params and "a" not in relation:
        if params["a"] is None:
            raise ValueError(
                "a cannot be solved for from snr or error: a / sigma does not depend on a "
                "(every feature has amplitude a, so sigma scales with it); give noise= to "
                "solve sigma(n, m, l, a) = noise for a"
            )
        _ro._a(params.pop("a"))  # validated, then unused: it cancels
    mixed = sorted(set(params) - set(relation))
    if mixed:
        raise ValueError(
            f"parameters {', '.join(mixed)} do not belong to the relation of "
            f"{', '.join(relation)}; give snr or error or noise, not several"
        )
    missing = [k for k in relation if k not in params]
    if missing:
        raise ValueError(
            f"need every parameter of the relation ({', '.join(relation)}), exactly one of them "
            f"None; missing: {', '.join(missing)}"
        )
    nones = [k for k in relation if params[k] is None]
    if len(nones) != 1:
        raise ValueError(
            f"need exactly one keyword that is None among {', '.join(relation)}; "
            f"got {len(nones)} ({', '.join(nones) or 'none'})"
        )
    target = nones[0]
    checkers: dict[str, Callable[[ArrayLike], np.ndarray]] = {
        "n": _ro._n,
        "m": _ro._m,
        "l": _ro._l,
        "a": _ro._a,
        "snr": lambda v: as_real(v, "snr", low=0, low_open=True),
        "error": lambda v: as_real(v, "error", low=0, high=1, low_open=True, high_open=True),
        "noise": lambda v: as_real(v, "noise", low=0, low_open=True),
    }
    given = {k: checkers[k](params[k]) for k in relation if k != target}
    names = list(given)
    flat, shape, scalar = _flat(*given.values())
    g = dict(zip(names, flat, strict=True))
    result, why = _dispatch(target, relation, model, g, qv)
    _check_result(target, result, why, scalar)
    return wrap(result.reshape(shape), scalar)


def _dispatch(
    target: str,
    relation: tuple[str, ...],
    model: CapacityModel,
    g: dict[str, np.ndarray],
    q: float,
) -> tuple[np.ndarray, str]:
    kind = relation[-1] if model != "l1" else "l1"
    if model == "l1":
        if target == "n":
            return _ro._l1_min_width(g["m"], g["l"]), "l1 recovery needs l <= n"
        if target == "m":
            why = "m is unbounded (l = 0) or l > n, which no m allows"
            return np.exp(_ro._l1_log_m_max(g["n"], g["l"])), why
        return _ro._l1_max_active(g["n"], g["m"]), ""
    if kind == "noise":
        return _solve_noise(target, model, g, q)
    if target in ("snr", "error"):
        eps = _ro._eps(model, g["n"], g["m"], q)
        with np.errstate(divide="ignore"):
            ratio = 1.0 / (eps * np.sqrt(g["l"]))  # a / sigma
        if target == "snr":
            return ratio, "zero noise (l = 0, or no interference at these n, m)"
        with np.errstate(under="ignore"):
            log_err = np.log(2.0) + np.log(g["m"]) + special.log_ndtr(-ratio / 2.0)
        return np.exp(log_err), "the union bound 2 m Phi(-a / (2 sigma)) is not below 1"
    budget = {"snr": g.get("snr"), "error": g.get("error")}
    if target == "n":
        res = _ro.min_width(g["m"], g["l"], budget["snr"], model, error=budget["error"], q=q)
        return np.asarray(res, dtype=np.float64), "every width satisfies it"
    if target == "m":
        res = _ro.log_max_features(g["n"], g["l"], budget["snr"], model, error=budget["error"], q=q)
        why = (
            "the random model's noise a sqrt(l / n) does not depend on m (use error= for a "
            "union-bound capacity)"
            if model == "random" and kind == "snr"
            else "no count of features meets it, or none is excluded (no bound caps m)"
        )
        with np.errstate(over="ignore"):
            return np.exp(np.asarray(res, dtype=np.float64)), why
    res = _ro.max_active(g["n"], g["m"], budget["snr"], model, error=budget["error"], q=q)
    return np.asarray(res, dtype=np.float64), "there is no interference at these n, m"


def _solve_noise(
    target: str, model: str, g: dict[str, np.ndarray], q: float
) -> tuple[np.ndarray, str]:
    if target == "noise":
        return g["a"] * _ro._eps(model, g["n"], g["m"], q) * np.sqrt(g["l"]), "zero noise"
    if target == "a":
        with np.errstate(divide="ignore"):
            res = g["noise"] / (_ro._eps(model, g["n"], g["m"], q) * np.sqrt(g["l"]))
        return res, "there is no noise to scale (l = 0 or no interference)"
    if target == "l":
        with np.errstate(divide="ignore"):
            res = (g["noise"] / (g["a"] * _ro._eps(model, g["n"], g["m"], q))) ** 2
        return res, "there is no interference at these n, m"
    t = g["noise"] / (g["a"] * np.sqrt(g["l"]))
    if target == "n":
        return _ro._solve_n(model, g["m"], t, q), "every width (or none) gives that noise"
    with np.errstate(over="ignore"):
        res = np.exp(_ro._solve_log_m(model, g["n"], t, q))
    why = (
        "the random model's noise does not depend on m"
        if model == "random"
        else "no count of features gives that noise"
    )
    return res, why
