"""``suptheory sweep show STORE``: list the finished points of a sweep's result store.

Examples
--------
>>> import os, tempfile
>>> from suptheory import ResultStore
>>> from suptheory.cli.main import main
>>> path = os.path.join(tempfile.mkdtemp(), "sweep.sqlite")
>>> with ResultStore(path) as store:
...     store.put({"n": 64, "l": 4}, {"noise": 0.25})
True
>>> main(["sweep", "show", path, "--csv"])
n,l,noise,seed,version,finished
64,4,0.25,,0.1.0,...
0
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from typing import Any

from suptheory._text import format_number, render_table
from suptheory.cli._common import dumps

#: seconds ``sweep show`` waits for another process's lock on the store before saying so
LOCK_TIMEOUT = 2.0


def register(subparsers: Any) -> None:
    """Add the ``sweep`` subcommand and its ``show`` action."""
    parser = subparsers.add_parser(
        "sweep",
        help="inspect the result store of a sweep",
        description=(
            "Inspect the SQLite result store a sweep writes (suptheory.sweep(..., store=PATH)): "
            "one row per finished grid point with its parameters, metrics, seed and arrays."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show",
        help="list the finished points",
        description="List the finished points of a result store: parameters, then metrics.",
    )
    show.add_argument("store", metavar="STORE", help="the store's SQLite file")
    output = show.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the rows as JSON")
    output.add_argument("--csv", action="store_true", help="print the rows as CSV")
    show.add_argument(
        "--arrays", action="store_true", help="also list each stored array's shape and dtype"
    )
    parser.set_defaults(run=run)


def _describe(array: Any) -> str:
    return f"{array.dtype}{list(array.shape)}"


def _flat(row: dict[str, Any], arrays: bool) -> dict[str, Any]:
    flat = {**row["params"], **row["metrics"]}
    if arrays:
        flat.update({name: _describe(a) for name, a in row["arrays"].items()})
    flat.update(seed=row["seed"], version=row["version"], finished=row["finished"])
    return flat


def _cell(value: Any) -> str:
    # floats and missing values as every report prints them; integers (seeds, counts) and
    # text verbatim -- --csv and --json give the full precision
    if value is None or isinstance(value, float):
        return format_number(value)
    return str(value)


def run(args: argparse.Namespace) -> int:
    """List the rows of the store."""
    if not os.path.isfile(args.store):
        raise ValueError(f"STORE must be an existing result store file; got {args.store!r}")
    import sqlite3

    from suptheory.runs.store import ResultStore

    try:
        with ResultStore(args.store, mode="r", timeout=LOCK_TIMEOUT) as store:
            rows = store.rows(arrays=args.arrays)
    except (sqlite3.OperationalError, ValueError) as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        print(
            f"suptheory sweep: error: the store {args.store!r} is locked by another process "
            f"(waited {LOCK_TIMEOUT:g} s); try again when it is done writing",
            file=sys.stderr,
        )
        return 1
    if args.json:
        if args.arrays:
            for row in rows:
                row["arrays"] = {name: _describe(a) for name, a in row["arrays"].items()}
        print(dumps(rows))
        return 0
    flat = [_flat(row, args.arrays) for row in rows]
    columns: list[str] = []
    for record in flat:
        columns.extend(name for name in record if name not in columns)
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        return 0
    cells = [[_cell(record.get(name)) for name in columns] for record in flat]
    for line in render_table(columns, cells, align="r" * len(columns)):
        print(line)
    print(f"{len(rows)} finished point(s) in {args.store}")
    return 0
