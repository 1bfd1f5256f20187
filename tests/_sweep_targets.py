"""Module-level (hence picklable) functions that the sweep tests run on pools and clusters."""

from __future__ import annotations

import os
import time
import uuid

import numpy as np


def noise(n, l, seed):  # noqa: E741 - docs/theory.md notation
    """A small Monte Carlo point: the std of a sum of l random unit-variance overlaps."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((200, int(l))) / np.sqrt(n)
    total = x.sum(axis=1)
    return {
        "std": float(total.std()),
        "count": int(l) * 200,
        "model": "random",
        "positive": bool(total.mean() > 0),
        "W": rng.standard_normal((3, int(n) % 5 + 1)),
        "labels": np.arange(int(l), dtype=np.int32),
    }


def no_seed(i, scale=1.0):
    """A deterministic point that takes no seed."""
    return {"value": i * scale}


def marked(i, seed, marker_dir, delay=0.0, slow_from=None, slow_delay=0.0):
    """Leave one marker file per call (to count calls across processes), then sleep.

    Points from ``slow_from`` on sleep ``slow_delay`` instead: a sweep to be killed has a
    quick start and a slow tail, so the kill lands mid-sweep however loaded the machine is.
    """
    with open(os.path.join(marker_dir, f"{i}-{uuid.uuid4().hex}"), "w"):
        pass
    time.sleep(slow_delay if slow_from is not None and i >= slow_from else delay)
    rng = np.random.default_rng(seed)
    return {"i2": i * i, "W": rng.standard_normal((4, 3))}


def fails_at(i, bad=3):
    """Raise for one point."""
    if i == bad:
        raise ArithmeticError(f"point {i} is bad")
    return {"value": float(i)}


def returns_list(i):
    """Break the result contract."""
    return [i]


def count_calls(marker_dir, i):
    """Count calls: markers named by the point."""
    return marked(i, 0, marker_dir)


class TwoArgError(Exception):
    """An exception that pickles but cannot be unpickled (its __init__ takes two args)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def fails_unpicklably(i, bad=3, delay=0.0):
    """Raise, for one point, an exception the parent cannot unpickle; others sleep a little."""
    if i == bad:
        raise TwoArgError(f"point {i} is bad", 7)
    time.sleep(delay)
    return {"value": float(i)}


def sleeps_and_records(i, pid_dir, seconds=300.0):
    """Write this worker's pid to a file in ``pid_dir``, then sleep (a sweep to be killed)."""
    with open(os.path.join(pid_dir, str(os.getpid())), "w") as fh:
        fh.write(str(os.getppid()))
    time.sleep(seconds)
    return {"i": i}
