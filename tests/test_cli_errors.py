"""The command line's failures: one line on stderr, never a traceback, the documented codes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from suptheory import ResultStore
from suptheory.cli import _common
from suptheory.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG = str(10**400)


def run(argv, capsys):
    """Run the CLI in this process: (exit code, stdout, stderr)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help, or an argument it refuses
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, expected_code, match=None):
    assert code == expected_code, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    if match is not None:
        assert match in err, err


def never(*args, **kwargs):
    raise AssertionError("computed before checking the output path")


def cli_process(*argv, env=None):
    return subprocess.run(
        [sys.executable, "-m", "suptheory", *argv],
        capture_output=True,
        text=True,
        env=env or dict(os.environ, PYTHONPATH=ROOT),
        timeout=300,
    )


# -- output paths are checked before computing (both failed after the full computation) --


@pytest.mark.parametrize(
    ("where", "match"),
    [("/nonexistent/x.npy", "no directory '/nonexistent'"), (".", "is a directory")],
)
def test_pack_save_path_is_checked_first(where, match, capsys, monkeypatch):
    monkeypatch.setattr("suptheory.empirical.packing.optimize_packing", never)
    code, _, err = run(["pack", "--m", "6", "--n", "3", "--save", where], capsys)
    assert_one_line_error(code, err, 2, match)


def test_pack_save_reports_the_file_written(tmp_path, capsys):
    # np.save appends .npy: the message named out.txt, a file that was never written.
    target = tmp_path / "out.txt"
    argv = ["pack", "--m", "6", "--n", "3", "--steps", "20", "--restarts", "1", "--no-progress"]
    code, out, _ = run([*argv, "--save", str(target)], capsys)
    assert code == 0
    assert f"embedding written to {target}.npy" in out
    assert np.load(f"{target}.npy").shape == (6, 3) and not target.exists()


@pytest.mark.parametrize(
    ("where", "match"),
    [("/nonexistent/x.png", "no directory"), ("x.xyz", "cannot draw a .xyz file")],
)
def test_train_plot_path_is_checked_first(where, match, capsys, monkeypatch):
    monkeypatch.setattr("suptheory.empirical.toy_models.train_toy_models", never)
    code, _, err = run(["train", "--preset", "two-feature", "--plot", where], capsys)
    assert_one_line_error(code, err, 2, match)


# -- arguments: counts validated by argparse, one line naming the option --


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["train", "--preset", "two-feature", "--batch", "1e300"], "argument --batch"),
        (["train", "--preset", "two-feature", "--threads", "-4"], "argument --threads"),
        (["train", "--preset", "two-feature", "--threads", "True"], "argument --threads"),
        (["train", "--preset", "two-feature", "--threads", "1.5"], "argument --threads"),
        (["train", "--m", BIG, "--n", "2"], "argument --m"),
        (["check", "--n", "8", "--m", "16", "--l", "2", "--batch", "9.3e18"], "argument --batch"),
        (["check", "--n", "8", "--m", "16", "--l", "2", "--trials", BIG], "argument --trials"),
        (["check", "--n", "8", "--m", "16", "--l", "2", "--seed", "-1"], "argument --seed"),
        (["pack", "--m", BIG, "--n", "3"], "argument --m"),
        (["pack", "--m", "6", "--n", "3", "--steps", "nan"], "argument --steps"),
        (["calc", "--n", "1e400", "--m", "10", "--l", "1"], "argument --n: not a finite number"),
        (["calc", "--n", "inf", "--m", "10", "--l", "1"], "argument --n: not a finite number"),
        (["pack", "--m", "6"], "required"),
    ],
)
def test_bad_arguments_are_one_line(argv, match, capsys, monkeypatch):
    monkeypatch.setattr("suptheory.empirical.toy_models.train_toy_models", never)
    monkeypatch.setattr("suptheory.empirical.packing.optimize_packing", never)
    code, _, err = run(argv, capsys)
    assert_one_line_error(code, err, 2, match)


