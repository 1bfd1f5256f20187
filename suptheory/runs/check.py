r"""Theory against experiment: ``check`` sets each closed form beside its empirical twin.

For one layer (width ``n``, ``m`` features, ``l`` of them active) :func:`check` measures

1. the **read-out noise** of one feature -- simulated (:func:`suptheory.simulate_interference`)
   for a random embedding, a trained toy-model embedding (:func:`suptheory.train_toy_models`)
   and an optimised packing (:func:`suptheory.optimize_packing`) -- against the four read-out
   models' :func:`suptheory.interference` (rms models and largest-overlap proxies);
2. the **largest overlap** -- simulated for random directions against the finite-``n`` law,
   the Cai--Jiang asymptotic and Linsefors's (2024) ``sqrt(8 ln m / n)``; the packing optimiser's
   result against :func:`suptheory.coherence_lower_bound`;
3. the **capacity** -- the features a trained toy model represents at density ``p`` against
   :func:`suptheory.capacity_at_density` (``max_features`` at that density) and the active
   features it
   carries against :func:`suptheory.max_active`, under each model;
4. the **distinguishable levels** -- the largest number of levels nearest-level decoding
   tells apart within an error budget (:func:`suptheory.simulate_max_levels`) against
   :func:`suptheory.distinguishable_levels`;

and reports every pair with its uncertainty and a verdict (see :func:`check` for the rule).
The theory layer is imported at module level; the empirical layer (numba) only when
:func:`check` runs.
"""

# ruff: noqa: E741  (l is the project's name for the number of active features)
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from suptheory._text import ShownAsText, frame, render_table
from suptheory._text import format_number as _fmt
from suptheory._text import format_z as _fmt_z
from suptheory._validate import (
    MAX_COUNT,
    as_scalar,
    as_seed_sequence,
    check_bool,
    check_int,
)
from suptheory.theory import readout
from suptheory.theory._params import CAPACITY_MODELS, MODELS, check_q
from suptheory.theory.bounds import coherence_lower_bound
from suptheory.theory.density import capacity_at_density
from suptheory.theory.jl import linsefors_eps
from suptheory.theory.overlaps import expected_max_coherence_random, max_coherence_asymptotic

__all__ = ["check", "CheckReport", "CheckRow"]

#: the sections of a check, in report order, with their headings
SECTIONS: dict[str, str] = {
    "noise": "read-out noise: std of one read-out's interference (lower is better)",
    "coherence": "largest overlap max |<w_i, w_j>| (lower is better)",
    "capacity": "capacity at density p (higher is better)",
    "levels": "distinguishable levels within the error budget (higher is better)",
}

# A trained feature counts as represented when its norm is at least this (Elhage et al.
# 2022 read ||W||_F^2 as "features learned" because learned rows have norm near 1 and
# dropped ones near 0; sparse ReLU models learn norms above 1, so ||W||_F^2 over-counts).
_REPRESENTED_NORM = 0.5
# Automatic budgets (each documented in check's docstring).
_TRAIN_MAX_WEIGHTS = 1 << 18  # train when m n <= this
_PACK_MAX_WORK = 1 << 24  # pack when m^2 n <= this
# (the packing is polished by LP when m n <= packing._POLISH_MAX_UNKNOWNS = 256)
_COHERENCE_MAX_WORK = 1 << 30  # simulate the max coherence when m^2 n <= this
_COHERENCE_TOTAL_WORK = 1 << 33  # ... with trials <= this / (m^2 n)
#: the timed parts, in the order of CheckReport.seconds (then "total")
_PARTS = ("train", "pack", "noise", "coherence", "levels")


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class CheckRow:
    """One theoretical quantity beside its empirical twin.

    Attributes
    ----------
    section : str
        ``"noise"``, ``"coherence"``, ``"capacity"`` or ``"levels"``.
    quantity : str
        What is compared (e.g. ``"noise std"``, ``"features represented"``).
    source : str
        The empirical side: ``"random"`` (random embedding / directions), ``"trained"``
        (toy-model embedding) or ``"packing"`` (optimised packing).
    model : str
        The theory: a read-out model name, or ``"random law"``, ``"cai-jiang"``,
        ``"lower bound"``.
    theory, empirical : float
        The two values.
    se : float
        Standard error of ``empirical`` (NaN when it has none: a single training or
        optimisation, or a whole-number level count, which has ``band`` instead).
    band : tuple of float or None
        95% band of a whole-number level count (``levels_low, levels_high``).
    z : float
        ``(theory - empirical) / se`` (NaN without a standard error).
    ratio : float
        ``theory / empirical``.
    higher_is_better : bool
        Orientation of the quantity (capacity and levels: True; noise and overlap: False).
    censored : bool
        ``empirical`` is only a lower bound on the true value (a toy model that represents
        every feature it is offered, ``m``, could hold more).
    verdict : str
        ``"agrees"``, ``"pessimistic"`` or ``"optimistic"`` (about the theory).
    factor : float
        ``max(ratio, 1 / ratio)``: by how much the theory is off (1 when it agrees).
    note : str
        Details: the setting the row was computed at if it differs from the check's.
    """

    section: str
    quantity: str
    source: str
    model: str
    theory: float
    empirical: float
    se: float
    band: tuple[float, float] | None
    z: float
    ratio: float
    higher_is_better: bool
    censored: bool
    verdict: str
    factor: float
    note: str = ""

    @property
    def text(self) -> str:
        """The verdict in words, e.g. ``"theory pessimistic by a factor 6.66"``."""
        if self.verdict == "agrees":
            if self.censored:
                return "agrees (empirical censored at m)"
            if self.band is not None:
                return "agrees (within the 95% band)"
            if math.isfinite(self.se) and self.se > 0:
                return f"agrees within {abs(self.z):.2g} SE"
            return "agrees"
        return f"theory {self.verdict} by a factor {self.factor:.3g}"

    def to_dict(self) -> dict[str, Any]:
        """The row as a plain dict (with the verdict text)."""
        d = asdict(self)
        d["band"] = None if self.band is None else list(self.band)
        d["text"] = self.text
        return d


