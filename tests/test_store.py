"""The result store: atomic rows, unique keys, exact round trips of metrics and arrays."""

from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from suptheory import ResultStore
from suptheory.runs.store import _SCHEMA, point_key

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def store(tmp_path):
    with ResultStore(tmp_path / "runs.sqlite") as opened:
        yield opened


ARRAYS = {
    "W": np.arange(12.0).reshape(4, 3),
    "f32": np.linspace(0, 1, 5, dtype=np.float32),
    "ints": np.array([[-3, 7]], dtype=np.int32),
    "mask": np.array([True, False]),
    "names": np.array(["linsefors", "random"]),
    "empty": np.zeros((0, 3)),
    "zero_d": np.array(2.5),
    "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
}


def test_metrics_and_arrays_round_trip(store):
    metrics = {
        "loss": 0.1 + 0.2,  # not a short decimal: JSON must keep every bit
        "tiny": 5e-324,
        "big": 2**70,
        "nan": math.nan,
        "inf": -math.inf,
        "ok": True,
        "model": "worst",
        "nothing": None,
        "np_float": np.float32(0.1),
        "np_int": np.int64(-4),
    }
    assert store.put({"n": 30, "m": 400}, {**metrics, **ARRAYS}, seed=11, function="f:g")
    row = store.get({"m": 400, "n": 30})
    got = row["metrics"]
    assert got["loss"] == 0.1 + 0.2 and got["tiny"] == 5e-324 and got["big"] == 2**70
    assert math.isnan(got["nan"]) and got["inf"] == -math.inf
    assert got["ok"] is True and got["model"] == "worst" and got["nothing"] is None
    assert got["np_float"] == float(np.float32(0.1)) and type(got["np_float"]) is float
    assert got["np_int"] == -4 and type(got["np_int"]) is int
    assert list(row["arrays"]) == list(ARRAYS)
    for name, array in ARRAYS.items():
        back = row["arrays"][name]
        assert back.dtype == array.dtype and back.shape == array.shape, name
        np.testing.assert_array_equal(back, array)
    assert row["params"] == {"n": 30, "m": 400}
    assert row["seed"] == 11 and row["function"] == "f:g"
    import suptheory

    assert row["version"] == suptheory.__version__
    assert row["finished"].endswith("+00:00")


def test_same_point_is_never_written_twice(store):
    assert store.put({"n": 2, "m": 1e6}, {"loss": 1.0, "W": np.ones(2)})
    # same point, other order, count written as an int: ignored, first row kept
    assert not store.put({"m": 1_000_000, "n": 2.0}, {"loss": 2.0, "W": np.zeros(2)})
    assert len(store) == 1
    row = store.get({"n": 2, "m": 1e6})
    assert row["metrics"] == {"loss": 1.0}
    np.testing.assert_array_equal(row["arrays"]["W"], np.ones(2))
    (blobs,) = store._conn.execute("SELECT COUNT(*) FROM arrays").fetchone()
    assert blobs == 1
    with pytest.raises(sqlite3.IntegrityError):  # the key is unique in the schema itself
        store._conn.execute(
            "INSERT INTO points(key, params, metrics, version, finished) "
            "VALUES (?, '{}', '{}', 'x', 'y')",
            (point_key({"n": 2, "m": 1e6}),),
        )


def test_discard_removes_the_row_and_its_arrays(store):
    store.put({"n": 1}, {"loss": 1.0, "W": np.ones(3), "b": np.zeros(2)})
    store.put({"n": 2}, {"loss": 2.0, "W": np.ones(3)})
    assert store.discard({"n": 1.0}) and not store.discard({"n": 1})
    assert [r["params"] for r in store.rows()] == [{"n": 2}]
    assert store._conn.execute("SELECT COUNT(*) FROM arrays").fetchone() == (1,)
    assert store.put({"n": 1}, {"loss": 3.0})  # and it can be written anew
    assert store.get({"n": 1}) == {**store.get({"n": 1}), "metrics": {"loss": 3.0}, "arrays": {}}


def test_distinct_points_distinct_keys():
    keys = {
        point_key(p) for p in [{"n": 1}, {"n": 1.5}, {"n": True}, {"n": "1"}, {"n": None}, {"m": 1}]
    }
    assert len(keys) == 6


