"""An interruption-proof store of finished sweep points: one SQLite row per point.

A sweep that trains toy models or runs simulations over a grid writes each finished point
here as soon as it is done, so that a sweep killed at any moment loses only the points that
were running. The store is an embedded SQLite database (a single file, no server), in WAL
mode while a writer has it open (the last writer to close it switches back to the rollback
journal, so a closed store is one file that reads without creating ``-wal``/``-shm`` files).
Each point is written in one transaction, so a row is either complete -- parameters,
metrics, seed, version and every array -- or absent; its key is unique, so writing a point
twice never duplicates it. Opening with ``mode="r"`` never writes, and a file that is not a
store is refused unchanged.

Schema (version 1)::

    points(id INTEGER PRIMARY KEY,
           key TEXT UNIQUE,      -- canonical JSON of the parameters (sorted, counts as ints)
           params TEXT,          -- JSON object of the parameters as given, in grid order
           metrics TEXT,         -- JSON object of the scalar metrics the function returned
           seed INTEGER,         -- the random seed the point was computed with (NULL: none taken)
           function TEXT,        -- "module:qualname" of the function (or NULL)
           version TEXT,         -- suptheory.__version__ that wrote the row
           seconds REAL,         -- wall time of the call (or NULL)
           finished TEXT)        -- UTC time the row was written, ISO 8601
    arrays(point INTEGER REFERENCES points(id), name TEXT, data BLOB,  -- .npy bytes
           PRIMARY KEY (point, name))
    meta(name TEXT PRIMARY KEY, value TEXT)   -- holds schema = "1"

The ``sqlite3`` command line or any SQLite library can read the file; ``json_extract(metrics,
'$.loss')`` works on every finite metric (Python's JSON writes NaN and infinities as ``NaN``
and ``Infinity``, which only Python reads back).
"""

from __future__ import annotations

import datetime
import io
import json
import math
import numbers
import os
import time
from collections.abc import Container, Mapping
from typing import Any

import numpy as np

from suptheory._validate import as_scalar

__all__ = ["ResultStore"]

SCHEMA_VERSION = "1"

#: column names of :meth:`ResultStore.to_dataframe` besides parameters, metrics and arrays;
#: a function's result may not use them as names.
RESERVED = ("seed", "function", "version", "seconds", "finished")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    params TEXT NOT NULL,
    metrics TEXT NOT NULL,
    seed INTEGER,
    function TEXT,
    version TEXT NOT NULL,
    seconds REAL,
    finished TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS arrays (
    point INTEGER NOT NULL REFERENCES points(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (point, name)
);
"""


# --- parameters and results: validation and canonical forms ---------------------------------


def _scalar(value: Any, what: str) -> Any:
    """Return ``value`` as a plain Python scalar (numpy scalars unwrapped) or raise TypeError.

    This unwraps a parameter value for storage; it is not the input validator
    :func:`suptheory._validate.as_scalar` (which checks one real number against a range).
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"{what} must be a scalar (int, float, bool, str or None); got {type(value).__name__} "
        f"{value!r}"
    )


def check_params(point: Any, what: str = "point") -> dict[str, Any]:
    """Validate one grid point: a mapping from identifier names to scalars (not NaN).

    Returns a new dict with numpy scalars turned into Python scalars, in the given order.

    Examples
    --------
    >>> check_params({"n": np.int64(3), "model": "random"})
    {'n': 3, 'model': 'random'}
    >>> check_params({"n": [1, 2]})
    Traceback (most recent call last):
    ...
    TypeError: point['n'] must be a scalar (int, float, bool, str or None); got list [1, 2]
    """
    if not isinstance(point, Mapping):
        raise TypeError(f"{what} must be a dict of parameter names to values; got {point!r}")
    out: dict[str, Any] = {}
    for name, value in point.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"{what} has a parameter name that is not an identifier: {name!r}")
        value = _scalar(value, f"{what}[{name!r}]")
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"{what}[{name!r}] must not be NaN (a NaN point has no identity)")
        out[name] = value
    return out


def _key_value(value: Any) -> Any:
    # Counts may be written as floats (m=1e6); 1e6 and 1000000 are the same grid point.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2.0**53:
        return int(value)
    return value


