"""``check``'s output is byte-identical to the golden files (the refactor guard).

The golden files in ``tests/data/check_golden/`` were written by ``make_golden.py`` there;
regenerate them only for an intended change of the numbers or the table.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "data" / "check_golden"

_spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
assert _spec is not None and _spec.loader is not None
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)


@pytest.mark.parametrize("name", sorted(make_golden.CASES))
def test_check_output_is_golden(name):
    text, js = make_golden.render(make_golden.CASES[name])
    assert text == (GOLDEN / f"{name}.txt").read_text()
    assert js == (GOLDEN / f"{name}.json").read_text()