def test_rows_keep_write_order_and_reopen(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultStore(path) as store:
        for n in (3, 1, 2):
            store.put({"n": n}, {"sq": n * n})
        assert {"n": 1} in store and {"n": 4} not in store
    with ResultStore(str(path)) as store:  # a str path, reopened
        rows = store.rows()
        assert [r["params"]["n"] for r in rows] == [3, 1, 2]
        assert all("arrays" not in r for r in rows)
        assert store.keys() == {point_key({"n": n}) for n in (1, 2, 3)}
        assert store.get({"n": 9}) is None


def test_dataframe(store):
    pd = pytest.importorskip("pandas")
    store.put({"n": 1, "model": "random"}, {"loss": 0.5, "W": np.eye(2)}, seed=3)
    store.put({"n": 2, "model": "worst"}, {"loss": 0.25, "extra": 1, "W": np.eye(3)}, seed=4)
    frame = store.to_dataframe()
    assert list(frame.columns) == [
        "n",
        "model",
        "loss",
        "extra",
        "seed",
        "function",
        "version",
        "seconds",
        "finished",
    ]
    assert frame["loss"].tolist() == [0.5, 0.25]
    assert math.isnan(frame["extra"][0]) and frame["extra"][1] == 1
    with_arrays = store.to_dataframe(arrays=True)
    np.testing.assert_array_equal(with_arrays["W"][1], np.eye(3))
    empty = ResultStore(":memory:").to_dataframe()
    assert isinstance(empty, pd.DataFrame) and len(empty) == 0


def test_dataframe_without_pandas(store, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    store.put({"n": 1}, {"loss": 0.5})
    with pytest.raises(ImportError, match=r"pip install 'suptheory\[pandas\]'"):
        store.to_dataframe()
    assert store.rows()[0]["metrics"] == {"loss": 0.5}  # plain dicts still work


@pytest.mark.parametrize(
    ("result", "error", "match"),
    [
        ([1, 2], TypeError, "must return a dict"),
        ({"loss": [1.0, 2.0]}, TypeError, r"result\['loss'\].*numpy.asarray"),
        ({"loss": 1 + 2j}, TypeError, r"result\['loss'\]"),
        ({"W": np.array([object()])}, TypeError, "object array"),
        ({"n": 1.0}, ValueError, "'n' is already a parameter"),
        ({"seed": 1}, ValueError, "reserved"),
        ({"": 1}, TypeError, "non-empty strings"),
        ({3: 1}, TypeError, "non-empty strings"),
    ],
)
def test_result_contract_enforced(store, result, error, match):
    with pytest.raises(error, match=match):
        store.put({"n": 1}, result)
    assert len(store) == 0


@pytest.mark.parametrize(
    ("point", "error", "match"),
    [
        ({"n": math.nan}, ValueError, "NaN"),
        ({"n": [1]}, TypeError, r"point\['n'\] must be a scalar"),
        ({"not valid": 1}, TypeError, "not an identifier"),
        ([("n", 1)], TypeError, "must be a dict"),
    ],
)
def test_bad_points(store, point, error, match):
    with pytest.raises(error, match=match):
        store.put(point, {"x": 1})


def test_bad_paths(tmp_path):
    with pytest.raises(TypeError, match="path must be a file path"):
        ResultStore(3)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(ValueError, match="not a suptheory result store"):
        ResultStore(junk)
    with pytest.raises(ValueError, match="cannot open"):
        ResultStore(tmp_path / "missing-dir" / "x.sqlite")
    path = tmp_path / "future.sqlite"
    with ResultStore(path):
        pass
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value='99' WHERE name='schema'")
    conn.close()
    with pytest.raises(ValueError, match="schema 99"):
        ResultStore(path)


def test_wal_mode(store):
    (mode,) = store._conn.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


class _FailingConnection:
    """Wraps a sqlite3 connection; the array insert fails after the point row went in."""

    def __init__(self, conn):
        self.conn = conn

    def execute(self, *args):
        return self.conn.execute(*args)

    def executemany(self, *args):
        raise OSError("disk on fire")


def test_failed_write_leaves_no_partial_row(store):
    conn = store._conn
    store._conn = _FailingConnection(conn)
    with pytest.raises(OSError, match="disk on fire"):
        store.put({"n": 1}, {"loss": 1.0, "W": np.ones(3)})
    store._conn = conn
    assert len(store) == 0
    assert conn.execute("SELECT COUNT(*) FROM arrays").fetchone() == (0,)
    assert store.put({"n": 1}, {"loss": 1.0, "W": np.ones(3)})  # and the store still works
    assert len(store) == 1


# The child writes one point, then SIGKILLs itself in the middle of the second transaction:
# after the point row went in, before its arrays and the commit.
_KILL_MID_TRANSACTION = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from suptheory import ResultStore

    class Dying:
        def __init__(self, conn):
            self.conn = conn
        def execute(self, *args):
            return self.conn.execute(*args)
        def executemany(self, *args):
            os.kill(os.getpid(), signal.SIGKILL)

    store = ResultStore(sys.argv[1])
    store.put({"n": 1}, {"loss": 1.0, "W": np.ones((50, 50))})
    store._conn = Dying(store._conn)
    store.put({"n": 2}, {"loss": 2.0, "W": np.ones((50, 50))})
    """
)


def test_sigkill_inside_a_transaction_leaves_no_trace(tmp_path):
    path = tmp_path / "killed.sqlite"
    child = subprocess.run(
        [sys.executable, "-c", _KILL_MID_TRANSACTION, str(path)], cwd=ROOT, timeout=120
    )
    assert child.returncode == -9
    assert os.path.exists(f"{path}-wal")  # killed with the journal open: recovery is needed
    with ResultStore(path) as store:
        assert store._conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert [r["params"] for r in store.rows()] == [{"n": 1}]
        assert store._conn.execute("SELECT COUNT(*) FROM arrays").fetchone() == (1,)
        np.testing.assert_array_equal(store.get({"n": 1})["arrays"]["W"], np.ones((50, 50)))
        assert store.put({"n": 2}, {"loss": 2.0})


# --- properties -------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.text(max_size=10),
)


@given(
    params=st.dictionaries(names, scalars.filter(lambda v: v is not None), max_size=4),
    metrics=st.dictionaries(names.map(lambda s: "m_" + s), scalars, max_size=5),
)
def test_put_get_round_trip_property(params, metrics):
    with ResultStore(":memory:") as store:
        assert store.put(params, metrics, seed=5)
        row = store.get(dict(reversed(list(params.items()))))
        assert row["params"] == params and list(row["params"]) == list(params)
        assert row["metrics"] == metrics
        assert [type(v) for v in row["metrics"].values()] == [type(v) for v in metrics.values()]
        assert not store.put(params, {"other": 1})
        assert len(store) == 1


@given(st.dictionaries(names, st.integers(-(2**52), 2**52), min_size=1, max_size=5))
def test_key_ignores_order_and_integral_float_form(point):
    as_floats = {k: float(v) for k, v in reversed(list(point.items()))}
    assert point_key(point) == point_key(as_floats)


def test_opening_waits_for_another_writer(tmp_path):
    # Switching a file to WAL while another connection holds the write lock fails at once
    # with "locked" (SQLite's busy timeout is not consulted): opening must wait instead.
    import threading

    path = tmp_path / "busy.sqlite"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process creating the same store
    for statement in _SCHEMA.split(";"):
        other.execute(statement)
    other.execute("INSERT INTO meta VALUES ('schema', '1')")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    start = time.monotonic()
    try:
        with ResultStore(path) as store:
            assert time.monotonic() - start >= 0.25
            assert store.put({"i": 1}, {"v": 1})
    finally:
        release.join()
        other.close()


def test_many_writers_opening_a_new_store_at_once(tmp_path):
    import threading

    errors = []

    def writer(path, start, barrier):
        try:
            barrier.wait()
            with ResultStore(path) as store:
                for i in range(start, start + 3):
                    store.put({"i": i}, {"v": i})
        except Exception as exc:  # collected: a thread's exception would otherwise vanish
            errors.append(exc)

    for trial in range(5):
        path = tmp_path / f"new{trial}.sqlite"
        barrier = threading.Barrier(4)
        threads = [threading.Thread(target=writer, args=(path, k, barrier)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[0]
        with ResultStore(path) as store:
            assert sorted(r["params"]["i"] for r in store.rows()) == list(range(6))


# --- reading never writes; files that are not stores are refused unchanged ------------------


def _sha256(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _companions(path):
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def _foreign_database(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO users(name) VALUES (?)", [("ada",), ("bob",)])
    conn.commit()
    conn.close()
    return path


def _show(path, capsys):
    from suptheory.cli.main import main

    code = main(["sweep", "show", str(path)])
    return code, capsys.readouterr()


@pytest.mark.parametrize("kind", ["sqlite", "bytes"])
def test_a_file_that_is_not_a_store_is_refused_and_left_byte_identical(tmp_path, capsys, kind):
    folder = tmp_path / "app"
    folder.mkdir()
    path = folder / "other_app.db"
    if kind == "sqlite":
        _foreign_database(path)
    else:
        path.write_bytes(b"SQLite format 2\x00 but not really" * 50)
    before = _sha256(path)
    for mode in ("r", "a"):
        with pytest.raises(ValueError, match="not a suptheory result store"):
            ResultStore(path, mode=mode)
    code, captured = _show(path, capsys)
    assert code == 2
    assert "not a suptheory result store" in captured.err
    assert _sha256(path) == before
    assert _companions(path) == []  # no -wal, -shm or -journal left behind
    if kind == "sqlite":
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            assert conn.execute("SELECT COUNT(*) FROM users").fetchone() == (2,)
        conn.close()


def test_a_foreign_database_refused_by_sweep(tmp_path):
    from suptheory import sweep

    path = _foreign_database(tmp_path / "other_app.db")
    before = _sha256(path)
    with pytest.raises(ValueError, match="not a suptheory result store"):
        sweep(lambda n: {"v": n}, {"n": [1]}, "serial", store=path)
    assert _sha256(path) == before


def test_a_read_only_store_is_read_without_writing(tmp_path, capsys):
    path = tmp_path / "runs.sqlite"
    with ResultStore(path) as store:
        store.put({"n": 2}, {"loss": 0.5, "W": np.ones((2, 2))})
    assert _companions(path) == []  # a closed store is one file, in rollback journal mode
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()
    path.chmod(0o444)
    before = _sha256(path)
    try:
        with ResultStore(path, mode="r") as store:
            assert store.get({"n": 2})["metrics"] == {"loss": 0.5}
            assert len(store) == 1
            with pytest.raises(ValueError, match="read-only"):
                store.put({"n": 3}, {"loss": 0.1})
            with pytest.raises(ValueError, match="read-only"):
                store.discard({"n": 2})
        code, captured = _show(path, capsys)
        assert code == 0, captured.err
        assert "1 finished point(s)" in captured.out
        assert _sha256(path) == before
        assert _companions(path) == []  # nor a -wal or -shm file next to it
    finally:
        path.chmod(0o644)


def test_reading_mode_refuses_what_is_not_there(tmp_path):
    with pytest.raises(ValueError, match="no such result store"):
        ResultStore(tmp_path / "missing.sqlite", mode="r")
    assert not (tmp_path / "missing.sqlite").exists()
    with pytest.raises(ValueError, match="is a directory"):
        ResultStore(tmp_path, mode="r")
    with pytest.raises(ValueError, match="is a directory"):
        ResultStore(tmp_path)
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(ValueError, match="empty file"):
        ResultStore(empty, mode="r")
    assert empty.read_bytes() == b""
    with pytest.raises(ValueError, match="mode must be"):
        ResultStore(empty, mode="w")


def test_a_store_read_while_a_sweep_writes_sees_new_points(tmp_path):
    path = tmp_path / "runs.sqlite"
    with ResultStore(path) as writer:
        writer.put({"n": 1}, {"v": 1})
        with ResultStore(path, mode="r") as reader:
            assert len(reader) == 1
            writer.put({"n": 2}, {"v": 2})
            assert len(reader) == 2


def test_a_writer_leaves_wal_on_while_another_connection_is_open(tmp_path):
    path = tmp_path / "runs.sqlite"
    with ResultStore(path) as first:
        with ResultStore(path) as second:
            second.put({"n": 1}, {"v": 1})
        # second closed while first is open: the file stays in WAL mode, nothing is lost
        (mode,) = first._conn.execute("PRAGMA journal_mode").fetchone()
        assert mode == "wal"
        assert first.put({"n": 2}, {"v": 2})
        first.close()
        first.close()  # closing twice is harmless
    with ResultStore(path, mode="r") as reader:
        assert len(reader) == 2
