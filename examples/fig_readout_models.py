"""Read-out noise against the number of active features under the read-out models.

Closed forms only (no simulation, no training): a GPT-2-small-like layer, n = 768 with an SAE
of m = 24,576 features. Left: the noise sigma = a eps sqrt(l) of one read-out against l under
the rms models ``random`` (exact for random directions) and ``optimal`` (the rms floor of any
arrangement), and the largest-overlap proxies ``linsefors`` (Linsefors 2024), ``worst`` (the
median largest overlap among m random directions) and ``packing`` (the best coherence lower
bound), with the line noise = signal. Right: Linsefors's pessimism, the ratio of his noise to
the exact random-direction noise, against m -- it is sqrt(8 ln m) whatever n and l.

    python examples/fig_readout_models.py --out docs/figures
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from suptheory import interference  # noqa: E402

MODELS = {
    "linsefors": ("proxy, Linsefors (2024): JL worst case", "C3", "-"),
    "worst": ("proxy: largest pair among m random directions", "C1", "--"),
    "packing": ("proxy: best coherence lower bound", "C4", "-."),
    "random": ("rms: random directions (exact)", "C0", "-"),
    "optimal": ("rms floor of any arrangement", "C2", ":"),
}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument("--n", type=float, default=768, help="width (default 768)")
    parser.add_argument("--m", type=float, default=24576, help="features (default 24,576)")
    args = parser.parse_args(argv)
    n, m = args.n, args.m

    l = np.geomspace(1, 1000, 200)  # noqa: E741 - the docs' name (docs/theory.md#notation)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for model, (label, color, style) in MODELS.items():
        left.loglog(
            l, interference(n, m, l, model=model), style, color=color, label=f"{model}: {label}"
        )
    left.axhline(1.0, color="k", lw=0.8)
    left.text(100, 0.8, "noise = signal (a = 1)", fontsize=8)
    left.set_xlabel("l, features active at once")
    left.set_ylabel("read-out noise sigma / a")
    left.set_title(f"n = {n:,.0f}, m = {m:,.0f}")
    left.legend(fontsize=8, loc="upper left")
    left.grid(True, which="major", alpha=0.3)

    ms = np.geomspace(33, 1e12, 200)  # l = 32 needs m >= l + 1
    ratio = interference(n, ms, 32, model="linsefors") / interference(n, ms, 32, model="random")
    right.semilogx(ms, ratio, color="C3", label="linsefors / random noise")
    right.semilogx(ms, np.sqrt(8 * np.log(ms)), "k:", label="sqrt(8 ln m)")
    right.axvline(m, color="0.6", lw=0.8)
    right.set_xlabel("m, number of features")
    right.set_ylabel("how much noisier Linsefors's read-out is")
    right.set_title("the pessimism of Linsefors (2024)")
    right.legend(fontsize=8)
    right.grid(True, which="major", alpha=0.3)

    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "readout_models.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)
    return path


if __name__ == "__main__":
    main()
