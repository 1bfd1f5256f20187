r"""The calculator: every read-out model side by side for one layer, as a :class:`Report`.

``calculate(n, m, l)`` answers, under each model of :mod:`suptheory.theory.readout`: how much two
features interfere, how loud the read-out noise is with ``l`` features active, how many active
features and how many features the layer could hold at the required ``snr`` (or ``error``),
and how many activation levels (bits) one read-out tells apart. The table shows two groups
that answer different questions -- the rms models (what a typical read-out hears) and the
largest-overlap proxies (what the worst pair would give) -- and the ``l1`` row, the capacities
of non-linear compressed-sensing decoding, which has no linear read-out noise.

Every entry is the value of the single public function (:func:`pair_interference`,
:func:`interference`, :func:`max_active`, :func:`log_max_features`,
:func:`distinguishable_levels`; ``m_max = exp(ln m_max)`` as :func:`max_features`, ``bits =
log2(levels)`` as :func:`bits_per_feature`): one home for the mathematics.
"""

# ruff: noqa: E741  (l is the project's name for the number of active features)
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from suptheory._text import ShownAsText, format_number, frame, render_table
from suptheory._validate import broadcast
from suptheory.theory import readout
from suptheory.theory._params import (
    CAPACITY_MODELS,
    MODELS,
    PROXY_MODELS,
    RMS_MODELS,
    check_a,
    check_budget,
    check_l,
    check_l_le_m,
    check_m,
    check_model,
    check_n,
    check_q,
    either_budget,
)
from suptheory.theory._types import CapacityModel, FloatOrArray, wrap

__all__ = ["Report", "calculate"]

#: one quantity under each model: ``None`` where it does not exist (the noise of ``l1``)
_ByModel: TypeAlias = dict[CapacityModel, FloatOrArray | None]

_FIELDS = ("pair_interference", "noise", "l_max", "m_max", "log_m_max", "levels", "bits")
_HEAD = {
    "pair_interference": "eps",
    "noise": "noise",
    "l_max": "l_max",
    "m_max": "m_max",
    "log_m_max": "ln m_max",
    "levels": "levels",
    "bits": "bits",
}
_ABOUT = {
    "random": "random directions, exact law",
    "optimal": "rms floor of any arrangement",
    "linsefors": "Linsefors (2024): JL worst case",
    "worst": "largest pair, random directions",
    "packing": "coherence lower bound, any packing",
    "l1": "l1/AMP decoding, noiseless",
}
_GROUPS = (
    ("rms noise: what a typical read-out hears", RMS_MODELS),
    ("largest-overlap proxies: the worst pair, as if every pair were that large", PROXY_MODELS),
    ("non-linear decoding", ("l1",)),
)


