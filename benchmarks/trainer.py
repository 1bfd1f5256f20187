"""Benchmark: suptheory's toy-model trainer against a PyTorch CPU run of the notebook recipe.

Both train the notebook's ReLU output model (importance 0.9**i, densities
20**-linspace(0, 1, instances), AdamW lr 1e-3 with weight decay 0.01, batch 1024, float32)
on the same settings with the same number of threads, and the script prints, per setting,
steps per second of each (wall clock and CPU time), their ratio (ours / torch), and the
final losses of both side by side (each evaluated by suptheory's evaluator on the same
2**15 fresh samples, in the units of docs/theory.md#toy-data: sum over features, mean over samples).

Rerun:  .venv/bin/python benchmarks/trainer.py [--steps 2000] [--threads 1]
Needs torch (the ``bench`` extra: ``pip install torch==2.13.0``). Targets: >= 10x on
(m=5, n=2, 10 instances), >= 5x on (20, 5, 10), >= 2x on (100, 20, 20). On a shared machine
wall-clock numbers are noisy; CPU-time ratios are steadier.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SETTINGS = [(5, 2, 10, 10.0), (20, 5, 10, 5.0), (100, 20, 20, 2.0)]


def _evaluate(W, b, m, p, importance, seed):
    from suptheory._kernels import toy as K

    instances = W.shape[0]
    mean = np.zeros(instances)
    se = np.zeros(instances)
    keys = np.random.default_rng(seed).integers(0, 2**64, size=instances, dtype=np.uint64)
    W64 = np.ascontiguousarray(W, dtype=np.float64)
    K.evaluate(
        W64,
        W64,
        np.ascontiguousarray(b, dtype=np.float64),
        np.ascontiguousarray(importance, dtype=np.float64),
        np.asarray(p, np.float64),
        K.NO_SETS,
        K.NO_SET_MODE,
        keys,
        2**15,
        0,
        mean,
        se,
    )
    return mean, se


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps per run (both)")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads for both (numba and torch.set_num_threads)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import subprocess
    import tempfile

    import torch

    from suptheory import train_toy_models

    print(
        f"steps={args.steps} threads={args.threads} (numba and torch); torch "
        f"{torch.__version__} runs in its own process (numba's OpenMP workers spin after "
        f"a parallel region and would steal its CPU)"
    )
    header = (
        f"{'m':>4} {'n':>3} {'inst':>4} | {'ours st/s':>10} {'torch st/s':>10} "
        f"{'ratio':>6} | {'cpu ratio':>9} | target | {'loss ours':>10} {'loss torch':>10}"
    )
    print(header)
    print("-" * len(header))
    for m, n, instances, target in SETTINGS:
        p = 20.0 ** -np.linspace(0, 1, instances)
        importance = np.tile(0.9 ** np.arange(m), (instances, 1))
        # warm-up: compile (cached on disk after the first run) and torch's first-call costs
        train_toy_models(
            m,
            n,
            p=p,
            importance=importance,
            steps=3,
            progress=False,
            threads=args.threads,
            eval_batch=2,
        )

        c0, w0 = time.process_time(), time.perf_counter()
        ours = train_toy_models(
            m,
            n,
            p=p,
            importance=importance,
            steps=args.steps,
            progress=False,
            threads=args.threads,
            seed=args.seed,
            eval_batch=2,
        )
        ours_cpu, ours_wall = time.process_time() - c0, time.perf_counter() - w0
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "torch.npz")
            script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_torch_notebook.py")
            subprocess.run(
                [
                    sys.executable,
                    script,
                    str(m),
                    str(n),
                    str(instances),
                    str(args.steps),
                    str(args.threads),
                    str(args.seed),
                    out,
                ],
                check=True,
            )
            with np.load(out) as f:
                Wt, bt = f["W"], f["b"]
                torch_wall, torch_cpu = float(f["wall"]), float(f["cpu"])

        loss_ours, _ = _evaluate(ours.W, ours.b, m, p, importance, args.seed + 1)
        loss_torch, _ = _evaluate(Wt, bt, m, p, importance, args.seed + 1)
        so, st = args.steps / ours_wall, args.steps / torch_wall
        print(
            f"{m:>4} {n:>3} {instances:>4} | {so:>10.1f} {st:>10.1f} {so / st:>6.1f} | "
            f"{torch_cpu / ours_cpu:>9.1f} | >= {target:>3.0f}x | "
            f"{loss_ours.sum():>10.5f} {loss_torch.sum():>10.5f}"
        )
        for k in range(instances):
            print(
                f"{'':>14} p={p[k]:<8.4f} loss ours {loss_ours[k]:.5f}  torch {loss_torch[k]:.5f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
