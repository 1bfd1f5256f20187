"""Two features, one neuron: the superposition phase diagram from training vs the closed form.

The smallest case of Elhage et al. 2022 ("Superposition as a Phase Change"): m = 2 features
through n = 1 neuron, x' = ReLU(W^T W x + b), feature 0 of importance 1 and feature 1 of
relative importance r, both active with density p (uniform on [0, 1) when active). ReLU toy
models are trained over a grid of (r, p) (``train_toy_models``, best of several restarts)
and each result classified:

- "superposition": both features represented (|w_i| >= 1/2) with opposite signs (the
  antipodal pair),
- "feature 0 only" / "feature 1 only": one represented, the other dropped,
- "other": anything else (both on the same side, or neither).

Overlaid: the closed-form boundary of docs/theory.md#two-features, where the antipodal pair
W = [1, -1], b = 0 (expected loss (1 + r) p^2 / 6) stops beating dropping the less important
feature (min(1, r) (p/3 - p^2/4)):

    p* = 4 min(1, r) / (2 (1 + r) + 3 min(1, r))        (4/7 at r = 1),

and the same comparison with the antipodal pair's norms and biases *optimised* (the exact
expected loss, by 2-D Gauss-Legendre quadrature, minimised over w_0, w_1, b_0, b_1 from the
antipodal start): "learned norms and biases move the true boundary somewhat". The printed
table gives, for every r, the trained boundary (the threshold in p that best separates
superposition from the rest), p* and the optimised boundary.

The trainings run as a ``sweep`` over r (a process pool; ``--store`` resumes a killed run).

    python examples/fig_two_features.py --out docs/figures [--small] [--store runs.sqlite]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

REPRESENTED = 0.5
CLASSES = ("superposition", "feature 0 only", "feature 1 only", "other")


def closed_form_boundary(r: Any) -> Any:
    """docs/theory.md#two-features: p* = 4 min(1, r) / (2 (1 + r) + 3 min(1, r))."""
    r = np.asarray(r, dtype=np.float64)
    s = np.minimum(1.0, r)
    return 4 * s / (2 * (1 + r) + 3 * s)


def classify(w: np.ndarray) -> str:
    """Class of one trained W (two weights, one per feature)."""
    on = np.abs(w) >= REPRESENTED
    if on.all():
        return "superposition" if w[0] * w[1] < 0 else "other"
    if on[0]:
        return "feature 0 only"
    if on[1]:
        return "feature 1 only"
    return "other"


# ---------------------------------------------------------------- the optimised antipodal pair

_X, _WX = np.polynomial.legendre.leggauss(64)
_X = 0.5 * (_X + 1.0)  # nodes on [0, 1]
_WX = 0.5 * _WX
_X0, _X1 = np.meshgrid(_X, _X, indexing="ij")
_W2 = np.outer(_WX, _WX)


def _loss(theta: np.ndarray, r: float, p: float) -> float:
    """Exact expected loss of x' = ReLU(W^T W x + b), W = [w0, w1], over the four patterns."""
    w0, w1, b0, b1 = theta
    relu = np.maximum
    # pattern (0, 0): h = 0
    l00 = relu(b0, 0) ** 2 + r * relu(b1, 0) ** 2
    # pattern (1, 0): x0 = u
    u = _X
    l10 = _WX @ ((u - relu(w0 * w0 * u + b0, 0)) ** 2 + r * relu(w1 * w0 * u + b1, 0) ** 2)
    l01 = _WX @ (relu(w0 * w1 * u + b0, 0) ** 2 + r * (u - relu(w1 * w1 * u + b1, 0)) ** 2)
    h = w0 * _X0 + w1 * _X1
    l11 = np.sum(_W2 * ((_X0 - relu(w0 * h + b0, 0)) ** 2 + r * (_X1 - relu(w1 * h + b1, 0)) ** 2))
    q = 1 - p
    return float(q * q * l00 + p * q * (l10 + l01) + p * p * l11)


