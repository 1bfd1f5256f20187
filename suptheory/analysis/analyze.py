"""``analyze(W)``: how close to an optimal packing is a dictionary, and how far from random.

The metrics of a given ``(m, n)`` embedding (:mod:`~suptheory.analysis.metrics`,
:mod:`~suptheory.analysis.coherence`) beside the values the
closed-form layer gives for ``m`` random directions in ``R^n`` and the lower bounds no
arrangement can beat (see the theory page of the docs).
"""

# ruff: noqa: E741  (l is the docs' name for the number of active features)
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from suptheory._text import ShownAsText, format_number, render_table
from suptheory._validate import check_bool, check_embedding
from suptheory.analysis import metrics as _metrics
from suptheory.analysis import pairs as _pairs
from suptheory.analysis._rows import row_set
from suptheory.analysis.coherence import _threads
from suptheory.theory.bounds import coherence_lower_bound, welch_bound
from suptheory.theory.overlaps import (
    expected_max_coherence_random,
    max_coherence_random,
    overlap_distribution,
)

__all__ = ["EmbeddingReport", "analyze"]

_PER_FEATURE = (
    "max_overlap",
    "nearest",
    "nearest_overlap",
    "rms_overlap",
    "top_pairs",
    "counts",
    "noise",
    "noise_positive",
)


