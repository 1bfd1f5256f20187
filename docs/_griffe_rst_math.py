"""Griffe extension for the API reference: render the numpydoc docstrings' reST math and roles.

The package's docstrings follow numpydoc, where formulas are reST (``.. math::`` blocks and
``:math:`...``` roles) and cross-references are Sphinx roles (``:func:`name```). mkdocstrings
renders docstrings as Markdown, so without this they would show up raw. This rewrites them,
only for the site, before the docstrings are parsed:

- a ``.. math::`` block (its body on the same line or indented below) becomes ``$$ ... $$``,
  typeset by ``pymdownx.arithmatex``;
- ``:math:`x``` becomes ``$x$``;
- ``:func:`~a.b```, ``:class:``, ``:mod:``, ``:meth:``, ``:attr:``, ``:data:`` become code
  spans with the short name;
- a reST simple table (``====  ====`` borders) becomes a preformatted text block;
- numpydoc citations ``.. [1] ...`` become list items.

Loaded by ``mkdocs.yml`` (``extensions:`` of the python handler); the docstrings themselves
are not changed.
"""

from __future__ import annotations

import re
from typing import Any

try:
    import griffe
except ImportError:  # `make test` runs this file's doctest without the docs extra installed
    griffe = None

_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj|exc):`~?([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")
_TABLE_BORDER = re.compile(r"^[ \t]*=+( +=+)+[ \t]*$")
_CITATION = re.compile(r"^(?P<indent>[ \t]*)\.\. \[(?P<label>[^\]]+)\] ", re.M)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def rst_to_markdown(text: str) -> str:
    r"""Rewrite the reST math and roles of one docstring as Markdown with arithmatex math.

    Examples
    --------
    >>> doc = "Noise.\n\n.. math::\n\n    \\sigma = a\n\nSee :func:`~x.solve`, :math:`l`."
    >>> print(rst_to_markdown(doc))
    Noise.
    <BLANKLINE>
    $$
    \sigma = a
    $$
    <BLANKLINE>
    See `solve`, $l$.
    >>> print(rst_to_markdown("A table:\n\n==  ==\na   b\n==  ==\n\nAfter."))
    A table:
    <BLANKLINE>
    ```text
    ==  ==
    a   b
    ==  ==
    ```
    <BLANKLINE>
    After.
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if _TABLE_BORDER.match(lines[i]):
            # A reST simple table: keep it as preformatted text, up to the border that is
            # followed by a blank line (or the end).
            end = i + 1
            while end < len(lines) and not (
                _TABLE_BORDER.match(lines[end])
                and (end + 1 == len(lines) or not lines[end + 1].strip())
            ):
                end += 1
            if end < len(lines):
                indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
                if out and out[-1].strip():
                    out.append("")
                out.extend([f"{indent}```text", *lines[i : end + 1], f"{indent}```"])
                i = end + 1
                continue
        match = _MATH_BLOCK.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        indent = match.group("indent")
        body = [match.group("first").strip()] if match.group("first").strip() else []
        i += 1
        # The block's body: the following blank or more-indented lines.
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            body.append(lines[i].strip())
            i += 1
        while body and not body[-1]:
            body.pop()
        while body and not body[0]:
            body.pop(0)
        # Blank lines inside one block separate equations (reST): one $$ block each.
        equations = [eq for eq in "\n".join(body).split("\n\n") if eq.strip()]
        for equation in equations:
            if out and out[-1].strip():
                out.append("")
            out.extend(
                [f"{indent}$$", *(f"{indent}{x}" for x in equation.split("\n")), f"{indent}$$"]
            )
        if i < len(lines) and lines[i].strip():
            out.append("")
    text = "\n".join(out)
    text = _MATH_ROLE.sub(lambda m: f"${m.group(1)}$", text)
    # numpydoc citations (".. [1] Author, ...") become list items, one per reference
    text = _CITATION.sub(lambda m: f"{m.group('indent')}- [{m.group('label')}] ", text)
    return _ROLE.sub(lambda m: f"`{m.group(1).split('.')[-1]}`", text)


if griffe is not None:

    class RstMath(griffe.Extension):
        """Rewrite every docstring's reST math and Sphinx roles before it is parsed."""

        def on_object(self, *, obj: Any, **kwargs: Any) -> None:  # noqa: D102
            if obj.docstring is not None:
                obj.docstring.value = rst_to_markdown(obj.docstring.value)
