"""``analyze(W)``: how close to an optimal packing is a dictionary, and how far from random.

The metrics of a given ``(m, n)`` embedding (:mod:`~suptheory.analysis.metrics`,
:mod:`~suptheory.analysis.coherence`) beside the values the
closed-form layer gives for ``m`` random directions in ``R^n`` and the lower bounds no
arrangement can beat (see the theory page of the docs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from suptheory._text import format_number, render_table
from suptheory._validate import check_embedding
from suptheory.analysis import coherence as _coherence
from suptheory.analysis import metrics as _metrics
from suptheory.theory.bounds import coherence_lower_bound, welch_bound
from suptheory.theory.overlaps import (
    expected_max_coherence_random,
    max_coherence_random,
    overlap_distribution,
)

__all__ = ["EmbeddingReport", "analyze"]


@dataclass(frozen=True)
class EmbeddingReport:
    """Metrics of an embedding beside the random-direction law and the lower bounds.

    Overlaps are over the ``k = m - len(zero_rows)`` nonzero rows, and the baselines are for
    ``k`` directions in ``R^n``.

    Attributes
    ----------
    m, n : int
        Shape of the embedding (rows are features).
    zero_rows : tuple of int
        Rows that are exactly zero: no direction, excluded from the overlaps.
    coherence : float
        Exact ``max_{i<j} |cos(W_i, W_j)|`` (0.0 with fewer than two nonzero rows).
    pair : tuple of int or None
        The arg-max pair ``(i, j)``, ``i < j``.
    overlap : float
        Signed cosine of that pair.
    rms_overlap : float or None
        Root mean square of ``cos(W_i, W_j)`` over distinct pairs (``None`` without a pair).
    quantiles : dict
        ``{q: value}``: quantiles of ``|cos|`` over pairs (empty when not computed).
    random_coherence_median, random_coherence_mean : float
        Median and mean of the largest overlap among ``k`` random directions (finite-n law).
    random_rms_overlap : float
        ``1/sqrt(n)``, exact for random directions.
    random_quantiles : dict
        The same quantiles of ``|<u, v>|`` for one random pair.
    coherence_lower_bound, welch_bound : float
        The largest applicable lower bound on the coherence, and Welch's (NaN if k <= n).
    packing_score : float or None
        ``(random_mean - coherence) / (random_mean - bound)``: 1 at the lower bound
        (no arrangement does better), 0 like random directions, negative worse than random;
        ``None`` where random directions already reach the bound (k < 2 or n = 1).
    frame_potential, frame_potential_min : float
        ``sum_{i,j} cos^2`` of the unit rows and its minimum ``max(k, k^2/n)``
        (reached by unit-norm tight frames).
    dimensions_per_feature : float
        ``D* = n / ||W||_F^2``.
    frobenius_sq : float
        ``||W||_F^2`` (features learned, in a toy model).
    feature_dimensionality_mean, feature_dimensionality_sum : float
        Mean and sum of ``D_i`` over all rows (zero rows count 0); the sum is ``<= rank(W)``.
    norm_min, norm_median, norm_max : float
        Row norms.
    notes : tuple of str
        Things to check (a matrix that looks transposed, zero rows).
    """

    m: int
    n: int
    zero_rows: tuple[int, ...] = field(repr=False)
    coherence: float
    pair: tuple[int, int] | None
    overlap: float
    rms_overlap: float | None
    quantiles: dict[float, float]
    random_coherence_median: float
    random_coherence_mean: float
    random_rms_overlap: float
    random_quantiles: dict[float, float]
    coherence_lower_bound: float
    welch_bound: float
    packing_score: float | None
    frame_potential: float
    frame_potential_min: float
    dimensions_per_feature: float
    frobenius_sq: float
    feature_dimensionality_mean: float
    feature_dimensionality_sum: float
    norm_min: float
    norm_median: float
    norm_max: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (quantile keys become strings)."""
        d = asdict(self)
        d["zero_rows"] = list(self.zero_rows)
        d["pair"] = None if self.pair is None else list(self.pair)
        d["quantiles"] = {str(q): v for q, v in self.quantiles.items()}
        d["random_quantiles"] = {str(q): v for q, v in self.random_quantiles.items()}
        d["notes"] = list(self.notes)
        return d

    def __str__(self) -> str:
        f = format_number
        k = self.m - len(self.zero_rows)
        rows = [
            ("quantity", "this embedding", "random directions", "lower bound"),
            ("max |cos| (coherence)", f(self.coherence),
             f"{f(self.random_coherence_median)} (median), {f(self.random_coherence_mean)} (mean)",
             f(self.coherence_lower_bound)),
            ("rms cos over pairs", f(self.rms_overlap), f(self.random_rms_overlap),
             f(math.sqrt(max(0.0, (self.frame_potential_min - k) / (k * (k - 1)))))
             if k >= 2 else "-"),
        ]
        for q in self.quantiles:
            rows.append((f"|cos| quantile {q:g}", f(self.quantiles[q]),
                         f(self.random_quantiles.get(q)), "-"))
        rows.append(("frame potential (unit rows)", f(self.frame_potential), "-",
                     f(self.frame_potential_min)))
        lines = [f"EmbeddingReport: m = {self.m} features, n = {self.n} dimensions"
                 + (f", {len(self.zero_rows)} zero rows excluded" if self.zero_rows else "")]
        lines += render_table(rows[0], [None, *rows[1:]], column_rules=True)
        if self.pair is None:
            lines.append("coherence: no pair (fewer than two nonzero rows)")
        else:
            lines.append(f"coherence at pair {self.pair} (cos = {f(self.overlap)})")
        lines.append("packing score (1 = at the lower bound, 0 = random, < 0 worse): "
                     + f(self.packing_score))
        lines.append(f"D* = n/||W||_F^2 = {f(self.dimensions_per_feature)}, ||W||_F^2 = "
                     f"{f(self.frobenius_sq)}, feature dimensionality D_i: mean "
                     f"{f(self.feature_dimensionality_mean)}, sum "
                     f"{f(self.feature_dimensionality_sum)} (<= rank <= n)")
        lines.append(f"row norms: min {f(self.norm_min)}, median {f(self.norm_median)}, "
                     f"max {f(self.norm_max)}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def analyze(W: Any, *, quantiles: Any = (0.5, 0.99), threads: int | None = None,
            block: int | None = None, progress: bool = True) -> EmbeddingReport:
    r"""Analyse an embedding against random directions and the coherence lower bounds.

    Computes the exact coherence (:func:`suptheory.coherence`), the rms overlap from the
    frame potential, optional quantiles of ``|cos|`` over all pairs, the toy-model metrics
    ``D*`` and ``D_i``, and sets them beside the law of ``k`` random directions in ``R^n``
    (see the theory page of the docs) and the best lower bound. The packing score

    .. math::

        s = \frac{\mathbb{E} L_{\mathrm{random}} - \mu(W)}{\mathbb{E} L_{\mathrm{random}}
            - \mu_{\mathrm{lower}}}

    is 1 for an arrangement at the lower bound (an ETF, say), 0 for one like random
    directions and negative for one worse than random.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Rows are features (an SAE decoder ``W_dec`` of shape ``(d_sae, d_model)``).
    quantiles : sequence of float
        Quantiles of ``|cos|`` over pairs to compute (two extra float64 passes over all
        pairs); ``()`` skips them.
    threads, block, progress
        As in :func:`suptheory.coherence`.

    Returns
    -------
    EmbeddingReport

    References
    ----------
    Welch 1974; Cai & Jiang, JMVA 2012; Benedetto & Fickus, Adv. Comput. Math. 2003;
    Elhage et al., "Toy Models of Superposition", 2022.

    Examples
    --------
    >>> import numpy as np
    >>> phi = (1 + 5 ** 0.5) / 2
    >>> W = [[0, 1, phi], [0, 1, -phi], [1, phi, 0], [1, -phi, 0], [phi, 0, 1], [-phi, 0, 1]]
    >>> r = analyze(W, progress=False)
    >>> round(r.coherence, 6), round(r.coherence_lower_bound, 6), round(r.packing_score, 6)
    (0.447214, 0.447214, 1.0)
    """
    W = check_embedding(W, "W", dtypes=(np.float64, np.float32))
    qs = tuple(float(q) for q in np.atleast_1d(np.asarray(quantiles, dtype=np.float64)))
    if any(not 0.0 <= q <= 1.0 for q in qs):
        raise ValueError(f"quantiles must lie in [0, 1]; got {quantiles!r}")
    m, n = W.shape
    coh = _coherence.coherence(W, threads=threads, block=block, progress=progress)
    k = m - len(coh.zero_rows)
    notes = []
    if m < n:
        notes.append(f"m = {m} < n = {n}: fewer features than dimensions. If the rows are "
                     "not the features (e.g. an encoder of shape (d_model, d_sae)), "
                     "transpose it (load_embedding(..., transpose=True), CLI --transpose).")
    if coh.zero_rows:
        notes.append(f"{len(coh.zero_rows)} zero row(s) have no direction and were excluded "
                     f"from the overlaps (first: {list(coh.zero_rows[:5])}).")

    fp = _metrics.frame_potential(W)
    fp_min = float(max(k, k * k / n))
    rms = math.sqrt(max(0.0, (fp - k) / (k * (k - 1)))) if k >= 2 else None
    q_values: dict[float, float] = {}
    if qs and k >= 2:
        vals = np.atleast_1d(_coherence.overlap_quantiles(W, qs, threads=threads, block=block,
                                                         progress=progress))
        q_values = {q: float(v) for q, v in zip(qs, vals, strict=True)}
    if qs and n >= 2:
        # |<u, v>| has quantile q where <u, v> (symmetric) has quantile (1 + q) / 2
        dist = overlap_distribution(n)
        random_q = {q: float(dist.ppf((1.0 + q) / 2.0)) for q in qs}
    else:
        random_q = {q: 1.0 for q in qs}  # in R^1 every pair is (anti)parallel

    rand_med = float(max_coherence_random(k, n, q=0.5)) if k >= 2 else 0.0
    rand_mean = float(expected_max_coherence_random(k, n)) if k >= 2 else 0.0
    if n == 1 and k >= 2:
        rand_med = rand_mean = 1.0  # exact: two directions in R^1 are always (anti)parallel
    bound = float(coherence_lower_bound(k, n)) if k >= 2 else 0.0
    welch = float(welch_bound(k, n)) if k > n else float("nan")
    gap = rand_mean - bound
    score = (rand_mean - coh.value) / gap if k >= 2 and gap > 1e-12 else None

    d = _metrics.feature_dimensionality(W)
    norms = _metrics.row_norms(W)
    fro2 = float(np.sum(norms.astype(np.float64) ** 2))
    return EmbeddingReport(
        m=m, n=n, zero_rows=coh.zero_rows, coherence=coh.value,
        pair=None if coh.i is None or coh.j is None else (coh.i, coh.j), overlap=coh.overlap,
        rms_overlap=rms, quantiles=q_values,
        random_coherence_median=rand_med, random_coherence_mean=rand_mean,
        random_rms_overlap=1.0 / math.sqrt(n), random_quantiles=random_q,
        coherence_lower_bound=bound, welch_bound=welch, packing_score=score,
        frame_potential=fp, frame_potential_min=fp_min,
        dimensions_per_feature=_metrics.dimensions_per_feature(W), frobenius_sq=fro2,
        feature_dimensionality_mean=float(d.mean()), feature_dimensionality_sum=float(d.sum()),
        norm_min=float(norms.min()), norm_median=float(np.median(norms)),
        norm_max=float(norms.max()), notes=tuple(notes),
    )