def _verdict(
    theory: float,
    empirical: float,
    *,
    se: float = math.nan,
    band: tuple[float, float] | None = None,
    higher_is_better: bool,
    censored: bool = False,
    k: float,
    rtol: float,
) -> tuple[float, float, str, float]:
    """(z, ratio, verdict, factor) by the rule of :func:`check`'s docstring."""
    z = (theory - empirical) / se if math.isfinite(se) and se > 0 else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        # equal values agree exactly: 0 / 0 and inf / inf are a ratio of 1, not NaN
        ratio = 1.0 if theory == empirical else float(np.float64(theory) / np.float64(empirical))
    if band is not None:
        whole = math.floor(theory) if math.isfinite(theory) else theory
        agrees = band[0] <= whole <= band[1]
    elif censored:
        agrees = (
            theory >= empirical * (1 - rtol)
            if higher_is_better
            else (theory <= empirical * (1 + rtol))
        )
    elif math.isfinite(z):
        agrees = abs(z) <= k
    else:
        agrees = theory == empirical or abs(theory - empirical) <= rtol * abs(empirical)
    if agrees:
        return z, ratio, "agrees", 1.0
    # whole-number levels disagree when the continuous theory falls on the other side of an
    # integer; the factor is still the continuous one (1.913 against 2 levels is 4% low, not
    # a factor 2 as the whole numbers 1 and 2 would say)
    worse = (ratio < 1) if higher_is_better else (ratio > 1)
    factor = max(ratio, 1 / ratio) if ratio > 0 else math.inf
    return z, ratio, "pessimistic" if worse else "optimistic", float(factor)


