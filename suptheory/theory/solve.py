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
n, m, l, error     ``error = capacity_error(n, m, l)``: the       the capacities with ``error=``
                   one-sided read-out error, times ``m`` (union
                   bound) for the rms models
n, m, l, a, noise  ``sigma(n, m, l, a) = noise``                  :func:`interference`
n, m, l            ``l = n rho(n / m)`` (``model="l1"``)          the ``l1`` capacities
=================  =============================================  ================================

Every relation is answered by the public function named in the last column (the ``noise``
relation through the same functions at ``snr = a / noise``): one home for the mathematics.
Closed-form inverses are used where they exist (``linsefors``, ``random``, ``optimal``, the
``worst`` model's overlap law and the ``packing`` model's bounds in ``m``, the parametric
Donoho--Tanner curve for ``l1``); otherwise (``n`` under ``worst``/``packing``, the exact
law under an error budget) a bracketed root finder in ``ln m`` or ``ln n``.
Every answer is checked by the forward relation (to a relative ``1e-6``): where a monotone
relation jumps over the given value (the ``packing`` model's bounds switch on at
``m = n (n + 1) / 2``; ``m = 1`` has no pairs; at ``n = 1`` every overlap is 1) no value
solves it, and :class:`NoSolutionError` names the jump: the largest ``m`` (smallest ``n``)
that satisfies the inequality. Where no value of the parameter solves the relation -- or every
value does, as for ``m`` under the ``random`` model, whose noise does not depend on ``m`` --
:class:`NoSolutionError` is raised; never a warning, never a NaN.
"""

# ruff: noqa: E741  (l is the project's name for the number of active features)
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict, Unpack

import numpy as np
from numpy.typing import ArrayLike

from suptheory._validate import as_real, broadcast
from suptheory.theory import readout
from suptheory.theory._params import (
    CAPACITY_MODELS,
    check_a,
    check_l,
    check_l_le_m,
    check_m,
    check_model,
    check_n,
    check_q,
)
from suptheory.theory._types import CapacityModel, FloatOrArray, NoiseModel, wrap

__all__ = ["NoSolutionError", "SolveParams", "solve"]

_ALL = ("n", "m", "l", "a", "snr", "error", "noise")
_DOMAIN = {
    "n": "(0, inf)",
    "m": "[1, inf)",
    "l": "(0, m - 1]",
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


def _check_l_le_m_result(
    target: str, g: dict[str, np.ndarray], result: np.ndarray, scalar: bool
) -> None:
    """An answer ``l`` (or ``m``) outside ``l <= m - 1`` is no solution: ``m`` counts ``l``."""
    l, m = (result, g["m"]) if target == "l" else (g["l"], result)
    bad = l > m - 1.0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = "" if scalar else f" at {int(bad.sum())} of {bad.size} points"
        raise NoSolutionError(
            f"no {target} solves the relation with l in [0, m - 1]{where}: the solution would "
            f"be {target} = {result[i]:g}, with l = {float(l[i]):g} > m - 1 = {float(m[i]) - 1:g}"
        )


def _flat(
    arrays: dict[str, np.ndarray],
) -> tuple[list[np.ndarray], tuple[int, ...], bool]:
    bc, scalar = broadcast(*arrays.values(), names=arrays)
    shape = bc[0].shape
    return [np.ascontiguousarray(x, dtype=np.float64).reshape(-1) for x in bc], shape, scalar


def solve(**kwargs: Unpack[SolveParams]) -> FloatOrArray:
    r"""Return the one parameter given as ``None``.

    .. math::

        \frac{a}{\sigma(n, m, l)} = \mathrm{snr}, \qquad
        \mathrm{error} = m\, P(Z > a/2)\ (\text{rms models}), \qquad
        \sigma(n, m, l, a) = \mathrm{noise}, \qquad l = n\, \rho(n/m)

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
        mixed, or a value is out of range (``l`` must be in ``[0, m - 1]``: the other features
        active with the one read; an answer outside it is a :class:`NoSolutionError`).
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
    >>> print(f'{solve(m=None, n=768, l=1, model="linsefors"):.4g}')  # Linsefors's exp(n / 8)
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
    model = check_model(model, CAPACITY_MODELS)
    qv = check_q(q)
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
        check_a(params.pop("a"))  # validated, then unused: it cancels
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
        "n": check_n,
        "m": check_m,
        "l": check_l,
        "a": check_a,
        "snr": lambda v: as_real(v, "snr", low=0, low_open=True),
        "error": lambda v: as_real(v, "error", low=0, high=1, low_open=True, high_open=True),
        "noise": lambda v: as_real(v, "noise", low=0, low_open=True),
    }
    given = {k: checkers[k](params[k]) for k in relation if k != target}
    names = list(given)
    flat, shape, scalar = _flat(given)
    g = dict(zip(names, flat, strict=True))
    if "l" in g and "m" in g:
        check_l_le_m(g["l"], g["m"])
    result, why = _dispatch(target, relation, model, g, qv)
    _check_result(target, result, why, scalar)
    if target in ("l", "m"):
        _check_l_le_m_result(target, g, result, scalar)
    if model != "l1" and target in ("n", "m", "l"):
        _check_roundtrip(target, relation[-1], model, g, result, qv, scalar)
    return wrap(result.reshape(shape), scalar)


