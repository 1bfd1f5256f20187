"""Progress and Ctrl-C for long work done in chunks: one runner for every long loop.

:class:`ChunkRunner` is a context manager around a loop over chunks of work. The loop reports
each finished chunk with :meth:`ChunkRunner.update`; the runner

* shows a tqdm bar when stderr is a terminal, or -- off a terminal (log files, batch jobs) --
  prints a plain line such as ``simulate_levels: 40% (4,000/10,000 trials), 12 s`` to stderr
  at most every :data:`LINE_INTERVAL` seconds (nothing for runs shorter than that), and
  nothing at all with ``progress=False``;
* stops the loop cleanly on ``KeyboardInterrupt`` (Ctrl-C): the exception ends the ``with``
  block, the chunks finished before it are kept by the caller, and ``runner.interrupted`` is
  set. If fewer than ``min_done`` units had finished there is nothing worth returning and
  the interrupt propagates.

:func:`progress_bar` is the bare tqdm bar, for loops that keep no partial result.

This is a base module: it imports no other part of suptheory.
"""

from __future__ import annotations

import math
import sys
import time
from types import TracebackType
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar", "ChunkRunner", "LINE_INTERVAL"]

#: seconds between two plain progress lines off a terminal (and before the first)
LINE_INTERVAL = 10.0
#: the clock of the plain lines (monotonic seconds); tests replace it
_clock = time.monotonic


def progress_bar(total: int | None, desc: str, progress: bool = True, **kwargs: Any) -> Any:
    """Return a tqdm bar; hidden when ``progress`` is false or stderr is not a terminal.

    Examples
    --------
    >>> with progress_bar(3, "demo", progress=False) as bar:
    ...     for _ in range(3):
    ...         _ = bar.update(1)
    >>> bar.disable
    True
    """
    # disable=None is tqdm's own "only on a TTY" rule.
    return tqdm(total=total, desc=desc, disable=None if progress else True, leave=False, **kwargs)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no stream (pythonw), or a closed one
        return False


def _duration(seconds: float) -> str:
    """``"12 s"``, ``"4 min 05 s"``, ``"2 h 03 min"``."""
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class ChunkRunner:
    """Progress display and Ctrl-C handling for a loop over chunks of work.

    Parameters
    ----------
    total : int or None
        Units of work in the whole run (trials, steps, ...); None if unknown.
    desc : str
        What is running: the bar's label and the start of each plain line.
    progress : bool
        Show progress at all (a bar on a terminal, plain lines elsewhere).
    unit : str
        Name of one unit, singular (plain lines add an "s").
    min_done : int
        Units that must have finished for an interrupted run to count as a result; with
        fewer, the ``KeyboardInterrupt`` propagates. 0: an interrupt never propagates.
    min_total : int
        Show no progress for runs of fewer units (too short to be worth a bar).

    Attributes
    ----------
    done : int
        Units finished (the sum of :meth:`update`'s arguments).
    chunks : int
        Chunks finished (calls of :meth:`update`).
    interrupted : bool
        Whether Ctrl-C ended the run (set when the ``with`` block exits).

    Examples
    --------
    Ctrl-C during the third chunk: the two finished chunks are kept.

    >>> results = []
    >>> with ChunkRunner(5, "demo", progress=False, unit="chunk") as run:
    ...     for k in range(5):
    ...         if k == 2:
    ...             raise KeyboardInterrupt
    ...         results.append(k)
    ...         run.update(1)
    >>> results, run.done, run.interrupted
    ([0, 1], 2, True)
    """

    def __init__(
        self,
        total: int | None,
        desc: str,
        progress: bool = True,
        *,
        unit: str = "item",
        min_done: int = 1,
        min_total: int = 0,
    ) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.min_done = min_done
        self.done = 0
        self.chunks = 0
        self.interrupted = False
        show = bool(progress) and (total is None or total >= min_total)
        self._bar: Any = None
        self._lines = False
        self._printed = False
        if show and _isatty(sys.stderr):
            self._bar = progress_bar(total, desc, True, unit=unit)
        elif show:
            self._lines = True
        self._start = self._last = _clock()

    def __enter__(self) -> ChunkRunner:
        return self

    def update(self, n: int) -> None:
        """Count a finished chunk of ``n`` units (and show progress when it is time)."""
        self.done += n
        self.chunks += 1
        if self._bar is not None:
            self._bar.update(n)
        elif self._lines:
            now = _clock()
            if now - self._last >= LINE_INTERVAL:
                self._last = now
                self._line(now)

    def _line(self, now: float, end: str = "") -> None:
        elapsed = now - self._start
        if self.total:
            share = f"{math.floor(100 * self.done / self.total)}% "
            count = f"({self.done:,}/{self.total:,} {self.unit}s)"
        else:
            share, count = "", f"{self.done:,} {self.unit}s"
        print(
            f"{self.desc}: {share}{count}, {_duration(elapsed)}{end}", file=sys.stderr, flush=True
        )
        self._printed = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        ctrl_c = kind is not None and issubclass(kind, KeyboardInterrupt)
        keep = ctrl_c and self.done >= self.min_done
        if self._bar is not None:
            self._bar.close()
        elif self._printed:  # a log that saw progress lines also sees the end
            how = " (done)" if kind is None else " (interrupted)" if ctrl_c else " (failed)"
            self._line(_clock(), how)
        self.interrupted = keep
        return keep
