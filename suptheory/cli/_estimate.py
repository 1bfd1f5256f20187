"""``suptheory analyze FILE --estimate [--workers K]``: the predicted analysis time (private)."""

from __future__ import annotations

import argparse
import json


def run_estimate(args: argparse.Namespace) -> int:
    """Print :func:`~suptheory.analysis.distributed.estimate_analysis_time` for FILE's shape.

    The file is only memory-mapped (its shape read), never loaded.
    """
    from suptheory.analysis.distributed import estimate_analysis_time
    from suptheory.analysis.loading import load_embedding

    W = load_embedding(args.file, key=args.key, mmap=True)
    m, n = (W.shape[1], W.shape[0]) if args.transpose else W.shape
    e = estimate_analysis_time(m, n, workers=args.workers, quantiles=args.quantiles or ())
    if args.json:
        print(
            json.dumps(
                {
                    "m": e.m,
                    "n": e.n,
                    "pairs": e.pairs,
                    "tile_rate": e.tile_rate,
                    "passes": e.passes,
                    "seconds": e.seconds,
                    "workers": e.workers,
                    "seconds_distributed": e.seconds_distributed,
                }
            )
        )
    else:
        print(e)
    return 0