@dataclass(frozen=True)
class EmbeddingReport(ShownAsText):
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
    overall_rms_overlap : float or None
        Root mean square of ``cos(W_i, W_j)`` over distinct pairs of nonzero rows (``None``
        without a pair). (Before per-feature statistics this field was ``rms_overlap``.)
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
        Things to check (a matrix that looks transposed, zero rows, a noisy dictionary).
    max_overlap : numpy.ndarray, shape (m,)
        Exact ``max_{j != i} |cos(W_i, W_j)|`` of each feature (0 for a zero row).
    nearest : numpy.ndarray of int64, shape (m,)
        The partner attaining it, its nearest neighbour (-1 for a zero row).
    nearest_overlap : numpy.ndarray, shape (m,)
        The signed cosine with it.
    rms_overlap : numpy.ndarray, shape (m,)
        ``sqrt(sum_{j != i} cos^2(W_i, W_j) / (m - 1))`` (:func:`suptheory.rms_overlap`).
    top_pairs : numpy.ndarray
        The ``top_k`` most-overlapping pairs, fields ``i``, ``j``, ``overlap`` (signed).
    thresholds : tuple of float
        Count thresholds; ``counts[i, t]`` is the number of partners with ``|cos| >= t``.
    counts : numpy.ndarray of int64, shape (m, len(thresholds))
    effective_width : float or None
        The width at which random directions are as noisy as this dictionary's read-outs
        (zero-mean activations): ``1 / mean_i rms_i^2`` over nonzero rows (``n`` for random
        directions on average; ``None`` without a pair).
    l, a : float or None
        The number of other active features and their amplitude, when ``l`` was given.
    noise : numpy.ndarray or None, shape (m,)
        ``a sqrt(l) rms_i``: the exact rms read-out noise of feature ``i`` when ``l`` other
        features, a uniformly random set, are active at amplitudes ``+-a`` with independent
        random signs.
    noise_positive : numpy.ndarray or None, shape (m,)
        The exact rms read-out noise when all ``l`` are active at ``+a`` (an SAE's
        activations are never negative): the overlaps no longer cancel on average, and
        with ``S2_i = sum_{j != i} cos_ij^2``, ``r_i = sum_{j != i} cos_ij`` and
        ``N = m - 1``,
        ``E Z_i^2 = a^2 [l S2_i / N + l (l - 1) (r_i^2 - S2_i) / (N (N - 1))]``
        (a uniformly random set of exactly ``l`` others; ``l`` fractional: the same
        formula, the mean over ``floor(l)`` and ``ceil(l)`` is within ``O(1/N)``). The
        shared term ``~ a l r_i / N`` dominates when the features share a direction.
    noise_positive_rms : float or None
        Its rms over nonzero rows.
    noise_rms, noise_random, noise_optimal : float or None
        The rms of ``noise`` over nonzero rows, the random-direction law ``a sqrt(l / n)``
        and the rms floor of any arrangement ``a sqrt(l (m - n) / (n (m - 1)))`` (model
        ``optimal``).
    """

    m: int
    n: int
    zero_rows: tuple[int, ...] = field(repr=False)
    coherence: float
    pair: tuple[int, int] | None
    overlap: float
    overall_rms_overlap: float | None
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
    max_overlap: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    nearest: np.ndarray = field(
        default_factory=lambda: np.zeros(0, np.int64), repr=False, compare=False
    )
    nearest_overlap: np.ndarray = field(
        default_factory=lambda: np.zeros(0), repr=False, compare=False
    )
    rms_overlap: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    top_pairs: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)
    thresholds: tuple[float, ...] = ()
    counts: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 0), np.int64), repr=False, compare=False
    )
    effective_width: float | None = None
    l: float | None = None  # noqa: E741 - the docs' name for the active count
    a: float | None = None
    noise: np.ndarray | None = field(default=None, repr=False, compare=False)
    noise_rms: float | None = None
    noise_random: float | None = None
    noise_optimal: float | None = None
    noise_positive: np.ndarray | None = field(default=None, repr=False, compare=False)
    noise_positive_rms: float | None = None

    def per_feature(self) -> dict[str, np.ndarray]:
        """The per-feature arrays by column name (``feature`` is the row index)."""
        cols: dict[str, np.ndarray] = {
            "feature": np.arange(self.m),
            "max_overlap": self.max_overlap,
            "nearest": self.nearest,
            "nearest_overlap": self.nearest_overlap,
            "rms_overlap": self.rms_overlap,
        }
        for t, th in enumerate(self.thresholds):
            cols[f"count_ge_{th:g}"] = self.counts[:, t]
        if self.noise is not None:
            cols["noise"] = self.noise
        if self.noise_positive is not None:
            cols["noise_positive"] = self.noise_positive
        return cols

    def to_frame(self) -> Any:
        """The per-feature statistics as a :class:`pandas.DataFrame` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is optional
            raise ImportError("to_frame() needs pandas (pip install pandas)") from None
        return pd.DataFrame(self.per_feature()).set_index("feature")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of the summary and the top pairs.

        Quantile keys become strings; the per-feature arrays are in :meth:`per_feature`.
        """
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _PER_FEATURE}
        d["top_pairs"] = (
            [{"i": int(i), "j": int(j), "overlap": float(o)} for i, j, o in self.top_pairs.tolist()]
            if len(self.top_pairs)
            else []
        )
        d["thresholds"] = list(self.thresholds)
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
            (
                "max |cos| (coherence)",
                f(self.coherence),
                f"{f(self.random_coherence_median)} (median), "
                f"{f(self.random_coherence_mean)} (mean)",
                f(self.coherence_lower_bound),
            ),
            (
                "rms cos over pairs",
                f(self.overall_rms_overlap),
                f(self.random_rms_overlap),
                f(math.sqrt(max(0.0, (self.frame_potential_min - k) / (k * (k - 1)))))
                if k >= 2
                else "-",
            ),
        ]
        for q in self.quantiles:
            rows.append(
                (
                    f"|cos| quantile {q:g}",
                    f(self.quantiles[q]),
                    f(self.random_quantiles.get(q)),
                    "-",
                )
            )
        rows.append(
            (
                "frame potential (unit rows)",
                f(self.frame_potential),
                "-",
                f(self.frame_potential_min),
            )
        )
        lines = [
            f"EmbeddingReport: m = {self.m} features, n = {self.n} dimensions"
            + (f", {len(self.zero_rows)} zero rows excluded" if self.zero_rows else "")
        ]
        lines += render_table(rows[0], [None, *rows[1:]], column_rules=True)
        if self.pair is None:
            lines.append("coherence: no pair (fewer than two nonzero rows)")
        else:
            lines.append(f"coherence at pair {self.pair} (cos = {f(self.overlap)})")
        lines.append(
            "packing score (1 = at the lower bound, 0 = random, < 0 worse): "
            + f(self.packing_score)
        )
        lines.append(
            f"D* = n/||W||_F^2 = {f(self.dimensions_per_feature)}, ||W||_F^2 = "
            f"{f(self.frobenius_sq)}, feature dimensionality D_i: mean "
            f"{f(self.feature_dimensionality_mean)}, sum "
            f"{f(self.feature_dimensionality_sum)} (<= rank <= n)"
        )
        lines.append(
            f"row norms: min {f(self.norm_min)}, median {f(self.norm_median)}, "
            f"max {f(self.norm_max)}"
        )
        if len(self.max_overlap) and k >= 2:
            live = self.nearest >= 0
            mo = self.max_overlap[live]
            lines.append(
                f"per feature: max |cos| median {f(float(np.median(mo)))}, "
                f"max {f(float(mo.max()))}; rms cos median "
                f"{f(float(np.median(self.rms_overlap[live])))}; effective width "
                f"{f(self.effective_width)} (n = {self.n})"
            )
        if self.noise is not None:
            lines.append(
                f"read-out noise, l = {f(self.l)} active at amplitude {f(self.a)}: "
                f"{f(self.noise_rms)} (rms over features); random directions "
                f"{f(self.noise_random)}, optimal floor {f(self.noise_optimal)}"
            )
        if self.noise_positive_rms is not None:
            lines.append(
                f"read-out noise with every amplitude +a (no random signs): "
                f"{f(self.noise_positive_rms)} (rms over features)"
            )
        if len(self.top_pairs):
            top = ", ".join(f"({i}, {j}) {f(o)}" for i, j, o in self.top_pairs[:5].tolist())
            lines.append(f"top pairs: {top}" + (" ..." if len(self.top_pairs) > 5 else ""))
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def _positive_noise(
    W: np.ndarray, R: Any, fused: dict[str, Any] | None, rms_i: np.ndarray, l: float, a: float
) -> np.ndarray:
    """``sqrt(E Z_i^2)`` with every one of ``l`` random others active at ``+a``.

    ``r_i = u_i . sum_j u_j - 1`` (unit rows; zero rows add nothing) from the frame
    operator's pass or the unit rows, ``S2_i = (m - 1) rms_i^2``.
    """
    m = W.shape[0]
    N = m - 1
    if fused is not None:
        r = fused["overlap_sums"]
    else:
        from suptheory.analysis._rows import _unit_rows

        U, keep = _unit_rows(W)
        r = np.zeros(m)
        if len(keep):
            r[keep] = U @ U.sum(axis=0) - 1.0
    if N < 1:
        return np.zeros(m)
    s2 = rms_i**2 * N
    second = l * s2 / N
    if N > 1:
        second = second + l * (l - 1.0) * (r * r - s2) / (N * (N - 1.0))
    out: np.ndarray = a * np.sqrt(np.maximum(second, 0.0))
    return out


def analyze(
    W: Any,
    *,
    quantiles: Any = (0.5, 0.99),
    l: Any = None,  # noqa: E741
    a: Any = 1.0,
    top_k: int = 100,
    thresholds: Any = (),
    threads: int | None = None,
    block: int | None = None,
    progress: bool = True,
    client: Any = None,
    checkpoint: Any = None,
) -> EmbeddingReport:
    r"""Analyse an embedding against random directions and the coherence lower bounds.

    One screened pass over all pairs (:func:`suptheory.pair_statistics`) gives the exact
    coherence, every feature's largest overlap and nearest neighbour, the top pairs and
    threshold counts, and collects the pairs near the wanted order statistics of ``|cos|``
    for their exact quantiles (beyond about 45,000 features, a second pass collects them);
    the per-feature rms overlap comes from the frame operator
    (:func:`suptheory.rms_overlap`). It adds the toy-model metrics ``D*`` and ``D_i``, and
    sets them beside the law of ``k`` random directions in ``R^n``
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
        Exact quantiles of ``|cos|`` over pairs (one more screened pass over all pairs);
        ``()`` skips them.
    l : float, optional
        Number of other features active at once: adds the read-out noise of every feature,
        ``a sqrt(l) rms_i``, beside the random law ``a sqrt(l / n)`` and the optimal floor.
    a : float
        Their amplitude.
    top_k : int
        Number of most-overlapping pairs to list.
    thresholds : sequence of float
        Count, for each feature, the partners with ``|cos| >= t``.
    threads, block, progress
        As in :func:`suptheory.coherence`.
    client, checkpoint
        Distribute the passes over all pairs over a Dask cluster, with a resumable
        checkpoint (:mod:`suptheory.analysis.distributed`); ``W`` is then a file path or a
        file-backed array. The per-feature metrics are computed here, by row blocks.

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
    check_bool(progress, "progress")
    source: Any = W
    if client is not None:
        from suptheory.analysis.distributed import open_source

        W, source = open_source(W)
    W = check_embedding(W, "W", dtypes=(np.float64, np.float32))
    qs = tuple(float(q) for q in np.atleast_1d(np.asarray(quantiles, dtype=np.float64)))
    if any(not 0.0 <= q <= 1.0 for q in qs):
        raise ValueError(f"quantiles must lie in [0, 1]; got {quantiles!r}")
    m, n = W.shape
    if l is not None:
        l = float(l)  # noqa: E741
        if not (math.isfinite(l) and 0 <= l <= max(m - 1, 0)):
            raise ValueError(f"l must be in [0, m - 1] = [0, {m - 1}]; got {l!r}")
        a = float(a)
        if not (math.isfinite(a) and a > 0):
            raise ValueError(f"a must be a finite number > 0; got {a!r}")
    R = row_set(W, _threads(threads))
    nonzero = len(R)
    ps = _pairs.pair_statistics(
        W if client is None else source,
        top_k=top_k,
        thresholds=thresholds,
        quantiles=qs if nonzero >= 2 else (),
        threads=threads,
        block=block,
        progress=progress,
        _rowset=R,
        client=client,
        checkpoint=checkpoint,
    )
    # the per-feature metrics by row blocks (no copy of W), else the public functions
    fused = _metrics._blocked_metrics(W, R)
    k = m - len(ps.zero_rows)
    notes = []
    if m < n:
        notes.append(
            f"m = {m} < n = {n}: fewer features than dimensions. If the rows are "
            "not the features (e.g. an encoder of shape (d_model, d_sae)), "
            "transpose it (load_embedding(..., transpose=True), CLI --transpose)."
        )
    if ps.zero_rows:
        notes.append(
            f"{len(ps.zero_rows)} zero row(s) have no direction and were excluded "
            f"from the overlaps (first: {list(ps.zero_rows[:5])})."
        )
    rms_i = fused["rms_overlap"] if fused else _metrics.rms_overlap(W)
    live = ps.nearest >= 0
    eff = None
    if k >= 2:
        # rms_i uses m - 1 partners; over the k nonzero rows the mean square is per k - 1
        ms = float(np.mean(rms_i[live] ** 2)) * (m - 1) / (k - 1)
        eff = 1.0 / ms if ms > 0 else math.inf
    noise = noise_rms = noise_random = noise_optimal = None
    noise_pos = noise_pos_rms = None
    if l is not None:
        # in units of a (a up to 1e308: the squares of the noise itself could overflow)
        unit = math.sqrt(l) * rms_i
        unit_pos = _positive_noise(W, R, fused, rms_i, l, 1.0)
        with np.errstate(over="ignore"):  # inf only where the true noise overflows
            noise = a * unit
            noise_pos = a * unit_pos
            noise_pos_rms = a * float(np.sqrt(np.mean(unit_pos[live] ** 2))) if k >= 1 else 0.0
            noise_rms = a * float(np.sqrt(np.mean(unit[live] ** 2))) if k >= 1 else 0.0
        noise_random = a * math.sqrt(l / n)
        noise_optimal = a * math.sqrt(l * max(m - n, 0) / (n * (m - 1))) if m > 1 else 0.0
        if noise_random > 0 and noise_rms > 1.5 * noise_random and eff is not None:
            notes.append(
                f"read-out noise {format_number(noise_rms)} is "
                f"{format_number(noise_rms / noise_random)} times the random-direction "
                f"law a sqrt(l/n) = {format_number(noise_random)}: this dictionary is "
                f"as noisy as random directions in {format_number(eff)} dimensions, "
                f"not {n} (a shared direction or clustered features)."
            )
    q_values = dict(ps.quantiles)
    fp = fused["frame_potential"] if fused else _metrics.frame_potential(W)
    fp_min = float(max(k, k * k / n))
    rms = math.sqrt(max(0.0, (fp - k) / (k * (k - 1)))) if k >= 2 else None
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
    score = (rand_mean - ps.coherence) / gap if k >= 2 and gap > 1e-12 else None

    d = fused["feature_dimensionality"] if fused else _metrics.feature_dimensionality(W)
    norms = fused["row_norms"] if fused else _metrics.row_norms(W)
    with np.errstate(over="ignore"):  # inf only where the true value overflows
        fro2 = float(np.sum(norms.astype(np.float64) ** 2))
    dstar = fused["dimensions_per_feature"] if fused else None
    if dstar is None:
        dstar = _metrics.dimensions_per_feature(W)
    return EmbeddingReport(
        m=m,
        n=n,
        zero_rows=ps.zero_rows,
        coherence=ps.coherence,
        pair=ps.pair,
        overlap=ps.overlap,
        overall_rms_overlap=rms,
        quantiles=q_values,
        random_coherence_median=rand_med,
        random_coherence_mean=rand_mean,
        random_rms_overlap=1.0 / math.sqrt(n),
        random_quantiles=random_q,
        coherence_lower_bound=bound,
        welch_bound=welch,
        packing_score=score,
        frame_potential=fp,
        frame_potential_min=fp_min,
        dimensions_per_feature=dstar,
        frobenius_sq=fro2,
        feature_dimensionality_mean=float(d.mean()),
        feature_dimensionality_sum=float(d.sum()),
        norm_min=float(norms.min()),
        norm_median=float(np.median(norms)),
        norm_max=float(norms.max()),
        notes=tuple(notes),
        max_overlap=ps.max_overlap,
        nearest=ps.nearest,
        nearest_overlap=ps.nearest_overlap,
        rms_overlap=rms_i,
        top_pairs=ps.top_pairs,
        thresholds=ps.thresholds,
        counts=ps.counts,
        effective_width=eff,
        l=l,
        a=a if l is not None else None,
        noise=noise,
        noise_rms=noise_rms,
        noise_random=noise_random,
        noise_optimal=noise_optimal,
        noise_positive=noise_pos,
        noise_positive_rms=noise_pos_rms,
    )
