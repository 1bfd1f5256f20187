"""``check``'s output matches the golden files (the refactor guard).

The golden files in ``tests/data/check_golden/`` were written by ``make_golden.py`` there;
regenerate them only for an intended change of the numbers or the table. The table must be
byte-identical; the JSON has the same keys, strings and counts, and its floats agree to
``1e-12`` relative: their last digits move with the numpy and scipy releases a fresh install
picks (e.g. an se of ``...8717904`` against ``...8717913``), which is no change of ours.
"""

from __future__ import annotations

import importlib.util
import json
import math
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
    _same(json.loads(js), json.loads((GOLDEN / f"{name}.json").read_text()), "")


def _same(got, want, where):
    """Equal JSON, floats to 1e-12 relative (ints, strings, keys and shapes exactly)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for key in want:
            _same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert isinstance(got, float), (where, got, want)
        assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-300), (where, got, want)
    else:
        assert type(got) is type(want) and got == want, (where, got, want)