@dataclass(frozen=True)
class CheckReport(ShownAsText):
    """Theory beside experiment for one layer (see :func:`check`); prints as a table.

    Attributes
    ----------
    n, m, l, p, a : float
        The setting: ``l`` other features active on average, density ``p = l / (m - 1)``.
    snr, error : float
        Required read-out snr (capacity) and the error budget of the level decoding.
    k, rtol : float
        The verdict's thresholds (standard errors; relative tolerance without one).
    rows : tuple of CheckRow
        Every comparison, in section order.
    skipped : tuple of str
        Parts not run and why (e.g. the packing for large ``m``).
    seconds : dict
        Wall time of each part.
    settings : dict
        The budgets used (trials, steps, ...).
    """

    n: int
    m: int
    l: float
    p: float
    a: float
    snr: float
    error: float
    k: float
    rtol: float
    rows: tuple[CheckRow, ...]
    skipped: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict, repr=False)
    settings: dict[str, Any] = field(default_factory=dict, repr=False)

    def select(
        self,
        section: str | None = None,
        source: str | None = None,
        model: str | None = None,
        quantity: str | None = None,
    ) -> list[CheckRow]:
        """The rows matching every criterion given."""
        return [
            r
            for r in self.rows
            if (section is None or r.section == section)
            and (source is None or r.source == source)
            and (model is None or r.model == model)
            and (quantity is None or r.quantity == quantity)
        ]

    def row(self, section: str, source: str, model: str, quantity: str | None = None) -> CheckRow:
        """The one row for ``(section, source, model[, quantity])``; KeyError if none."""
        found = self.select(section, source, model, quantity)
        if len(found) != 1:
            raise KeyError(
                f"{len(found)} rows match section={section!r}, source={source!r}, "
                f"model={model!r}, quantity={quantity!r}"
            )
        return found[0]

    def to_dict(self) -> dict[str, Any]:
        """Inputs, rows (as dicts), skipped parts, timings and settings as plain data."""
        return {
            "n": self.n,
            "m": self.m,
            "l": self.l,
            "p": self.p,
            "a": self.a,
            "snr": self.snr,
            "error": self.error,
            "k": self.k,
            "rtol": self.rtol,
            "rows": [r.to_dict() for r in self.rows],
            "skipped": list(self.skipped),
            "seconds": dict(self.seconds),
            "settings": dict(self.settings),
        }

    def to_frame(self) -> Any:
        """The rows as a table, one per (section, quantity, source, model) (needs pandas)."""
        return frame([r.to_dict() for r in self.rows])

    def __str__(self) -> str:
        title = (
            f"suptheory check: n = {_fmt(self.n)}, m = {_fmt(self.m)}, l = {_fmt(self.l)} "
            f"(p = {self.p:.4g}), a = {_fmt(self.a)}; snr = {_fmt(self.snr)}, "
            f"error = {self.error:g}"
        )
        rule_text = (
            f"verdict: agrees if |z| <= {self.k:g} standard errors (relative "
            f"{self.rtol:.0%} without one); else theory pessimistic / optimistic"
        )
        head = ["source", "quantity", "model", "theory", "empirical", "+-", "z", "verdict"]
        body: list[list[str] | str | None] = []
        for section, heading in SECTIONS.items():
            rows = [r for r in self.rows if r.section == section]
            if not rows:
                continue
            body += [None, heading]
            for r in rows:
                unc = (
                    _fmt(r.se)
                    if math.isfinite(r.se)
                    else (f"[{r.band[0]:g}, {r.band[1]:g}]" if r.band is not None else "-")
                )
                body.append(
                    [
                        r.source,
                        r.quantity,
                        r.model,
                        _fmt(r.theory),
                        _fmt(r.empirical) + ("+" if r.censored else ""),
                        unc,
                        _fmt_z(r.z),
                        r.text,
                    ]
                )
        align = "lllrrrrl"
        # the rules span the title or the header, whichever is wider
        width = max(len(title), len(render_table(head, body, align=align, indent="  ")[0]))
        out = [
            title,
            rule_text,
            "=" * width,
            *render_table(head, body, align=align, indent="  ", rule_width=width),
            "=" * width,
        ]
        notes = sorted({r.note for r in self.rows if r.note})
        out.extend(f"note: {t}" for t in notes)
        out.extend(f"skipped: {s}" for s in self.skipped)
        if any(r.censored for r in self.rows):
            out.append(
                "+: censored -- the toy model represents every feature offered, so it "
                "shows only a lower bound"
            )
        return "\n".join(out)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class CheckSettings:
    """The validated inputs of :func:`check` and the budgets it chose for them.

    Built by :func:`_check_settings`, which does every input check of :func:`check` and
    resolves the automatic budgets (documented in its docstring); the parts of the check
    only read it.

    Attributes
    ----------
    n, m : int
        Width and number of features.
    l, p : float
        Other features active on average and the density, ``l = p (m - 1)``.
    a, snr, error, k, rtol, q : float
        As in :func:`check`.
    trials, coherence_trials : int
        As given (the largest-overlap simulation runs ``coherence_runs`` dictionaries).
    train, pack : bool
        Whether the toy model is trained and the packing optimised (automatic ones resolved).
    train_steps, train_batch, pack_steps, pack_restarts : int
        Their budgets.
    polish : bool
        Whether the packing is polished by linear programming (``m n <= 256``).
    coherence_runs : int
        Random dictionaries for the largest overlap; 0 when skipped (``m^2 n > 2^30``).
    seed : None, int, SeedSequence or Generator
        The seed as given (for the record).
    seeds : tuple of numpy.random.SeedSequence
        The parts' seeds, spawned from ``seed``: 0 training, 1 packing, 2 noise, 3 largest
        overlap, 4 levels (5 to 7 unused).
    progress : bool
        Show progress bars.
    """

    n: int
    m: int
    l: float
    p: float
    a: float
    snr: float
    error: float
    k: float
    rtol: float
    q: float
    trials: int
    coherence_trials: int
    train: bool
    train_steps: int
    train_batch: int
    pack: bool
    pack_steps: int
    pack_restarts: int
    polish: bool
    coherence_runs: int
    seed: Any
    seeds: tuple[np.random.SeedSequence, ...] = field(repr=False)
    progress: bool = True

    def record(self) -> dict[str, Any]:
        """The budgets used, as :attr:`CheckReport.settings` holds them."""
        seed = self.seed
        return {
            "trials": self.trials,
            "coherence_trials": self.coherence_trials,
            "train": self.train,
            "train_steps": self.train_steps,
            "train_batch": self.train_batch,
            "pack": self.pack,
            "pack_steps": self.pack_steps,
            "pack_restarts": self.pack_restarts,
            "q": self.q,
            "seed": seed if isinstance(seed, (int, type(None))) else repr(seed),
        }


