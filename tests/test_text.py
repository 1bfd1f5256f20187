"""The one number formatter and table renderer every printed report shares."""

from __future__ import annotations

import html
import json
import math

import numpy as np
import pytest

from suptheory._text import format_number, format_z, render_table
from suptheory.cli._common import dumps


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (math.nan, "-"),
        (np.nan, "-"),
        (np.float32("nan"), "-"),
        (None, "-"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (np.float64(np.inf), "inf"),
        (0, "0"),
        (0.0, "0"),
        (-0.0, "0"),
        (1e-300, "1.000e-300"),
        (9.99e-4, "9.990e-04"),
        (1e-3, "0.001"),
        (-0.0123456, "-0.01235"),
        (0.5, "0.5"),
        (1, "1"),
        (768, "768"),
        (805.7, "805.7"),
        (999.94, "999.9"),
        (1000, "1,000"),
        (16384, "16,384"),
        (-24576.4, "-24,576"),
        (999_999.4, "999,999"),
        (1e6, "1.000e+06"),
        (2.18e8, "2.180e+08"),
        (-1.5e40, "-1.500e+40"),
        (np.int64(4096), "4,096"),
        (True, "1"),
    ],
)
def test_format_number(x, text):
    assert format_number(x) == text


def test_format_number_rejects_non_numbers():
    with pytest.raises((TypeError, ValueError)):
        format_number("twelve")


@pytest.mark.parametrize(
    ("z", "text"),
    [
        (1.36, "+1.4"),
        (-2.0, "-2.0"),
        (0.0, "+0.0"),
        (9999.0, "+9999.0"),
        (2.5e4, "+2.5e+04"),
        (-2.5e4, "-2.5e+04"),
        (math.nan, "-"),
        (math.inf, "-"),
        (-math.inf, "-"),
        (None, "-"),
    ],
)
def test_format_z(z, text):
    assert format_z(z) == text


def test_render_table_aligns_left_and_right():
    lines = render_table(
        ["name", "value", "note"],
        [["a", "1", "x"], ["long name", "1,234", ""], ["b", "-", "y"]],
        align="lrl",
    )
    assert lines == [
        "name       value  note",
        "a              1  x",
        "long name  1,234",
        "b              -  y",
    ]


def test_render_table_default_is_left_and_lines_are_stripped():
    lines = render_table(["a", "b"], [["xyz", "1"], ["", ""]])
    assert lines == ["a    b", "xyz  1", ""]
    assert all(line == line.rstrip() for line in lines)


def test_render_table_rules_headings_and_indent():
    lines = render_table(
        ["k", "v"],
        [None, "section one", ["alpha", "1"], None, "two", ["b", "22"]],
        align="lr",
        indent="  ",
    )
    assert lines == [
        "  k       v",
        "-----------",
        "section one",
        "  alpha   1",
        "-----------",
        "two",
        "  b      22",
    ]
    # a heading is not counted in the widths; the rule spans the widest line (the heading)
    assert render_table(["k"], [None, "a long heading", ["v"]])[1] == "-" * 14
    ruled = render_table(["k", "v"], [None, ["a", "1"]], rule="=", rule_width=4)
    assert ruled[1] == "===="


def test_render_table_column_rules():
    lines = render_table(["quantity", "x"], [None, ["q", "12345"]], column_rules=True)
    assert lines == ["quantity  x", "--------  -----", "q         12345"]


def test_render_table_rejects_ragged_rows_and_bad_align():
    with pytest.raises(ValueError, match="cells"):
        render_table(["a", "b"], [["1"]])
    with pytest.raises(ValueError, match="align"):
        render_table(["a", "b"], [["1", "2"]], align="lc")
    with pytest.raises(ValueError, match="align"):
        render_table(["a", "b"], [["1", "2"]], align="l")


def test_reports_print_nan_and_inf_one_way():
    from suptheory import calculate
    from suptheory.analysis.analyze import analyze

    report = str(calculate(768, 16384, 5))
    assert "inf" in report and "nan" not in report and "n/a" not in report
    # l1 has no noise: '-' like every missing value
    l1_row = next(line for line in report.splitlines() if line.startswith("l1 "))
    assert l1_row.split()[1:3] == ["-", "-"]
    emb = str(analyze(np.array([[1.0, 0.0], [0.0, 0.0]]), progress=False))
    assert "n/a" not in emb and "nan" not in emb


def test_dumps_writes_nonfinite_as_strings():
    text = dumps(
        {
            "a": math.inf,
            "b": -np.inf,
            "c": [np.float32("nan"), 1.0],
            "d": np.array([np.inf, 2.0]),
            0.5: None,
        }
    )
    assert json.loads(text) == {
        "a": "inf",
        "b": "-inf",
        "c": ["nan", 1.0],
        "d": ["inf", 2.0],
        "0.5": None,
    }
    assert [float(v) for v in ("inf", "-inf")] == [math.inf, -math.inf]


def test_results_show_their_table_in_notebooks_and_as_frames():
    import suptheory

    pack = suptheory.optimize_packing(6, 3, restarts=2, steps=50, seed=0, progress=False)
    toy = suptheory.train_toy_models(5, 2, steps=20, instances=2, seed=0, progress=False)
    for result in (pack, toy):
        shown = result._repr_html_()
        assert shown.startswith("<pre>") and shown.endswith("</pre>")
        assert html.unescape(shown[5:-6]) == str(result)  # the printed table, not the fields
    assert list(pack.to_frame()["value"]) == list(pack.values)
    assert pack.to_frame()["best"].sum() == 1
    frame = toy.to_frame()
    assert list(frame.index) == [0, 1] and list(frame["loss"]) == list(toy.loss)
    printed = []
    toy._repr_pretty_(type("P", (), {"text": lambda self, s: printed.append(s)})(), False)
    assert printed == [str(toy)]
