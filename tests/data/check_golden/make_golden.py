"""Regenerate the golden outputs of ``check`` (``python tests/data/check_golden/make_golden.py``).

Each case is a quick seeded setting that the tests in ``tests/test_check.py`` already use;
``tests/test_check_golden.py`` recomputes them and asserts that the table (``str(report)``)
and the JSON of ``report.to_dict()`` (without the wall times) are byte-identical. Rerun this
only for an intended change of the numbers or the table, and say so in the commit.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: name -> keyword arguments of ``check`` (``progress=False`` is added)
CASES: dict[str, dict[str, Any]] = {
    # every source and section: random, trained (all features), packing (no LP polish)
    "all_sources": dict(
        n=32, m=128, l=4, trials=5000, coherence_trials=50, train_steps=500, pack_steps=100, seed=3
    ),
    # random directions only, density given, both parts skipped, default seed
    "random_only": dict(
        n=16, m=64, p=0.1, train=False, pack=False, trials=2000, coherence_trials=20
    ),
    # dense features: the toy model represents fewer than m (a note; not censored)
    "dense_trained": dict(
        n=8, m=32, p=1.0, trials=2000, coherence_trials=20, train_steps=500, pack=False, seed=0
    ),
    # a small packing polished by linear programming (m n <= 256), no training
    "polished_packing": dict(
        n=4, m=16, l=1, train=False, trials=2000, coherence_trials=20, pack_steps=100, seed=1
    ),
}


def render(kwargs: dict[str, Any]) -> tuple[str, str]:
    """The table and the JSON (wall times removed) of ``check(**kwargs)``."""
    from suptheory.cli._common import dumps
    from suptheory.runs.check import check

    report = check(**kwargs, progress=False)
    data = report.to_dict()
    data.pop("seconds")
    return str(report) + "\n", dumps(data) + "\n"


def main() -> int:
    names = sys.argv[1:] or list(CASES)
    for name in names:
        text, js = render(CASES[name])
        (HERE / f"{name}.txt").write_text(text)
        (HERE / f"{name}.json").write_text(js)
        print(f"wrote {name}.txt, {name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