def _density(m: int, l: Any, p: Any) -> tuple[float, float]:
    """``(l, p)`` from exactly one of them (``l = p (m - 1)``)."""
    if (l is None) == (p is None):
        raise TypeError("give exactly one of l (features active at once) and p (density)")
    if l is not None:
        l_ = as_scalar(l, "l", low=0, high=m - 1, low_open=True)
        return l_, l_ / (m - 1)
    p_ = as_scalar(p, "p", low=0, high=1, low_open=True)
    return p_ * (m - 1), p_


def _count(value: Any, name: str, low: int) -> int:
    """A count in ``[low, MAX_COUNT]`` (what the numba kernels take)."""
    return check_int(value, name, low=low, high=MAX_COUNT)


def _check_settings(
    n: Any,
    m: Any,
    l: Any,
    p: Any,
    a: Any,
    *,
    snr: Any,
    error: Any,
    k: Any,
    rtol: Any,
    q: Any,
    trials: Any,
    coherence_trials: Any,
    train: Any,
    train_steps: Any,
    train_batch: Any,
    pack: Any,
    pack_steps: Any,
    pack_restarts: Any,
    seed: Any,
    progress: Any,
) -> CheckSettings:
    """Validate :func:`check`'s arguments (in signature order) and choose its budgets."""
    from suptheory.empirical.packing import _POLISH_MAX_UNKNOWNS

    n_, m_ = _count(n, "n", 1), _count(m, "m", 2)
    l_, p_ = _density(m_, l, p)
    bounds = {"low": 0, "low_open": True}
    # a^2 enters the simulations' moments: at most 1e150, as simulate_interference takes
    a_, snr_ = as_scalar(a, "a", **bounds, high=1e150), as_scalar(snr, "snr", **bounds)
    err_ = as_scalar(error, "error", low=0, high=1, low_open=True, high_open=True)
    k_, rtol_ = as_scalar(k, "k", **bounds), as_scalar(rtol, "rtol", low=0)
    q_ = check_q(q)
    trials_ = _count(trials, "trials", 2)
    ctrials = _count(coherence_trials, "coherence_trials", 2)
    steps_, batch_ = _count(train_steps, "train_steps", 1), _count(train_batch, "train_batch", 1)
    psteps = _count(pack_steps, "pack_steps", 1)
    prestarts = _count(pack_restarts, "pack_restarts", 1)
    train_f = check_bool(train, "train", allow_none=True)
    pack_f = check_bool(pack, "pack", allow_none=True)
    progress_ = check_bool(progress, "progress")
    seeds = as_seed_sequence(seed, 8)
    # the automatic budgets
    work = float(m_) * m_ * n_
    coherence_runs = (
        int(min(ctrials, max(2, _COHERENCE_TOTAL_WORK // work)))
        if work <= _COHERENCE_MAX_WORK
        else 0
    )
    return CheckSettings(
        n=n_,
        m=m_,
        l=l_,
        p=p_,
        a=a_,
        snr=snr_,
        error=err_,
        k=k_,
        rtol=rtol_,
        q=q_,
        trials=trials_,
        coherence_trials=ctrials,
        train=train_f if train_f is not None else m_ * n_ <= _TRAIN_MAX_WEIGHTS,
        train_steps=steps_,
        train_batch=batch_,
        pack=pack_f if pack_f is not None else m_ * m_ * n_ <= _PACK_MAX_WORK,
        pack_steps=psteps,
        pack_restarts=prestarts,
        polish=m_ * n_ <= _POLISH_MAX_UNKNOWNS,
        coherence_runs=coherence_runs,
        seed=seed,
        seeds=tuple(seeds),
        progress=bool(progress_),
    )


# --------------------------------------------------------------------------- the sources


@dataclass(frozen=True)
class _Trained:
    """Source ``"trained"``: the toy model's represented features and its training numbers."""

    W: np.ndarray  # rows of norm >= 1/2
    frob: float  # ||W||_F^2 of the whole embedding
    loss: float

    @property
    def count(self) -> int:
        return int(self.W.shape[0])


@dataclass(frozen=True)
class _Reading:
    """One embedding read out: its simulated noise and levels.

    ``W`` is None for random directions (drawn by the simulations); ``m, l`` are the setting
    its theory is taken at, ``note`` says so when it differs from the check's. ``noise`` is
    an ``InterferenceSimulation``, ``levels`` a ``MaxLevelsSimulation``.
    """

    source: str
    W: np.ndarray | None
    m: int
    l: float
    note: str = ""
    noise: Any = None
    levels: Any = None


def _train_source(s: CheckSettings, seconds: dict[str, float]) -> _Trained | None:
    """Train the toy model at density ``p`` (seed 0) and keep its represented features."""
    if not s.train:
        return None
    from suptheory.empirical.toy_models import train_toy_models

    t0 = time.perf_counter()
    trained = train_toy_models(
        s.m,
        s.n,
        p=s.p,
        steps=s.train_steps,
        batch=s.train_batch,
        seed=s.seeds[0],
        progress=s.progress,
    )
    seconds["train"] = time.perf_counter() - t0
    W = trained.W[0].astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", W, W))
    return _Trained(
        W=W[norms >= _REPRESENTED_NORM],
        frob=float(trained.features_learned[0]),
        loss=float(trained.loss[0]),
    )


def _pack_source(s: CheckSettings, seconds: dict[str, float]) -> Any:
    """Optimise a packing (seed 1): a ``PackingResult``, or None when not asked for."""
    if not s.pack:
        return None
    from suptheory.empirical.packing import optimize_packing

    t0 = time.perf_counter()
    # LP polishing costs minutes above a few hundred unknowns and gains ~2% there
    packing = optimize_packing(
        s.m,
        s.n,
        restarts=s.pack_restarts,
        steps=s.pack_steps,
        seed=s.seeds[1],
        polish=s.polish,
        progress=s.progress,
    )
    seconds["pack"] = time.perf_counter() - t0
    return packing


def _random_source(s: CheckSettings, seconds: dict[str, float]) -> Any:
    """Source ``"random"``: the largest overlap of random directions (seed 3).

    A ``MaxCoherenceSimulation``, or None when skipped. Their noise and levels are read
    with the other embeddings' (:func:`_read`).
    """
    t0 = time.perf_counter()
    mc = None
    if s.coherence_runs:
        from suptheory.empirical.simulate import simulate_max_coherence

        mc = simulate_max_coherence(
            s.m, s.n, trials=s.coherence_runs, seed=s.seeds[3], progress=s.progress
        )
    seconds["coherence"] = time.perf_counter() - t0
    return mc


def _to_read(
    s: CheckSettings, trained: _Trained | None, packing: Any, skipped: list[str]
) -> list[_Reading]:
    """The embeddings to read out, in report order: random, trained, packing."""
    out = [_Reading("random", None, s.m, s.l)]
    if trained is not None:
        mt = trained.count
        if mt >= 2:
            note = (
                ""
                if mt == s.m
                else (
                    f"trained: {mt} of {s.m} features represented; its noise and levels rows "
                    f"use m = {mt}, l = {s.p * (mt - 1):.4g}"
                )
            )
            out.append(_Reading("trained", trained.W, mt, s.p * (mt - 1), note))
        else:
            skipped.append(f"trained-embedding noise and levels: only {mt} feature represented")
    if packing is not None:
        out.append(_Reading("packing", packing.W, s.m, s.l))
    return out


def _spawn_each(ss: np.random.SeedSequence, count: int) -> list[np.random.SeedSequence]:
    """Embedding ``i``'s seed: child ``i`` of the ``i``-th ``ss.spawn(count)``.

    The layout :func:`check` has always used (each spawn advances ``ss``).
    """
    return [ss.spawn(count)[i] for i in range(count)]


def _read(s: CheckSettings, readings: list[_Reading], seconds: dict[str, float]) -> list[_Reading]:
    """Simulate the read-out noise (seed 2) and the levels (seed 4) of every embedding."""
    from suptheory.empirical.simulate import simulate_interference, simulate_max_levels

    def setting(r: _Reading) -> dict[str, Any]:
        implicit = r.W is None
        return {
            "n": s.n if implicit else None,
            "m": r.m if implicit else None,
            "l": r.l,
            "a": s.a,
            "trials": s.trials,
            "embedding": r.W,
            "progress": s.progress,
        }

    count = len(readings)
    t0 = time.perf_counter()
    noise = [
        simulate_interference(**setting(r), seed=seed)
        for r, seed in zip(readings, _spawn_each(s.seeds[2], count), strict=True)
    ]
    seconds["noise"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    levels = [
        simulate_max_levels(**setting(r), error=s.error, seed=seed)
        for r, seed in zip(readings, _spawn_each(s.seeds[4], count), strict=True)
    ]
    seconds["levels"] = time.perf_counter() - t0
    return [
        replace(r, noise=sim, levels=lev)
        for r, sim, lev in zip(readings, noise, levels, strict=True)
    ]


# --------------------------------------------------------------------------- the rows


def _row(
    s: CheckSettings,
    section: str,
    quantity: str,
    source: str,
    model: str,
    theory: float | np.ndarray,
    empirical: float,
    *,
    se: float = math.nan,
    band: tuple[float, float] | None = None,
    higher: bool,
    censored: bool = False,
    note: str = "",
) -> CheckRow:
    """One comparison with its verdict (thresholds ``s.k``, ``s.rtol``)."""
    theory, empirical = float(theory), float(empirical)
    z, ratio, verdict, factor = _verdict(
        theory,
        empirical,
        se=se,
        band=band,
        higher_is_better=higher,
        censored=censored,
        k=s.k,
        rtol=s.rtol,
    )
    return CheckRow(
        section,
        quantity,
        source,
        model,
        theory,
        empirical,
        float(se),
        band,
        z,
        ratio,
        higher,
        censored,
        verdict,
        factor,
        note,
    )


def _noise_rows(s: CheckSettings, readings: list[_Reading]) -> list[CheckRow]:
    """Each embedding's noise std against ``interference`` under every model."""
    return [
        _row(
            s,
            "noise",
            "noise std",
            r.source,
            model,
            readout.interference(s.n, r.m, r.l, s.a, model=model, q=s.q),
            r.noise.std,
            se=r.noise.std_se,
            higher=False,
            note=r.note,
        )
        for r in readings
        for model in MODELS
    ]


def _coherence_rows(s: CheckSettings, mc: Any, packing: Any) -> list[CheckRow]:
    """Largest-overlap rows: random directions' against three laws, the packing's bound."""
    rows = []
    if mc is not None:
        for model, law in (
            ("random law", expected_max_coherence_random),
            ("cai-jiang", max_coherence_asymptotic),
            ("linsefors", linsefors_eps),
        ):
            rows.append(
                _row(
                    s,
                    "coherence",
                    "mean max overlap",
                    "random",
                    model,
                    law(s.m, s.n),
                    mc.mean,
                    se=mc.mean_se,
                    higher=False,
                )
            )
    if packing is not None:
        rows.append(
            _row(
                s,
                "coherence",
                "max overlap",
                "packing",
                "lower bound",
                coherence_lower_bound(s.m, s.n),
                packing.coherence,
                higher=False,
            )
        )
    return rows


def _capacity_rows(s: CheckSettings, trained: _Trained | None) -> list[CheckRow]:
    """Capacity rows: the toy model's features represented and the active features it carries.

    Against ``min(m, capacity_at_density)`` and ``max_active`` under each capacity model.
    """
    if trained is None:
        return []
    count = trained.count
    censored = count >= s.m
    note = (
        f"trained toy model: {count} of {s.m} features with norm >= 1/2, "
        f"||W||_F^2 = {trained.frob:.4g}, loss {trained.loss:.4g}"
    )
    rows = [
        _row(
            s,
            "capacity",
            "features represented",
            "trained",
            model,
            min(float(s.m), capacity_at_density(s.n, s.p, s.snr, model, q=s.q)),
            count,
            higher=True,
            censored=censored,
            note=note,
        )
        for model in CAPACITY_MODELS
    ]
    if count >= 2:
        rows += [
            _row(
                s,
                "capacity",
                "active at once",
                "trained",
                model,
                readout.max_active(s.n, count, None if model == "l1" else s.snr, model, q=s.q),
                # the others active with one represented feature: l counts the others
                s.p * (count - 1),
                higher=True,
                censored=censored,
                note=note,
            )
            for model in CAPACITY_MODELS
        ]
    return rows


def _levels_rows(s: CheckSettings, readings: list[_Reading]) -> list[CheckRow]:
    """Each embedding's levels (with their 95% band) against ``distinguishable_levels``."""
    rows = []
    for r in readings:
        lev = r.levels
        band = (float(lev.levels_low), float(lev.levels_high))
        cens = " (simulation censored at 2^24 levels)" if lev.censored else ""
        rows += [
            _row(
                s,
                "levels",
                "levels",
                r.source,
                model,
                readout.distinguishable_levels(
                    s.n, r.m, r.l, s.a, model=model, error=s.error, q=s.q
                ),
                lev.levels,
                band=band,
                higher=True,
                note=(r.note + cens).strip(),
            )
            for model in MODELS
        ]
    return rows


# --------------------------------------------------------------------------- check


def check(
    n: Any,
    m: Any,
    l: Any = None,
    p: Any = None,
    a: Any = 1.0,
    *,
    snr: Any = 1.0,
    error: Any = 0.05,
    k: Any = 3.0,
    rtol: Any = 0.05,
    q: float = 0.5,
    trials: Any = 20_000,
    coherence_trials: Any = 200,
    train: bool | None = None,
    train_steps: Any = 2000,
    train_batch: Any = 256,
    pack: bool | None = None,
    pack_steps: Any = 300,
    pack_restarts: Any = 1,
    seed: Any = 0,
    progress: bool = True,
) -> CheckReport:
    r"""Hold the closed forms against simulation, training and optimisation for one layer.

    Each row of the report sets a theoretical value :math:`T` beside its empirical twin
    :math:`E` with the uncertainty of :math:`E`, and gives a verdict. **The rule**, with
    ``k`` and ``rtol`` as given and :math:`r = T / E`:

    - with a standard error :math:`s > 0` (Monte Carlo estimates: noise std, mean largest
      overlap): :math:`z = (T - E) / s`; the theory **agrees** iff :math:`|z| \le k`;
    - without one (one training or one optimisation: features represented, a packing's
      coherence): it **agrees** iff :math:`|T - E| \le \mathrm{rtol}\,|E|`;
    - for whole-number level counts, with their 95% band ``[low, high]`` from the
      simulation: it **agrees** iff :math:`low \le \lfloor T \rfloor \le high`
      (then :math:`r = \lfloor T \rfloor / E`);
    - censored rows (a toy model that represents all ``m`` features it is offered only
      shows that the capacity is at least ``E``): it agrees iff :math:`T \ge (1 -
      \mathrm{rtol}) E`;
    - otherwise the theory is **pessimistic** when it predicts a worse outcome than measured
      (more noise or overlap, :math:`r > 1`; fewer features or levels, :math:`r < 1`) and
      **optimistic** in the opposite case, "by a factor" :math:`\max(r, 1/r)`.

    The parts (each with its own seed spawned from ``seed``):

    - *noise*: :func:`suptheory.simulate_interference` (``trials`` read-outs, every active
      feature at amplitude ``a``, each of the ``m - 1`` others active with density ``p``) for
      random directions, the trained embedding and the packing, against
      ``interference(n, m, l, a, model)`` for the four read-out models. For the trained
      embedding only its represented features (norm >= 1/2) are read and the theory is
      taken at their number ``m'`` with ``l' = p (m' - 1)`` (stated in a note).
    - *coherence*: :func:`suptheory.simulate_max_coherence` (mean of ``coherence_trials``
      dictionaries, fewer when ``m^2 n`` is large: at most ``2^33 / (m^2 n)``, skipped above
      ``m^2 n = 2^30``) against ``expected_max_coherence_random``,
      ``max_coherence_asymptotic`` and ``linsefors_eps``; the packing's coherence against
      ``coherence_lower_bound``.
    - *capacity*: a ReLU toy model trained at density ``p`` (``train_steps`` AdamW steps of
      ``train_batch`` samples, the notebook's recipe otherwise); its features represented
      (rows of norm >= 1/2; ``||W||_F^2`` in the note) against ``min(m, m*)`` with
      ``m* =`` :func:`capacity_at_density` ``(n, p, snr, model)``, and the active features it
      carries, ``p`` times that count, against ``max_active(n, count, snr, model)``.
    - *levels*: :func:`suptheory.simulate_max_levels` at the error budget ``error`` (for each
      embedding) against ``distinguishable_levels(n, m, l, a, model, error=error)``.

    Parameters
    ----------
    n : int
        Width (neurons), ``>= 1``.
    m : int
        Number of features, ``>= 2``.
    l : float, optional
        Expected number of *other* features active at once, in ``(0, m - 1]``.
    p : float, optional
        Instead of ``l``: the density, in ``(0, 1]``; ``l = p (m - 1)``.
    a : float
        Activation amplitude, in ``(0, 1e150]`` (its square enters the simulations).
    snr : float
        Required ``a / sigma`` for the capacities (default 1, Linsefors's).
    error : float
        Error budget of one read-out's level decoding, in ``(0, 1)``.
    k : float
        Standard errors within which a Monte Carlo estimate agrees (default 3).
    rtol : float
        Relative tolerance for comparisons without a standard error (default 0.05).
    q : float
        Quantile of the largest overlap for the ``worst`` model.
    trials : int
        Read-outs simulated for each noise and levels estimate.
    coherence_trials : int
        Random dictionaries for the largest-overlap estimate.
    train : bool or None
        Train a toy model (None: when ``m n <= 2^18``).
    train_steps, train_batch : int
        Its optimiser steps and batch size.
    pack : bool or None
        Optimise a packing (None: when ``m^2 n <= 2^24``).
    pack_steps, pack_restarts : int
        Its gradient steps and restarts (polished by linear programming when ``m n <= 256``).
    seed : None, int, SeedSequence or Generator
        Source of randomness; every number in the report is a function of it.
    progress : bool
        Show progress bars of the parts (on a terminal).

    Returns
    -------
    CheckReport

    Raises
    ------
    ValueError, TypeError
        For bad input (naming the parameter and its range), or neither / both of ``l, p``.

    References
    ----------
    .. [1] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024); the
       theory page of the docs derives every closed form compared here.
    .. [2] N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread, 2022.
    .. [3] L. Linsefors, "Some costs of superposition", AI Alignment Forum (2024).

    Examples
    --------
    >>> r = check(64, 256, l=4, train=False, pack=False, trials=5000, coherence_trials=40,
    ...           progress=False)
    >>> r.row("noise", "random", "random").verdict
    'agrees'
    >>> row = r.row("noise", "random", "linsefors")
    >>> row.verdict, round(row.factor, 1)          # sqrt(8 ln 256) = 6.66
    ('pessimistic', 6.7)
    """
    t_start = time.perf_counter()
    s = _check_settings(
        n,
        m,
        l,
        p,
        a,
        snr=snr,
        error=error,
        k=k,
        rtol=rtol,
        q=q,
        trials=trials,
        coherence_trials=coherence_trials,
        train=train,
        train_steps=train_steps,
        train_batch=train_batch,
        pack=pack,
        pack_steps=pack_steps,
        pack_restarts=pack_restarts,
        seed=seed,
        progress=progress,
    )
    times: dict[str, float] = {}
    skipped: list[str] = []
    trained = _train_source(s, times)
    if trained is None:
        skipped.append("toy-model training (train=False, or m n > 2^18 with train=None)")
    packing = _pack_source(s, times)
    if packing is None:
        skipped.append("packing optimiser (pack=False, or m^2 n > 2^24 with pack=None)")
    readings = _read(s, _to_read(s, trained, packing, skipped), times)
    mc = _random_source(s, times)
    if mc is None:
        skipped.append("max-coherence simulation (m^2 n > 2^30)")
    rows = (
        _noise_rows(s, readings)
        + _coherence_rows(s, mc, packing)
        + _capacity_rows(s, trained)
        + _levels_rows(s, readings)
    )
    seconds = {part: times[part] for part in _PARTS if part in times}
    seconds["total"] = time.perf_counter() - t_start
    return CheckReport(
        n=s.n,
        m=s.m,
        l=s.l,
        p=s.p,
        a=s.a,
        snr=s.snr,
        error=s.error,
        k=s.k,
        rtol=s.rtol,
        rows=tuple(rows),
        skipped=tuple(skipped),
        seconds=seconds,
        settings=s.record(),
    )
