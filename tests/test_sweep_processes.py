"""Sweep processes: nothing outlives a killed sweep; a worker's error names its own point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from suptheory import point_seed, sweep
from tests import _sweep_targets as targets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _group(pgid: int) -> list[tuple[int, str]]:
    """Live (non-zombie) processes of the process group ``pgid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append((int(entry), cmdline[:100]))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="scans /proc (Linux)")
def test_sigkill_of_the_parent_ends_workers_forkserver_and_tracker(tmp_path):
    # Before the fix, after SIGKILL of the sweep's process its forkserver, pool workers and
    # resource tracker lived on until the running points finished (here 300 s).
    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "child.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        from suptheory import sweep
        from tests import _sweep_targets as targets
        if __name__ == "__main__":
            sweep(targets.sleeps_and_records, {{"i": [0, 1, 2, 3], "pid_dir": [{str(pids)!r}]}},
                  progress=False)
    """)
    )
    child = subprocess.Popen([sys.executable, str(script)], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not os.listdir(pids):  # a worker runs a point
            assert child.poll() is None, "the sweep ended early"
            assert time.monotonic() < deadline, "no worker started within 60 s"
            time.sleep(0.05)
        time.sleep(0.2)
        workers = [int(name) for name in os.listdir(pids)]
        family = _group(child.pid)
        assert len(family) >= 3, family  # the sweep, the forkserver, a worker (and a tracker)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        deadline = time.monotonic() + 5
        while _group(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _group(child.pid) == [], f"alive 5 s after the sweep was killed: {family}"
        assert set(workers) <= {pid for pid, _ in family}  # the workers were in the group
    finally:
        for pid, _ in _group(child.pid):
            os.kill(pid, signal.SIGKILL)
        if child.poll() is None:
            child.kill()
            child.wait()


def test_an_exception_that_cannot_be_unpickled_names_its_own_point():
    # Before the fix the process pool broke (BrokenProcessPool for every pending point) and
    # the sweep blamed point 2 for point 3's exception.
    with pytest.raises(RuntimeError, match="TwoArgError: point 3 is bad") as info:
        sweep(targets.fails_unpicklably, {"i": range(6), "delay": [0.3]}, progress=False)
    assert info.value.__notes__[0].startswith("raised by the sweep point {'i': 3,")


def test_point_seed_of_none_is_refused():
    # Before the fix point_seed(None, p) drew fresh entropy: a different seed on each call.
    with pytest.raises(TypeError, match="seed must be a non-negative int; got None"):
        point_seed(None, {"n": 10})
    with pytest.raises(TypeError, match="seed must be a non-negative int; got None"):
        sweep(targets.no_seed, {"i": [1]}, "serial", seed=None, progress=False)
    with pytest.raises(TypeError, match="seed must be a non-negative int"):
        point_seed("0", {"n": 10})
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        point_seed(-1, {"n": 10})
    assert point_seed(0, {"n": 10}) == point_seed(0, {"n": 10})