@dataclass(frozen=True)
class Report(ShownAsText):
    """Every read-out model side by side for one layer (or a broadcast grid of layers).

    Each result attribute is a dict from model name to a value (a Python float for scalar
    input, an array for array input; ``None`` where a quantity does not exist for a model,
    e.g. the noise of ``l1`` decoding).

    Attributes
    ----------
    n, m, l, a, snr, error, q
        The inputs (``error`` is None unless given; then it replaces ``snr``).
    models : tuple of str
        The rows: the rms models ``random``, ``optimal``; the largest-overlap proxies
        ``linsefors``, ``worst``, ``packing``; and ``l1``.
    pair_interference : dict
        Per-pair interference ``eps`` (rms for ``random`` and ``optimal``, the ``q``-quantile of
        the largest pair for ``worst``, the coherence lower bound for ``packing``).
    noise : dict
        Read-out noise standard deviation ``sigma = a eps sqrt(l)``.
    l_max : dict
        Largest number of active features at ``snr`` (or ``error``).
    m_max, log_m_max : dict
        Largest number of features with ``l`` active, and its natural log.
    levels, bits : dict
        Distinguishable activation levels of one read-out and ``log2`` of them.
    """

    n: FloatOrArray
    m: FloatOrArray
    l: FloatOrArray
    a: FloatOrArray
    snr: FloatOrArray | None
    error: FloatOrArray | None
    q: float
    models: tuple[CapacityModel, ...]
    pair_interference: _ByModel = field(repr=False)
    noise: _ByModel = field(repr=False)
    l_max: _ByModel = field(repr=False)
    m_max: _ByModel = field(repr=False)
    log_m_max: _ByModel = field(repr=False)
    levels: _ByModel = field(repr=False)
    bits: _ByModel = field(repr=False)

    @property
    def scalar(self) -> bool:
        """Whether the report is for a single layer (all inputs scalars)."""
        values = (self.n, self.m, self.l, self.a, self.snr, self.error)
        return all(np.ndim(v) == 0 for v in values if v is not None)

    def to_dict(self) -> dict[str, Any]:
        """Return the inputs and a ``{model: {quantity: value}}`` table as plain dicts.

        Examples
        --------
        >>> d = calculate(768, 16384, 5).to_dict()
        >>> sorted(d["models"]["random"])
        ['bits', 'l_max', 'levels', 'log_m_max', 'm_max', 'noise', 'pair_interference']
        """
        inputs: dict[str, FloatOrArray | None] = {
            "n": self.n,
            "m": self.m,
            "l": self.l,
            "a": self.a,
        }
        if self.error is None:
            inputs["snr"] = self.snr
        else:
            inputs["error"] = self.error
        inputs["q"] = self.q
        models = {k: {f: getattr(self, f)[k] for f in _FIELDS} for k in self.models}
        return {**inputs, "models": models}

    def to_frame(self) -> Any:
        """The table as a DataFrame, one row per model (scalar reports; needs pandas)."""
        if not self.scalar:
            raise ValueError("to_frame() shows one layer: give scalar n, m, l, a, snr")
        rows = [{"model": k, **{f: getattr(self, f)[k] for f in _FIELDS}} for k in self.models]
        return frame(rows, index="model")

    def __str__(self) -> str:
        if not self.scalar:
            shape = np.broadcast(self.n, self.m, self.l, self.a).shape
            return (
                f"Report over a broadcast grid of shape {shape} "
                f"(models {', '.join(self.models)}); see .to_dict() or the attributes"
            )
        num = format_number
        budget = f"snr = {num(self.snr)}" if self.error is None else f"error = {self.error:g}"
        title = (
            f"suptheory calculate: n = {num(self.n)}, m = {num(self.m)}, l = {num(self.l)}, "
            f"a = {num(self.a)}, {budget}"
        )
        head = ["model", *(_HEAD[f] for f in _FIELDS), "reading"]
        rows: list[list[str] | str] = []
        for label, group in _GROUPS:
            present = [k for k in group if k in self.models]
            if not present:
                continue
            rows.append(f"[{label}{self._which_error(group)}]")
            rows.extend([k, *(self._cell(f, k) for f in _FIELDS), _ABOUT[k]] for k in present)
        table = render_table(head, rows, align="l" + "r" * len(_FIELDS) + "l")
        rule = "=" * max(len(title), *(len(t) for t in table))
        q_note = "median" if self.q == 0.5 else f"q = {self.q:g} quantile"
        notes = [
            "eps: interference per pair (random, optimal: rms; worst: largest pair, "
            f"{q_note}; packing: lower bound on the largest)",
            "noise = a eps sqrt(l); levels = a / (snr noise), bits = log2(levels)"
            if self.error is None
            else "noise = a eps sqrt(l); levels: P(one read-out decodes the wrong level, end "
            "levels one-sided) <= error",
            "l_max, m_max: largest l, m with a / noise >= snr"
            if self.error is None
            else "l_max, m_max: rms models: P(any of the m read-outs wrong) <= error (union "
            "bound; random: exact law);\n  proxies: P(one read-out wrong) <= error (their eps "
            "already is a worst case over pairs)",
        ]
        return "\n".join([title, rule, table[0], "-" * len(rule), *table[1:], rule, *notes])

    def _which_error(self, group: tuple[str, ...]) -> str:
        """Under ``error``: which error each group's columns bound, said in its heading."""
        if self.error is None:
            return ""
        if group == RMS_MODELS:
            return "; l_max, m_max: any of the m read-outs wrong; levels: one read-out"
        if group == PROXY_MODELS:
            return "; l_max, m_max, levels: one read-out wrong"
        return "; l_max, m_max: exact recovery, no error"

    def _cell(self, name: str, model: CapacityModel) -> str:
        """One entry of the text table: counts below their meaning said in words."""
        value = getattr(self, name)[model]
        if value is not None and np.isfinite(value):
            if name == "m_max" and value < 1.0:
                return "none fit"  # not even one feature meets the budget
            # under error, fewer than 2 levels: not even on/off is read within the budget
            # (under snr, levels is Linsefors's ratio a / (snr noise), printed as it is)
            levels = self.levels[model]
            if self.error is not None and levels is not None and levels < 2.0:
                if name == "levels":
                    return "< 2"
                if name == "bits":
                    return "< 1"
        return format_number(value)


