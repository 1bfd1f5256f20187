"""Progress bars for long work (tqdm), shown only on a terminal and off with ``progress=False``."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar"]


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
