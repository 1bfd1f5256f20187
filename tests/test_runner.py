"""The chunk runner: every chunk runs in order, Ctrl-C keeps the finished ones, progress shows
as a bar on a terminal and as plain lines elsewhere, and never for short or quiet runs."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import suptheory._runner as R
from suptheory._runner import ChunkRunner
from tests.helpers import interrupt_on_call

sizes = st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=20)


def run(chunks, step, **kwargs):
    """Drive ``step`` over ``chunks`` the way the library's loops do."""
    results = []
    with ChunkRunner(sum(chunks), "demo", **kwargs) as runner:
        for chunk in chunks:
            results.append(step(chunk))
            runner.update(chunk)
    return results, runner


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@given(sizes)
def test_every_chunk_runs_in_order(chunks):
    seen = []
    results, runner = run(chunks, lambda c: seen.append(c) or 2 * c, progress=False)
    assert seen == chunks and results == [2 * c for c in chunks]
    assert (runner.done, runner.chunks, runner.interrupted) == (sum(chunks), len(chunks), False)


@given(sizes, st.data())
def test_ctrl_c_on_the_kth_chunk_keeps_the_k_minus_1_before(chunks, data):
    k = data.draw(st.integers(min_value=1, max_value=len(chunks)))
    min_done = data.draw(st.integers(min_value=0, max_value=60))
    flaky, calls = interrupt_on_call(lambda c: c, k)
    finished = sum(chunks[: k - 1])
    if finished < min_done:  # nothing worth keeping: the interrupt goes on
        with pytest.raises(KeyboardInterrupt):
            run(chunks, flaky, progress=False, min_done=min_done)
        assert len(calls) == k
        return
    results, runner = run(chunks, flaky, progress=False, min_done=min_done)
    assert len(calls) == k  # nothing ran after the interrupt
    assert results == chunks[: k - 1]
    assert (runner.done, runner.chunks, runner.interrupted) == (finished, k - 1, True)


def test_other_errors_propagate_and_do_not_count_as_interrupts():
    with pytest.raises(ZeroDivisionError):
        with ChunkRunner(3, "demo", progress=False, min_done=0) as runner:
            runner.update(1)
            _ = 1 / 0
    assert not runner.interrupted


def test_plain_lines_off_a_terminal_after_the_interval(monkeypatch, capsys):
    clock = FakeClock()
    monkeypatch.setattr(R, "_clock", clock)
    monkeypatch.setattr(R, "LINE_INTERVAL", 10.0)
    with ChunkRunner(10_000, "simulate_levels", unit="trial") as runner:
        for _ in range(10):
            clock.now += 4.0  # a line every third chunk (12 s), none at 4 or 8 s
            runner.update(1_000)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "simulate_levels: 30% (3,000/10,000 trials), 12 s",
        "simulate_levels: 60% (6,000/10,000 trials), 24 s",
        "simulate_levels: 90% (9,000/10,000 trials), 36 s",
        "simulate_levels: 100% (10,000/10,000 trials), 40 s (done)",
    ]


def test_plain_lines_say_interrupted_and_handle_unknown_totals(monkeypatch, capsys):
    clock = FakeClock()
    monkeypatch.setattr(R, "_clock", clock)
    with ChunkRunner(None, "sweep", unit="point") as runner:
        clock.now += 200.0
        runner.update(1_234)
        raise KeyboardInterrupt
    assert runner.interrupted
    assert capsys.readouterr().err.splitlines() == [
        "sweep: 1,234 points, 3 min 20 s",
        "sweep: 1,234 points, 3 min 20 s (interrupted)",
    ]


@pytest.mark.parametrize("tty", [False, True])
def test_nothing_shown_when_progress_is_off(monkeypatch, tty):
    clock = FakeClock()
    err = Terminal() if tty else io.StringIO()
    monkeypatch.setattr(R, "_clock", clock)
    monkeypatch.setattr(R.sys, "stderr", err)
    with ChunkRunner(100, "demo", progress=False) as runner:
        for _ in range(10):
            clock.now += 3600.0
            runner.update(10)
    assert err.getvalue() == ""


def test_nothing_shown_for_short_runs_off_a_terminal(monkeypatch):
    clock = FakeClock()
    err = io.StringIO()
    monkeypatch.setattr(R, "_clock", clock)
    monkeypatch.setattr(R.sys, "stderr", err)
    with ChunkRunner(100, "demo") as runner:
        for _ in range(10):
            clock.now += 0.9  # 9 s in all: under the interval
            runner.update(10)
    assert err.getvalue() == ""


def test_a_bar_on_a_terminal_only_for_long_enough_runs(monkeypatch):
    err = Terminal()
    monkeypatch.setattr(R.sys, "stderr", err)
    with ChunkRunner(100, "short", min_total=1000) as runner:
        runner.update(100)
    assert err.getvalue() == ""
    with ChunkRunner(1000, "long", min_total=1000, unit="pair") as runner:
        runner.update(1000)
    assert "long" in err.getvalue() and "pair" in err.getvalue()


def test_a_library_loop_prints_lines_in_a_log(monkeypatch, capsys):
    from suptheory.empirical import simulate as S

    clock = FakeClock()

    def tick():
        clock.now += 11.0
        return clock.now

    monkeypatch.setattr(R, "_clock", tick)
    r = S.simulate_levels(16, 100, 2, levels=2, trials=2 * S._CHUNK, seed=0)
    assert r.trials == 2 * S._CHUNK and not r.interrupted
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"simulate_levels: 50% ({S._CHUNK:,}/{2 * S._CHUNK:,} trials), 11 s"
    assert re.fullmatch(r"simulate_levels: 100% .* \(done\)", lines[-1])