def test_number_and_count_types():
    import argparse

    assert _common.number("24_576") == 24576.0
    assert _common.count()("1e6") == 10**6 and _common.count(low=0, high=None)(BIG) == 10**400
    for bad in ("inf", "-inf", "nan", "1e400", BIG + "0" * 400, "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            _common.number(bad)
    for bad in ("0", "-3", "2.5", "True", "1e300", str(2**63), "nan", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            _common.count()(bad)
    from suptheory._validate import MAX_COUNT

    assert _common.MAX_COUNT == MAX_COUNT


# -- sweep show: damaged, foreign and locked stores, closed pipes --


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "s.sqlite"
    with ResultStore(path) as store:
        for i in range(3):
            store.put({"i": i}, {"v": float(i), "W": np.ones((3, 2))})
    return path


def test_sweep_show_foreign_points_table(tmp_path, capsys):
    path = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO meta VALUES('schema', '1');"
        "CREATE TABLE points(x); CREATE TABLE arrays(y); INSERT INTO points VALUES(1);"
    )
    conn.commit()
    conn.close()
    before = path.read_bytes()
    code, _, err = run(["sweep", "show", str(path)], capsys)
    assert_one_line_error(code, err, 2, "is not a suptheory result store")
    assert path.read_bytes() == before


def test_sweep_show_arrays_of_a_damaged_store(store_path, capsys):
    conn = sqlite3.connect(store_path)
    conn.execute("UPDATE arrays SET data = x'00112233'")
    conn.commit()
    conn.close()
    code, _, err = run(["sweep", "show", str(store_path), "--arrays"], capsys)
    assert_one_line_error(code, err, 2, "is damaged: the array 'W' of the point {'i': 0}")


def test_sweep_show_locked_store_says_so_quickly(store_path, capsys):
    # Before: a silent 60 s wait, then a traceback (sqlite3.OperationalError).
    locked, release = threading.Event(), threading.Event()

    def hold():
        conn = sqlite3.connect(store_path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("INSERT INTO meta VALUES ('x', 'y')")
        locked.set()
        release.wait(30)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        start = time.monotonic()
        code, _, err = run(["sweep", "show", str(store_path)], capsys)
        assert time.monotonic() - start < 15
    finally:
        release.set()
        holder.join()
    assert_one_line_error(code, err, 1, "is locked by another process")


def test_sweep_show_into_a_closed_pipe(tmp_path):
    path = tmp_path / "big.sqlite"
    with ResultStore(path) as store:
        for i in range(3000):
            store.put({"i": i, "name": "x" * 40}, {"v": float(i)})
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "suptheory", "sweep", "show", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    head = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(60)
    assert len(head) == 3 and head[0].split()[:2] == [b"i", b"name"]
    assert err == "" and code == 141


# -- exceptions of any kind: one line, documented codes --


@pytest.mark.parametrize(
    ("exc", "code", "match"),
    [
        (OSError(28, "No space left on device", "/x/out.npy"), 1, "No space left on device"),
        (sqlite3.DatabaseError("database disk image is malformed"), 1, "SQLite DatabaseError"),
        (MemoryError(), 1, "out of memory"),
        (OverflowError("int too large to convert"), 2, "int too large"),
        (RuntimeError("line one\n  line two"), 1, "RuntimeError: line one line two"),
        (ZeroDivisionError("x"), 1, "ZeroDivisionError: x"),
    ],
)
def test_every_exception_is_one_line(exc, code, match, capsys, monkeypatch):
    def raises(*args, **kwargs):
        raise exc

    monkeypatch.setattr("suptheory.empirical.packing.optimize_packing", raises)
    got, _, err = run(["pack", "--m", "6", "--n", "3"], capsys)
    assert_one_line_error(got, err, code, match)
    assert err.startswith("suptheory pack: error: ")


def test_runtime_warnings_do_not_reach_stderr(capsys):
    # Before: three RuntimeWarnings (overflow, invalid value) with their source lines.
    code, out, err = run(["calc", "--n", "1e300", "--m", "1e300", "--l", "5"], capsys)
    assert code == 0 and err == "" and out
    proc = cli_process("calc", "--n", "1e300", "--m", "1e300", "--l", "5")
    assert proc.returncode == 0 and proc.stderr == ""


def test_other_warnings_are_one_line(capsys, monkeypatch):
    import warnings

    def warns(*args, **kwargs):
        warnings.warn("first\nsecond", UserWarning, stacklevel=1)
        raise ValueError("bad")

    monkeypatch.setattr("suptheory.empirical.packing.optimize_packing", warns)
    code, _, err = run(["pack", "--m", "6", "--n", "3"], capsys)
    assert code == 2
    assert err.splitlines() == [
        "suptheory pack: warning: first second",
        "suptheory pack: error: bad",
    ]


# -- readable answers --


def test_compile_note_when_the_kernel_cache_is_empty(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert _common.note_compiling("pack", ("packing",))
    assert capsys.readouterr().err == (
        "suptheory pack: compiling numba kernels, once, about 30 s\n"
    )
    place = tmp_path / "_kernels_0123abcd"  # numba's layout: directory name + path hash
    place.mkdir()
    (place / "toy.kernel-10.py311.nbi").write_bytes(b"")
    assert _common.note_compiling("pack", ("packing",))  # another module's kernels
    capsys.readouterr()
    (place / "packing.kernel-10.py311.nbi").write_bytes(b"")
    assert not _common.note_compiling("pack", ("packing",))
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_compile_note_only_on_the_first_run(tmp_path):
    argv = ["pack", "--m", "6", "--n", "3", "--steps", "5", "--restarts", "1", "--no-progress"]
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}
    first = cli_process(*argv, env=dict(os.environ, PYTHONPATH=ROOT, **env))
    second = cli_process(*argv, env=dict(os.environ, PYTHONPATH=ROOT, **env))
    assert first.returncode == second.returncode == 0
    assert first.stderr == "suptheory pack: compiling numba kernels, once, about 30 s\n"
    assert second.stderr == ""


def test_train_help_gives_each_presets_run_time(capsys):
    code, out, _ = run(["train", "--help"], capsys)
    assert code == 0
    text = " ".join(out.split())
    for preset, time_ in [
        ("anthropic-intro", "about 2 s"),
        ("varying-sparsity", "about 4 s"),
        ("uniform-superposition", "about 25 min"),
        ("two-feature", "about 7 s"),
    ]:
        assert f"{preset} (" in text and time_ in text.split(f"{preset} (", 1)[1].split(")")[0]
