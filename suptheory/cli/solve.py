"""``suptheory solve``: the one missing parameter of a read-out relation.

Examples
--------
How wide must a layer be for a million features with 100 active, read at snr 2?

>>> from suptheory.cli.main import main
>>> main(["solve", "n", "--m", "1e6", "--l", "100", "--snr", "2", "--model", "random"])
n = 400 (smallest whole width; continuum 400)
0
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from suptheory.cli._common import dumps, number
from suptheory.theory._params import CAPACITY_MODELS

TARGETS = ("n", "m", "l", "a", "snr", "error", "noise")
MODELS = CAPACITY_MODELS
HELP = "solve a read-out relation for its one missing parameter"
DESCRIPTION = """\
Solve for TARGET, given the other parameters of one relation (model as in `suptheory calc`):

  --n --m --l [--snr]        a / sigma(n, m, l) = snr      (snr defaults to 1)
  --n --m --l --error        error = m P(Z > a/2)   (rms models: union bound over m
                             read-outs, exact law for random; proxies: P(Z > a/2))
  --n --m --l [--a] --noise  sigma(n, m, l, a) = noise     (the only one where a enters)
  --n --m --l  --model l1    l = n rho(n / m)              (compressed sensing)

n = width, m = number of features, l = features active at once, a = amplitude,
sigma = a eps sqrt(l) the read-out noise, eps the model's interference per pair.
Prints the answer; exits with status 2 and a message when no value solves the relation.
"""
EPILOG = "example: suptheory solve n --m 1e6 --l 100 --snr 2 --model random"


def register(subparsers: Any) -> None:
    """Add the ``solve`` subcommand."""
    p = subparsers.add_parser(
        "solve",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "target",
        choices=TARGETS,
        metavar="TARGET",
        help="the parameter to solve for: " + ", ".join(TARGETS),
    )
    p.add_argument("--n", type=number, help="width: number of neurons (n > 0)")
    p.add_argument("--m", type=number, help="number of features (m >= 1)")
    p.add_argument("--l", type=number, help="features active at once (l >= 0)")
    p.add_argument("--a", type=number, help="activation amplitude (a > 0); with --noise only")
    p.add_argument("--snr", type=number, help="required a / sigma of one read-out (> 0)")
    p.add_argument(
        "--error",
        type=number,
        help="allowed probability that any of the m read-outs errs, in (0, 1)",
    )
    p.add_argument("--noise", type=number, help="read-out noise std sigma (> 0)")
    p.add_argument(
        "--model",
        choices=MODELS,
        default="random",
        help="read-out model (default random: exact for random feature directions)",
    )
    p.add_argument(
        "--q",
        type=number,
        default=0.5,
        help="quantile of the largest overlap for --model worst (default 0.5)",
    )
    p.add_argument("--json", action="store_true", help="print inputs and answer as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Solve and print the answer."""
    from suptheory.theory.solve import solve

    params = {k: getattr(args, k) for k in TARGETS if getattr(args, k) is not None}
    if args.target in params:
        raise ValueError(f"--{args.target} is the target; do not also give its value")
    params[args.target] = None
    answer = solve(model=args.model, q=args.q, **params)
    whole = whole_answer(args.target, float(answer))
    if args.json:
        inputs = {k: v for k, v in params.items() if v is not None}
        out = {**inputs, "model": args.model, args.target: answer}
        if whole is not None:
            out[f"{args.target}_whole"] = whole
        print(dumps(out))
    else:
        print(label_answer(args.target, float(answer)))
    return 0


#: how a whole answer is rounded: widths up (the smallest that works), counts down
_ROUNDING = {
    "n": ("ceil", "smallest whole width"),
    "m": ("floor", "largest whole number of features"),
    "l": ("floor", "largest whole number of active features"),
}
#: relative slack before rounding, so that 400.00000000001 (round-off) is a width of 400
_SLACK = 1e-9


def whole_answer(target: str, value: float) -> int | None:
    """The safe whole answer for a count or width (``None`` for other targets or huge values).

    >>> whole_answer("n", 13136.5), whole_answer("m", 2.9), whole_answer("snr", 2.0)
    (13137, 2, None)
    """
    if target not in _ROUNDING or not math.isfinite(value) or value >= 2.0**53:
        return None
    if _ROUNDING[target][0] == "ceil":
        return math.ceil(value * (1.0 - _SLACK))
    return math.floor(value * (1.0 + _SLACK))


def label_answer(target: str, value: float) -> str:
    """The answer labelled for a person, the continuum value beside a whole one.

    >>> label_answer("n", 13136.5)
    'n = 13,137 (smallest whole width; continuum 13,136.5)'
    >>> label_answer("snr", 2.0)
    'snr = 2'
    """
    whole = whole_answer(target, value)
    if whole is None:
        if target in _ROUNDING:
            return f"{target} = {value:.10g} (continuum value; too large to round)"
        return f"{target} = {value:.10g}"
    return f"{target} = {whole:,} ({_ROUNDING[target][1]}; continuum {value:,.10g})"
