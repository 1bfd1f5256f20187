"""The package root is the table of contents: every public name, resolvable, nothing else."""

from __future__ import annotations

import subprocess
import sys

import suptheory


def test_all_lists_every_lazy_name_once_and_each_resolves():
    assert len(suptheory.__all__) == len(set(suptheory.__all__))
    assert set(suptheory._LAZY) <= set(suptheory.__all__)
    for name in suptheory.__all__:
        assert getattr(suptheory, name) is not None, name


def test_dir_shows_the_public_names_only():
    assert dir(suptheory) == sorted(suptheory.__all__)
    assert "annotations" not in dir(suptheory)


def test_an_unknown_name_is_an_attribute_error():
    try:
        suptheory.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_star_import_gives_the_table_of_contents():
    code = (
        "from suptheory import *; import suptheory; names = set(dir()) - {'suptheory'}; "
        "print(sorted(n for n in names if not n.startswith('__') or n == '__version__') "
        "== sorted(suptheory.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