def point_key(point: Mapping[str, Any]) -> str:
    """Canonical JSON of a grid point: the unique key of its row in the store.

    Names are sorted and integral floats written as integers, so the key does not depend on
    the order of the parameters or on whether a count was given as ``1e6`` or ``1000000``.

    Examples
    --------
    >>> point_key({"m": 1e6, "n": 30, "model": "random"})
    '{"m":1000000,"model":"random","n":30}'
    """
    params = check_params(point)
    canon = {name: _key_value(value) for name, value in params.items()}
    return json.dumps(canon, sort_keys=True, separators=(",", ":"), allow_nan=True)


def split_result(result: Any, params: Container[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a function's result into scalar metrics and numpy arrays, checking the contract.

    The contract: a result is a mapping from string names to scalars (int, float, bool, str,
    None or numpy scalars; stored as JSON) or numpy arrays of a non-object dtype (stored as
    ``.npy`` blobs). Names may not repeat a parameter's name or a reserved column
    (``seed``, ``function``, ``version``, ``seconds``, ``finished``).

    Examples
    --------
    >>> split_result({"loss": np.float64(0.25), "W": np.eye(2)})
    ({'loss': 0.25}, {'W': array([[1., 0.], [0., 1.]])})
    """
    if not isinstance(result, Mapping):
        raise TypeError(
            "the swept function must return a dict of metric names to scalars or numpy arrays; "
            f"got {type(result).__name__}"
        )
    metrics: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, value in result.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"result names must be non-empty strings; got {name!r}")
        if name in params or name in RESERVED:
            taken = "a parameter" if name in params else "a reserved column"
            raise ValueError(f"result name {name!r} is already {taken}; rename that metric")
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError(
                    f"result[{name!r}] is an object array; only numeric, bool and string "
                    "arrays can be stored"
                )
            arrays[name] = value
        else:
            try:
                metrics[name] = _scalar(value, f"result[{name!r}]")
            except TypeError:
                raise TypeError(
                    f"result[{name!r}] must be a scalar (int, float, bool, str or None) or a "
                    f"numpy array; got {type(value).__name__} (wrap lists in numpy.asarray)"
                ) from None
    return metrics, arrays


def _to_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _from_npy(blob: bytes) -> np.ndarray:
    array: np.ndarray = np.load(io.BytesIO(blob), allow_pickle=False)
    return array


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


# --- opening: refuse files that are not stores before SQLite writes to them -----------------

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _uri(path: str, *options: str) -> str:
    from urllib.parse import quote

    return f"file:{quote(os.path.abspath(path))}?{'&'.join(options)}"


#: the columns each table of a store has (schema 1)
_COLUMNS_OF = {
    "meta": {"name", "value"},
    "points": {
        "id",
        "key",
        "params",
        "metrics",
        "seed",
        "function",
        "version",
        "seconds",
        "finished",
    },
    "arrays": {"point", "name", "data"},
}


def _stored_schema(conn: Any, path: str, *, allow_empty: bool) -> str | None:
    """The schema version of an open store; ``None`` for an empty database if allowed.

    Raises ValueError for a database that is not a suptheory store (it has other tables, or
    lacks ``meta``, ``points`` or ``arrays``); reads only.
    """
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        if allow_empty:
            return None
        raise ValueError(f"{path!r} is an empty SQLite database, not a suptheory result store")
    if not {"meta", "points", "arrays"} <= tables:
        raise ValueError(
            f"{path!r} is a SQLite database but not a suptheory result store (its tables are "
            f"{', '.join(sorted(tables))}; a store has meta, points and arrays); it was left "
            "unchanged"
        )
    for table, wanted in _COLUMNS_OF.items():
        have = {record[1] for record in conn.execute(f"PRAGMA table_info({table})")}
        if not wanted <= have:
            raise ValueError(
                f"{path!r} is not a suptheory result store: its table {table} has the columns "
                f"{', '.join(sorted(have)) or '(none)'}; a store's has "
                f"{', '.join(sorted(wanted))}"
            )
    row = conn.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
    if row is None:
        raise ValueError(f"{path!r} is not a suptheory result store (meta holds no schema)")
    return str(row[0])


def _check_store_file(path: str, mode: str) -> None:
    """Refuse, without changing it, a path that is not a store (or, for ``"a"``, not new).

    Only a missing file, an empty file or an empty SQLite database may become a store; any
    other file must already be one. The tables are inspected through a read-only connection
    that creates no ``-wal`` or ``-shm`` file when none exists (SQLite's ``immutable``).
    """
    import sqlite3
    import stat

    try:
        info = os.stat(path)
    except FileNotFoundError:
        if mode == "r":
            raise ValueError(f"no such result store: {path!r}") from None
        return
    except OSError as exc:
        raise ValueError(f"cannot open the result store {path!r}: {exc}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{path!r} is a directory, not a result store file")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path!r} is not a regular file, so not a result store")
    if info.st_size == 0:
        if mode == "r":
            raise ValueError(f"{path!r} is an empty file, not a suptheory result store")
        return
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise ValueError(f"cannot open the result store {path!r}: {exc}") from exc
    if magic != _SQLITE_MAGIC:
        raise ValueError(
            f"{path!r} is not a suptheory result store (not a SQLite database); it was left "
            "unchanged"
        )
    # With no -wal file no connection is open, and an immutable connection reads the file
    # as it is without creating -wal or -shm; otherwise read through the WAL.
    options = ["mode=ro"] if os.path.exists(path + "-wal") else ["mode=ro", "immutable=1"]
    try:
        conn = sqlite3.connect(_uri(path, *options), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise ValueError(f"cannot open the result store {path!r}: {exc}") from exc
    try:
        _stored_schema(conn, path, allow_empty=mode != "r")
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path!r} is not a suptheory result store: {exc}") from exc
    finally:
        conn.close()


def _connect_read_only(path: str, timeout: float) -> Any:
    """A read-only connection (``mode=ro``): reading a store never writes to it.

    Reading a WAL database needs its ``-shm`` file; where that cannot be created (a read-only
    directory) no process can be writing the store, and it is opened ``immutable``.
    """
    import sqlite3

    conn = sqlite3.connect(_uri(path, "mode=ro"), uri=True, timeout=timeout, isolation_level=None)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        if "unable to open" not in str(exc):
            raise
        conn = sqlite3.connect(
            _uri(path, "mode=ro", "immutable=1"), uri=True, timeout=timeout, isolation_level=None
        )
    return conn


# --- the store ---------------------------------------------------------------------------


class ResultStore:
    """A SQLite file holding one row per finished sweep point, written atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The database file; created (with its directory's permission) if missing.
    mode : {"a", "r"}
        ``"a"`` (default): read and write; a missing or empty file becomes a new store.
        ``"r"``: read only; the file is opened read-only (SQLite ``mode=ro``) and never
        written, so a store on a read-only file or medium can be read. In either mode a file
        that is not a suptheory store (another application's SQLite database, any other
        file) is refused with a ValueError before anything is written to it.
    timeout : float
        Seconds to wait for another process's write lock before raising.

    Notes
    -----
    Each :meth:`put` is one transaction (``BEGIN IMMEDIATE ... COMMIT``) with
    ``synchronous=FULL`` in WAL mode, so a row survives a crash of the process (or the
    machine) the moment :meth:`put` returns, and a crash before that leaves no trace of it.
    The key of a row is the canonical JSON of its parameters (:func:`point_key`), unique in
    the table, so writing the same point again is a no-op. Only the process that calls
    :meth:`put` writes -- sweep workers never touch the file -- so any number of readers may
    open it while a sweep runs.

    Results load as plain dicts (:meth:`rows`, :meth:`get`) or, with pandas installed, as a
    DataFrame (:meth:`to_dataframe`); arrays come back as the numpy arrays that were stored.

    Examples
    --------
    >>> import tempfile, os
    >>> tmp = tempfile.mkdtemp()
    >>> with ResultStore(os.path.join(tmp, "runs.sqlite")) as store:
    ...     store.put({"n": 2, "m": 3}, {"loss": 0.5, "W": np.ones((3, 2))}, seed=7)
    ...     store.put({"m": 3.0, "n": 2}, {"loss": 0.9})  # the same point: not written again
    ...     row = store.get({"n": 2, "m": 3})
    ...     len(store), row["metrics"], row["seed"], row["arrays"]["W"].shape
    True
    False
    (1, {'loss': 0.5}, 7, (3, 2))
    """

    def __init__(
        self, path: str | os.PathLike[str], mode: str = "a", *, timeout: float = 60.0
    ) -> None:
        import sqlite3

        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or os.PathLike); got {path!r}")
        if not isinstance(mode, str) or mode not in ("r", "a"):
            raise ValueError(f"mode must be 'r' (read only) or 'a' (read and write); got {mode!r}")
        timeout = as_scalar(timeout, "timeout", low=0)
        self.path = os.fspath(path)
        self.mode = mode
        self._closed = False
        # Look before SQLite touches the file: a file that is not a store is refused unchanged.
        _check_store_file(self.path, mode)
        try:
            if mode == "r":
                self._conn = _connect_read_only(self.path, timeout)
            else:
                # isolation_level=None: we open and close every transaction ourselves.
                self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise ValueError(f"cannot open the result store {self.path!r}: {exc}") from exc
        try:
            if mode == "r":
                schema = _stored_schema(self._conn, self.path, allow_empty=False)
            else:
                schema = self._initialise(timeout)
        except sqlite3.OperationalError:
            self._conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise ValueError(f"{self.path!r} is not a suptheory result store: {exc}") from exc
        except BaseException:
            self._conn.close()
            raise
        if schema != SCHEMA_VERSION:
            self._conn.close()
            raise ValueError(
                f"{self.path!r} has store schema {schema}; this suptheory reads schema "
                f"{SCHEMA_VERSION}"
            )

    def _initialise(self, timeout: float) -> str:
        """Create the tables if the database is empty, set WAL; return the schema version.

        The check that the file is a store (or an empty database) and the creation of the
        tables are one transaction, so nothing is written to a database that is not a store.
        """
        import sqlite3

        conn = self._conn
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        deadline = time.monotonic() + timeout
        while True:
            # Switching a new file to WAL (or locking it while another process does) can
            # fail with "locked" without SQLite's busy handler being consulted when several
            # processes open it at once: retry.
            try:
                schema = self._create_tables()
                conn.execute("PRAGMA journal_mode=WAL")
                return schema
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _create_tables(self) -> str:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            schema = _stored_schema(conn, self.path, allow_empty=True)
            if schema is None:  # an empty database: make it a store
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO meta(name, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
                )
                schema = SCHEMA_VERSION
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return schema

    def _check_writable(self) -> None:
        if self.mode == "r":
            raise ValueError(
                f"{self!r} was opened read-only (mode='r'); open it with mode='a' to write"
            )

    # -- context manager and basics --

    def close(self) -> None:
        """Close the database connection (the file stays).

        A writer that is the last connection to the file leaves it in SQLite's rollback
        journal mode (WAL is switched on again by the next writer), so the closed store is a
        single file that a read-only reader can open without creating ``-wal`` and ``-shm``
        files -- also in a directory it cannot write to.
        """
        import sqlite3

        if self._closed:
            return
        self._closed = True
        if self.mode == "a":
            try:
                # fails at once ("locked") while another connection has the file open
                self._conn.execute("PRAGMA busy_timeout=0")
                self._conn.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error:
                pass
        self._conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.mode == "r":
            return f"ResultStore({self.path!r}, mode='r')"
        return f"ResultStore({self.path!r})"

    def __len__(self) -> int:
        (count,) = self._conn.execute("SELECT COUNT(*) FROM points").fetchone()
        return int(count)

    def __contains__(self, point: object) -> bool:
        key = point_key(point)  # type: ignore[arg-type]
        return self._conn.execute("SELECT 1 FROM points WHERE key=?", (key,)).fetchone() is not None

    def keys(self) -> set[str]:
        """The keys (:func:`point_key`) of every finished point."""
        return {key for (key,) in self._conn.execute("SELECT key FROM points")}

    # -- writing --

    def put(
        self,
        point: Mapping[str, Any],
        result: Mapping[str, Any],
        *,
        seed: int | None = None,
        function: str | None = None,
        seconds: float | None = None,
    ) -> bool:
        """Write one finished point in a single transaction; return whether it was new.

        Parameters
        ----------
        point : dict
            The parameters, names to scalars.
        result : dict
            Names to scalar metrics or numpy arrays (see :func:`split_result`).
        seed : int, optional
            The seed the point was computed with.
        function : str, optional
            Which function computed it, e.g. ``"mypackage.train:run"``.
        seconds : float, optional
            How long it took.

        Returns
        -------
        bool
            ``True`` if the row was written, ``False`` if the point was already stored (the
            stored row is left unchanged).
        """
        params = check_params(point)
        metrics, arrays = split_result(result, params)
        return self._put(params, metrics, arrays, seed, function, seconds)

    def _put(
        self,
        params: dict[str, Any],
        metrics: dict[str, Any],
        arrays: dict[str, np.ndarray],
        seed: int | None,
        function: str | None,
        seconds: float | None,
    ) -> bool:
        from suptheory import __version__

        self._check_writable()
        key = point_key(params)
        # Encode everything before the transaction opens: it then holds the lock only briefly.
        params_json = json.dumps(params, allow_nan=True)
        metrics_json = json.dumps(metrics, allow_nan=True)
        blobs = [(name, _to_npy(array)) for name, array in arrays.items()]
        row = (key, params_json, metrics_json, seed, function, __version__, seconds, _now())
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute(
                "INSERT INTO points(key, params, metrics, seed, function, version, seconds, "
                "finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
                row,
            )
            written = cursor.rowcount == 1
            if written:
                point_id = cursor.lastrowid
                conn.executemany(
                    "INSERT INTO arrays(point, name, data) VALUES (?, ?, ?)",
                    [(point_id, name, blob) for name, blob in blobs],
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return bool(written)

    def discard(self, point: Mapping[str, Any]) -> bool:
        """Delete one point's row and its arrays (one transaction); return whether it existed.

        The next sweep over a grid holding this point computes it again.
        """
        key = point_key(point)
        self._check_writable()
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute("DELETE FROM points WHERE key=?", (key,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return bool(cursor.rowcount == 1)

    # -- reading --

    def _row(self, record: tuple[Any, ...], arrays: bool) -> dict[str, Any]:
        point_id, params, metrics, seed, function, version, seconds, finished = record
        row = {
            "params": json.loads(params),
            "metrics": json.loads(metrics),
            "seed": seed,
            "function": function,
            "version": version,
            "seconds": seconds,
            "finished": finished,
        }
        if arrays:
            row["arrays"] = {}
            for name, blob in self._conn.execute(
                "SELECT name, data FROM arrays WHERE point=? ORDER BY rowid", (point_id,)
            ):
                try:
                    row["arrays"][name] = _from_npy(blob)
                except Exception as exc:  # a damaged blob: numpy's message would mislead
                    raise ValueError(
                        f"the result store {self.path!r} is damaged: the array {name!r} of the "
                        f"point {row['params']} is not valid .npy data "
                        f"({type(exc).__name__}: {exc})"
                    ) from exc
        return row

    _COLUMNS = "id, params, metrics, seed, function, version, seconds, finished"

    def get(self, point: Mapping[str, Any], *, arrays: bool = True) -> dict[str, Any] | None:
        """The stored row of one point as a dict, or ``None`` if it is not stored.

        The dict has keys ``params``, ``metrics``, ``seed``, ``function``, ``version``,
        ``seconds``, ``finished`` and (with ``arrays=True``) ``arrays``, a dict of numpy arrays.
        """
        record = self._conn.execute(
            f"SELECT {self._COLUMNS} FROM points WHERE key=?", (point_key(point),)
        ).fetchone()
        return None if record is None else self._row(record, arrays)

    def rows(self, *, arrays: bool = False) -> list[dict[str, Any]]:
        """Every stored row as a dict (see :meth:`get`), in the order they were written.

        Arrays are loaded only with ``arrays=True``: trained weights can be large.
        """
        records = self._conn.execute(f"SELECT {self._COLUMNS} FROM points ORDER BY id").fetchall()
        return [self._row(record, arrays) for record in records]

    def to_dataframe(self, *, arrays: bool = False) -> Any:
        """Every stored row as a pandas DataFrame: one column per parameter and metric.

        Columns are the parameters, then the metrics, then (with ``arrays=True``) one object
        column per array name, then ``seed``, ``function``, ``version``, ``seconds`` and
        ``finished``. A point that lacks a metric others have shows NaN (or None) there.

        Raises
        ------
        ImportError
            If pandas is not installed (``pip install "suptheory[pandas]"``); :meth:`rows`
            gives the same data as plain dicts without it.

        Examples
        --------
        >>> import tempfile, os
        >>> with ResultStore(os.path.join(tempfile.mkdtemp(), "r.sqlite")) as store:
        ...     for n in (1, 2):
        ...         _ = store.put({"n": n}, {"loss": 1 / n})
        ...     store.to_dataframe()[["n", "loss"]]
           n  loss
        0  1   1.0
        1  2   0.5
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "ResultStore.to_dataframe needs pandas: pip install 'suptheory[pandas]' "
                "(or use ResultStore.rows() for plain dicts)"
            ) from exc
        records = []
        for row in self.rows(arrays=arrays):
            record = {**row["params"], **row["metrics"]}
            if arrays:
                record.update(row["arrays"])
            record.update({name: row[name] for name in RESERVED})
            records.append(record)
        frame = pd.DataFrame.from_records(records)
        if not records:
            return pd.DataFrame(columns=list(RESERVED))
        tail = [name for name in RESERVED]
        return frame[[c for c in frame.columns if c not in tail] + tail]
