"""Entry point of the ``suptheory`` command.

Each subcommand lives in its own module of this package with two functions:
``register(subparsers)`` adds its parser (and ``set_defaults(run=run)``), and ``run(args)``
calls the Python API and prints. Subcommand modules import only the standard library at
module level, so that ``suptheory calc`` never imports numba.

Errors are one line on stderr, never a traceback, with these exit codes:

====  =====================================================================================
0     success
1     a failure that is not the input's fault: a file that cannot be written or read
      (``OSError``), a damaged or locked result store (``sqlite3.Error``), ``MemoryError``,
      or, as a last resort, any other exception (its type named in the message)
2     bad input: an argument argparse refuses, or ``ValueError``, ``TypeError`` and
      ``OverflowError`` from the API (a number too large to compute with)
130   interrupted (Ctrl-C)
141   stdout closed early (``suptheory sweep show s.sqlite | head``): quietly, as a shell
      reports a process ended by SIGPIPE (128 + 13)
====  =====================================================================================

Warnings: numerical ``RuntimeWarning`` s (overflow, invalid value in numpy; numpy's
floating-point errors are ignored too) are silenced -- the printed result shows what they
signal, as ``inf`` or ``-`` (NaN) -- and any other warning is printed as one line,
``suptheory CMD: warning: ...``.

Examples
--------
>>> sorted(COMMANDS)
['analyze', 'calc', 'check', 'compare', 'pack', 'solve', 'sweep', 'train']
>>> main(["solve", "l", "--n", "768", "--m", "24576", "--model", "linsefors"])
l = 9 (largest whole number of active features; continuum 9.495994516)
0
"""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, NoReturn

# name -> module; the order is the order of ``suptheory --help``.
COMMANDS: dict[str, str] = {
    "calc": "suptheory.cli.calc",
    "solve": "suptheory.cli.solve",
    "sweep": "suptheory.cli.sweep",
    "train": "suptheory.cli.train",
    "analyze": "suptheory.cli.analyze",
    "compare": "suptheory.cli.compare",
    "pack": "suptheory.cli.pack",
    "check": "suptheory.cli.check",
    # further subcommands register here
}


#: longest error message printed (a numba typing error can run to pages)
MAX_MESSAGE = 600


def one_line(text: str) -> str:
    r"""``text`` on one line: whitespace runs collapsed, cut at :data:`MAX_MESSAGE` characters.

    >>> one_line("a\n  b\tc")
    'a b c'
    """
    line = " ".join(text.split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 3] + "..."


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` on stderr and exit 2."""
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every subcommand."""
    from suptheory import __version__

    parser = Parser(
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


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    notes = getattr(exc, "__notes__", None)
    if notes:
        text += " (" + "; ".join(map(str, notes)) + ")"
    return one_line(text)


@contextmanager
def _quiet_numerics(name: str) -> Iterator[None]:
    """Silence RuntimeWarnings and numpy's float errors; other warnings as one line."""
    import numpy as np

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: IO[str] | None = None,
        line: str | None = None,
    ) -> None:
        print(f"{name}: warning: {one_line(str(message))}", file=sys.stderr)

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("default")
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.showwarning = show
        yield


def _silence_stdout() -> None:
    # The reader is gone: send what is still buffered nowhere, so that the interpreter's
    # final flush does not raise BrokenPipeError again (the recipe of Python's signal docs).
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (in-process)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code (see the table above)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    name = f"suptheory {args.command}"
    code: Any
    try:
        with _quiet_numerics(name):
            code = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except (ValueError, TypeError, OverflowError) as exc:
        # Bad input from the API is the user's to fix: say what, not a traceback.
        print(f"{name}: error: {_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except MemoryError as exc:
        detail = f": {_message(exc)}" if str(exc) else ""
        print(f"{name}: error: out of memory{detail}; try smaller sizes", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{name}: error: {_message(exc)}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"{name}: error: SQLite {type(exc).__name__}: {_message(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # the last resort: still one line, with the type to report it
        print(f"{name}: error: {type(exc).__name__}: {_message(exc)}", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
