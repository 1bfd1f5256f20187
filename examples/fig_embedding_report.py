"""analyze's report of a synthetic SAE-shaped dictionary, drawn against random directions.

A decoder W_dec of shape (16,384, 512) (the default; ``--small``: (2,048, 128)) with unit
rows, built like what trained SAEs show:

- random directions, uniform on the sphere (docs/theory.md#random-directions), plus
- a shared mean direction of weight ``--shift`` in every row (as token embeddings and many
  SAE decoders have), which raises every overlap a little, and
- ``--duplicates`` planted near-duplicates: the last rows are copies of random earlier rows
  turned by an angle of cosine about 0.9-0.99 ("feature splitting").

``analyze`` measures it exactly and ``plot_embedding_report`` draws the three panels:
the overlaps of all pairs against the Beta law of random directions (the shared direction
fattens the tail, the duplicates sit near 1), every feature's largest overlap against the
law of the largest of ``m - 1`` random overlaps (the duplicates stand apart from the bulk),
and every feature's rms overlap against ``1/sqrt(n)`` and the optimal floor (the shared
direction moves the whole distribution up: the effective width drops below n).

    python examples/fig_embedding_report.py --out docs/figures [--small]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402


def synthetic_sae(
    m: int, n: int, duplicates: int, shift: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows: random + a shared direction, the last ``duplicates`` rows near-copies.

    Returns the float32 matrix and the ``(duplicates, 2)`` planted pairs ``(i, j)``, i < j.
    """
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((m, n))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    mean = rng.standard_normal(n)
    W += shift * mean / np.linalg.norm(mean)
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    src = rng.choice(m - duplicates, size=duplicates, replace=False)
    dst = np.arange(m - duplicates, m)
    cos = rng.uniform(0.9, 0.99, size=duplicates)
    noise = rng.standard_normal((duplicates, n))
    noise -= np.sum(noise * W[src], axis=1, keepdims=True) * W[src]  # orthogonal to the source
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    W[dst] = cos[:, None] * W[src] + np.sqrt(1 - cos**2)[:, None] * noise
    return W.astype(np.float32), np.stack([src, dst], axis=1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs/figures", help="directory for the PNG")
    parser.add_argument("--small", action="store_true", help="a small dictionary, for tests")
    parser.add_argument("--serial", action="store_true", help="(no process pool is used)")
    parser.add_argument(
        "--duplicates",
        type=int,
        default=None,
        help="planted near-duplicates (default 64; --small 16)",
    )
    parser.add_argument(
        "--shift",
        type=float,
        default=0.25,
        help="weight of the shared mean direction in every row (default 0.25)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from suptheory import analyze, overlap_histogram, plot_embedding_report

    m, n = (2048, 128) if args.small else (16_384, 512)
    dup = args.duplicates if args.duplicates is not None else (16 if args.small else 64)
    t0 = time.perf_counter()
    W, planted = synthetic_sae(m, n, dup, args.shift, args.seed)
    report = analyze(W, top_k=2 * dup, progress=False)
    t1 = time.perf_counter()
    hist = overlap_histogram(W, 100, progress=False)
    t2 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "embedding_report.png"
    import matplotlib.pyplot as plt

    fig = plot_embedding_report(report, path, histogram=hist, dpi=110)
    plt.close(fig)
    t3 = time.perf_counter()
    print(path)
    print(report)
    found = {(int(i), int(j)) for i, j, _ in report.top_pairs.tolist()}
    hits = sum((int(i), int(j)) in found for i, j in planted)
    print(f"planted near-duplicates among the top {len(report.top_pairs)} pairs: {hits} of {dup}")
    print(f"analyze {t1 - t0:.1f} s, overlap histogram {t2 - t1:.1f} s, plot {t3 - t2:.1f} s")
    return {
        "path": path,
        "report": report,
        "planted": planted,
        "hits": hits,
        "histogram": hist,
        "seconds": t3 - t0,
    }


if __name__ == "__main__":
    main()
