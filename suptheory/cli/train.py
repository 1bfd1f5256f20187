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

from suptheory.cli._common import count, dumps, note_compiling, number, output_path

#: each preset with its typical run time at its default 10,000 steps, measured once with
#: ``suptheory train --preset NAME --no-progress`` (warm numba cache) on a 2-core machine
#: shared with other jobs; uniform-superposition extrapolated from 500 steps (73 s)
PRESET_HELP = (
    "anthropic-intro (5 features, 2 neurons, 10 instances; about 2 s), "
    "varying-sparsity (20 features, 5 neurons, 7 instances; about 4 s), "
    "uniform-superposition (400 features, 30 neurons, 20 instances; about 25 min on 2 "
    "cores -- try --steps 500 first) or "
    "two-feature (2 features, 1 neuron, 81 instances; about 7 s); "
    "typical run times at the default 10,000 steps, measured on a 2-core machine"
)


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
    parser.add_argument("--preset", help=PRESET_HELP)
    parser.add_argument("--m", type=count(), help="number of features")
    parser.add_argument("--n", type=count(), help="number of neurons (width)")
    parser.add_argument("--p", type=number, nargs="+", help="density of each instance")
    parser.add_argument(
        "--importance",
        type=number,
        nargs="+",
        help="importance of each feature (one number, or m numbers)",
    )
    parser.add_argument("--model", help="relu (default), linear, hidden-relu or abs")
    parser.add_argument("--steps", type=count(), help="optimiser steps (default 10000)")
    parser.add_argument("--batch", type=count(), default=1024, help="samples per step")
    parser.add_argument("--lr", type=number, default=1e-3, help="learning rate")
    parser.add_argument("--optimizer", default="adamw", help="adamw (default) or adam")
    parser.add_argument("--weight-decay", type=number, default=0.01, dest="weight_decay")
    parser.add_argument("--schedule", default="constant", help="constant, linear or cosine")
    parser.add_argument("--dtype", default="float32", help="float32 or float64")
    parser.add_argument(
        "--restarts",
        type=count(),
        default=1,
        help="train each instance this many times, keep the best",
    )
    parser.add_argument(
        "--seed",
        type=count(low=0, high=None),
        default=0,
        help="random seed, a whole number >= 0 (default 0)",
    )
    parser.add_argument("--threads", type=count(), help="numba threads (>= 1; default: all)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--plot",
        metavar="PATH",
        help="draw each instance's feature directions to PATH (e.g. out.png; "
        ".png is appended to a name without an extension)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)


def _plot_path(path: str) -> str:
    """The file matplotlib will write for ``--plot PATH``, checked before training."""
    import os

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    formats = FigureCanvasAgg.get_supported_filetypes()
    extension = os.path.splitext(path)[1][1:].lower()
    if not extension:  # matplotlib appends its default format
        return output_path(path.rstrip("."), "--plot", suffix=".png")
    if extension not in formats:
        raise ValueError(
            f"--plot: cannot draw a .{extension} file; give one of "
            + ", ".join(f".{name}" for name in sorted(formats))
        )
    return output_path(path, "--plot", suffix=os.path.splitext(path)[1])


def run(args: argparse.Namespace) -> int:
    """Train, print, optionally plot."""
    plot = _plot_path(args.plot) if args.plot is not None else None
    from suptheory.empirical.toy_models import train_toy_models

    note_compiling("train", ("toy",))

    p: Any = args.p if args.p is None or len(args.p) > 1 else args.p[0]
    imp: Any = (
        args.importance
        if args.importance is None or len(args.importance) > 1
        else args.importance[0]
    )
    result = train_toy_models(
        args.m,
        args.n,
        p=p,
        importance=imp,
        model=args.model,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        optimizer=args.optimizer,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        dtype=args.dtype,
        restarts=args.restarts,
        seed=args.seed,
        threads=args.threads,
        preset=args.preset,
        progress=not args.no_progress,
    )
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        from suptheory.plots.toy import plot_toy_models

        fig = plot_toy_models(result, path=plot)
        import matplotlib.pyplot as plt

        plt.close(fig)
    if args.json:
        print(dumps(result.to_dict()))
    else:
        print(result.summary())
        if plot is not None:
            print(f"plot written to {plot}")
    if result.interrupted:
        print(
            "suptheory train: interrupted; the models above are those trained so far",
            file=sys.stderr,
        )
        return 130
    return 0
