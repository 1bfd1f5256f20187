"""``suptheory compare A B``: best matches between two dictionaries, MMCS, a matching.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> from suptheory.cli.main import main
>>> folder = tempfile.mkdtemp()
>>> W = np.random.default_rng(0).standard_normal((100, 16))
>>> np.save(os.path.join(folder, "a.npy"), W)
>>> np.save(os.path.join(folder, "b.npy"), W[::-1] + 0.01)
>>> main(["compare", os.path.join(folder, "a.npy"), os.path.join(folder, "b.npy"),
...       "--no-progress"])
Comparison: A has 100 features, B has 100, n = 16 (similarity: signed cosine)
quantity                A -> B  B -> A
----------------------  ------  ------
mean max cosine (MMCS)  0.9999  0.9999
...
one-to-one matching: 100 pairs, mean cos 0.9999; the best match of 100 of the 100 features of A
0
"""

from __future__ import annotations

import argparse
from typing import Any

from suptheory.cli._common import dumps, number

HELP = "compare two dictionaries: each feature's best match in the other, MMCS, a matching"
DESCRIPTION = """\
Load two (m, n) dictionaries whose rows are features (.npy, .npz, .safetensors, .pt, SAELens
or HuggingFace checkpoint directories) of the same width n, e.g. the decoders W_dec of two
SAEs trained from different seeds, and print the mean max cosine similarity (MMCS) both
ways, the fraction of features whose best match reaches each threshold, and, when neither
has more than 20,000 features, the mean cosine of an optimal one-to-one matching. Every
best match is exact (one screened pass over all pairs, never an m_A x m_B matrix).
"""
EPILOG = "example: suptheory compare seed0.safetensors seed1.safetensors --key-a W_dec"


def register(subparsers: Any) -> None:
    """Add the ``compare`` subcommand."""
    p = subparsers.add_parser(
        "compare",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("a", metavar="A", help="the first dictionary's weight file or checkpoint")
    p.add_argument("b", metavar="B", help="the second dictionary's weight file or checkpoint")
    p.add_argument(
        "--key-a",
        default=None,
        metavar="K",
        help="which array of A's file (default: the only 2-D array)",
    )
    p.add_argument(
        "--key-b",
        default=None,
        metavar="K",
        help="which array of B's file (default: the only 2-D array)",
    )
    p.add_argument(
        "--transpose-a",
        action="store_true",
        help="A's columns are the features: compare its transpose",
    )
    p.add_argument(
        "--transpose-b",
        action="store_true",
        help="B's columns are the features: compare its transpose",
    )
    p.add_argument(
        "--abs",
        action="store_true",
        help="match by |cos|: a feature and its negation are the same feature",
    )
    p.add_argument(
        "--thresholds",
        type=number,
        nargs="*",
        default=[0.5, 0.7, 0.9],
        metavar="T",
        help="report the fraction of features whose best match has "
        "cosine >= T (default 0.5 0.7 0.9)",
    )
    one = p.add_mutually_exclusive_group()
    one.add_argument(
        "--one-to-one",
        dest="one_to_one",
        action="store_const",
        const=True,
        default=None,
        help="compute the one-to-one matching at any size",
    )
    one.add_argument(
        "--no-one-to-one",
        dest="one_to_one",
        action="store_const",
        const=False,
        help="skip the one-to-one matching",
    )
    p.add_argument(
        "--per-feature",
        default=None,
        metavar="PATH",
        help="write each feature of A's best match in B and its cosine (and its "
        "one-to-one partner) to PATH: .csv or .json",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="worker threads for the blocked scan (default: all cores)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load both, compare and print."""
    from suptheory.analysis.compare import compare
    from suptheory.analysis.loading import load_embedding
    from suptheory.cli.analyze import _write_per_feature

    if args.per_feature is not None and not args.per_feature.endswith((".csv", ".json")):
        raise ValueError(f"--per-feature must name a .csv or .json file; got {args.per_feature!r}")
    A = load_embedding(args.a, key=args.key_a, transpose=args.transpose_a)
    B = load_embedding(args.b, key=args.key_b, transpose=args.transpose_b)
    result = compare(
        A,
        B,
        abs=args.abs,
        thresholds=tuple(args.thresholds),
        one_to_one=args.one_to_one,
        threads=args.threads,
        progress=not args.no_progress,
    )
    if args.per_feature is not None:
        _write_per_feature(result.per_feature("a"), args.per_feature)
    print(dumps(result.to_dict()) if args.json else result)
    return 0
