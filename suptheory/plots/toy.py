"""Figures of trained toy models, after Elhage et al. 2022.

For ``n = 2`` every instance gets a small panel with a line from the origin to each feature
direction ``W_i`` (a row of ``W``), coloured by the feature's importance (viridis over each
instance's range of importances, brightest = most important) -- the paper's
introductory figure. For other widths each panel shows ``W W^T`` (the paper's Gram-matrix
view, features on both axes) with the bias beside it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from suptheory._validate import as_scalar, check_bool, check_int

__all__ = ["plot_toy_models", "plot_training_dynamics"]


def check_path(path: Any) -> None:
    """``path`` for ``savefig``: None, a file name or a writable file object."""
    if path is not None and not isinstance(path, (str, os.PathLike)) and not hasattr(path, "write"):
        raise TypeError(f"path must be None, a file path or a file object; got {path!r}")


def _check_result(result: Any) -> None:
    from suptheory.empirical.toy_models import ToyModelResult

    if not isinstance(result, ToyModelResult):
        raise TypeError(f"result must be a ToyModelResult (train_toy_models); got {result!r}")


def plot_toy_models(
    result: Any, path: Any = None, *, columns: int | None = None, panel: float = 1.6, dpi: int = 150
) -> Any:
    """Draw each instance's feature directions; save to ``path`` if given; return the figure.

    Parameters
    ----------
    result : ToyModelResult
        From :func:`suptheory.train_toy_models`.
    path : str or path-like, optional
        Where to save (format from the suffix, e.g. ``out.png``).
    columns : int, optional
        Panels per row (default: all instances in one row, up to 10).
    panel : float
        Panel size in inches.
    dpi : int
        Resolution of a saved raster image.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from suptheory import train_toy_models
    >>> r = train_toy_models(5, 2, p=[0.5, 0.05], steps=50, progress=False)
    >>> fig = plot_toy_models(r)
    >>> len(fig.axes)
    2
    """
    _check_result(result)
    check_path(path)
    panel = as_scalar(panel, "panel", low=0, low_open=True, high=100)  # inches
    dpi = check_int(dpi, "dpi", low=1, high=10_000)
    import matplotlib.pyplot as plt
    from matplotlib import colormaps

    W = np.asarray(result.W, dtype=np.float64)
    k_inst, m, n = W.shape
    cols = min(k_inst, 10) if columns is None else check_int(columns, "columns", low=1)
    rows = -(-k_inst // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(panel * cols, panel * rows + 0.3), squeeze=False)
    cmap = colormaps["viridis"]
    imp = np.asarray(result.importance, dtype=np.float64)
    for k in range(rows * cols):
        ax = axes[k // cols, k % cols]
        if k >= k_inst:
            ax.remove()
            continue
        lo, hi = imp[k].min(), imp[k].max()
        span = hi - lo if hi > lo else 1.0
        if n == 2:
            for i in range(m):
                c = cmap(0.15 + 0.85 * (imp[k, i] - lo) / span)
                ax.plot([0, W[k, i, 0]], [0, W[k, i, 1]], color=c, lw=1.2)
                ax.scatter([W[k, i, 0]], [W[k, i, 1]], color=c, s=8, zorder=3)
            lim = max(1.5, 1.1 * float(np.abs(W[k]).max()))
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
        else:
            gram = W[k] @ W[k].T
            ax.imshow(gram, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"p = {result.p[k]:.3g}", fontsize=7)
    fig.suptitle(f"{result.model} toy models, m = {m}, n = {n}", fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
    return fig


def plot_training_dynamics(
    result: Any,
    path: Any = None,
    *,
    instances: Any = None,
    loss: Any = None,
    kgon_lines: bool | None = None,
    dpi: int = 150,
) -> Any:
    """Loss and feature dimensionalities over training, against k-gon losses and sticky values.

    Two panels against the optimiser step (log axis, from the snapshots of
    ``train_toy_models(..., snapshots=K)``): the loss of each chosen instance, with the
    k-gon losses ``kgon_loss(k, m)`` as horizontal lines (for two-neuron models; the
    plateaus of Chen et al. 2023), and every feature's ``D_i`` of the first chosen instance,
    with the sticky fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8 marked (Elhage et al. 2022,
    "energy level jumps").

    Parameters
    ----------
    result : ToyModelResult
        Trained with ``snapshots``.
    path : str or path-like, optional
        Where to save.
    instances : sequence of int, optional
        Instances whose loss is drawn (default all); ``D_i`` of the first.
    loss : array_like, optional
        ``(instances, S)`` losses to draw instead of ``result.snapshot_loss`` (e.g. the exact
        :func:`suptheory.one_sparse_loss` of each snapshot).
    kgon_lines : bool, optional
        Draw the k-gon losses (default: when ``n == 2`` and the data are 1-sparse).
    dpi : int
        Resolution of a saved raster image.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from suptheory import train_toy_models
    >>> r = train_toy_models(5, 2, data="1-sparse", steps=100, snapshots=10, progress=False)
    >>> fig = plot_training_dynamics(r)
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    from suptheory.empirical.geometry import STICKY_DIMENSIONALITIES
    from suptheory.theory.kgons import kgon_loss

    _check_result(result)
    check_path(path)
    if result.snapshot_steps is None:
        raise ValueError("result has no snapshots: train with snapshots=K")
    dpi = check_int(dpi, "dpi", low=1, high=10_000)
    kgon_lines = check_bool(kgon_lines, "kgon_lines", allow_none=True)
    t = np.maximum(np.asarray(result.snapshot_steps, dtype=np.float64), 0.8)
    L = np.asarray(result.snapshot_loss if loss is None else loss, dtype=np.float64)
    if instances is None:
        chosen = list(range(result.instances))
    else:
        if isinstance(instances, (str, bytes)) or not hasattr(instances, "__iter__"):
            raise TypeError(f"instances must be a sequence of instance indices; got {instances!r}")
        chosen = [check_int(i, "instances", low=0, high=result.instances - 1) for i in instances]
        if not chosen:
            raise ValueError("instances must name at least one instance; got an empty sequence")
    if kgon_lines is None:
        kgon_lines = result.n == 2 and result.data == "1-sparse"
    fig, (ax_l, ax_d) = plt.subplots(1, 2, figsize=(10, 3.8))
    if kgon_lines and result.m >= 2:
        for k in [0, *range(2, result.m + 1)]:
            level = float(kgon_loss(k, result.m))
            ax_l.axhline(level, color="0.7", lw=0.8, ls="--", zorder=0)
            ax_l.text(t[-1] * 1.05, level, f"{k}-gon", va="center", fontsize=7, color="0.35")
    for i in chosen:
        ax_l.plot(t, L[i], lw=1, alpha=0.8)
    ax_l.set_xscale("log")
    ax_l.set_yscale("log")
    ax_l.set_xlabel("step")
    ax_l.set_ylabel("loss per input")
    ax_l.set_title("loss (dashed: k-gon critical points)", fontsize=9)
    D = result.dimensionality_history[chosen[0]]
    for value, label in STICKY_DIMENSIONALITIES:
        if value > 0:
            ax_d.axhline(value, color="0.8", lw=0.8, zorder=0)
            ax_d.text(t[-1] * 1.05, value, label, va="center", fontsize=7, color="0.35")
    for j in range(D.shape[1]):
        ax_d.plot(t, D[:, j], lw=1.2)
    ax_d.set_xscale("log")
    ax_d.set_ylim(-0.03, 1.05)
    ax_d.set_xlabel("step")
    ax_d.set_ylabel("feature dimensionality D_i")
    ax_d.set_title(f"D_i of instance {chosen[0]} (lines: sticky fractions)", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
    return fig
