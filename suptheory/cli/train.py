"""``suptheory train``: train toy models of superposition (Elhage et al. 2022) and report them.

Examples
--------
>>> from suptheory.cli.main import main
>>> main(["train", "--preset", "anthropic-intro", "--steps", "300", "--no-progress"])
relu toy models: m=5, n=2, 10 instances, 300/300 steps
inst         p        loss      +-se  ||W||^2      D*
   0         1 ...
...
0
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from suptheory.cli._common import dumps, number


def register(subparsers: Any) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train toy models of superposition",
        description=(
            "Train toy models of superposition (Elhage et al. 2022): m features through n "
            "neurons, each feature active with probability p (density), many instances at "
            "once. Prints each instance's evaluation loss, features learned (||W||_F^2) and "
            "dimensions per feature D* = n / ||W||_F^2."
        ),
    )
    parser.add_argument("--preset", help="anthropic-intro, varying-sparsity, "
                        "uniform-superposition or two-feature")
    parser.add_argument("--m", type=number, help="number of features")
    parser.add_argument("--n", type=number, help="number of neurons (width)")
    parser.add_argument("--p", type=number, nargs="+", help="density of each instance")
    parser.add_argument("--importance", type=number, nargs="+",
                        help="importance of each feature (one number, or m numbers)")
    parser.add_argument("--model", help="relu (default), linear, hidden-relu or abs")
    parser.add_argument("--steps", type=number, help="optimiser steps (default 10000)")
    parser.add_argument("--batch", type=number, default=1024, help="samples per step")
    parser.add_argument("--lr", type=number, default=1e-3, help="learning rate")
    parser.add_argument("--optimizer", default="adamw", help="adamw (default) or adam")
    parser.add_argument("--weight-decay", type=number, default=0.01, dest="weight_decay")
    parser.add_argument("--schedule", default="constant", help="constant, linear or cosine")
    parser.add_argument("--dtype", default="float32", help="float32 or float64")
    parser.add_argument("--restarts", type=number, default=1,
                        help="train each instance this many times, keep the best")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="numba threads")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--plot", metavar="PATH",
                        help="draw each instance's feature directions to PATH (e.g. out.png)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Train, print, optionally plot."""
    from suptheory.empirical.toy_models import train_toy_models

    p: Any = args.p if args.p is None or len(args.p) > 1 else args.p[0]
    imp: Any = (args.importance if args.importance is None or len(args.importance) > 1
                else args.importance[0])
    result = train_toy_models(
        args.m, args.n, p=p, importance=imp, model=args.model, steps=args.steps,
        batch=args.batch, lr=args.lr, optimizer=args.optimizer, weight_decay=args.weight_decay,
        schedule=args.schedule, dtype=args.dtype, restarts=args.restarts, seed=args.seed,
        threads=args.threads, preset=args.preset, progress=not args.no_progress,
    )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from suptheory.plots.toy import plot_toy_models

        fig = plot_toy_models(result, path=args.plot)
        import matplotlib.pyplot as plt

        plt.close(fig)
    if args.json:
        print(dumps(result.to_dict()))
    else:
        print(result.summary())
        if args.plot:
            print(f"plot written to {args.plot}")
    if result.interrupted:
        print("suptheory train: interrupted; the models above are those trained so far",
              file=sys.stderr)
        return 130
    return 0