def optimised_boundary(r: float) -> float:
    """The largest p at which the optimised antipodal pair still beats the best single feature.

    Continuation in p from the closed-form boundary p* (below it the pair wins already with
    W = [1, -1], b = 0): at each density the loss is minimised over (w0, w1, b0, b1) by
    Powell's method from the previous optimum, while the optimum stays an antipodal pair
    (|w_i| >= 1/2, opposite signs) that beats dropping the less important feature (the other
    exact, the dropped one's output its mean p/2: loss min(1, r) Var x = min(1, r)
    (p/3 - p^2/4)). The last step is refined by bisection in log p to 1%.
    """
    from scipy.optimize import minimize

    def solve(p: float, start: np.ndarray) -> tuple[bool, np.ndarray]:
        res = minimize(
            _loss,
            start,
            args=(r, p),
            method="Powell",
            options={"xtol": 1e-6, "ftol": 1e-10, "maxiter": 4000},
        )
        w = res.x[:2]
        anti = bool(np.all(np.abs(w) >= REPRESENTED) and w[0] * w[1] < 0)
        drop = min(1.0, r) * (p / 3 - p * p / 4)
        return anti and res.fun < drop, res.x

    p = float(closed_form_boundary(r))
    theta = np.array([1.0, -1.0, 0.0, 0.0])
    ok, theta = solve(p, theta)
    if not ok:  # cannot happen in exact arithmetic: the pair's family contains [1, -1, 0, 0]
        return p
    step = 1.08
    while True:
        nxt = min(1.0, p * step)
        ok, cand = solve(nxt, theta)
        if not ok:
            break
        p, theta = nxt, cand
        if p >= 1.0:
            return 1.0
    lo, hi = p, min(1.0, p * step)
    while hi / lo > 1.01:
        mid = float(np.sqrt(lo * hi))
        ok, cand = solve(mid, theta)
        if ok:
            lo, theta = mid, cand
        else:
            hi = mid
    return float(np.sqrt(lo * hi))


# ---------------------------------------------------------------- training


def train_row(
    r: float, ps: str, steps: int, batch: int, restarts: int, seed: int
) -> dict[str, Any]:
    """One sweep point: toy models at relative importance r, one instance per density.

    ``ps`` is the comma-separated list of densities (a sweep parameter must be a scalar).
    """
    from suptheory import train_toy_models

    p = np.array([float(x) for x in ps.split(",")])
    res = train_toy_models(
        2,
        1,
        p=p,
        importance=np.array([1.0, r]),
        steps=steps,
        batch=batch,
        restarts=restarts,
        seed=seed,
        progress=False,
    )
    return {
        "w": res.W[:, :, 0].astype(np.float64),
        "b": res.b.astype(np.float64),
        "loss": res.loss.astype(np.float64),
    }


