"""Capacity at 1% error: the exact law, the normal approximation and Linsefors's formula.

The largest number of active features ``l`` whose ``m`` on/off read-outs (threshold a/2) are
all right with probability 1 - error, at width ``n``, against the number of features ``m``:

- the exact law (``max_active(n, m, error=...)``: ``m P(Z > a/2) <= error`` with ``Z`` the
  l-fold convolution of the overlap law of random directions);
- the normal approximation of the same one-sided union bound, ``l = n / (2 z)^2`` with
  ``z = Phi^{-1}(1 - error / m)``;
- Linsefors's (2024) ``l_max = n / (8 ln m)`` (the union bound at margin 1/2 with the Chernoff
  tail and error -> 1);
- simulation: ``simulate_decoding`` over whole random dictionaries, every feature read back
  and decoded; the marker is the largest whole ``l`` whose simulated P(any wrong) is at most
  the budget (bars: the same with the estimate moved by 2 standard errors).

    python examples/fig_capacity_error.py --out docs/figures [--small]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
from scipy.stats import norm  # noqa: E402


def simulated_capacity(n: int, m: int, error: float, trials: int, seed: int) -> dict[str, Any]:
    """Largest whole l whose simulated P(any of m read-outs wrong) <= error, with a band."""
    from suptheory import max_active, simulate_decoding

    guess = int(np.floor(max_active(n, m, error=error)))
    rows = []
    for l in range(max(1, guess - 1), guess + 3):  # noqa: E741 - the project's name
        r = simulate_decoding(
            n,
            m,
            l,
            trials=trials,
            dictionaries=max(2, trials // 100),
            seed=seed + l,
            progress=False,
        )
        rows.append((l, r.p_any, r.p_any_se))

    def largest(shift: float) -> int:
        ok = [l for l, p, se in rows if p + shift * se <= error]  # noqa: E741
        return max(ok) if ok else 0

    return {"m": m, "rows": rows, "l": largest(0.0), "low": largest(2.0), "high": largest(-2.0)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument("--small", action="store_true", help="a small, fast setting for tests")
    parser.add_argument("--serial", action="store_true", help="accepted for uniformity")
    parser.add_argument("--error", type=float, default=0.01, help="error budget (default 1%%)")
    args = parser.parse_args(argv)
    import matplotlib.pyplot as plt

    from suptheory import max_active

    if args.small:
        n, sim_m, trials = 128, [64, 512], 4000
    else:
        n, sim_m, trials = 256, [64, 256, 1024, 4096], 40_000
    error = args.error
    ms = np.geomspace(8, 1e6, 120)
    exact = np.asarray(max_active(n, ms, error=error))
    z = norm.isf(error / ms)
    normal = n / (2 * z) ** 2
    linsefors = np.asarray(max_active(n, ms, model="linsefors"))
    sims = [simulated_capacity(n, m, error, trials, seed=17 * i) for i, m in enumerate(sim_m)]

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.loglog(ms, exact, "C0-", label="exact law (one-sided union bound)")
    ax.loglog(ms, normal, "C2--", label="normal approximation, same bound")
    ax.loglog(ms, linsefors, "C3-", label="Linsefors (2024): n / (8 ln m)")
    sm = np.array([s["m"] for s in sims], dtype=float)
    sl = np.array([s["l"] for s in sims], dtype=float)
    lo = sl - np.array([s["low"] for s in sims])
    hi = np.array([s["high"] for s in sims]) - sl
    ax.errorbar(
        sm,
        sl,
        yerr=[lo, hi],
        fmt="ko",
        ms=5,
        capsize=3,
        label="simulation: largest whole l (decoding whole dictionaries)",
    )
    ax.set_xlabel("m, number of features")
    ax.set_ylabel(f"l_max: all m read-outs right with P >= {1 - error:g}")
    ax.set_title(f"capacity at {error:.0%} error, n = {n}")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "capacity_error.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    for s in sims:
        cells = ", ".join(f"l={l}: {p:.4f}+-{se:.4f}" for l, p, se in s["rows"])  # noqa: E741
        print(f"m = {s['m']:>6}: largest l = {s['l']} [{s['low']}, {s['high']}]  ({cells})")
    print(path)
    return {
        "path": path,
        "n": n,
        "error": error,
        "m": ms,
        "exact": exact,
        "normal": normal,
        "linsefors": linsefors,
        "sims": sims,
    }


if __name__ == "__main__":
    main()
