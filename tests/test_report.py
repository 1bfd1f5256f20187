"""calculate() -> Report: the same numbers as the single functions, printed and serialised."""
# ruff: noqa: E741  (l is the project's name for the number of active features)

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import suptheory as st_
from suptheory import Report, calculate, explain
from suptheory.cli._common import dumps

MODELS = ("random", "optimal", "linsefors", "worst", "packing")


def _assert_entries_are_the_functions(n, m, l, a, budget):
    # one home for the mathematics: every entry *equals* the single public function's value
    r = calculate(n, m, l, a, **budget)
    for model in MODELS:
        assert r.pair_interference[model] == st_.pair_interference(n, m, model=model)
        assert r.noise[model] == st_.interference(n, m, l, a, model=model)
        assert r.l_max[model] == st_.max_active(n, m, model=model, **budget)
        assert r.log_m_max[model] == st_.log_max_features(n, l, model=model, **budget)
        assert r.m_max[model] == st_.max_features(n, l, model=model, **budget)
        lev = st_.distinguishable_levels(n, m, l, a, model=model, **budget)
        assert r.levels[model] == lev
        assert r.bits[model] == st_.bits_per_feature(n, m, l, a, model=model, **budget)
    assert r.l_max["l1"] == st_.max_active(n, m, model="l1")
    assert r.log_m_max["l1"] == st_.log_max_features(n, l, model="l1")
    assert r.m_max["l1"] == st_.max_features(n, l, model="l1")
    assert r.noise["l1"] is None and r.levels["l1"] is None
    return r


@pytest.mark.parametrize("budget", [{"snr": 1.0}, {"snr": 2.5}, {"error": 0.01}])
def test_report_equals_the_functions(budget):
    r = _assert_entries_are_the_functions(768.0, 24576.0, 32.0, 2.0, budget)
    assert isinstance(r, Report)
    assert r.models == (*MODELS, "l1")
    # the drift the issue found: calculate's own l_max was 767.9999999999998
    assert calculate(768, 24576, 32).l_max["random"] == 768.0


@settings(max_examples=30)
@given(
    n=st.floats(1.0, 1e5),
    m=st.floats(1.0, 1e12),
    l=st.one_of(st.just(0.0), st.floats(1e-6, 300.0)),  # (subnormal l overflows l1's inverse)
    a=st.floats(0.01, 100.0),
    budget=st.one_of(
        st.builds(lambda s: {"snr": s}, st.floats(0.1, 10.0)),
        st.builds(lambda e: {"error": e}, st.floats(1e-9, 0.5)),
    ),
)
def test_report_entries_are_exactly_the_functions(n, m, l, a, budget):
    assume(l <= m - 1)  # l counts the other features
    _assert_entries_are_the_functions(n, m, l, a, budget)


def test_table_is_aligned_and_complete():
    text = str(calculate(768, 16384, 5))
    lines = text.splitlines()
    assert lines[0].startswith("suptheory calculate: n = 768, m = 16,384, l = 5")
    header = next(line for line in lines if line.startswith("model"))
    for col in ("eps", "noise", "l_max", "m_max", "ln m_max", "levels", "bits"):
        assert col in header
    rows = [line for line in lines if line.split(" ")[0] in (*MODELS, "l1")]
    assert [row.split()[0] for row in rows] == [*MODELS, "l1"]
    # right-aligned numeric columns end at the same place as their headers
    end = header.index("bits") + len("bits")
    assert all(row[end - 1] != " " for row in rows[:5])
    # two labelled groups, never mixed: rms models, then the largest-overlap proxies
    rms = lines.index("[rms noise: what a typical read-out hears]")
    proxies = next(i for i, t in enumerate(lines) if t.startswith("[largest-overlap proxies"))
    assert [t.split()[0] for t in lines[rms + 1 : proxies]] == ["random", "optimal"]
    assert [t.split()[0] for t in lines[proxies + 1 : proxies + 4]] == [
        "linsefors",
        "worst",
        "packing",
    ]
    assert "Linsefors (2024)" in text and "seed" not in text


def test_to_dict_and_json():
    r = calculate(768, 16384, 5, snr=2)
    d = r.to_dict()
    assert d["n"] == 768.0 and d["snr"] == 2.0 and "error" not in d
    assert set(d["models"]) == {*MODELS, "l1"}
    back = json.loads(dumps(d))
    assert back["models"]["random"]["noise"] == pytest.approx(math.sqrt(5 / 768))
    assert back["models"]["random"]["m_max"] == "inf"
    assert back["models"]["l1"]["noise"] is None


