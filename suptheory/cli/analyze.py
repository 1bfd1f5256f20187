"""``suptheory analyze FILE``: a weight matrix against random directions and the lower bounds.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> from suptheory.cli.main import main
>>> path = os.path.join(tempfile.mkdtemp(), "W.npy")
>>> np.save(path, np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]]))
>>> main(["analyze", path, "--no-progress"])
EmbeddingReport: m = 4 features, n = 3 dimensions
...
max |cos| (coherence)        0.7071 ...
...
coherence at pair (0, 3) (cos = 0.7071)
...
0
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from suptheory.cli._common import count, dumps, number

HELP = "analyse an embedding file: exact coherence, overlaps, D_i, against random and optimal"
DESCRIPTION = """\
Load an (m, n) embedding whose rows are features (.npy, .npz, .safetensors, .pt) and print
its exact coherence (largest |cos| between two features, with the pair), the rms and
quantiles of the pairwise overlaps, the toy-model metrics D* = n/||W||_F^2 and the feature
dimensionalities D_i, beside the same quantities for m random directions in R^n and the
best lower bound on the coherence of any m lines in R^n. The packing score is 1 at the
lower bound, 0 like random directions, negative when worse than random.

For an SAE, the decoder W_dec of shape (d_sae, d_model) has rows as features (--key W_dec);
an encoder of shape (d_model, d_sae) needs --transpose. Large matrices show a progress bar;
Ctrl-C stops cleanly.
"""
EPILOG = "example: suptheory analyze sae.safetensors --key W_dec"


def register(subparsers: Any) -> None:
    """Add the ``analyze`` subcommand."""
    p = subparsers.add_parser(
        "analyze",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "file",
        metavar="FILE",
        help="weight file: .npy, .npz, .safetensors, .pt, or "
        "a SAELens or HuggingFace (sharded) checkpoint directory",
    )
    p.add_argument(
        "--key",
        default=None,
        help="which array of a multi-array file (default: the only 2-D array)",
    )
    p.add_argument(
        "--list",
        action="store_true",
        help="list the 2-D tensors (name, shape, dtype; one per line) and stop",
    )
    p.add_argument(
        "--transpose",
        action="store_true",
        help="the file's columns are the features: analyse the transpose",
    )
    p.add_argument(
        "--quantiles",
        type=number,
        nargs="*",
        default=[0.5, 0.99],
        metavar="Q",
        help="quantiles of |cos| over pairs, in [0, 1] (default 0.5 0.99; none "
        "given: skip them; they add a second pass over all pairs beyond about 45,000 "
        "features)",
    )
    p.add_argument(
        "--top-k",
        type=int,
        default=100,
        metavar="K",
        help="list the K most-overlapping pairs (default 100)",
    )
    p.add_argument(
        "--thresholds",
        type=number,
        nargs="*",
        default=[],
        metavar="T",
        help="per feature, count the partners with |cos| >= T",
    )
    p.add_argument(
        "--l",
        type=number,
        default=None,
        help="other features active at once: report each feature's read-out noise",
    )
    p.add_argument("--a", type=number, default=1.0, help="their amplitude (default 1)")
    p.add_argument(
        "--per-feature",
        default=None,
        metavar="PATH",
        help="write the per-feature statistics (max |cos|, nearest neighbour, rms "
        "cos, counts, noise) to PATH: .csv or .json",
    )
    p.add_argument(
        "--plot",
        default=None,
        metavar="PATH",
        help="draw the report against random directions (overlap histogram, each "
        "feature's max |cos| and rms cos) to PATH, e.g. out.png (needs matplotlib)",
    )
    p.add_argument(
        "--threads",
        type=count(),
        default=None,
        help="worker threads for the blocked overlap scans (default: all cores)",
    )
    p.add_argument("--estimate", action="store_true", help="predict the analysis time and exit")
    p.add_argument("--workers", type=int, default=1, help="--estimate for K Dask workers")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load, analyse and print."""
    if getattr(args, "estimate", False):
        from suptheory.cli._estimate import run_estimate

        return run_estimate(args)
    from suptheory.analysis.analyze import analyze
    from suptheory.analysis.loading import load_embedding

    if args.list:
        tensors = load_embedding(args.file, key=args.key, list=True)
        width = max((len(name) for name, _, _ in tensors), default=0)
        for name, shape, dtype in tensors:
            print(f"{name:<{width}}  {str(shape):<16}  {dtype}")
        if not tensors:
            print(f"suptheory analyze: {args.file} holds no 2-D tensor", file=sys.stderr)
        return 0
    if args.per_feature is not None and not args.per_feature.endswith((".csv", ".json")):
        raise ValueError(f"--per-feature must name a .csv or .json file; got {args.per_feature!r}")
    if args.plot is not None:
        _check_plot_path(args.plot)  # before the long computation, not after
    W = load_embedding(args.file, key=args.key, transpose=args.transpose)
    report = analyze(
        W,
        quantiles=tuple(args.quantiles),
        l=args.l,
        a=args.a,
        top_k=args.top_k,
        thresholds=tuple(args.thresholds),
        threads=args.threads,
        progress=not args.no_progress,
    )
    if args.per_feature is not None:
        _write_per_feature(report.per_feature(), args.per_feature)
    if args.plot is not None:
        import matplotlib.pyplot as plt

        from suptheory.plots.embedding import plot_embedding_report

        fig = plot_embedding_report(report, args.plot, W=W, progress=not args.no_progress)
        plt.close(fig)
    if args.json:
        print(dumps(report.to_dict()))
        for note in report.notes:  # keep stdout pure JSON; the notes still reach the user
            print(f"suptheory analyze: note: {note}", file=sys.stderr)
    else:
        print(report)
    return 0


def _check_plot_path(path: str) -> None:
    """A path matplotlib can write: an existing folder and a known image format."""
    import os

    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:  # pragma: no cover - matplotlib is optional
        raise ValueError("--plot needs matplotlib (pip install matplotlib)") from None

    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    if suffix not in formats:
        raise ValueError(
            f"--plot must name an image file ({', '.join(sorted(formats))}); got {path!r}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"--plot: no such directory {folder!r}")


def _write_per_feature(cols: dict[str, Any], path: str) -> None:
    """Write the per-feature columns as CSV (one row per feature) or JSON (one list each)."""
    if path.endswith(".json"):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(dumps(cols))
        return
    import csv

    names = list(cols)
    lists = [cols[c].tolist() for c in names]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(names)
        out.writerows(zip(*lists, strict=True))
