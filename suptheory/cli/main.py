"""Entry point of the ``suptheory`` command.

Each subcommand lives in its own module of this package with two functions:
``register(subparsers)`` adds its parser (and ``set_defaults(run=run)``), and ``run(args)``
calls the Python API and prints. Subcommand modules import only the standard library at
module level, so that ``suptheory calc`` never imports numba.

Examples
--------
>>> sorted(COMMANDS)
['analyze', 'calc', 'check', 'pack', 'solve', 'sweep', 'train']
>>> main(["solve", "l", "--n", "768", "--m", "24576", "--model", "linsefors"])
9.49...
0
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> module; the order is the order of ``suptheory --help``.
COMMANDS: dict[str, str] = {
    "calc": "suptheory.cli.calc",
    "solve": "suptheory.cli.solve",
    "sweep": "suptheory.cli.sweep",
    "train": "suptheory.cli.train",
    "analyze": "suptheory.cli.analyze",
    "pack": "suptheory.cli.pack",
    "check": "suptheory.cli.check",
    # further subcommands register here
}


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every subcommand."""
    from suptheory import __version__

    parser = argparse.ArgumentParser(
        prog="suptheory",
        description=(
            "The calculator for superposition in neural networks. Notation: "
            "n = width (neurons), m = number of features, l = features active at once, "
            "p = density (probability a feature is active), a = activation amplitude, "
            "eps = overlap between two feature directions, snr = required signal-to-noise "
            "ratio of one read-out, error = allowed probability of a wrong read-out."
        ),
    )
    parser.add_argument("--version", action="version", version=f"suptheory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS.values():
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.run(args)
    except (ValueError, TypeError) as exc:
        # Bad input from the API is the user's to fix: say what, not a traceback.
        print(f"suptheory {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"suptheory {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
