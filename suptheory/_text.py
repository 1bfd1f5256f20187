"""Plain-text output: the one number formatter and the one table renderer.

Every printed report (:class:`~suptheory.Report`, :class:`~suptheory.CheckReport`,
:class:`~suptheory.EmbeddingReport`, the command line) formats its numbers with
:func:`format_number` and lays out its tables with :func:`render_table`, so a number, and a
missing or infinite one, reads the same everywhere:

========================  ==============  ===========================
value                     printed         rule
========================  ==============  ===========================
NaN, ``None``             ``-``           nothing to show
``inf``, ``-inf``         ``inf``, ``-inf``
``0``                     ``0``
``|x| >= 1e6``            ``2.180e+08``   three decimals, exponent
``|x| < 1e-3``            ``5.000e-04``   three decimals, exponent
``1000 <= |x| < 1e6``     ``16,384``      whole, thousands separated
otherwise                 ``0.08069``     four significant digits
========================  ==============  ===========================

A base module: it imports nothing else from suptheory.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["format_number", "format_z", "render_table"]


def format_number(x: Any) -> str:
    """A number for a person to read: four significant digits, ``-`` where there is none.

    Parameters
    ----------
    x : float, int, numpy scalar or None
        The value. ``None`` and NaN print as ``-``, infinities as ``inf`` / ``-inf``.

    Returns
    -------
    str
        ``0`` for zero; ``.3e`` for ``|x| >= 1e6`` or ``|x| < 1e-3``; a whole number with
        thousands separators for ``1000 <= |x| < 1e6``; else four significant digits.

    Examples
    --------
    >>> [format_number(x) for x in (float("nan"), None, float("inf"), -float("inf"), 0)]
    ['-', '-', 'inf', '-inf', '0']
    >>> [format_number(x) for x in (0.0806872, 768, 16384, 123456.7, -2.5, 2.18e8, 5e-4)]
    ['0.08069', '768', '16,384', '123,457', '-2.5', '2.180e+08', '5.000e-04']
    """
    if x is None:
        return "-"
    x = float(x)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1e6 or ax < 1e-3:
        return f"{x:.3e}"
    if ax >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def format_z(z: Any) -> str:
    """A signed z-score with one decimal (``-`` where it is undefined).

    Examples
    --------
    >>> [format_z(z) for z in (1.36, -0.04, 2.5e4, float("nan"), None, float("inf"))]
    ['+1.4', '-0.0', '+2.5e+04', '-', '-', '-']
    """
    if z is None or not math.isfinite(z):
        return "-"
    return f"{z:+.1f}" if abs(z) < 1e4 else f"{z:+.1e}"


def render_table(
    head: Sequence[str],
    rows: Iterable[Sequence[str] | str | None],
    *,
    align: str | None = None,
    indent: str = "",
    rule: str = "-",
    rule_width: int | None = None,
    column_rules: bool = False,
) -> list[str]:
    r"""Lay out a table of strings in aligned columns; return its lines (header first).

    Columns are as wide as their widest cell (header included) and two spaces apart; every
    line is stripped of trailing spaces.

    Parameters
    ----------
    head : sequence of str
        The header cells (one per column).
    rows : iterable
        Each item is one of

        * a sequence of cells (``str``), one per column: a table row;
        * a ``str``: a line printed as it is (e.g. a section heading), not aligned and not
          counted in the column widths;
        * ``None``: a rule.
    align : str, optional
        One letter per column, ``"l"`` (left, the default) or ``"r"`` (right, for numbers).
    indent : str
        Put before the header and every table row (and column rules), not before the lines
        given as ``str`` or rules across the table.
    rule : str
        The character rules are drawn with.
    rule_width : int, optional
        Width of the rules; default the widest line of the table.
    column_rules : bool
        Draw each rule as one dash run under each column instead of across the table.

    Returns
    -------
    list of str
        The header line, then one line per item of ``rows``.

    Examples
    --------
    >>> lines = render_table(["model", "noise", "reading"],
    ...                      [None, ["random", "0.08069", "exact"], ["worst", "0.4666", "-"]],
    ...                      align="lrl")
    >>> print("\n".join(lines))
    model     noise  reading
    ------------------------
    random  0.08069  exact
    worst    0.4666  -
    >>> print("\n".join(render_table(["a", "bb"], [None, ["1", "22"], "a line"],
    ...                               indent="  ", column_rules=True)))
      a  bb
      -  --
      1  22
    a line
    """
    head = list(head)
    items = list(rows)
    table = [head] + [list(r) for r in items if r is not None and not isinstance(r, str)]
    for r in table:
        if len(r) != len(head):
            raise ValueError(f"a row has {len(r)} cells for {len(head)} columns: {r!r}")
    align = align or "l" * len(head)
    if len(align) != len(head) or set(align) - {"l", "r"}:
        raise ValueError(f"align must be one of 'l' or 'r' per column; got {align!r}")
    widths = [max(len(r[c]) for r in table) for c in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if a == "r" else c.ljust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    out: list[str | None] = [line(head)]
    out += [r if r is None or isinstance(r, str) else line(r) for r in items]
    if column_rules:
        drawn = indent + "  ".join(rule * w for w in widths)
    else:
        width = rule_width
        if width is None:
            width = max(len(t) for t in out if t is not None)
        drawn = rule * width
    return [drawn if t is None else t for t in out]


class ShownAsText:
    """Mixin: a result shows its printed table in notebooks, not its dataclass fields.

    Jupyter calls ``_repr_html_`` for the last expression of a cell and IPython's terminal
    calls ``_repr_pretty_``; both show ``str(self)``, the same aligned table ``print`` gives
    (in HTML as preformatted text, escaped). ``repr`` stays the dataclass's, for debugging.

    Examples
    --------
    >>> class Shown(ShownAsText):
    ...     def __str__(self):
    ...         return "a < b"
    >>> Shown()._repr_html_()
    '<pre>a &lt; b</pre>'
    """

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text("..." if cycle else str(self))


def frame(records: Any, index: str | None = None) -> Any:
    """A pandas DataFrame of ``records`` (a dict of columns or a list of row dicts).

    pandas is optional: without it this raises ImportError saying how to install it.

    Examples
    --------
    >>> float(frame({"k": [0, 1], "loss": [0.5, 0.25]}, index="k").loc[1, "loss"])
    0.25
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the test extra
        raise ImportError("to_frame() needs pandas: pip install 'suptheory[pandas]'") from None
    out = pd.DataFrame(records)
    return out.set_index(index) if index is not None else out