def calculate(
    n: ArrayLike,
    m: ArrayLike,
    l: ArrayLike,
    a: ArrayLike = 1.0,
    snr: ArrayLike | None = None,
    *,
    error: ArrayLike | None = None,
    q: float = 0.5,
    models: Sequence[CapacityModel] | None = None,
) -> Report:
    r"""Compare every read-out model for one layer (or a broadcast grid): a :class:`Report`.

    For each model -- the rms models ``random`` and ``optimal``, the largest-overlap proxies
    ``linsefors``, ``worst`` and ``packing`` -- the per-pair overlap ``eps``, the noise
    :math:`\sigma = a\,\epsilon\sqrt{l}`, the capacities

    .. math::

        l_{\max} = \frac{1}{(r \epsilon)^2}, \qquad
        m_{\max} = \max\{m : \epsilon(n, m) \sqrt{l}\, r \le 1\},

    (``r = snr``; under an error budget the one-sided error of :func:`readout_error`, with the
    exact law for ``random``), and the levels with their bits; for ``l1`` the
    compressed-sensing capacities. Each entry is the value of the single function of
    :mod:`suptheory.theory.readout`, which gives each formula.

    Parameters
    ----------
    n, m, l : array_like
        Width (``> 0``), number of features (``>= 1``), other features active at once (in
        ``[0, m - 1]``; ``ValueError`` otherwise).
    a : array_like
        Activation amplitude (``> 0``).
    snr : array_like, optional
        Required ``a / sigma`` (default 1 unless ``error`` is given).
    error : array_like, optional
        Error budget instead of ``snr`` (capacities: any of the ``m`` read-outs; levels: one).
    q : float
        Quantile of the largest overlap for the ``worst`` model (default: the median).
    models : sequence of str, optional
        The rows to compute, a subset of
        ``("random", "optimal", "linsefors", "worst", "packing", "l1")`` (default: all).

    Returns
    -------
    Report
        Prints as an aligned table; ``.to_dict()``; read in words by :func:`suptheory.explain`.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> r = calculate(768, 16384, 5)
    >>> round(r.noise["random"], 4), round(r.noise["linsefors"], 4)
    (0.0807, 0.7109)
    >>> round(r.log_m_max["linsefors"], 2)     # n / (8 l)
    19.2
    """
    qv = check_q(q)
    if models is None:
        rows = CAPACITY_MODELS
    else:
        if isinstance(models, str):
            raise TypeError("models must be a sequence of model names, e.g. ('random', 'l1')")
        rows = tuple(check_model(k, CAPACITY_MODELS) for k in models)
        if not rows:
            raise ValueError("models must name at least one model")
    snr_v, err_v = check_budget(snr, error, "random")
    third = either_budget(snr_v, err_v)
    budget = "snr" if err_v is None else "error"
    bc, scalar = broadcast(
        check_n(n), check_m(m), check_l(l), check_a(a), third, names=("n", "m", "l", "a", budget)
    )
    shape = bc[0].shape
    nv, mv, lv, av, tv = bc
    check_l_le_m(lv, mv)
    s_in = tv if err_v is None else None
    e_in = tv if err_v is not None else None
    res: dict[str, _ByModel] = {f: {} for f in _FIELDS}

    def put(model: CapacityModel, name: str, value: FloatOrArray | None) -> None:
        if value is None:
            res[name][model] = None
        else:
            res[name][model] = wrap(np.broadcast_to(np.asarray(value), shape).copy(), scalar)

    # every entry is the single public function's value (one home for the mathematics)
    for model in (k for k in MODELS if k in rows):
        put(model, "pair_interference", readout.pair_interference(nv, mv, model, qv))
        put(model, "noise", readout.interference(nv, mv, lv, av, model, qv))
        put(model, "l_max", readout.max_active(nv, mv, s_in, model, error=e_in, q=qv))
        log_mm = readout.log_max_features(nv, lv, s_in, model, error=e_in, q=qv)
        put(model, "log_m_max", log_mm)
        with np.errstate(over="ignore"):
            put(model, "m_max", np.exp(np.asarray(log_mm)))  # = max_features, exactly
        levels = readout.distinguishable_levels(nv, mv, lv, av, model, snr=s_in, error=e_in, q=qv)
        put(model, "levels", levels)
        put(model, "bits", np.log2(np.asarray(levels)))  # = bits_per_feature, exactly
    if "l1" in rows:
        put("l1", "l_max", readout.max_active(nv, mv, model="l1"))
        log_l1 = readout.log_max_features(nv, lv, model="l1")
        put("l1", "log_m_max", log_l1)
        with np.errstate(over="ignore"):
            put("l1", "m_max", np.exp(np.asarray(log_l1)))
        for name in ("pair_interference", "noise", "levels", "bits"):
            put("l1", name, None)

    def back(x: np.ndarray) -> FloatOrArray:
        return wrap(np.broadcast_to(x, shape).copy(), scalar)

    return Report(
        n=back(nv),
        m=back(mv),
        l=back(lv),
        a=back(av),
        snr=back(tv) if err_v is None else None,
        error=back(tv) if err_v is not None else None,
        q=qv,
        models=rows,
        **res,
    )
