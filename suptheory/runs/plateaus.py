r"""Loss plateaus of toy-model training against the k-gon critical points.

Chen, Lau, Mendel, Wei & Murfet (2023) found that the plateaus of the training loss of the
two-neuron toy model on 1-sparse data sit at its regular k-gon critical points
(:func:`suptheory.kgon`). This module detects the plateaus of a loss trajectory by a fixed
rule (:func:`detect_plateaus`), describes the polygon a snapshot forms
(:func:`polygon_geometry`), and :func:`check_kgon_plateaus` trains ``c`` features in two
dimensions over seeds from a small initialisation and compares every plateau's level and
geometry with the nearest k-gon -- the theory-against-experiment check of these phenomena, a
sibling of :func:`suptheory.check`.

The loss of every snapshot is the exact expected loss (:func:`suptheory.one_sparse_loss`),
so the trajectories carry no sampling noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from suptheory._text import ShownAsText, render_table
from suptheory._text import format_number as _fmt
from suptheory._validate import as_real, check_bool, check_int
from suptheory.theory.kgons import kgon_loss, one_sparse_loss

__all__ = [
    "detect_plateaus",
    "Plateau",
    "polygon_geometry",
    "PolygonGeometry",
    "check_kgon_plateaus",
    "PlateauCheck",
    "PlateauRow",
]

#: a feature with ``||W_i||`` at least this is on the polygon (k-gon norms are >= 1)
ON_POLYGON = 0.5
#: largest relative deviation of the polygon's angular gaps and norms that counts as regular
REGULAR = 0.1
#: features closer than this angle (radians, 10 degrees) share a vertex of the polygon
SAME_VERTEX = math.radians(10)


@dataclass(frozen=True)
class Plateau:
    """One plateau of a loss trajectory: snapshots ``first..last`` (inclusive).

    Attributes
    ----------
    first, last : int
        Snapshot indices of the plateau's ends.
    start, end : int
        Their optimiser steps.
    level : float
        Median loss over the plateau.
    middle : int
        Snapshot index of its middle (the snapshot whose geometry represents it).
    """

    first: int
    last: int
    start: int
    end: int
    level: float
    middle: int


def detect_plateaus(
    steps: Any, loss: Any, *, rate: float = 5e-5, min_span: float = 1.3
) -> list[Plateau]:
    r"""Find the plateaus of a loss trajectory kept at (log-spaced) steps.

    The rule: between consecutive snapshots ``t_j < t_{j+1}`` the loss changes at the
    relative rate

    .. math:: r_j = \frac{|\ln L_{j+1} - \ln L_j|}{t_{j+1} - t_j}

    per step. A plateau is a maximal run of consecutive snapshots ``a..e`` with every
    ``r_j < rate`` in between, ``t_a >= 1``, at least three snapshots and
    ``t_e >= min_span t_a`` (it lasts at least 30% as long as training had taken to reach
    it). Its level is the median of ``L`` over the run. A per-step rate, not a slope in
    ``log t``: early in training the loss moves steadily while ``log t`` grows fast, and
    would look flat in ``log t``; the default ``5e-5`` (5% per 1,000 steps) suits Adam at
    ``lr = 1e-3``, where early training and the transitions move the loss by 20-300% per
    1,000 steps and the k-gon plateaus by under 1%.

    Parameters
    ----------
    steps : array_like of int
        Increasing steps of the snapshots.
    loss : array_like
        Positive loss at each of them.
    rate : float
        Largest relative change per step inside a plateau.
    min_span : float
        Smallest ratio ``t_e / t_a``, ``>= 1``.

    Returns
    -------
    list of Plateau
        In order of time.

    References
    ----------
    Chen, Lau, Mendel, Wei & Murfet, "Dynamical versus Bayesian Phase Transitions in a Toy
    Model of Superposition", arXiv:2310.06301 (2023); Elhage et al., "Toy Models of
    Superposition" (2022), section "Learning Dynamics".

    Examples
    --------
    A drop from 0.2 to 0.1 between two long flat stretches:

    >>> import numpy as np
    >>> t = np.unique(np.round(np.geomspace(1, 10_000, 60))).astype(int)
    >>> L = np.where(t < 800, 0.2, 0.1) * (1 + 1e-3 / t)
    >>> [(p.start, p.end, round(p.level, 3)) for p in detect_plateaus(t, L)]
    [(4, 704, 0.2), (823, 10000, 0.1)]
    """
    t = np.asarray(as_real(steps, "steps", low=0), dtype=np.float64)
    L = np.asarray(as_real(loss, "loss", low=0, low_open=True), dtype=np.float64)
    if t.ndim != 1 or L.shape != t.shape:
        raise ValueError(f"steps and loss must be 1-D of one length; got {t.shape}, {L.shape}")
    if np.any(np.diff(t) <= 0):
        raise ValueError("steps must be increasing")
    rate = float(as_real(rate, "rate", low=0, low_open=True))
    min_span = float(as_real(min_span, "min_span", low=1))
    flat = np.abs(np.diff(np.log(L))) / np.maximum(np.diff(t), 1e-300) < rate
    flat &= t[:-1] >= 1
    out = []
    j = 0
    while j < flat.size:
        if not flat[j]:
            j += 1
            continue
        a = j
        while j < flat.size and flat[j]:
            j += 1
        e = j  # snapshots a..e, intervals a..e-1 flat
        with np.errstate(over="ignore"):  # min_span t[a] = inf: no span reaches it, rightly
            spans = t[e] >= min_span * t[a]
        if e - a + 1 >= 3 and spans:
            out.append(
                Plateau(a, e, int(t[a]), int(t[e]), float(np.median(L[a : e + 1])), (a + e) // 2)
            )
    return out


@dataclass(frozen=True)
class PolygonGeometry:
    """The polygon that the represented features of a two-dimensional ``W`` form.

    Attributes
    ----------
    k : int
        Features with ``||W_i|| >= ON_POLYGON`` (0.5).
    gap_error : float
        ``max_j |g_j - 2 pi / k| / (2 pi / k)`` over the angular gaps ``g_j`` between those
        features in angular order (0 for a regular polygon; 0 when ``k <= 1``).
    norm_spread : float
        ``(max - min) / max`` of their norms.
    negative : int
        Features off the polygon whose bias is negative.
    vertices : int
        Distinct directions among the polygon's features: features less than
        :data:`SAME_VERTEX` radians apart share a vertex.
    vertex_gap_error : float
        The gap error of the vertices' angles (mean direction of each vertex).
    """

    k: int
    gap_error: float
    norm_spread: float
    negative: int
    vertices: int = 0
    vertex_gap_error: float = 0.0

    @property
    def regular(self) -> bool:
        """Gaps and norms equal to within :data:`REGULAR` (10%)."""
        return self.gap_error <= REGULAR and self.norm_spread <= REGULAR


def polygon_geometry(W: Any, b: Any) -> PolygonGeometry:
    r"""Count the features on the polygon of a two-dimensional ``W`` and measure its regularity.

    .. math:: k = \#\{i : \|W_i\| \ge 0.5\}, \qquad
              \text{gap error} = \max_j \frac{|g_j - 2\pi/k|}{2\pi/k}, \qquad
              \text{norm spread} = \frac{\max \|W_i\| - \min \|W_i\|}{\max \|W_i\|},

    with ``g_j`` the angles between consecutive polygon features in angular order.

    Parameters
    ----------
    W : array_like, shape (c, 2)
        Weights, rows = features.
    b : array_like, shape (c,)
        Biases.

    Returns
    -------
    PolygonGeometry

    References
    ----------
    Chen, Lau, Mendel, Wei & Murfet, arXiv:2310.06301 (2023) (the k-gons).

    Examples
    --------
    >>> from suptheory.theory.kgons import kgon
    >>> g = polygon_geometry(*kgon(5, 6, negative=1))
    >>> g.k, g.regular, g.negative
    (5, True, 1)
    """
    W = np.asarray(as_real(W, "W"), dtype=np.float64)
    b = np.asarray(as_real(b, "b"), dtype=np.float64)
    if W.ndim != 2 or W.shape[1] != 2 or b.shape != (W.shape[0],):
        raise ValueError(f"W must be (c, 2) and b (c,); got {W.shape} and {b.shape}")
    from suptheory.analysis.metrics import row_norms

    norms = row_norms(W)  # scaled: no overflow at 1e300
    on = norms >= ON_POLYGON
    k = int(on.sum())
    gap_error = 0.0
    spread = 0.0
    vertices = k
    vertex_error = 0.0
    if k >= 2:
        angles = np.sort(np.arctan2(W[on, 1], W[on, 0]))
        gaps = np.diff(np.r_[angles, angles[0] + 2 * np.pi])
        ideal = 2 * np.pi / k
        gap_error = float(np.max(np.abs(gaps - ideal)) / ideal)
        spread = float((norms[on].max() - norms[on].min()) / norms[on].max())
        # vertices: cut the circle at the widest gap, then split where gaps exceed SAME_VERTEX
        start = (int(np.argmax(gaps)) + 1) % k
        ordered = np.r_[angles[start:], angles[:start] + 2 * np.pi]
        groups = np.split(ordered, np.flatnonzero(np.diff(ordered) > SAME_VERTEX) + 1)
        vertices = len(groups)
        if vertices >= 2:
            va = np.sort(np.mod([g.mean() for g in groups], 2 * np.pi))
            vgaps = np.diff(np.r_[va, va[0] + 2 * np.pi])
            vertex_error = float(
                np.max(np.abs(vgaps - 2 * np.pi / vertices)) / (2 * np.pi / vertices)
            )
    return PolygonGeometry(k, gap_error, spread, int(np.sum(b[~on] < 0)), vertices, vertex_error)


@dataclass(frozen=True)
class PlateauRow:
    """One plateau of one seed against its nearest k-gon.

    Attributes
    ----------
    seed : int
        The instance (seed) it came from.
    plateau : Plateau
        Where it is and its level.
    k : int
        Vertices of the nearest k-gon among :func:`suptheory.kgon_loss` ``(k, c)``.
    kgon_loss : float
        Its loss.
    gap : float
        ``(level - kgon_loss) / kgon_loss``.
    k_variant, negative_variant : int
        The nearest k-gon when the dead features may also have negative biases
        (``kgon_loss(k, c, negative)``).
    gap_variant : float
        The relative gap to it.
    geometry : PolygonGeometry
        The polygon at the plateau's middle snapshot.
    final : bool
        The plateau reaches the end of training.
    """

    seed: int
    plateau: Plateau
    k: int
    kgon_loss: float
    gap: float
    k_variant: int
    negative_variant: int
    gap_variant: float
    geometry: PolygonGeometry
    final: bool

    def agrees(self, tolerance: float) -> bool:
        """Within ``tolerance`` of the nearest ``kgon_loss(k, c)``, on a regular k-gon."""
        g = self.geometry
        return abs(self.gap) <= tolerance and g.k == self.k and (g.regular or self.k == 0)

    def agrees_vertices(self, tolerance: float) -> bool:
        """Within ``tolerance`` of the nearest variant, on a regular polygon of its k vertices.

        Features may share a vertex.
        """
        g = self.geometry
        return (
            abs(self.gap_variant) <= tolerance
            and g.vertices == self.k_variant
            and (g.vertex_gap_error <= REGULAR or self.k_variant == 0)
        )

    def agrees_variant(self, tolerance: float) -> bool:
        """The same against the nearest negative-bias variant, with its count of negatives."""
        g = self.geometry
        return (
            abs(self.gap_variant) <= tolerance
            and g.k == self.k_variant
            and g.negative == self.negative_variant
            and (g.regular or self.k_variant == 0)
        )


@dataclass
class PlateauCheck(ShownAsText):
    """Result of :func:`check_kgon_plateaus`.

    Attributes
    ----------
    c : int
        Features.
    rows : list of PlateauRow
        Every plateau of every seed.
    kgon_losses : dict of int to float
        ``kgon_loss(k, c)`` of the candidates ``k = 0, 2, ..., c``.
    tolerance : float
        Largest relative gap that counts as agreement.
    seeds : int
        Instances trained.
    result : ToyModelResult
        The training, with its snapshots.
    exact_loss : numpy.ndarray
        ``(seeds, S)`` exact 1-sparse loss of every snapshot.
    settings : dict
        The arguments.
    """

    c: int
    rows: list[PlateauRow]
    kgon_losses: dict[int, float]
    tolerance: float
    seeds: int
    result: Any = field(repr=False)
    exact_loss: np.ndarray = field(repr=False)
    settings: dict[str, Any] = field(default_factory=dict)

    def _fraction(self, rows: list[PlateauRow], variant: bool | str) -> float:
        if not rows:
            return float("nan")
        rule = {
            False: PlateauRow.agrees,
            True: PlateauRow.agrees_variant,
            "vertices": PlateauRow.agrees_vertices,
        }[variant]
        return float(np.mean([rule(r, self.tolerance) for r in rows]))

    @property
    def agreement(self) -> float:
        """Fraction of plateaus within ``tolerance`` of ``kgon_loss(k, c)`` with that k-gon."""
        return self._fraction(self.rows, False)

    @property
    def agreement_variants(self) -> float:
        """The same, the candidates including the negative-bias variants."""
        return self._fraction(self.rows, True)

    @property
    def agreement_vertices(self) -> float:
        """Fraction within ``tolerance`` of a variant's loss, on a regular polygon of its k.

        Counts vertices, not features (features sharing a vertex allowed).
        """
        return self._fraction(self.rows, "vertices")

    @property
    def intermediate(self) -> list[PlateauRow]:
        """The plateaus that end before training does."""
        return [r for r in self.rows if not r.final]

    def __str__(self) -> str:
        tol = self.tolerance
        lines = [
            f"loss plateaus of {self.seeds} seeds, c = {self.c} features in 2 dimensions, "
            f"1-sparse data, against the k-gon critical points (tolerance {tol:.0%})",
            "k-gon losses: " + ", ".join(f"k={k}: {_fmt(v)}" for k, v in self.kgon_losses.items()),
        ]
        rows: list[Any] = []
        for r in self.rows:
            g = r.geometry
            rows.append(
                [
                    str(r.seed),
                    f"{r.plateau.start}-{r.plateau.end}",
                    _fmt(r.plateau.level),
                    str(r.k),
                    f"{r.gap:+.2%}",
                    f"{r.k_variant}/{r.negative_variant}",
                    f"{r.gap_variant:+.2%}",
                    str(g.k),
                    str(g.vertices),
                    str(g.negative),
                    f"{g.gap_error:.2f}",
                    "yes" if r.agrees(tol) else "no",
                    "yes" if r.agrees_variant(tol) else "no",
                    "yes" if r.agrees_vertices(tol) else "no",
                ]
            )
        lines += render_table(
            [
                "seed",
                "steps",
                "level",
                "k",
                "gap",
                "k/neg",
                "gap",
                "on polygon",
                "vertices",
                "neg",
                "gap err",
                "agrees",
                "variant",
                "vertices",
            ],
            rows,
            align="rrrrrrrrrrrlll",
        )
        n_all, n_mid = len(self.rows), len(self.intermediate)
        lines.append(
            f"agreement: {self._fraction(self.rows, False):.0%} of {n_all} plateaus "
            f"({self._fraction(self.intermediate, False):.0%} of the {n_mid} "
            f"before the end); with the negative-bias variants "
            f"{self._fraction(self.rows, True):.0%} "
            f"({self._fraction(self.intermediate, True):.0%}); counting vertices "
            f"(features may share one) {self._fraction(self.rows, 'vertices'):.0%} "
            f"({self._fraction(self.intermediate, 'vertices'):.0%})"
        )
        return "\n".join(lines)


def check_kgon_plateaus(
    c: int = 6,
    *,
    seeds: int = 16,
    steps: int = 20_000,
    snapshots: int = 150,
    lr: float = 1e-3,
    init_std: float = 1e-3,
    batch: int = 1024,
    tolerance: float = 0.02,
    rate: float = 5e-5,
    min_span: float = 1.3,
    seed: Any = 0,
    progress: bool = True,
) -> PlateauCheck:
    r"""Train ``c`` features in 2 dimensions on 1-sparse data; compare each plateau with the k-gons.

    Trains ``seeds`` ReLU toy models (:func:`suptheory.train_toy_models` with
    ``data="1-sparse"``, plain Adam without weight decay so that the critical points are
    those of the loss itself, weights initialised with standard deviation ``init_std``),
    keeps ``snapshots`` log-spaced snapshots, computes each one's exact loss
    (:func:`suptheory.one_sparse_loss`), finds the plateaus (:func:`detect_plateaus`) and
    matches each plateau's level ``L`` with the nearest k-gon loss
    (:func:`suptheory.kgon_loss`, ``k = 0, 2, ..., c``). A plateau agrees when

    .. math:: \frac{|L - L_k|}{L_k} \le \text{tolerance}

    and the polygon at its middle snapshot (:func:`polygon_geometry`) has ``k`` features
    on it, regular to within 10%. The same is reported against the variants whose dead
    features have negative biases (``kgon_loss(k, c, negative)``), with the count of
    negative biases matched too.

    Parameters
    ----------
    c : int
        Features, ``>= 5`` (below, the c-gon has zero loss and relative gaps are undefined).
    seeds : int
        Independent trainings.
    steps, snapshots, lr, init_std, batch
        Passed to :func:`suptheory.train_toy_models`.
    tolerance : float
        Largest relative gap of a plateau's level that counts as agreement (2%).
    rate, min_span : float
        The plateau rule of :func:`detect_plateaus`.
    seed : int, SeedSequence or Generator
        Seed of the training.
    progress : bool
        Show the training's progress.

    Returns
    -------
    PlateauCheck
        Prints as a table; ``agreement`` is the fraction of agreeing plateaus.

    References
    ----------
    Chen, Lau, Mendel, Wei & Murfet, "Dynamical versus Bayesian Phase Transitions in a Toy
    Model of Superposition", arXiv:2310.06301 (2023), section on SGD training; Elhage et al.,
    "Toy Models of Superposition" (2022), section "Learning Dynamics".

    Examples
    --------
    Two seeds, five features: each plateau's seed, nearest k-gon, whether training ends on
    it, and whether it agrees.

    >>> res = check_kgon_plateaus(5, seeds=2, steps=4000, snapshots=60, progress=False)
    >>> [(r.seed, r.k, r.final, r.agrees(0.02)) for r in res.rows]
    [(0, 4, False, False), (0, 5, True, True), (1, 4, True, True)]
    """
    progress = bool(check_bool(progress, "progress"))
    from suptheory.empirical.toy_models import train_toy_models

    # c features of the toy model, each with its k-gon variants (O(c^2) losses): 2^16 at most
    c = check_int(c, "c", low=5, high=2**16)
    seeds = check_int(seeds, "seeds", low=1)
    steps = check_int(steps, "steps", low=1, high=2**28)
    snapshots = check_int(snapshots, "snapshots", low=2, high=2**20)
    tolerance = float(as_real(tolerance, "tolerance", low=0))
    result = train_toy_models(
        c,
        2,
        instances=seeds,
        data="1-sparse",
        steps=steps,
        snapshots=snapshots,
        lr=lr,
        init_std=init_std,
        batch=batch,
        optimizer="adam",
        weight_decay=0.0,
        dtype="float64",
        eval_batch=4096,
        seed=seed,
        progress=progress,
    )
    ks = [0, *range(2, c + 1)]
    losses = {k: float(kgon_loss(k, c)) for k in ks}
    variants = {(k, s): float(kgon_loss(k, c, s)) for k in ks for s in range(c - k + 1)}
    t, Ws_all, bs_all = result.snapshot_steps, result.W_snapshots, result.b_snapshots
    assert t is not None and Ws_all is not None and bs_all is not None
    exact = np.array(
        [
            [one_sparse_loss(w, b_) for w, b_ in zip(Ws, bs, strict=True)]
            for Ws, bs in zip(Ws_all, bs_all, strict=True)
        ]
    )
    rows = []
    for i in range(seeds):
        for pl in detect_plateaus(t, exact[i], rate=rate, min_span=min_span):
            k = min(losses, key=lambda kk: abs(math.log(pl.level / losses[kk])))
            kv, sv = min(variants, key=lambda ks_: abs(math.log(pl.level / variants[ks_])))
            geo = polygon_geometry(Ws_all[i, pl.middle], bs_all[i, pl.middle])
            rows.append(
                PlateauRow(
                    seed=i,
                    plateau=pl,
                    k=k,
                    kgon_loss=losses[k],
                    gap=(pl.level - losses[k]) / losses[k],
                    k_variant=kv,
                    negative_variant=sv,
                    gap_variant=(pl.level - variants[kv, sv]) / variants[kv, sv],
                    geometry=geo,
                    final=pl.last == t.size - 1,
                )
            )
    return PlateauCheck(
        c=c,
        rows=rows,
        kgon_losses=losses,
        tolerance=tolerance,
        seeds=seeds,
        result=result,
        exact_loss=exact,
        settings={
            "steps": steps,
            "snapshots": snapshots,
            "lr": lr,
            "init_std": init_std,
            "batch": batch,
            "rate": rate,
            "min_span": min_span,
        },
    )