def test_broadcast_report():
    n = np.array([256.0, 768.0, 4096.0])
    r = calculate(n[:, None], np.array([1e4, 1e6]), 8.0)
    assert r.noise["worst"].shape == (3, 2)
    single = calculate(768.0, 1e6, 8.0)
    for field in ("noise", "l_max", "log_m_max", "levels"):
        for model in MODELS:
            assert getattr(r, field)[model][1, 1] == pytest.approx(getattr(single, field)[model])
    assert "broadcast grid of shape (3, 2)" in str(r)
    with pytest.raises(ValueError, match="scalar"):
        explain(r)


def test_explain_reads_the_numbers():
    r = calculate(768, 24576, 32)
    text = explain(r)
    ratio = r.noise["linsefors"] / r.noise["random"]
    assert f"{ratio:.1f} times more pessimistic" in text
    assert math.isclose(ratio, math.sqrt(8 * math.log(24576)))
    assert "cannot be read" in text
    assert "l1/AMP" in text
    assert "no other feature" in explain(calculate(768, 100, 0))


def test_bad_input():
    with pytest.raises(ValueError, match="n must"):
        calculate(0, 100, 3)
    with pytest.raises(ValueError, match="either snr or error"):
        calculate(768, 100, 3, snr=2, error=0.1)
    with pytest.raises(TypeError, match="m must be a real"):
        calculate(768, "many", 3)
    with pytest.raises(ValueError, match="q must"):
        calculate(768, 100, 3, q=0)


def test_extreme_input():
    r = calculate(1e7, 1e30, 1e-6)
    for model in MODELS:
        assert math.isfinite(r.noise[model]) and math.isfinite(r.levels[model])
    assert math.isfinite(r.log_m_max["linsefors"]) and r.m_max["linsefors"] == math.inf


def test_subset_of_models():
    r = calculate(768, 24576, 32, models=("random", "l1"))
    assert r.models == ("random", "l1")
    assert set(r.noise) == {"random", "l1"}
    assert r.l_max["l1"] == calculate(768, 24576, 32).l_max["l1"]
    assert not any(line.startswith("worst") for line in str(r).splitlines())
    with pytest.raises(ValueError, match="every model"):
        explain(r)
    with pytest.raises(ValueError, match="model must be one of"):
        calculate(768, 24576, 32, models=("best",))
    with pytest.raises(TypeError, match="sequence"):
        calculate(768, 24576, 32, models="random")


def test_a_report_shows_its_table_in_notebooks_and_as_a_frame():
    import html

    r = calculate(768, 24576, 32)
    assert html.unescape(r._repr_html_()[5:-6]) == str(r)  # not the dataclass's fields
    frame = r.to_frame()
    assert list(frame.index) == list(r.models)
    assert frame.loc["random", "noise"] == r.noise["random"]
    with pytest.raises(ValueError, match="one layer"):
        calculate([768, 1024], 24576, 32).to_frame()


def test_error_table_says_which_error_and_reads_as_words():
    """calc --error printed m_max = 0.1358, negative bits, and left the reader to guess which
    error (any of the m read-outs, or one) each column bounds."""
    r = calculate(5, 10_000, 300, error=0.05)
    text = str(r)
    assert "read-out hears; l_max, m_max: any of the m read-outs wrong; levels: one" in text
    assert "that large; l_max, m_max, levels: one read-out wrong]" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.split()}
    assert r.m_max["random"] < 1 and "none fit" in rows["random"]
    assert r.levels["linsefors"] < 2 and "< 2" in rows["linsefors"] and "< 1" in rows["linsefors"]
    assert not any(line.split()[0] == "-" for line in text.splitlines() if line.split())
    # the numbers themselves stay numbers
    assert r.to_dict()["models"]["random"]["m_max"] == r.m_max["random"]
    # where things fit, the numbers are printed
    ok = str(calculate(768, 16384, 5, error=0.01))
    random_row = next(line for line in ok.splitlines() if line.startswith("random "))
    assert "none fit" not in random_row and "< 2" not in random_row


def test_l_max_never_exceeds_the_other_features():
    r = calculate(768, 500, 3)
    for model in r.models:
        assert r.l_max[model] <= 499
