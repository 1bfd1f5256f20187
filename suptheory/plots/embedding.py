"""The picture of :func:`suptheory.analyze`'s report: a dictionary against random directions.

Three panels, each beside the exact law of ``k`` independent uniform random directions in
``R^n`` (``k`` the nonzero rows), so that what is not random stands out:

1. the overlaps ``|cos(W_i, W_j)|`` of all pairs (a histogram of counts, log scale) against
   the expected count of each bin under the Beta law of one random pair
   (:func:`suptheory.overlap_distribution`);
2. every feature's largest overlap ``max_overlap`` against the law of the largest of the
   ``k - 1`` overlaps of one random direction with the others,
   ``P(max <= t) = (1 - 2 P(cos > t))^(k - 1)`` (exact: given one direction, its overlaps
   with the others are independent), with the median coherence of ``k`` random directions
   and the lower bound on the coherence of any arrangement marked;
3. every feature's rms overlap ``rms_overlap`` against the random level ``1 / sqrt(n)`` and
   the floor ``sqrt((k - n) / (n (k - 1)))`` that no arrangement can beat on average
   (reached by tight frames).

The analysis layer does not import plots, so the report has no ``plot()`` method: this
function is it (as :func:`~suptheory.plots.toy.plot_toy_models` is the plot of
:func:`suptheory.train_toy_models`'s result).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from suptheory._validate import check_bool, check_int
from suptheory.plots.toy import check_path

__all__ = ["plot_embedding_report"]


def _expected_counts(cdf: Any, edges: np.ndarray, total: float) -> np.ndarray:
    """Expected counts per bin; below 0.1 left out (NaN) so the curve ends at the axis."""
    e = total * np.maximum(np.diff(cdf(edges)), 0.0)
    return np.where(e >= 0.1, e, np.nan)


def _log_counts(ax: Any, *series: Any) -> None:
    top = max([1.0] + [float(np.nanmax(s)) for s in series if np.any(np.isfinite(s))])
    ax.set_yscale("log")
    ax.set_ylim(0.5, 30.0 * top)  # room for the legend


def plot_embedding_report(
    report: Any,
    path: Any = None,
    *,
    W: Any = None,
    histogram: Any = None,
    bins: int = 100,
    dpi: int = 150,
    progress: bool = False,
) -> Any:
    r"""Draw an :class:`~suptheory.EmbeddingReport` against random directions; save; return it.

    This is the plot of :func:`suptheory.analyze`'s report (there is no
    ``EmbeddingReport.plot()``: the analysis layer does not import plots). The report holds
    every per-feature statistic but not the distribution of all pairwise overlaps: give the
    matrix ``W`` it was computed from (the histogram is then computed exactly, one more
    pass over all pairs: :func:`suptheory.overlap_histogram`) or a histogram computed
    before; with neither, the overlap panel is left out.

    Parameters
    ----------
    report : EmbeddingReport
        From :func:`suptheory.analyze`.
    path : str or path-like, optional
        Where to save (format from the suffix, e.g. ``out.png``).
    W : array_like, optional
        The embedding the report describes, for the overlap histogram.
    histogram : tuple of numpy.ndarray, optional
        ``(counts, edges)`` from :func:`suptheory.overlap_histogram`, instead of ``W``.
    bins : int
        Bins of the histograms on ``[0, 1]``.
    dpi : int
        Resolution of a saved raster image.
    progress : bool
        Progress bar of the overlap histogram.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When both ``W`` and ``histogram`` are given, ``W`` does not have the report's shape,
        or the report has no per-feature statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from suptheory import analyze
    >>> W = np.random.default_rng(0).standard_normal((300, 16))
    >>> fig = plot_embedding_report(analyze(W, progress=False), W=W)
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['|cos| over pairs', 'largest |cos| of each feature', 'rms cos of each feature']
    >>> len(plot_embedding_report(analyze(W, progress=False)).axes)
    2
    """
    progress = bool(check_bool(progress, "progress"))
    from suptheory.analysis.analyze import EmbeddingReport

    if not isinstance(report, EmbeddingReport):
        raise TypeError(f"report must be an EmbeddingReport (from analyze); got {report!r}")
    bins = check_int(bins, "bins", low=1, high=10**6)
    check_path(path)
    dpi = check_int(dpi, "dpi", low=1, high=10_000)
    import matplotlib.pyplot as plt

    from suptheory.theory.overlaps import overlap_distribution

    if W is not None and histogram is not None:
        raise ValueError("give W or histogram, not both")
    m, n = int(report.m), int(report.n)
    if len(report.max_overlap) != m:
        raise ValueError("the report has no per-feature statistics (analyze it again)")
    if W is not None:
        from suptheory.analysis.coherence import overlap_histogram

        shape = np.shape(W)
        if tuple(shape) != (m, n):
            raise ValueError(
                f"W has shape {tuple(shape)}, the report is of an ({m}, {n}) embedding"
            )
        histogram = overlap_histogram(W, bins, progress=progress)
    live = np.asarray(report.nearest) >= 0
    k = int(m - len(report.zero_rows))
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    law: Any = overlap_distribution(n) if n >= 2 else None

    def sf(t: np.ndarray) -> np.ndarray:  # P(|cos| > t) for one random pair (n >= 2)
        p: np.ndarray = np.clip(2.0 * np.asarray(law.sf(t), dtype=np.float64), 0.0, 1.0)
        return p

    panels = 3 if histogram is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.6))
    axes = list(np.atleast_1d(axes))
    centers = 0.5 * (edges[1:] + edges[:-1])
    width = edges[1] - edges[0]
    random_style = {"color": "k", "lw": 1.2}

    if histogram is not None:
        ax = axes.pop(0)
        counts, hedges = (np.asarray(a) for a in histogram)
        hc = 0.5 * (hedges[1:] + hedges[:-1])
        ax.bar(hc, counts, width=np.diff(hedges), color="C0", alpha=0.75, label="this dictionary")
        exp = np.full(len(hc), np.nan)
        if law is not None:
            exp = _expected_counts(lambda t: 1.0 - sf(t), hedges, k * (k - 1) / 2)
            ax.plot(hc, exp, label="random directions (Beta law)", **random_style)
        _log_counts(ax, counts, exp)
        ax.set_xlim(0, 1)
        ax.set_xlabel("|cos| over pairs")
        ax.set_ylabel("pairs per bin")
        ax.set_title(f"overlaps of all {k * (k - 1) // 2:,} pairs", fontsize=9)
        ax.legend(fontsize=7)

    ax = axes[0]
    mo = np.asarray(report.max_overlap)[live]
    h, _ = np.histogram(mo, edges)
    ax.bar(centers, h, width=width, color="C1", alpha=0.75, label="this dictionary")
    exp = np.full(len(centers), np.nan)
    if law is not None and k >= 2:

        def cdf_max(t: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore"):
                c: np.ndarray = np.exp((k - 1) * np.log1p(-sf(t)))
            return c

        exp = _expected_counts(cdf_max, edges, k)
        ax.plot(centers, exp, label=f"random: max of {k - 1:,} overlaps", **random_style)
    ax.axvline(
        report.random_coherence_median,
        color="k",
        ls="--",
        lw=0.8,
        label="random: coherence (median)",
    )
    ax.axvline(
        report.coherence_lower_bound,
        color="C2",
        ls=":",
        lw=1.2,
        label="lower bound (any arrangement)",
    )
    _log_counts(ax, h, exp)
    ax.set_xlim(0, 1)
    ax.set_xlabel("largest |cos| of each feature")
    ax.set_ylabel("features per bin")
    ax.set_title("each feature's nearest neighbour", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")

    ax = axes[1]
    rms = np.asarray(report.rms_overlap)[live]
    rnd = float(report.random_rms_overlap)
    floor = math.sqrt(max(0.0, (k - n) / (n * (k - 1)))) if k >= 2 else 0.0
    hi = max(float(rms.max()) if len(rms) else rnd, rnd) * 1.15
    lo = min(float(rms.min()) if len(rms) else floor, floor) * 0.9
    hr, _, _ = ax.hist(
        rms, bins=int(bins), range=(lo, hi), color="C4", alpha=0.75, label="this dictionary"
    )
    ax.axvline(rnd, color="k", lw=1.2, label=f"random: 1/sqrt(n) = {rnd:.4g}")
    ax.axvline(floor, color="C2", ls=":", lw=1.2, label=f"optimal floor = {floor:.4g}")
    _log_counts(ax, hr)
    ax.set_xlabel("rms cos of each feature")
    ax.set_ylabel("features per bin")
    ax.set_title("each feature's read-out noise (rms overlap)", fontsize=9)
    ax.legend(fontsize=7)

    fig.suptitle(
        f"analyze: m = {m:,} features in n = {n:,} dimensions, against random directions",
        fontsize=10,
    )
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
    return fig
