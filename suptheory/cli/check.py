"""``suptheory check``: the closed forms against simulation, training and packing.

Examples
--------
>>> from suptheory.cli.main import main
>>> main(["check", "--n", "32", "--m", "64", "--l", "2", "--no-train", "--no-pack",
...       "--trials", "2000", "--coherence-trials", "20"])
suptheory check: n = 32, m = 64, l = 2 (p = 0.03175), a = 1; snr = 1, error = 0.05
...
  random  noise std         random        0.25      0.251  0.005294    -0.2  agrees within 0.19 SE
...
0
"""

from __future__ import annotations

import argparse
from typing import Any

from suptheory.cli._common import count, dumps, note_compiling, number

HELP = "hold the closed forms against Monte Carlo, trained toy models and packings"
DESCRIPTION = """\
For a layer of width n holding m features with l others active (or density p), set each
closed form beside its empirical twin, with the uncertainty and a verdict:

  noise     read-out noise simulated for a random embedding, a trained toy-model embedding
            and an optimised packing, against the four read-out models
  coherence largest overlap of random directions (simulated) against the finite-n law,
            the Cai-Jiang asymptotic and Linsefors's sqrt(8 ln m / n); the packing's
            coherence against the best lower bound
  capacity  features a toy model trained at density p represents (and the active features
            it carries) against each model's capacity
  levels    levels nearest-level decoding tells apart within --error, simulated, against
            distinguishable_levels

verdict: agrees if |theory - empirical| <= k standard errors (relative --rtol without one);
otherwise the theory is pessimistic (predicts a worse outcome than measured) or optimistic,
by the factor max(theory/empirical, empirical/theory).
"""
EPILOG = "example: suptheory check --n 64 --m 256 --l 4"


def register(subparsers: Any) -> None:
    """Add the ``check`` subcommand."""
    p = subparsers.add_parser(
        "check",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--n", type=count(), required=True, help="width: number of neurons (n >= 1)")
    p.add_argument("--m", type=count(), required=True, help="number of features (m >= 2)")
    active = p.add_mutually_exclusive_group(required=True)
    active.add_argument("--l", type=number, help="other features active at once, in (0, m - 1]")
    active.add_argument("--p", type=number, help="density in (0, 1] instead of --l: l = p (m - 1)")
    p.add_argument("--a", type=number, default=1.0, help="activation amplitude (a > 0; default 1)")
    p.add_argument(
        "--snr", type=number, default=1.0, help="required a / sigma for the capacities (default 1)"
    )
    p.add_argument(
        "--error",
        type=number,
        default=0.05,
        help="error budget of the level decoding, in (0, 1) (default 0.05)",
    )
    p.add_argument(
        "--k",
        type=number,
        default=3.0,
        help="standard errors within which an estimate agrees (default 3)",
    )
    p.add_argument(
        "--rtol",
        type=number,
        default=0.05,
        help="relative tolerance without a standard error (default 0.05)",
    )
    p.add_argument(
        "--trials",
        type=count(),
        default=20_000,
        help="read-outs simulated per noise / levels estimate (default 20,000)",
    )
    p.add_argument(
        "--coherence-trials",
        type=count(),
        default=200,
        help="random dictionaries for the largest overlap (default 200)",
    )
    p.add_argument(
        "--train",
        dest="train",
        action="store_true",
        default=None,
        help="train a toy model (default: when m n <= 2^18)",
    )
    p.add_argument("--no-train", dest="train", action="store_false", help="do not train")
    p.add_argument(
        "--steps", type=count(), default=2000, help="toy-model training steps (default 2000)"
    )
    p.add_argument("--batch", type=count(), default=256, help="training batch size (default 256)")
    p.add_argument(
        "--pack",
        dest="pack",
        action="store_true",
        default=None,
        help="optimise a packing (default: when m^2 n <= 2^24)",
    )
    p.add_argument("--no-pack", dest="pack", action="store_false", help="do not pack")
    p.add_argument(
        "--pack-steps", type=count(), default=300, help="packing gradient steps (default 300)"
    )
    p.add_argument("--pack-restarts", type=count(), default=1, help="packing restarts (default 1)")
    p.add_argument(
        "--seed",
        type=count(low=0, high=None),
        default=0,
        help="random seed, a whole number >= 0 (default 0)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the check and print the report."""
    from suptheory.runs.check import check

    note_compiling("check", ("simulate", "coherence", "toy", "packing"))
    report = check(
        args.n,
        args.m,
        l=args.l,
        p=args.p,
        a=args.a,
        snr=args.snr,
        error=args.error,
        k=args.k,
        rtol=args.rtol,
        trials=args.trials,
        coherence_trials=args.coherence_trials,
        train=args.train,
        train_steps=args.steps,
        train_batch=args.batch,
        pack=args.pack,
        pack_steps=args.pack_steps,
        pack_restarts=args.pack_restarts,
        seed=args.seed,
        progress=True,
    )
    print(dumps(report.to_dict()) if args.json else report)
    return 0
