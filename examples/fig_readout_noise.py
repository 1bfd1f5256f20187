"""Read-out noise against l: simulated for random, trained and optimised embeddings vs the models.

For a layer of n = 64 neurons holding m = 256 features, the standard deviation of one
read-out's interference ``sum_j a <w_i, w_j>`` (``a = 1``, each of the other m - 1 features
active with density l / (m - 1)) is simulated (``simulate_interference``) for

- random directions,
- a ReLU toy model trained at each density (``train_toy_models``; its represented
  features, norm >= 1/2, are read, at their own number m' and l' = p (m' - 1)),
- one optimised packing (``optimize_packing``, coherence objective),

and drawn against the read-out models' closed forms ``interference(n, m, l, model)``
(docs/theory.md#readout-models). The right panel divides by the random-direction law sqrt(l /
n): Linsefors's (2024) model sits sqrt(8 ln m) above it; trained and packed embeddings sit on
the ``optimal`` line (the rms floor sqrt((m - n) / (n (m - 1))) times sqrt(l): a tight frame's
rms overlap *is* that floor). A fixed embedding's noise variance carries the binomial factor p
(1 - p) where random directions give p, so at larger l a trained tight frame sits a factor
sqrt(1 - p) below that line (measured at the default size: 0.573 +- 0.003 at l = 32 against
sqrt(1 - p) 0.614 = 0.574).

The trainings run as a ``sweep`` over l (a process pool; ``--store`` resumes a killed run).

    python examples/fig_readout_noise.py --out docs/figures [--small] [--store runs.sqlite]
"""

# ruff: noqa: E741  (l is the docs' name for the number of active features, docs/theory.md#notation)
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

MODELS = {
    "linsefors": ("Linsefors (2024), JL worst case as typical", "C3", "-"),
    "worst": ("largest pair, random directions", "C1", "--"),
    "random": ("random directions (exact rms)", "C0", "-"),
    "optimal": ("rms floor of any arrangement", "C2", ":"),
}
SOURCES = {"random": ("o", "C0"), "trained": ("s", "C4"), "packing": ("^", "C2")}
REPRESENTED = 0.5  # a trained row counts as a feature when its norm is at least this


def train_point(l: float, n: int, m: int, steps: int, batch: int, seed: int) -> dict[str, Any]:
    """One sweep point: a ReLU toy model trained at density l / (m - 1)."""
    from suptheory import train_toy_models

    r = train_toy_models(
        m, n, p=l / (m - 1), steps=steps, batch=batch, restarts=1, seed=seed, progress=False
    )
    return {"loss": float(r.loss[0]), "W": r.W[0].astype(np.float64)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument(
        "--small", action="store_true", help="a small, fast setting (n = 16, m = 64) for tests"
    )
    parser.add_argument("--store", default=None, help="SQLite store: reruns resume the sweep")
    parser.add_argument("--serial", action="store_true", help="train in this process")
    parser.add_argument("--trials", type=int, default=None, help="read-outs per estimate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from suptheory import interference, optimize_packing, simulate_interference, sweep

    if args.small:
        n, m, steps, batch, trials, pack_steps = 16, 64, 800, 256, 4000, 300
        ls = [1.0, 2.0, 4.0, 8.0]
    else:
        n, m, steps, batch, trials, pack_steps = 64, 256, 3000, 256, 20_000, 1000
        ls = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    trials = args.trials or trials
    t0 = time.perf_counter()
    rows = sweep(
        train_point,
        {"l": ls, "n": [n], "m": [m], "steps": [steps], "batch": [batch]},
        "serial" if args.serial else None,
        store=args.store,
        seed=args.seed,
    )
    packing = optimize_packing(m, n, restarts=1, steps=pack_steps, seed=args.seed, polish=False)
    rng = np.random.SeedSequence(args.seed).spawn(3 * len(ls))
    sims: dict[str, list[dict[str, float]]] = {s: [] for s in SOURCES}
    for i, (l, row) in enumerate(zip(ls, rows, strict=True)):
        W = row["W"]
        W = W[np.linalg.norm(W, axis=1) >= REPRESENTED]
        p = l / (m - 1)
        cases = [("random", None, m, l), ("packing", packing.W, m, l)]
        if W.shape[0] >= 2:
            cases.append(("trained", W, W.shape[0], p * (W.shape[0] - 1)))
        for j, (src, emb, m_src, l_src) in enumerate(cases):
            sim = simulate_interference(
                None if emb is not None else n,
                None if emb is not None else m_src,
                l_src,
                trials=trials,
                embedding=emb,
                seed=rng[3 * i + j],
            )
            sims[src].append(
                {
                    "l": float(l_src),
                    "m": int(m_src),
                    "std": sim.std,
                    "se": sim.std_se,
                    **{
                        f"theory_{k}": float(interference(n, m_src, l_src, model=k)) for k in MODELS
                    },
                }
            )
    seconds = time.perf_counter() - t0

    import matplotlib.pyplot as plt

    lgrid = np.geomspace(min(ls) / 1.5, max(ls) * 1.5, 100)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
    base = np.sqrt(lgrid / n)
    for model, (label, color, style) in MODELS.items():
        y = interference(n, m, lgrid, model=model)
        left.loglog(lgrid, y, style, color=color, label=f"{model}: {label}")
        right.semilogx(lgrid, y / base, style, color=color)
    for src, (marker, color) in SOURCES.items():
        pts = sims[src]
        if not pts:
            continue
        x = np.array([s["l"] for s in pts])
        y = np.array([s["std"] for s in pts])
        e = np.array([s["se"] for s in pts])
        left.errorbar(
            x,
            y,
            yerr=3 * e,
            fmt=marker,
            color=color,
            mfc="none",
            label=f"simulated: {src} embedding",
        )
        right.errorbar(
            x, y / np.sqrt(x / n), yerr=3 * e / np.sqrt(x / n), fmt=marker, color=color, mfc="none"
        )
    left.set_xlabel("l, other features active at once")
    left.set_ylabel("read-out noise std / a")
    left.set_title(f"n = {n}, m = {m}: simulated (error bars 3 SE) vs closed forms")
    left.legend(fontsize=7, loc="upper left")
    left.grid(True, which="major", alpha=0.3)
    right.set_yscale("log")
    right.set_xlabel("l, other features active at once")
    right.set_ylabel("noise / sqrt(l / n)")
    right.set_title("relative to the random-direction law")
    right.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "readout_noise.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)
    for src, pts in sims.items():
        for s in pts:
            print(
                f"{src:8s} l = {s['l']:7.3f} m = {s['m']:4d}: std {s['std']:.4f} +- "
                f"{s['se']:.4f}  (random law {s['theory_random']:.4f}, optimal "
                f"{s['theory_optimal']:.4f}, linsefors {s['theory_linsefors']:.4f})"
            )
    print(
        f"packing coherence {packing.coherence:.4f} (lower bound {packing.lower_bound:.4f}); "
        f"{seconds:.1f} s"
    )
    return {
        "path": path,
        "n": n,
        "m": m,
        "sims": sims,
        "packing_coherence": packing.coherence,
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
