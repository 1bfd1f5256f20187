"""The README's tour runs as written, on a dictionary file the test creates."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

README = Path(__file__).resolve().parents[1] / "README.md"


def _tour() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## A ten-line tour\s+```python\n(.*?)```", text, re.S)
    assert block, "the README has no tour block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_tour_has_ten_lines_after_the_import():
    lines = _tour()
    assert lines[0].startswith("import suptheory")
    assert len(lines) == 11


@pytest.mark.slow
def test_the_tour_runs(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    W = rng.standard_normal((512, 64)).astype(np.float32)
    save_file({"W_dec": W}, str(tmp_path / "sae.safetensors"))
    before = (tmp_path / "sae.safetensors").read_bytes()
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    out = io.StringIO()
    results = []
    with contextlib.redirect_stdout(out):
        for line in _tour():
            code = line.split("#")[0].strip()
            if code.startswith(("import", "print")):
                exec(code, namespace)
            else:
                results.append(eval(code, namespace))
    st = namespace["st"]
    # the comments' numbers are the functions' numbers
    assert results[1] == pytest.approx(0.204, abs=5e-4)  # a sqrt(l / n) = sqrt(32 / 768)
    report = results[7]
    assert report.m == 512 and report.n == 64  # the file the test wrote, read back whole
    assert report.coherence == pytest.approx(float(st.coherence(W).value), rel=1e-12)
    assert "suptheory check" in out.getvalue()
    assert (tmp_path / "sae.safetensors").read_bytes() == before  # reading never changes it
