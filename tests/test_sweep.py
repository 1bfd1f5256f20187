"""Sweeps: same results as a plain loop on every executor, resume after SIGKILL, clear errors."""

from __future__ import annotations

import functools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import suptheory.runs.sweep as sweep_module
from suptheory import ResultStore, grid_points, point_seed, sweep
from suptheory._text import format_number
from tests import _sweep_targets as targets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRID = {"n": [8, 21], "l": [1, 3, 5]}


def assert_results_equal(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert set(a) == set(b)
        for name in a:
            if isinstance(b[name], np.ndarray):
                assert a[name].dtype == b[name].dtype
                np.testing.assert_array_equal(a[name], b[name])
            else:
                assert a[name] == b[name] and type(a[name]) is type(b[name])


def plain_loop(function, grid, seed=0):
    """The reference: call the function point by point, in order, with each point's seed."""
    return [function(**p, seed=point_seed(seed, p)) for p in grid_points(grid)]


def comparable(rows):
    """Stored rows without the fields that legitimately differ between runs."""
    out = []
    for row in rows:
        row = dict(row)
        del row["seconds"], row["finished"]
        row["arrays"] = {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in row["arrays"].items()}
        out.append(row)
    return sorted(out, key=lambda r: sorted(r["params"].items()))


# --- grids and seeds ----------------------------------------------------------------------


def test_grid_is_the_cartesian_product_first_name_slowest():
    points = grid_points({"a": [1, 2], "b": ["x", "y", "z"], "c": np.array([0.5])})
    assert points == [{"a": a, "b": b, "c": 0.5} for a in (1, 2) for b in ("x", "y", "z")]
    assert type(points[0]["c"]) is float  # numpy values become Python scalars
    explicit = [{"n": 1}, {"n": 2, "model": "worst"}]
    assert grid_points(explicit) == explicit
    assert grid_points({"i": range(3)}) == [{"i": 0}, {"i": 1}, {"i": 2}]


@given(
    st.dictionaries(
        st.sampled_from(["n", "m", "l", "p", "model"]),
        st.lists(st.integers(-5, 5), min_size=1, max_size=3, unique=True),
        min_size=1,
    )
)
def test_grid_points_is_each_combination_once_in_product_order(grid):
    points = grid_points(grid)
    assert len(points) == int(np.prod([len(v) for v in grid.values()]))
    assert all(list(p) == list(grid) for p in points)
    indices = [tuple(grid[k].index(p[k]) for k in grid) for p in points]
    assert indices == sorted(set(indices))  # every combination once, first name slowest


def test_import_suptheory_stays_light():
    code = (
        "import sys, suptheory; "
        "heavy = {'sqlite3', 'pandas', 'distributed', 'dask', "
        "'suptheory.runs.sweep', 'suptheory.runs.store'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_point_seeds_depend_only_on_sweep_seed_and_parameters():
    points = grid_points({"n": range(30), "model": ["random", "worst"], "eps": [0.1, 0.2]})
    seeds = [point_seed(7, p) for p in points]
    assert len(set(seeds)) == len(points)
    assert all(0 <= s < 2**63 for s in seeds)
    shuffled = points[:]
    random.Random(1).shuffle(shuffled)
    assert {tuple(p.items()): point_seed(7, p) for p in shuffled} == {
        tuple(p.items()): s for p, s in zip(points, seeds, strict=True)
    }
    assert point_seed(7, {"n": 3, "m": 1e6}) == point_seed(7, {"m": 1_000_000, "n": 3})
    assert set(seeds).isdisjoint(point_seed(8, p) for p in points)


@given(st.integers(0, 2**64), st.dictionaries(st.sampled_from("nmlpa"), st.integers(0, 99)))
def test_point_seed_is_a_valid_rng_seed(seed, point):
    value = point_seed(seed, point)
    assert value == point_seed(seed, dict(reversed(list(point.items()))))
    np.random.default_rng(value)


# --- results equal a plain loop, on every executor ----------------------------------------


def test_serial_and_threads_equal_plain_loop():
    expected = plain_loop(targets.noise, GRID, seed=3)
    assert_results_equal(sweep(targets.noise, GRID, "serial", seed=3, progress=False), expected)
    with ThreadPoolExecutor(2) as pool:
        assert_results_equal(sweep(targets.noise, GRID, pool, seed=3, progress=False), expected)
    # an explicit list in another order gives the same result per point
    reordered = grid_points(GRID)[::-1]
    got = sweep(targets.noise, reordered, "serial", seed=3, progress=False)
    assert_results_equal(got[::-1], expected)


def test_function_without_seed_gets_none():
    got = sweep(targets.no_seed, {"i": [1, 2], "scale": [0.5]}, "serial", progress=False)
    assert got == [{"value": 0.5}, {"value": 1.0}]


def test_every_executor_stores_identical_rows(tmp_path):
    distributed = pytest.importorskip("distributed")
    runs = {}
    with ThreadPoolExecutor(2) as pool:
        runs["threads"] = sweep(targets.noise, GRID, pool, tmp_path / "threads.sqlite", seed=1)
    runs["process"] = sweep(targets.noise, GRID, None, tmp_path / "process.sqlite", seed=1)
    runs["serial"] = sweep(targets.noise, GRID, "serial", tmp_path / "serial.sqlite", seed=1)
    # a real cluster: one worker process with two threads (the function travels pickled)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        runs["dask"] = sweep(targets.noise, GRID, client, tmp_path / "dask.sqlite", seed=1)
    expected = plain_loop(targets.noise, GRID, seed=1)
    rows = {}
    for name, results in runs.items():
        assert_results_equal(results, expected)
        with ResultStore(tmp_path / f"{name}.sqlite") as store:
            rows[name] = comparable(store.rows(arrays=True))
    assert len(rows["serial"]) == 6
    assert rows["serial"][0]["function"] == "tests._sweep_targets:noise"
    for name in ("threads", "process", "dask"):
        assert rows[name] == rows["serial"], name


def test_user_process_pool_is_left_open(tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        got = sweep(targets.no_seed, {"i": [1, 2]}, pool, progress=False)
        assert pool.submit(abs, -1).result() == 1
    assert got == [{"value": 1.0}, {"value": 2.0}]


# --- the store: resume, no recomputation ---------------------------------------------------


def markers(directory):
    counts = {}
    for name in os.listdir(directory):
        i = int(name.split("-")[0])
        counts[i] = counts.get(i, 0) + 1
    return counts


def test_resume_computes_only_missing_points(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    function = functools.partial(targets.marked, marker_dir=str(marks))
    path = tmp_path / "s.sqlite"
    first = sweep(function, {"i": [0, 2, 4]}, "serial", path, progress=False)
    assert markers(marks) == {0: 1, 2: 1, 4: 1}
    with ThreadPoolExecutor(2) as pool:
        full = sweep(function, {"i": range(6)}, pool, path, progress=False)
    assert markers(marks) == dict.fromkeys(range(6), 1)
    assert_results_equal([full[i] for i in (0, 2, 4)], first)
    reference = functools.partial(targets.marked, marker_dir=str(tmp_path))
    assert_results_equal(full, plain_loop(reference, {"i": range(6)}))
    # all done: nothing runs, results come from the store (and no pool is started)
    again = sweep(function, {"i": range(6)}, None, ResultStore(path), progress=False)
    assert markers(marks) == dict.fromkeys(range(6), 1)
    assert_results_equal(again, full)
    with ResultStore(path) as store:
        assert len(store) == 6
        store.discard({"i": 3})
    # a discarded point is computed again, and only it
    sweep(function, {"i": range(6)}, "serial", path, progress=False)
    assert markers(marks) == {**dict.fromkeys(range(6), 1), 3: 2}


def test_other_sweep_seed_on_the_same_store_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    sweep(targets.noise, GRID, "serial", path, seed=1, progress=False)
    with pytest.raises(ValueError, match="computed with seed"):
        sweep(targets.noise, GRID, "serial", path, seed=2, progress=False)
    # a function that takes no seed does not care
    sweep(targets.no_seed, {"i": [1]}, "serial", tmp_path / "t.sqlite", seed=1, progress=False)
    sweep(targets.no_seed, {"i": [1]}, "serial", tmp_path / "t.sqlite", seed=2, progress=False)
    with ResultStore(tmp_path / "t.sqlite") as store:
        assert store.get({"i": 1})["seed"] is None  # it was given none


def test_two_sweeps_sharing_a_store_never_duplicate(tmp_path):
    path = tmp_path / "shared.sqlite"
    grids = [{"i": range(0, 30)}, {"i": range(10, 40)}]

    def run(grid):
        with ThreadPoolExecutor(2) as pool:
            return sweep(targets.no_seed, grid, pool, path, progress=False)

    with ThreadPoolExecutor(2) as outer:
        first, second = outer.map(run, grids)
    assert [r["value"] for r in first] == list(range(0, 30))
    assert [r["value"] for r in second] == list(range(10, 40))
    with ResultStore(path) as store:
        assert sorted(r["params"]["i"] for r in store.rows()) == list(range(40))


# The child sweeps 40 points on the default process pool into a store: 8 quick ones, then a
# slow tail, so that the parent's signal lands mid-sweep however loaded the machine is.
_CHILD_SWEEP = textwrap.dedent(
    """
    import functools, sys
    from suptheory import sweep
    from tests import _sweep_targets as targets

    if __name__ == "__main__":
        store, marks, slow_delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
        function = functools.partial(
            targets.marked, marker_dir=marks, delay=0.02, slow_from=8, slow_delay=slow_delay
        )
        sweep(function, {"i": range(40)}, store=store, seed=5)
    """
)


def start_child_sweep(tmp_path, slow_delay, rows):
    """Start the child sweep in its own process group; return it once ``rows`` are stored."""
    path, marks = tmp_path / "child.sqlite", tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "child_sweep.py"
    script.write_text(_CHILD_SWEEP)
    env = dict(os.environ, PYTHONPATH=ROOT)
    child = subprocess.Popen(
        [sys.executable, str(script), str(path), str(marks), str(slow_delay)],
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    stored = 0
    try:
        while stored < rows:
            assert child.poll() is None, "the sweep ended before the signal"
            assert time.monotonic() < deadline, f"the sweep stored {stored} rows in 2 minutes"
            time.sleep(0.02)
            if os.path.exists(path):
                try:
                    with sqlite3.connect(path, timeout=5) as conn:
                        (stored,) = conn.execute("SELECT COUNT(*) FROM points").fetchone()
                    conn.close()
                except sqlite3.OperationalError:  # schema not created yet
                    pass
    except BaseException:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        raise
    return child, path, marks


def test_sigkill_mid_sweep_then_resume(tmp_path):
    # SIGKILL to the whole group, as when a node dies: the sweep and its workers at once.
    child, path, marks = start_child_sweep(tmp_path, slow_delay=0.3, rows=6)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL

    with ResultStore(path) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        before = {row["params"]["i"] for row in store.rows()}
    assert 6 <= len(before) < 40, "the kill did not land mid-sweep"
    calls_before = markers(marks)
    assert all(calls_before[i] == 1 for i in before)

    function = functools.partial(targets.marked, marker_dir=str(marks))
    with ThreadPoolExecutor(2) as pool:
        results = sweep(function, {"i": range(40)}, pool, path, seed=5, progress=False)
    calls_after = markers(marks)
    assert all(calls_after[i] == 1 for i in before), "a stored point was computed again"
    assert all(calls_after[i] == calls_before.get(i, 0) + 1 for i in set(range(40)) - before)
    reference = functools.partial(targets.marked, marker_dir=str(tmp_path / "ref"))
    os.mkdir(tmp_path / "ref")
    assert_results_equal(results, plain_loop(reference, {"i": range(40)}, seed=5))
    with ResultStore(path) as store:
        rows = store.rows(arrays=True)
        (blobs,) = store._conn.execute("SELECT COUNT(*) FROM arrays").fetchone()
    assert sorted(row["params"]["i"] for row in rows) == list(range(40))  # all, once each
    assert blobs == 40 and all(row["arrays"]["W"].shape == (4, 3) for row in rows)


def test_ctrl_c_stops_at_once_and_keeps_finished_points(tmp_path):
    # SIGINT to the sweep process alone, while two workers are in 60-second points: the
    # sweep must not wait for them (they cannot be stored any more), and lose nothing stored.
    child, path, marks = start_child_sweep(tmp_path, slow_delay=60, rows=8)
    try:
        time.sleep(0.2)  # let the workers get well into the slow points
        start = time.monotonic()
        os.kill(child.pid, signal.SIGINT)
        child.wait(timeout=30)
        assert time.monotonic() - start < 20
        assert child.returncode == -signal.SIGINT  # died of KeyboardInterrupt
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    with ResultStore(path) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert {row["params"]["i"] for row in store.rows()} == set(range(8))


# --- errors --------------------------------------------------------------------------------


def test_failing_point_reraises_and_keeps_finished_points(tmp_path):
    path = tmp_path / "s.sqlite"
    with pytest.raises(ArithmeticError, match="point 3 is bad") as info:
        sweep(targets.fails_at, {"i": range(6)}, "serial", path, progress=False)
    assert "raised by the sweep point {'i': 3}" in "".join(info.value.__notes__)
    with ResultStore(path) as store:
        assert sorted(r["params"]["i"] for r in store.rows()) == [0, 1, 2]
    with ThreadPoolExecutor(1) as pool, pytest.raises(ArithmeticError):
        sweep(targets.fails_at, {"i": range(6), "bad": [4]}, pool, path, progress=False)
    with ResultStore(path) as store:
        done = {r["params"]["i"] for r in store.rows() if r["params"].get("bad") == 4}
    assert {0, 1, 2, 3} <= done and 4 not in done
    got = sweep(targets.fails_at, {"i": range(6), "bad": [9]}, "serial", path, progress=False)
    assert [r["value"] for r in got] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_failing_point_on_dask():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with pytest.raises(ArithmeticError, match="point 3 is bad") as info:
            sweep(targets.fails_at, {"i": range(5)}, client, progress=False)
        assert "{'i': 3}" in "".join(info.value.__notes__)
        # the client is still usable afterwards
        assert sweep(targets.no_seed, {"i": [1]}, client, progress=False) == [{"value": 1.0}]


def test_broken_result_contract_is_a_type_error():
    with pytest.raises(TypeError, match="must return a dict"):
        sweep(targets.returns_list, {"i": [1]}, "serial", progress=False)
    with ThreadPoolExecutor(1) as pool, pytest.raises(TypeError, match="must return a dict"):
        sweep(targets.returns_list, {"i": [1]}, pool, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"grid": {}}, ValueError, "grid is empty"),
        ({"grid": []}, ValueError, "grid is empty"),
        ({"grid": {"i": []}}, ValueError, r"grid\['i'\] is empty"),
        ({"grid": {"i": 3}}, TypeError, r"grid\['i'\] must be a list.*\[3\]"),
        ({"grid": {"i": "abc"}}, TypeError, r"grid\['i'\] must be a list"),
        ({"grid": "i=1"}, TypeError, "grid must be a dict"),
        ({"grid": 5}, TypeError, "grid must be a dict"),
        ({"grid": [{"i": 1}, {"i": 1.0}]}, ValueError, "grid points 0 and 1 are the same"),
        ({"grid": [{"i": float("nan")}]}, ValueError, "NaN"),
        ({"grid": {"i": [[1, 2]]}}, TypeError, "must be a scalar"),
        ({"grid": {"i": [1], "seed": [1]}}, ValueError, "named 'seed'"),
        ({"grid": {"j": [1]}}, TypeError, "cannot be called with the grid's parameters"),
        ({"function": 3}, TypeError, "function must be callable"),
        ({"executor": object()}, TypeError, "executor must be None.*got object"),
        ({"executor": "threads"}, ValueError, "executor must be None.*'threads'"),
        ({"store": 3}, TypeError, "store must be None, a file path or a ResultStore"),
        ({"seed": -1}, ValueError, "seed must be a non-negative int"),
        ({"seed": 1.5}, TypeError, "seed must be a non-negative int"),
        ({"seed": None}, TypeError, "seed must be a non-negative int"),
    ],
)
def test_bad_input(kwargs, error, match):
    arguments = {"function": targets.no_seed, "grid": {"i": [1]}, "executor": "serial"}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        sweep(**arguments, progress=False)


def test_local_cluster_is_not_a_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        with pytest.raises(TypeError, match=r"pass dask.distributed.Client\(cluster\)"):
            sweep(targets.no_seed, {"i": [1]}, cluster, progress=False)


def test_unpicklable_function_on_a_process_pool():
    def local(i):
        return {"value": i}

    with pytest.raises(TypeError, match="cannot be pickled"):
        sweep(local, {"i": [1]}, progress=False)
    # the same function runs fine in this process
    assert sweep(local, {"i": [1]}, "serial", progress=False) == [{"value": 1}]


def test_interactive_function_on_a_process_pool(monkeypatch):
    main = sys.modules["__main__"]
    monkeypatch.delattr(main, "__file__", raising=False)  # as in a notebook or the REPL

    def typed_in(i):
        return {"value": i}

    typed_in.__module__ = "__main__"
    typed_in.__qualname__ = "typed_in"
    monkeypatch.setattr(main, "typed_in", typed_in, raising=False)  # picklable by reference
    with pytest.raises(TypeError, match="defined interactively"):
        sweep(typed_in, {"i": [1]}, progress=False)
    with pytest.raises(TypeError, match="defined interactively"):
        sweep(functools.partial(typed_in), {"i": [1]}, progress=False)
    with ThreadPoolExecutor(1) as pool:
        assert sweep(typed_in, {"i": [1]}, pool, progress=False) == [{"value": 1}]


# --- progress ------------------------------------------------------------------------------


def test_progress_bar_counts_points(tmp_path, monkeypatch):
    calls = []
    real = sweep_module.progress_bar

    class Spy:
        """Delegates to the real bar, counting updates (a disabled tqdm bar counts none)."""

        def __init__(self, bar):
            self.bar, self.updates = bar, 0

        def __enter__(self):
            self.bar.__enter__()
            return self

        def __exit__(self, *exc):
            return self.bar.__exit__(*exc)

        def update(self, k):
            self.updates += k
            return self.bar.update(k)

    def spy(total, desc, progress=True, **kwargs):
        bar = Spy(real(total, desc, progress, **kwargs))
        calls.append((total, progress, kwargs, bar))
        return bar

    monkeypatch.setattr(sweep_module, "progress_bar", spy)
    path = tmp_path / "s.sqlite"
    sweep(targets.no_seed, {"i": [1, 2]}, "serial", path)
    with ThreadPoolExecutor(2) as pool:
        sweep(targets.no_seed, {"i": [1, 2, 3, 4, 5]}, pool, path, progress=False)
    (t1, p1, k1, bar1), (t2, p2, k2, bar2) = calls
    assert (t1, p1, k1["initial"], bar1.updates) == (2, True, 0, 2)
    assert (t2, p2, k2["initial"], bar2.updates) == (5, False, 2, 3)
    assert bar2.bar.disable  # progress=False
    assert bar1.bar.disable  # stderr is not a terminal under pytest


# --- command line ----------------------------------------------------------------------------


def _cli(argv, capsys):
    """Run `suptheory sweep ...` through its own parser (other subcommands may not exist yet)."""
    import argparse

    from suptheory.cli import sweep as cli_sweep

    parser = argparse.ArgumentParser(prog="suptheory")
    cli_sweep.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.run(args)
    return code, capsys.readouterr().out


def test_cli_show(tmp_path, capsys):
    import csv
    import io
    import json

    path = tmp_path / "s.sqlite"
    sweep(targets.noise, {"n": [8], "l": [1, 3]}, "serial", path, seed=2, progress=False)
    expected = plain_loop(targets.noise, {"n": [8], "l": [1, 3]}, seed=2)

    code, out = _cli(["sweep", "show", str(path), "--json"], capsys)
    rows = json.loads(out)
    assert code == 0 and [r["params"] for r in rows] == [{"n": 8, "l": 1}, {"n": 8, "l": 3}]
    assert [r["metrics"]["std"] for r in rows] == [e["std"] for e in expected]
    assert "arrays" not in rows[0]

    code, out = _cli(["sweep", "show", str(path), "--csv", "--arrays"], capsys)
    records = list(csv.DictReader(io.StringIO(out)))
    assert [float(r["std"]) for r in records] == [e["std"] for e in expected]
    assert records[0]["W"] == "float64[3, 4]" and records[1]["labels"] == "int32[3]"
    assert int(records[0]["seed"]) == point_seed(2, {"n": 8, "l": 1})

    code, out = _cli(["sweep", "show", str(path)], capsys)
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["n", "l", "std", "count"]
    assert lines[-1].startswith("2 finished point(s)")
    assert format_number(expected[1]["std"]) in lines[2]

    with pytest.raises(ValueError, match="STORE must be an existing result store"):
        _cli(["sweep", "show", str(tmp_path / "missing.sqlite")], capsys)
