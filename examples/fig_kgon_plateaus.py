"""Loss plateaus at k-gons: training c = 6 features in 2 dimensions on 1-sparse data.

Chen, Lau, Mendel, Wei & Murfet (2023, "Dynamical versus Bayesian phase transitions in a toy
model of superposition") show that for two hidden dimensions the regular k-gons are critical
points of the toy model's loss on 1-sparse data (one feature active at a time, uniform on
[0, 1]) and that SGD's loss plateaus sit at them; Elhage et al. (2022, "Learning Dynamics")
saw features jump between dimensionalities during training. This script runs
``check_kgon_plateaus``: ReLU toy models, c = 6, n = 2, 1-sparse data, plain Adam (lr 1e-3,
no weight decay), weights initialised with std 1e-3, over seeds; the exact loss of 150
log-spaced snapshots (``one_sparse_loss``); the plateaus by the rule of ``detect_plateaus``;
each plateau's level against the nearest ``kgon_loss(k, 6)`` and its geometry (features on
the polygon, regularity) at the plateau's middle.

Panels: (left) every seed's loss with the k-gon losses dashed and the negative-bias
variants dotted, plateaus marked; (middle) D_i of one seed over training with the sticky
fractions; (right) that seed's W at each of its plateaus.

    python examples/fig_kgon_plateaus.py --out docs/figures [--small]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument("--small", action="store_true", help="a small, fast setting for tests")
    parser.add_argument("--serial", action="store_true", help="(accepted; always one process)")
    parser.add_argument("--seeds", type=int, default=None, help="independent trainings")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from suptheory import check_kgon_plateaus, kgon_loss
    from suptheory.empirical.geometry import STICKY_DIMENSIONALITIES

    c = 6
    seeds, steps, snapshots = (3, 4000, 70) if args.small else (16, 20_000, 150)
    seeds = args.seeds or seeds
    t0 = time.perf_counter()
    res = check_kgon_plateaus(
        c, seeds=seeds, steps=steps, snapshots=snapshots, seed=args.seed, progress=not args.small
    )
    seconds = time.perf_counter() - t0
    print(res)

    import matplotlib.pyplot as plt

    r = res.result
    t = np.maximum(r.snapshot_steps.astype(float), 0.8)
    # the run (seed) with the most plateaus shows the jumps best
    counts = [sum(row.seed == i for row in res.rows) for i in range(seeds)]
    show = int(np.argmax(counts))
    mine = [row for row in res.rows if row.seed == show]
    panels = max(1, min(len(mine), 3))
    fig = plt.figure(figsize=(12.5, 5.0))
    grid = fig.add_gridspec(panels, 3, width_ratios=[4, 4, 1.5])
    ax_l = fig.add_subplot(grid[:, 0])
    ax_d = fig.add_subplot(grid[:, 1])
    for k in [0, *range(2, c + 1)]:
        level = float(kgon_loss(k, c))
        ax_l.axhline(level, color="0.55", lw=0.8, ls="--", zorder=0)
        ax_l.text(t[-1] * 1.08, level, f"{k}-gon", va="center", fontsize=7)
        for s in range(1, c - k + 1):
            ax_l.axhline(float(kgon_loss(k, c, s)), color="0.8", lw=0.6, ls=":", zorder=0)
    for i in range(seeds):
        ax_l.plot(
            t,
            res.exact_loss[i],
            lw=0.9,
            alpha=0.6 if i != show else 1.0,
            color="C0" if i != show else "C3",
        )
    for row in res.rows:
        p = row.plateau
        ax_l.plot(
            [p.start, p.end],
            [p.level, p.level],
            lw=3,
            alpha=0.5,
            color="C2" if row.agrees(res.tolerance) else "C1",
        )
    ax_l.plot([], [], color="C2", lw=3, label="plateau at a k-gon (loss within 2%, geometry)")
    ax_l.plot([], [], color="C1", lw=3, label="other plateau")
    ax_l.set_xscale("log")
    ax_l.set_yscale("log")
    ax_l.set_xlabel("step")
    ax_l.set_ylabel("exact loss per input")
    ax_l.set_title(
        f"loss of {seeds} seeds (red: seed {show})\ndashed: k-gons; dotted: negative-bias variants",
        fontsize=9,
    )
    ax_l.legend(fontsize=7, loc="lower left")
    D = r.dimensionality_history[show]
    fractions = {1.0: "1", 0.75: "3/4", 2 / 3: "2/3", 0.5: "1/2", 0.4: "2/5", 0.375: "3/8"}
    for value, _ in STICKY_DIMENSIONALITIES:
        if value > 0:
            ax_d.axhline(value, color="0.8", lw=0.8, zorder=0)
            ax_d.text(t[-1] * 1.08, value, fractions[value], va="center", fontsize=7)
    for j in range(c):
        ax_d.plot(t, D[:, j], lw=1.2)
    for row in mine:
        ax_d.axvspan(row.plateau.start, row.plateau.end, color="C2", alpha=0.1)
    ax_d.set_xscale("log")
    ax_d.set_ylim(-0.03, 1.05)
    ax_d.set_xlabel("step")
    ax_d.set_ylabel("D_i")
    ax_d.set_title(
        f"seed {show}: D_i of each feature\n(shaded: plateaus; lines: sticky fractions)", fontsize=9
    )
    for j, row in enumerate(mine[:panels]):
        ax = fig.add_subplot(grid[j, 2])
        W = r.W_snapshots[show, row.plateau.middle]
        for i in range(c):
            ax.plot([0, W[i, 0]], [0, W[i, 1]], color=f"C{i}", lw=1.2)
        lim = 1.5
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(
            f"step {r.snapshot_steps[row.plateau.middle]}\nL={row.plateau.level:.4f}", fontsize=7
        )
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "kgon_plateaus.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)
    print(f"{seconds:.1f} s")
    return {
        "path": path,
        "check": res,
        "agreement": res.agreement,
        "agreement_variants": res.agreement_variants,
        "agreement_vertices": res.agreement_vertices,
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
