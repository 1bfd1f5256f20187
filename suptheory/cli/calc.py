"""``suptheory calc``: every read-out model side by side for one layer (the calculator).

Examples
--------
>>> from suptheory.cli.main import main
>>> main(["calc", "--n", "768", "--m", "16384", "--l", "5"])
suptheory calculate: n = 768, m = 16,384, l = 5, a = 1, snr = 1
...
random     0.03608  0.08069    768 ...
...
0
"""

from __future__ import annotations

import argparse
from typing import Any

from suptheory.cli._common import dumps, number

HELP = "compare every read-out model for one layer: noise, capacities, levels"
DESCRIPTION = """\
Print, for a layer of width n holding m features with l of them active at amplitude a,
under each read-out model side by side:

  eps       interference per pair of features (overlap |<w_i, w_j>|)
  noise     std of one read-out's interference, sigma = a eps sqrt(l)
  l_max     largest number of active features with a / sigma >= snr
  m_max     largest number of features with l active (and ln m_max, finite when m_max is not)
  levels    distinguishable activation levels a / (snr sigma); bits = log2(levels)

Two groups of models answer two different questions and are printed apart.
rms models (what a typical read-out hears): random (exact for random directions: eps =
1/sqrt(n) rms, the exact interference law under --error) and optimal (the rms floor no
arrangement beats: eps = sqrt((m - n) / (n (m - 1))), met by tight frames).
largest-overlap proxies (the worst pair, as if every pair were that large): linsefors
(Linsefors 2024: eps = sqrt(8 ln m / n), the JL worst case taken as typical), worst (the
q-quantile of the largest overlap among m random directions) and packing (the best lower
bound on the coherence of any m lines in R^n: Welch, Levenshtein, orthoplex, higher-order
Welch). And l1 (noiseless compressed-sensing decoding, Donoho-Tanner threshold; capacities
only). With --error, an on/off read-out errs one-sidedly with P(Z > a/2): the rms models
bound P(any of the m read-outs wrong) by the union bound, the proxies one read-out.
"""
EPILOG = "example: suptheory calc --n 768 --m 24576 --l 32 --explain"


def register(subparsers: Any) -> None:
    """Add the ``calc`` subcommand."""
    p = subparsers.add_parser(
        "calc",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--n",
        type=number,
        required=True,
        help="width: number of neurons (n >= 1; a fractional n is used as given)",
    )
    p.add_argument(
        "--m", type=number, required=True, help="number of features (m >= 1; 1e6 is fine)"
    )
    p.add_argument(
        "--l",
        type=number,
        required=True,
        help="features active at once (l >= 0; an expected count, may be fractional)",
    )
    p.add_argument("--a", type=number, default=1.0, help="activation amplitude (a > 0; default 1)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument(
        "--snr",
        type=number,
        default=None,
        help="required signal-to-noise ratio a / sigma of one read-out (default 1: Linsefors's "
        "'signal stronger than noise')",
    )
    budget.add_argument(
        "--error",
        type=number,
        default=None,
        help="error budget in (0, 1) instead of --snr: capacities bound the probability that any "
        "of the m read-outs is wrong (union bound); levels that one read-out is wrong",
    )
    p.add_argument(
        "--q",
        type=number,
        default=0.5,
        help="quantile of the largest overlap for the worst model, in (0, 1) (default 0.5)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--explain", action="store_true", help="add a short reading in words")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Compute the report and print it."""
    from suptheory.render.explain import explain
    from suptheory.theory.report import calculate

    report = calculate(args.n, args.m, args.l, args.a, args.snr, error=args.error, q=args.q)
    if args.json:
        data = report.to_dict()
        if args.explain:
            data["explanation"] = explain(report)
        print(dumps(data))
        return 0
    print(report)
    if args.explain:
        print()
        print(explain(report))
    return 0
