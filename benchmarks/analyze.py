"""Full ``analyze`` and ``pair_statistics`` against ``coherence`` alone, measured in one run.

Targets: default ``analyze`` of a 30,522 x 384 float32 matrix (token-embedding shape, random
rows plus a shared mean direction) <= 3x ``coherence``; every per-feature statistic plus the
top-100 pairs on 200,000 x 512 (``--large``) <= 1.3x ``coherence``. With
``sentence_transformers``-free access to all-MiniLM-L6-v2 weights (``--minilm PATH`` to a
``.safetensors`` file) the real token embeddings are measured too.

``--dask`` also times ``coherence`` and default ``analyze`` of the 30,522 x 384 matrix (saved
to a temporary ``.npy`` file) on a ``LocalCluster`` of two worker processes against the
local run.

Usage: ``python benchmarks/analyze.py [--large] [--minilm PATH] [--dask]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import suptheory as st


def _time(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return time.perf_counter() - t, out


def run(name: str, W: np.ndarray, full: bool) -> None:
    st.coherence(W[:600], progress=False)  # compile / load the kernels
    st.analyze(W[:600], progress=False)
    tc, c = _time(st.coherence, W, progress=False)
    if full:
        ta, r = _time(st.analyze, W, progress=False)
        assert r.coherence == c.value
        print(f"{name}: coherence {tc:.2f} s, analyze (default) {ta:.2f} s: {ta / tc:.2f}x")
    tp, s = _time(st.pair_statistics, W, top_k=100, progress=False)
    tr, _ = _time(st.rms_overlap, W)
    assert s.coherence == c.value
    print(
        f"{name}: pair_statistics(top_k=100) {tp:.2f} s + rms_overlap {tr:.2f} s: "
        f"{(tp + tr) / tc:.2f}x coherence"
    )


def run_dask(W: np.ndarray) -> None:
    import os
    import tempfile

    import distributed

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "W.npy")
        np.save(path, W)
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            st.coherence(path, client=client, progress=False)  # workers compile / load
            tl, c = _time(st.coherence, W, progress=False)
            td, cd = _time(st.coherence, path, client=client, progress=False)
            assert (cd.value, cd.i, cd.j) == (c.value, c.i, c.j)
            print(
                f"dask coherence: local {tl:.2f} s, LocalCluster(2 workers) {td:.2f} s: "
                f"{td / tl:.2f}x"
            )
            tl, r = _time(st.analyze, W, progress=False)
            td, rd = _time(st.analyze, path, client=client, progress=False)
            assert r == rd
            print(
                f"dask analyze: local {tl:.2f} s, LocalCluster(2 workers) {td:.2f} s: "
                f"{td / tl:.2f}x"
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--large", action="store_true")
    p.add_argument("--minilm", default=None)
    p.add_argument("--dask", action="store_true")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    m, n = 30_522, 384
    W = (rng.standard_normal((m, n)) + 0.4 * rng.standard_normal(n)).astype(np.float32)
    run("synthetic 30,522 x 384", W, True)
    if args.dask:
        run_dask(W)
    if args.minilm:
        from safetensors.numpy import load_file

        E = next(v for k, v in load_file(args.minilm).items() if "word_embeddings" in k)
        run("MiniLM token embeddings", E.astype(np.float32), True)
    if args.large:
        W = rng.standard_normal((200_000, 512), dtype=np.float32)
        run("random 200,000 x 512", W, False)


if __name__ == "__main__":
    main()
