"""The screened passes on a real Dask cluster (``LocalCluster``, two worker processes).

Results must be bit-identical to the local run, survive a worker killed mid-run, and resume
from a checkpoint without recomputing the finished block rows.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from suptheory import analyze, coherence
from suptheory.analysis import distributed as D
from suptheory.analysis.pairs import pair_statistics

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore:.*[Pp]ort.*:UserWarning")


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as c,
        distributed.Client(c) as client,
    ):
        yield c, client


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    rng = np.random.default_rng(31)
    W = (rng.standard_normal((2300, 40)) + 0.3 * rng.standard_normal(40)).astype(np.float32)
    W[17] = -W[400]  # an antipodal pair: the coherence, exactly 1
    W[5] = 0.0  # a zero row
    path = tmp_path_factory.mktemp("dist") / "W.npy"
    np.save(path, W)
    return path, W


def _same_stats(a, b):
    for name in ("max_overlap", "nearest", "nearest_overlap", "counts", "top_pairs"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.quantiles == b.quantiles and a.coherence == b.coherence and a.pair == b.pair


def test_bit_identical_to_the_local_run(cluster, matrix):
    _, client = cluster
    path, W = matrix
    local = coherence(W, progress=False, block=256)
    for src in (str(path), np.load(path, mmap_mode="r")):
        dist = coherence(src, client=client, progress=False, block=256, rows_per_task=512)
        assert (dist.value, dist.i, dist.j, dist.overlap) == (
            local.value,
            local.i,
            local.j,
            local.overlap,
        )
        assert dist.zero_rows == local.zero_rows == (5,)
    kw = {
        "top_k": 20,
        "thresholds": [0.3],
        "quantiles": (0.5, 0.9, 0.99),
        "block": 256,
        "progress": False,
    }
    _same_stats(
        pair_statistics(path, client=client, rows_per_task=512, **kw), pair_statistics(W, **kw)
    )
    ra = analyze(path, client=client, l=5, top_k=10, progress=False)
    rb = analyze(W, l=5, top_k=10, progress=False)
    assert ra == rb
    np.testing.assert_array_equal(ra.max_overlap, rb.max_overlap)
    np.testing.assert_array_equal(ra.noise_positive, rb.noise_positive)


def test_an_array_without_a_file_is_refused(cluster):
    _, client = cluster
    with pytest.raises(ValueError, match="file"):
        coherence(np.eye(3), client=client, progress=False)


def test_a_worker_killed_mid_run(cluster, matrix):
    """One worker process is killed (SIGKILL) as soon as a block row has finished; Dask
    re-runs its tasks elsewhere (the nanny restarts it) and the result is unchanged."""
    import signal
    import threading
    import time

    from suptheory.analysis._rows import row_set

    _, client = cluster
    path, W = matrix
    client.wait_for_workers(2, timeout=60)
    arr, src = D.open_source(str(path))
    rows = row_set(arr)
    d = D.Distributed(src, rows, client, block=64, rows_per_task=64)
    victim = sorted(client.scheduler_info()["workers"])[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    killed = []

    def killer():
        for _ in range(3000):
            if d.computed >= 1:
                os.kill(pid, signal.SIGKILL)
                killed.append(victim)
                return
            time.sleep(0.005)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    P = d.stats(signed=False, top_k=10, thresholds=np.array([0.3]), nbins=0, desc="x")
    t.join(timeout=60)
    assert killed, "the worker was not killed"
    local = pair_statistics(W, top_k=10, thresholds=[0.3], block=64, progress=False)
    has = P.row_arg >= 0
    np.testing.assert_array_equal(P.row_best[has], local.max_overlap[rows.keep[has]])
    np.testing.assert_array_equal(rows.keep[P.row_arg[has]], local.nearest[rows.keep[has]])
    np.testing.assert_array_equal(P.counts_r[:, 0], local.counts[rows.keep, 0])
    assert d.computed == -(-len(rows) // 64)
    client.wait_for_workers(2, timeout=120)


def test_resume_from_a_checkpoint(cluster, matrix, tmp_path, caplog):
    _, client = cluster
    path, W = matrix
    db = tmp_path / "run.db"
    from suptheory.analysis._rows import row_set

    arr, src = D.open_source(str(path))
    rows = row_set(arr)
    d = D.Distributed(src, rows, client, block=128, checkpoint=db, rows_per_task=128)
    # interrupt the first run after three finished block rows
    real_add = d.checkpoint.add
    calls = []

    def add(*a):
        real_add(*a)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    d.checkpoint.add = add
    with pytest.raises(KeyboardInterrupt):
        d.coherence()
    d.checkpoint.close()
    total = -(-len(rows) // 128)
    d2 = D.Distributed(src, rows, client, block=128, checkpoint=db, rows_per_task=128)
    with caplog.at_level(logging.INFO, logger="suptheory.analysis.distributed"):
        best = d2.coherence()
    assert d2.resumed == 3 and d2.computed == total - 3
    assert "resuming coherence: 3 of" in caplog.text
    local = coherence(W, block=128, progress=False)
    keep = rows.keep
    assert (best[0], best[1], int(keep[best[2]]), int(keep[best[3]])) == (
        local.value,
        local.overlap,
        local.i,
        local.j,
    )
    # a third run finds everything and computes nothing
    r = coherence(path, client=client, block=128, rows_per_task=128, checkpoint=db, progress=False)
    assert (r.value, r.i, r.j) == (local.value, local.i, local.j)
    d2.checkpoint.close()


def test_estimate():
    e = D.estimate_analysis_time(1_000_000, 2304, workers=100, measure=True, seconds=0.5)
    assert e.measured and e.tile_rate > 0 and e.seconds_distributed == e.seconds / 100
    assert "on 100 such workers" in str(e)


def test_estimate_counts_the_quantiles_second_pass_only_where_it_is_taken():
    assert D.estimate_analysis_time(30_522, 384, measure=False).passes == 1.0
    assert D.estimate_analysis_time(1_000_000, 2304, measure=False).passes == 2.0
    assert D.estimate_analysis_time(1_000_000, 2304, measure=False, quantiles=()).passes == 1.0
    assert D.estimate_analysis_time(1_000_000, 2304, measure=False, passes=3).passes == 3.0
    with pytest.raises(ValueError, match="passes"):
        D.estimate_analysis_time(10, 4, measure=False, passes=float("nan"))


def test_a_cluster_run_shows_progress_off_a_terminal(cluster, tmp_path, monkeypatch, capsys):
    """A multi-hour cluster run printed nothing: now plain progress lines (stderr is not a
    terminal here), one per finished task at a zero interval, and a last '(done)' line."""
    import suptheory._runner as runner

    _, client = cluster
    monkeypatch.setattr(runner, "LINE_INTERVAL", 0.0)
    W = np.random.default_rng(2).standard_normal((8200, 8)).astype(np.float32)  # 2^25 pairs
    path = tmp_path / "W.npy"
    np.save(path, W)
    r = coherence(str(path), client=client, block=1024, rows_per_task=2048, progress=True)
    assert r.value == coherence(W, progress=False).value
    lines = [x for x in capsys.readouterr().err.splitlines() if "on the cluster" in x]
    assert len(lines) >= 3 and lines[-1].endswith("(done)")
    assert "coherence on the cluster: 100% (33,615,900/33,615,900 pairs)" in lines[-1]
    assert all("%" in x and "pairs" in x for x in lines)
