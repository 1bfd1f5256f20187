"""Capacity against sparsity: features trained toy models represent vs each model's capacity.

ReLU toy models (Elhage et al. 2022; ``train_toy_models``) with m = 128 features and n = 8
neurons, uniform importance, are trained at densities p from 1 down to 1/300. Each trained
model's *features represented* -- rows of W with norm >= 1/2, and the paper's ``||W||_F^2``
-- is drawn against 1/p = 1/(1 - S) beside ``capacity_at_density(n, p, model)`` for each
read-out model: the largest m whose ``l = p m`` active features a linear read-out tolerates
(``max_active(n, m) >= p m``, snr = 1; docs/theory.md#density). The dashed line is m itself: a
model cannot represent more features than it is offered.

The trainings run as a ``sweep`` over p (a process pool; ``--store`` resumes a killed run).

    python examples/fig_capacity.py --out docs/figures [--small] [--store runs.sqlite]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

MODELS = {
    "linsefors": ("C3", "-"),
    "worst": ("C1", "--"),
    "random": ("C0", "-"),
    "optimal": ("C2", ":"),
    "l1": ("C5", "-."),
}
REPRESENTED = 0.5


def train_point(
    p: float, n: int, m: int, steps: int, batch: int, restarts: int, seed: int
) -> dict[str, Any]:
    """One sweep point: a ReLU toy model trained at density p."""
    from suptheory import train_toy_models

    r = train_toy_models(
        m, n, p=p, steps=steps, batch=batch, restarts=restarts, seed=seed, progress=False
    )
    W = r.W[0].astype(np.float64)
    return {
        "loss": float(r.loss[0]),
        "frobenius": float(np.sum(W * W)),
        "represented": int(np.sum(np.linalg.norm(W, axis=1) >= REPRESENTED)),
        "W": W,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument(
        "--small", action="store_true", help="a small, fast setting (m = 32, n = 4) for tests"
    )
    parser.add_argument("--store", default=None, help="SQLite store: reruns resume the sweep")
    parser.add_argument("--serial", action="store_true", help="train in this process")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from suptheory import capacity_at_density, sweep

    if args.small:
        n, m, steps, batch, restarts = 4, 32, 2000, 512, 1
        ps = [1.0, 0.3, 0.1, 0.03, 0.01]
    else:
        n, m, steps, batch, restarts = 8, 128, 5000, 1024, 1
        ps = list(np.round(np.geomspace(1.0, 1 / 300, 9), 6))
    t0 = time.perf_counter()
    grid = {"p": ps, "n": [n], "m": [m], "steps": [steps], "batch": [batch], "restarts": [restarts]}
    rows = sweep(
        train_point, grid, "serial" if args.serial else None, store=args.store, seed=args.seed
    )
    seconds = time.perf_counter() - t0
    p_arr = np.array(ps, dtype=np.float64)
    represented = np.array([r["represented"] for r in rows], dtype=np.float64)
    frob = np.array([r["frobenius"] for r in rows])
    theory = {k: np.asarray(capacity_at_density(n, p_arr, model=k)) for k in MODELS}

    import matplotlib.pyplot as plt

    pg = np.geomspace(p_arr.min() / 1.5, 1.0, 200)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for model, (color, style) in MODELS.items():
        ax.loglog(
            1 / pg,
            capacity_at_density(n, pg, model=model),
            style,
            color=color,
            label=f"capacity_at_density, {model}",
        )
    ax.axhline(m, color="0.4", ls="--", lw=0.8, label=f"m = {m} features offered")
    ax.loglog(1 / p_arr, represented, "ko", label="trained: rows with norm >= 1/2")
    ax.loglog(1 / p_arr, frob, "ks", mfc="none", label="trained: ||W||_F^2")
    ax.set_xlabel("1 / p = 1 / (1 - S)")
    ax.set_ylabel("features represented")
    ax.set_ylim(0.5, 20 * m)
    ax.set_title(f"capacity against sparsity: toy models n = {n}, m = {m} vs the models")
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "capacity.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)
    print(f"{'p':>8} {'rep':>5} {'||W||^2':>8} " + " ".join(f"{k:>9}" for k in MODELS))
    for i, p in enumerate(ps):
        print(
            f"{p:8.4g} {represented[i]:5.0f} {frob[i]:8.2f} "
            + " ".join(f"{theory[k][i]:9.4g}" for k in MODELS)
        )
    print(f"{seconds:.1f} s")
    return {
        "path": path,
        "n": n,
        "m": m,
        "p": p_arr,
        "represented": represented,
        "frobenius": frob,
        "loss": np.array([r["loss"] for r in rows]),
        "theory": theory,
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
