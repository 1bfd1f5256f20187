"""``suptheory pack``: a low-coherence packing of m directions in R^n, against the bound.

Examples
--------
Six lines in R^3 reach the Welch bound 1/sqrt(5) (the icosahedron's diagonals):

>>> from suptheory.cli.main import main
>>> main(["pack", "--m", "6", "--n", "3", "--seed", "0", "--no-progress"])
packing of m = 6 directions in R^3, objective 'coherence'
  coherence (max |<w_i, w_j>|): 0.44721...
...
0
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from suptheory.cli._common import count, dumps, note_compiling, output_path


def register(subparsers: Any) -> None:
    """Add the ``pack`` subcommand."""
    parser = subparsers.add_parser(
        "pack",
        help="optimise a packing of m directions in R^n (lowest coherence)",
        description=(
            "Find m unit vectors in R^n whose largest overlap is as small as possible "
            "(gradient descent on the sphere, best of several restarts, then polishing), and "
            "print the coherence found, the best lower bound (Welch / orthoplex / Levenshtein) "
            "and the gap. Objectives: coherence (lines, |<w_i, w_j>|), spherical-code "
            "(points, the Tammes problem), frame-potential (sum of squared overlaps)."
        ),
    )
    parser.add_argument("--m", type=count(), required=True, help="number of directions")
    parser.add_argument("--n", type=count(), required=True, help="width (dimension)")
    parser.add_argument(
        "--objective",
        default="coherence",
        help="coherence (default), spherical-code or frame-potential",
    )
    parser.add_argument("--restarts", type=count(), default=8, help="random starts (default 8)")
    parser.add_argument(
        "--steps", type=count(), default=1500, help="gradient steps per restart (default 1500)"
    )
    parser.add_argument(
        "--seed",
        type=count(low=0, high=None),
        default=0,
        help="random seed, a whole number >= 0 (default 0)",
    )
    parser.add_argument(
        "--no-polish", action="store_true", help="skip the linear-programming polishing step"
    )
    parser.add_argument(
        "--save",
        metavar="PATH",
        help="save the (m, n) embedding to PATH (.npy is appended if missing)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Optimise, print, optionally save."""
    saved = output_path(args.save, "--save", suffix=".npy") if args.save is not None else None
    from suptheory.empirical.packing import optimize_packing

    note_compiling("pack", ("packing",))
    result = optimize_packing(
        args.m,
        args.n,
        args.objective,
        restarts=args.restarts,
        steps=args.steps,
        seed=args.seed,
        polish=not args.no_polish,
        progress=not args.no_progress,
    )
    if saved is not None:
        import numpy as np

        np.save(saved, result.W)
    if args.json:
        out = result.to_dict()
        if saved is not None:
            out["saved_to"] = saved
        print(dumps(out))
    else:
        print(result)
        if saved is not None:
            print(f"embedding written to {saved}")
    if result.interrupted:
        print(
            "suptheory pack: interrupted; the packing above is the best found so far",
            file=sys.stderr,
        )
        return 130
    return 0