#: relative tolerance of the round trip: the root finders stop at 1e-13 in ln n or ln m, the
#: exact law's error at ~1e-9; a jump in the relation misses by far more
_RTOL = 1e-6


def _forward(kind: str, model: NoiseModel, v: dict[str, np.ndarray], q: float) -> np.ndarray:
    """The relation's right-hand side (``snr``, ``error`` or ``noise``) at ``n, m, l``."""
    with np.errstate(divide="ignore"):
        if kind == "snr":
            return 1.0 / _arr(readout.interference(v["n"], v["m"], v["l"], 1.0, model, q))
        if kind == "error":
            return _arr(readout.capacity_error(v["n"], v["m"], v["l"], model, q=q))
        return _arr(readout.interference(v["n"], v["m"], v["l"], v["a"], model, q))


def _check_roundtrip(
    target: str,
    kind: str,
    model: NoiseModel,
    g: dict[str, np.ndarray],
    result: np.ndarray,
    q: float,
    scalar: bool,
) -> None:
    """Raise :class:`NoSolutionError` where the relation jumps over the given value.

    The capacities return the largest ``m`` or ``l`` (smallest ``n``) that meets the budget
    as an inequality; where the relation jumps there (the ``packing`` bounds switching on,
    ``m = 1`` with no pairs, ``n = 1`` where every overlap is 1), that point does not solve
    the equation ``solve`` was asked for, and no other point does.
    """
    v = dict(g)
    v[target] = result
    got = _forward(kind, model, v, q)
    want = g[kind]
    with np.errstate(invalid="ignore"):
        ok = (got == want) | (np.abs(got - want) <= _RTOL * np.abs(want))
    if ok.all():
        return
    bad = np.flatnonzero(~ok)
    i = int(bad[0])
    where = "" if scalar else f" at {bad.size} of {ok.size} points"
    word = "largest" if target in ("m", "l") else "smallest"
    raise NoSolutionError(
        f"no {target} solves the relation{where}: {kind} jumps over {want[i]:g} at "
        f"{target} = {result[i]:.10g}, where it is {got[i]:g} ({model} model); "
        f"that is the {word} {target} with {kind} "
        f"{'>=' if kind == 'snr' else '<='} {want[i]:g}"
    )


def _arr(x: object) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


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
            return _arr(readout.min_width(g["m"], g["l"], model="l1")), "l1 recovery needs l <= n"
        if target == "m":
            why = "m is unbounded (l = 0) or l > n, which no m allows"
            return _arr(readout.max_features(g["n"], g["l"], model="l1")), why
        # the relation's root, uncapped: a root above m - 1 is no solution (checked after)
        return _arr(readout._max_active_uncapped(g["n"], g["m"], model="l1")), ""
    if kind == "noise":
        return _solve_noise(target, model, g, q)
    if target == "snr":
        noise = _arr(readout.interference(g["n"], g["m"], g["l"], 1.0, model, q))
        with np.errstate(divide="ignore"):
            return 1.0 / noise, "zero noise (l = 0, or no interference at these n, m)"
    if target == "error":
        err = _arr(readout.capacity_error(g["n"], g["m"], g["l"], model, q=q))
        return err, "the union bound m P(Z > a/2) of the rms models is not below 1"
    return _capacity(target, model, g.get("snr"), g.get("error"), g, q, kind)


def _capacity(
    target: str,
    model: CapacityModel,
    snr: np.ndarray | None,
    error: np.ndarray | None,
    g: dict[str, np.ndarray],
    q: float,
    kind: str,
) -> tuple[np.ndarray, str]:
    if target == "n":
        res = readout.min_width(g["m"], g["l"], snr, model, error=error, q=q)
        return _arr(res), "every width satisfies it"
    if target == "m":
        res = readout.max_features(g["n"], g["l"], snr, model, error=error, q=q)
        why = (
            "the random model's noise a sqrt(l / n) does not depend on m (use error= for a "
            "union-bound capacity)"
            if model == "random" and kind == "snr"
            else "no count of features meets it, or none is excluded (no bound caps m)"
        )
        return _arr(res), why
    # the relation's root, uncapped: a root above m - 1 is no solution (checked after)
    res = readout._max_active_uncapped(g["n"], g["m"], snr, model, error=error, q=q)
    return _arr(res), "there is no interference at these n, m"


def _solve_noise(
    target: str, model: NoiseModel, g: dict[str, np.ndarray], q: float
) -> tuple[np.ndarray, str]:
    if target == "noise":
        noise = readout.interference(g["n"], g["m"], g["l"], g["a"], model, q)
        return _arr(noise), "zero noise"
    if target == "a":
        unit = _arr(readout.interference(g["n"], g["m"], g["l"], 1.0, model, q))
        with np.errstate(divide="ignore"):
            return g["noise"] / unit, "there is no noise to scale (l = 0 or no interference)"
    # sigma(n, m, l, a) = noise  <=>  a / sigma = snr with snr = a / noise
    snr = g["a"] / g["noise"]
    if target == "l":
        return _capacity("l", model, snr, None, g, q, "noise")[0], (
            "there is no interference at these n, m"
        )
    if target == "n":
        res = readout.min_width(g["m"], g["l"], snr, model, q=q)
        return _arr(res), "every width (or none) gives that noise"
    res = readout.max_features(g["n"], g["l"], snr, model, q=q)
    why = (
        "the random model's noise does not depend on m"
        if model == "random"
        else "no count of features gives that noise"
    )
    return _arr(res), why
