"""The pentagon-to-digons phase change: loss against density for the competing geometries.

Five features of equal importance in two dimensions (ReLU toy model, each feature active with
density p, uniform on [0, 1]; Elhage et al. 2022). Sparse features are stored as a pentagon;
as they get denser, the pentagon's interference costs more and the model collapses to a pair
of digons -- two orthogonal antipodal pairs, i.e. a square -- and drops the fifth feature.
The phase change sits where the two geometries' loss curves cross.

Curves, as the loss per unit density L / (m p):

- the pentagon (common norm l and bias b) and the square of two digons (norm l, bias b, and
  the dropped feature's bias b_0), each with its parameters optimised for the expected loss
  at that density (Nelder-Mead on a Monte Carlo estimate with common random numbers: the
  same samples for both geometries, about 12,000 / p of them, at most 400,000);
- their closed forms in the sparse limit: as p -> 0 at most one feature is active at a time
  and L / (m p) tends to the loss of a k-gon critical point of the 1-sparse law (Chen et al.
  2023): the pentagon's ``kgon_loss(5, 5)``, and for the square
  ``kgon_loss(4, 5, negative=1) = 1/15`` -- the all-zero input, by far the most frequent one,
  pins the dropped feature's bias at 0 (``b_0 = p / 2``), so it costs ``1/(3c)`` per input
  as the negative-bias variant's dead feature does, not the ``1/(3c) - 1/(4c^2)`` of the
  1-sparse optimum ``kgon_loss(4, 5)``; drawn at the left edge;
- trained models (``train_toy_models``, best of restarts), each marked by the geometry it
  found (``polygon_geometry``: features on the polygon and its vertices).

The crossing of the two optimised curves is marked and compared with the densities where
training switches from the pentagon to the digons.

    python examples/fig_pentagon_digons.py --out docs/figures [--small]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

M = 5


def _weights(kind: str, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if kind == "pentagon":
        length, bias = theta
        angle = 2 * np.pi * np.arange(5) / 5
        return length * np.c_[np.cos(angle), np.sin(angle)], np.full(5, bias)
    length, bias, dead = theta
    angle = 2 * np.pi * np.arange(4) / 4
    W = np.r_[length * np.c_[np.cos(angle), np.sin(angle)], [[0.0, 0.0]]]
    return W, np.r_[np.full(4, bias), dead]


def _loss(W: np.ndarray, b: np.ndarray, X: np.ndarray) -> float:
    out = np.maximum(X @ (W @ W.T) + b, 0.0)
    return float(((out - X) ** 2).sum(axis=1).mean())


def optimised_losses(p: float, events: int, seed: int) -> dict[str, float]:
    """Loss of the pentagon and of the two digons at density p, their parameters optimised.

    ``events / p`` samples (at most 400,000): about ``m events`` active features whatever p.
    """
    from scipy.optimize import minimize

    samples = int(min(events / p, 400_000))
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((samples, M)) < p, rng.random((samples, M)), 0.0)
    out = {}
    for kind, start in (("pentagon", [1.15, -0.25]), ("digons", [1.0, 0.0, p / 2])):
        res = minimize(
            lambda th, kind=kind: _loss(*_weights(kind, th), X),
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-4, "fatol": 1e-8},
        )
        out[kind] = float(res.fun)
    return out


def classify(W: np.ndarray, b: np.ndarray) -> str:
    """ "pentagon", "digons" (a square, fifth feature dropped) or "other"."""
    from suptheory import polygon_geometry

    g = polygon_geometry(W, b)
    if g.k == 5 and g.vertices == 5 and g.vertex_gap_error <= 0.2:
        return "pentagon"
    if g.k == 4 and g.vertices == 4 and g.vertex_gap_error <= 0.2:
        return "digons"
    return "other"


def _crossing(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Density where a - b changes sign (log-linear interpolation), NaN if it does not."""
    d = a - b
    idx = np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))
    if idx.size == 0:
        return float("nan")
    i = int(idx[0])
    lp = np.log(p[i]) + (np.log(p[i + 1]) - np.log(p[i])) * d[i] / (d[i] - d[i + 1])
    return float(np.exp(lp))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument("--small", action="store_true", help="a small, fast setting for tests")
    parser.add_argument("--serial", action="store_true", help="(accepted; always one process)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from suptheory import kgon_loss, train_toy_models

    if args.small:
        ps, steps, restarts, events = np.geomspace(0.02, 0.5, 5), 2000, 2, 1000
    else:
        ps, steps, restarts, events = np.geomspace(0.01, 0.5, 14), 8000, 4, 12_000
    t0 = time.perf_counter()
    curves = [optimised_losses(float(p), events, args.seed + i) for i, p in enumerate(ps)]
    pent = np.array([c["pentagon"] for c in curves])
    dig = np.array([c["digons"] for c in curves])
    # evaluation on 2^18 samples: at p = 0.01 the default 2^15 hold only ~1,600 active
    # features, too few to resolve the geometries' 5-10% differences
    r = train_toy_models(
        M,
        2,
        p=ps,
        steps=steps,
        restarts=restarts,
        seed=args.seed,
        eval_batch=2**15 if args.small else 2**18,
        progress=not args.small,
    )
    seconds = time.perf_counter() - t0
    kinds = [classify(r.W[k].astype(np.float64), r.b[k].astype(np.float64)) for k in range(ps.size)]
    crossing = _crossing(ps, pent, dig)
    is_pent = np.array([k == "pentagon" for k in kinds])
    is_dig = np.array([k == "digons" for k in kinds])
    last_pent = float(ps[is_pent].max()) if is_pent.any() else float("nan")
    first_dig = float(ps[is_dig].min()) if is_dig.any() else float("nan")
    limits = {5: float(kgon_loss(5, M)), 4: float(kgon_loss(4, M, negative=1))}

    norm = M * ps
    print(f"{'p':>7} {'pentagon':>9} {'digons':>9} {'trained':>9}  geometry   (L / (m p))")
    for i, p in enumerate(ps):
        print(
            f"{p:7.4f} {pent[i] / norm[i]:9.5f} {dig[i] / norm[i]:9.5f} "
            f"{r.loss[i] / norm[i]:9.5f}  {kinds[i]}"
        )
    print(
        f"sparse limit (closed form): pentagon kgon_loss(5, 5) = {limits[5]:.5f}, "
        f"digons kgon_loss(4, 5, negative=1) = {limits[4]:.5f}"
    )
    print(
        f"crossing of the optimised curves: p = {crossing:.3f}; training: pentagon up to "
        f"p = {last_pent:.3f}, digons from p = {first_dig:.3f}"
    )

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.plot(ps, pent / norm, "-", color="C0", label="pentagon, l and b optimised")
    ax.plot(ps, dig / norm, "-", color="C1", label="two digons (square), l, b, b_0 optimised")
    left = ps.min() / 1.6
    ax.plot(
        [left],
        [limits[5]],
        "<",
        color="C0",
        ms=9,
        label=f"p -> 0 closed form: kgon_loss(5, 5) = {limits[5]:.4f}",
    )
    ax.plot(
        [left],
        [limits[4]],
        "<",
        color="C1",
        ms=9,
        label=f"p -> 0 closed form: kgon_loss(4, 5, negative=1) = {limits[4]:.4f}",
    )
    markers = {"pentagon": ("o", "C0"), "digons": ("s", "C1"), "other": ("x", "0.3")}
    for kind, (marker, color) in markers.items():
        sel = np.array([k == kind for k in kinds])
        if sel.any():
            ax.plot(
                ps[sel],
                r.loss[sel] / norm[sel],
                marker,
                color=color,
                mfc="none",
                ms=8,
                ls="none",
                label=f"trained (best of {restarts}): {kind}",
            )
    if np.isfinite(crossing):
        ax.axvline(crossing, color="0.4", ls="--", lw=1)
        ax.text(
            crossing * 1.04,
            ax.get_ylim()[1] * 0.97,
            f"crossing p = {crossing:.3f}",
            fontsize=8,
            va="top",
        )
    ax.set_xscale("log")
    ax.set_xlabel("density p = 1 - S")
    ax.set_ylabel("loss per unit density, L / (m p)")
    ax.set_title(f"m = 5 features, n = 2: pentagon vs two digons ({steps} steps)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "pentagon_digons.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)
    print(f"{seconds:.1f} s")
    return {
        "path": path,
        "p": ps,
        "pentagon": pent,
        "digons": dig,
        "trained": r.loss,
        "kinds": kinds,
        "crossing": crossing,
        "last_pentagon": last_pent,
        "first_digons": first_dig,
        "limits": limits,
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
