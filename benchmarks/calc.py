"""Benchmark of the calculator (a script, not a test): ``python benchmarks/calc.py [points]``.

1. ``calculate`` over 10^6 broadcast points against the raw numpy expressions of
   Linsefors's formulas (Linsefors 2024: eps, noise, l_max, ln m_max, levels, bits) in the
   same run; the ratio per model (``calculate(..., models=(model,))``) and for the whole
   report. Target for Linsefors's model: within 3x of the raw expressions (validation and
   broadcasting are the overhead); the other models cost what their mathematics costs
   (incomplete beta functions for ``worst``, the bound inverses for ``optimal``, a root
   search for ``l1``).
2. Wall time of the whole ``suptheory calc`` process (median of several runs; target < 0.6 s),
   next to a bare ``python -c "import numpy, scipy.special"`` as the floor.

Timings on a shared machine are noisy: medians are printed, and the baseline is measured in
the same run so that the ratios stay meaningful.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np

from suptheory import calculate

MODELS = ("linsefors", "random", "worst", "optimal", "l1")


def linsefors_formulas(n: np.ndarray, m: np.ndarray, l: np.ndarray) -> tuple[np.ndarray, ...]:  # noqa: E741
    """Linsefors's closed forms as raw numpy, with no validation (the baseline)."""
    eps = np.sqrt(8.0 * np.log(m) / n)
    noise = eps * np.sqrt(l)
    l_max = n / (8.0 * np.log(m))
    log_m_max = n / (8.0 * l)
    with np.errstate(over="ignore"):
        m_max = np.exp(log_m_max)
    levels = 1.0 / noise
    bits = np.log2(levels)
    return eps, noise, l_max, m_max, log_m_max, levels, bits


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(points: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    n = rng.uniform(64.0, 16384.0, points)
    m = n * 10.0 ** rng.uniform(0.2, 4.0, points)
    l = 10.0 ** rng.uniform(0.0, 2.5, points)  # noqa: E741
    calculate(n[:10], m[:10], l[:10])  # warm up the imports
    base = best_of(lambda: linsefors_formulas(n, m, l), 5)
    print(
        f"{points:,} broadcast points; raw numpy Linsefors formulas: "
        f"{base * 1e3:.1f} ms (median of 5)"
    )
    print(f"{'rows':<12}{'calculate':>12}{'ratio':>10}")
    total = 0.0
    for model in MODELS:
        t = best_of(lambda model=model: calculate(n, m, l, models=(model,)), 3)
        total += t
        print(f"{model:<12}{t * 1e3:>10.1f}ms{t / base:>9.1f}x")
    t_all = best_of(lambda: calculate(n, m, l), 1)
    print(f"{'all models':<12}{t_all * 1e3:>10.1f}ms{t_all / base:>9.1f}x")

    cmd = [sys.executable, "-m", "suptheory", "calc", "--n", "768", "--m", "24576", "--l", "32"]
    floor = [sys.executable, "-c", "import numpy, scipy.special"]

    def wall(argv: list[str], runs: int = 9) -> float:
        out = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            out.append(time.perf_counter() - t0)
        return statistics.median(out)

    w_floor, w_calc = wall(floor), wall(cmd)
    print(f"`suptheory calc` process wall time: {w_calc:.3f} s (median of 9; target < 0.6 s)")
    print(f"  floor, python -c 'import numpy, scipy.special': {w_floor:.3f} s")


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000)
