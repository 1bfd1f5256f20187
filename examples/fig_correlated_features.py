"""Correlated and anti-correlated features: orthogonal bases and antipodal pairs, over seeds.

Elhage et al. (2022), section "Superposition and Correlated Features": features that always
co-occur (correlated) tend to be represented orthogonally, in "local almost-orthogonal bases";
features that exclude each other (anti-correlated) are put in superposition, often
antipodally. Set-up (``train_toy_models`` with ``data=`` a list of feature sets): ReLU toy
models, uniform importance, each set active with probability p (a correlated set: all of its
features, values independent; an anti-correlated set: exactly one, chosen uniformly):

- ``correlated``: m = 4, n = 2, two correlated pairs, p = 0.05;
- ``anticorrelated``: m = 4, n = 2, two anti-correlated pairs, p = 0.1;
- ``anticorrelated, crowded``: m = 6, n = 2, three anti-correlated pairs, p = 0.1;
- ``local bases``: m = 6, n = 3, two correlated triples, p = 0.05.

Each set-up is trained over seeds, best of restarts (lowest evaluation loss); the statistics
are ``set_cosines``: cosines of feature pairs within a set and across sets.

    python examples/fig_correlated_features.py --out docs/figures [--small]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

SETUPS: dict[str, tuple[int, int, list[tuple[str, int]], float]] = {
    "correlated": (4, 2, [("correlated", 2)] * 2, 0.05),
    "anticorrelated": (4, 2, [("anticorrelated", 2)] * 2, 0.1),
    "anticorrelated, crowded": (6, 2, [("anticorrelated", 2)] * 3, 0.1),
    "local bases": (6, 3, [("correlated", 3)] * 2, 0.05),
}


def run_setup(name: str, seeds: int, restarts: int, steps: int, seed: int) -> dict[str, Any]:
    """Train one set-up over seeds; the cosines within and across its sets."""
    from suptheory import set_cosines, train_toy_models

    m, n, sets, p = SETUPS[name]
    r = train_toy_models(
        m,
        n,
        instances=seeds,
        data=sets,
        p=p,
        steps=steps,
        restarts=restarts,
        seed=seed,
        progress=False,
    )
    cs = [set_cosines(w, sets) for w in r.W.astype(np.float64)]
    within_abs = np.array([c.within_abs for c in cs])
    within_min = np.array([c.within_min for c in cs])
    across_abs = np.array([c.across_abs for c in cs])
    across_min = np.array([c.across_min for c in cs])
    return {
        "name": name,
        "m": m,
        "n": n,
        "sets": sets,
        "p": p,
        "result": r,
        "cosines": cs,
        "within_abs": within_abs,
        "within_min": within_min,
        "across_abs": across_abs,
        "across_min": across_min,
        "orthogonal_within": float(np.mean(within_abs < 0.1)),
        "antipodal_within": float(np.mean(within_min < -0.9)),
        "superposed_within": float(np.mean(within_abs >= 0.1)),
        "antipodal_across": float(np.mean(across_min < -0.9)),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument("--small", action="store_true", help="a small, fast setting for tests")
    parser.add_argument("--serial", action="store_true", help="(accepted; always one process)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from suptheory._text import format_number, render_table

    seeds, restarts, steps = (4, 2, 3000) if args.small else (12, 4, 6000)
    t0 = time.perf_counter()
    runs = [run_setup(name, seeds, restarts, steps, args.seed) for name in SETUPS]
    seconds = time.perf_counter() - t0

    rows = []
    for s in runs:
        rows.append(
            [
                s["name"],
                f"{s['m']}/{s['n']}",
                format_number(s["p"]),
                f"{s['within_abs'].mean():.3f}",
                f"{s['within_min'].mean():+.3f}",
                f"{s['across_abs'].mean():.3f}",
                f"{s['across_min'].mean():+.3f}",
                f"{s['orthogonal_within']:.0%}",
                f"{s['antipodal_within']:.0%}",
                f"{s['antipodal_across']:.0%}",
            ]
        )
    print(f"{seeds} seeds, best of {restarts} restarts, {steps} steps; means over seeds")
    print(
        "\n".join(
            render_table(
                [
                    "set-up",
                    "m/n",
                    "p",
                    "|cos| in",
                    "min cos in",
                    "|cos| across",
                    "min cos across",
                    "orth. in",
                    "antip. in",
                    "antip. across",
                ],
                rows,
                align="llrrrrrrrr",
            )
        )
    )

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        2, len(runs), figsize=(3.2 * len(runs), 6.2), gridspec_kw={"height_ratios": [1.1, 1]}
    )
    rng = np.random.default_rng(0)
    for j, s in enumerate(runs):
        ax = axes[0, j]
        r = s["result"]
        best = int(np.argmin(r.loss))
        W = r.W[best].astype(np.float64)
        label = np.repeat(np.arange(len(s["sets"])), [size for _, size in s["sets"]])
        if s["n"] == 2:
            for i in range(s["m"]):
                ax.plot([0, W[i, 0]], [0, W[i, 1]], color=f"C{label[i]}", lw=1.6)
                ax.text(
                    1.12 * W[i, 0], 1.12 * W[i, 1], str(i), fontsize=7, ha="center", va="center"
                )
            ax.set_xlim(-1.4, 1.4)
            ax.set_ylim(-1.4, 1.4)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            U = W / np.linalg.norm(W, axis=1)[:, None]
            ax.imshow(U @ U.T, cmap="RdBu_r", vmin=-1, vmax=1)
            ax.set_xticks(range(s["m"]))
            ax.set_yticks(range(s["m"]))
            ax.tick_params(labelsize=6)
        ax.set_title(f"{s['name']}\nm={s['m']}, n={s['n']}, p={s['p']:g} (colour: set)", fontsize=8)
        ax = axes[1, j]
        within = np.concatenate([c.within for c in s["cosines"]])
        across = np.concatenate([c.across for c in s["cosines"]])
        for x, vals, color in ((0, within, "C0"), (1, across, "C1")):
            ax.scatter(
                x + rng.uniform(-0.15, 0.15, vals.size), vals, s=8, alpha=0.5, color=color, lw=0
            )
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axhline(-1, color="0.85", lw=0.8)
        ax.set_xticks([0, 1])
        ax.set_xticklabels(["within sets", "across sets"], fontsize=8)
        ax.set_ylim(-1.08, 1.08)
        ax.set_title(
            f"cos of pairs, {len(s['cosines'])} seeds\n|cos| within "
            f"{s['within_abs'].mean():.2f}, antipodal within "
            f"{s['antipodal_within']:.0%}",
            fontsize=8,
        )
        if j == 0:
            ax.set_ylabel("cos(W_i, W_j)")
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "correlated_features.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)
    print(f"{seconds:.1f} s")
    return {"path": path, "runs": {s["name"]: s for s in runs}, "seconds": seconds}


if __name__ == "__main__":
    main()