def trained_boundary(ps: np.ndarray, classes: list[str]) -> tuple[float, int]:
    """The threshold in p that best separates superposition (below) from the rest (above).

    Returns the boundary (geometric midpoint of the neighbouring grid densities; half a grid
    step beyond the end when every point is on one side) and the number of misclassified
    points at that threshold.
    """
    sup = np.array([c == "superposition" for c in classes])
    k = len(ps)
    errors = [int(np.sum(~sup[:t]) + np.sum(sup[t:])) for t in range(k + 1)]
    best = min(errors)
    ts = [t for t in range(k + 1) if errors[t] == best]
    t = ts[len(ts) // 2]
    step = ps[1] / ps[0]
    edges = np.concatenate([[ps[0] / step], ps, [ps[-1] * step]])
    return float(np.sqrt(edges[t] * edges[t + 1])), best


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument("--small", action="store_true", help="a coarse, fast grid for tests")
    parser.add_argument("--store", default=None, help="SQLite store: reruns resume the sweep")
    parser.add_argument("--serial", action="store_true", help="train in this process")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from suptheory import sweep

    if args.small:
        rs = np.logspace(-1, 1, 5)
        ps = np.logspace(-2, 0, 9)
        steps, batch, restarts = 3000, 256, 4
    else:
        rs = np.logspace(-1, 1, 9)
        ps = np.logspace(-2, 0, 13)
        steps, batch, restarts = 3000, 256, 4
    rs = np.round(rs, 6)
    ps = np.round(ps, 6)
    t0 = time.perf_counter()
    # grid values are scalars: the densities travel as one comma-separated string
    grid = {
        "r": [float(r) for r in rs],
        "ps": [",".join(f"{p:.6g}" for p in ps)],
        "steps": [steps],
        "batch": [batch],
        "restarts": [restarts],
    }
    rows = sweep(
        train_row, grid, "serial" if args.serial else None, store=args.store, seed=args.seed
    )
    seconds_train = time.perf_counter() - t0
    classes = [[classify(w) for w in row["w"]] for row in rows]
    t1 = time.perf_counter()
    # the loss with importances (1, r) is r times that with (1, 1/r), features swapped:
    # the boundary is symmetric under r -> 1/r, so each pair is optimised once
    cache: dict[float, float] = {}
    for r in rs:
        key = round(float(min(r, 1 / r)), 6)
        if key not in cache:
            cache[key] = optimised_boundary(key)
    optimised = np.array([cache[round(float(min(r, 1 / r)), 6)] for r in rs])
    seconds_opt = time.perf_counter() - t1
    closed = closed_form_boundary(rs)
    found = [trained_boundary(ps, c) for c in classes]
    trained = np.array([f[0] for f in found])
    misfit = np.array([f[1] for f in found])

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    style = {
        "superposition": ("o", "C3"),
        "feature 0 only": ("s", "C0"),
        "feature 1 only": ("D", "C2"),
        "other": ("x", "0.4"),
    }
    fig, ax = plt.subplots(figsize=(7.5, 6.0))
    for i, r in enumerate(rs):
        for j, p in enumerate(ps):
            marker, color = style[classes[i][j]]
            ax.plot(r, p, marker, color=color, mfc="none" if marker != "x" else color, ms=7)
    rg = np.logspace(np.log10(rs[0]) - 0.1, np.log10(rs[-1]) + 0.1, 200)
    ax.plot(rg, closed_form_boundary(rg), "k-", lw=1.5)
    ax.plot(rs, optimised, "k--", lw=1.2)
    ax.plot(rs, trained, "C3:", lw=1.2, marker="_", ms=14)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("r, relative importance of feature 1")
    ax.set_ylabel("p, density (1 - S)")
    ax.set_title("2 features, 1 neuron: trained phases vs the closed-form boundary")
    handles = [
        Line2D([], [], ls="", marker=style[c][0], color=style[c][1], mfc="none", label=c)
        for c in CLASSES
    ]
    handles += [
        Line2D([], [], color="k", label="closed form p* (W = [1, -1], b = 0)"),
        Line2D([], [], color="k", ls="--", label="optimised norms and biases"),
        Line2D([], [], color="C3", ls=":", label="trained boundary (best threshold)"),
    ]
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.legend(handles=handles, fontsize=8, loc="lower center", ncol=2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "two_features.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)
    print(
        f"{'r':>7} {'trained':>8} {'misfit':>6} {'p*':>7} {'optimised':>9} "
        f"{'log10(trained/p*)':>18}"
    )
    for i, r in enumerate(rs):
        print(
            f"{r:7.3f} {trained[i]:8.4f} {misfit[i]:6d} {closed[i]:7.4f} {optimised[i]:9.4f} "
            f"{np.log10(trained[i] / closed[i]):18.3f}"
        )
    print(f"training {seconds_train:.1f} s, optimised boundary {seconds_opt:.1f} s")
    return {
        "path": path,
        "r": rs,
        "p": ps,
        "classes": classes,
        "trained": trained,
        "misfit": misfit,
        "closed_form": closed,
        "optimised": optimised,
        "seconds": seconds_train + seconds_opt,
    }


if __name__ == "__main__":
    main()
