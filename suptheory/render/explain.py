"""Readings in words of the results' tables, for people rather than programs."""

# ruff: noqa: E741  (l is the name of the number of active features throughout)
from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from typing import Any

from suptheory._text import format_number
from suptheory.theory._params import CAPACITY_MODELS
from suptheory.theory.report import Report

__all__ = ["explain"]


def _floats(column: Mapping[Any, Any]) -> dict[str, float]:
    """One column of a scalar report as plain floats (NaN where a model has no value)."""
    return {k: math.nan if v is None else float(v) for k, v in column.items()}


def explain(report: Report) -> str:
    """A short reading of a :class:`~suptheory.Report` in words (scalar reports only).

    Examples
    --------
    >>> from suptheory import calculate
    >>> print(explain(calculate(768, 16384, 5)))  # doctest: +ELLIPSIS
    Noise. Linsefors's (2024) model is 8.8 times more pessimistic than ...
    """
    if not isinstance(report, Report):
        raise TypeError(f"report must be a Report (from suptheory.calculate); got {report!r}")
    if not report.scalar:
        raise ValueError("report must be of one layer: give calculate() scalar n, m, l, a, snr")
    if set(report.models) != set(CAPACITY_MODELS):
        raise ValueError("report must compare every model: call calculate() without models=")
    n, m, l = float(report.n), float(report.m), float(report.l)
    lev = _floats(report.levels)
    eps = _floats(report.pair_interference)
    # the noise in units of a, eps sqrt(l) (the text says "... a"; a = 5e-324 underflows)
    noise = {k: e * math.sqrt(l) for k, e in eps.items()}
    if l == 0:
        return "With l = 0 no other feature is active: there is no interference at all."
    if m == 1:
        return "With m = 1 there is a single feature: nothing interferes with it."
    f = format_number
    budget = f"snr = {f(report.snr)}" if report.error is None else f"error = {report.error:g}"
    lin_reads = "cannot be read at all" if noise["linsefors"] >= 1.0 else "can be read"
    paras = [
        f"Noise. Linsefors's (2024) model is {eps['linsefors'] / eps['random']:.1f} "
        f"times more pessimistic than the exact random-direction noise (the factor "
        f"sqrt(8 ln m)): it takes the Johnson-Lindenstrauss worst case as the typical "
        f"overlap. With {f(l)} of {f(m)} features active in {f(n)} neurons, random "
        f"directions give read-out noise {f(noise['random'])} a: {f(lev['random'])} "
        f"levels ({f(report.bits['random'])} bits) at {budget}, where Linsefors's model "
        f"says a feature {lin_reads} (noise {f(noise['linsefors'])} a). No arrangement "
        f"has rms noise below {f(noise['optimal'])} a (the frame-potential floor, met by "
        f"tight frames): random directions are rms-optimal up to sqrt(1 - n/m).",
        f"Geometry. The largest overlap among {f(m)} random directions is about "
        f"{f(eps['worst'])}, {eps['worst'] / eps['random']:.2g} times their rms overlap "
        f"1/sqrt(n) = {f(eps['random'])}; "
        + (
            f"no arrangement of {f(m)} lines in R^{f(n)} keeps every overlap below "
            f"{f(eps['packing'])}. A good packing removes the worst pairs (largest-overlap "
            f"proxy {f(noise['worst'])} a -> {f(noise['packing'])} a), not the typical "
            f"noise."
            if m > n
            else f"but m <= n: the features fit orthogonally, with no interference at all "
            f"(largest-overlap proxy of random directions {f(noise['worst'])} a -> 0)."
        ),
    ]
    lm, mm = _floats(report.l_max), _floats(report.m_max)
    if math.isinf(mm["random"]) and report.error is None:
        rand_m = "any number of features (that noise does not depend on m; an error budget, "
        rand_m += "--error, makes m count through the union bound)"
    elif mm["random"] == 0:
        rand_m = "not even one feature at this budget"
    elif mm["random"] < 1:
        rand_m = f"not even one feature (m_max = {f(mm['random'])} < 1)"
    else:
        rand_m = f"m_max = {f(mm['random'])} features"
    paras.append(
        f"Capacity at {budget}. Linsefors's model allows l_max = {f(lm['linsefors'])} active "
        f"features and m_max = {f(mm['linsefors'])} features; random directions allow "
        f"l_max = {f(lm['random'])} and {rand_m}; the worst pair of a random dictionary "
        f"caps m at {f(mm['worst'])}."
    )
    paras.append(
        "Non-linear decoding. l1/AMP recovery (no noise) finds "
        + (
            f"up to {f(lm['l1'])} active features out of {f(m)}"
            if m > n
            else "all m of them (m <= n)"
        )
        + f", and with {f(l)} active it could handle "
        f"{f(mm['l1'])} features (ln m_max = {f(report.log_m_max['l1'])})."
    )
    return "\n\n".join(textwrap.fill(p, width=92) for p in paras)
