"""Plateau detection, polygon geometry and the k-gon plateau check."""

from __future__ import annotations

import numpy as np
import pytest

import suptheory as st
from suptheory.runs.plateaus import (
    check_kgon_plateaus,
    detect_plateaus,
    polygon_geometry,
)
from suptheory.theory.kgons import kgon, kgon_loss


def test_detect_plateaus_rule():
    t = np.unique(np.round(np.geomspace(1, 20_000, 120))).astype(int)
    # two drops; the early steady descent (5e-4 per step) is no plateau
    L = np.where(t < 300, 0.3 * np.exp(-5e-4 * t), np.where(t < 2000, 0.11, 0.06))
    found = detect_plateaus(t, L)
    assert [round(p.level, 3) for p in found] == [0.11, 0.06]
    assert found[0].start >= 300 and found[0].end < 2000 and found[1].end == 20_000
    assert all(p.first <= p.middle <= p.last for p in found)
    # too short a stretch is no plateau
    assert detect_plateaus(t, L, min_span=100) == []
    with pytest.raises(ValueError, match="increasing"):
        detect_plateaus([3, 2, 1], [1.0, 1.0, 1.0])


def test_polygon_geometry_of_kgons_and_shared_vertices():
    for k in (2, 3, 4, 5, 6):
        g = polygon_geometry(*kgon(k, 6))
        assert (g.k, g.vertices, g.negative) == (k, k, 0) and g.regular
    assert polygon_geometry(*kgon(0, 6)).k == 0
    # a square whose vertex 0 is shared by two features of norm 1/sqrt(2): loss-degenerate
    # with the square plus a dead feature of negative bias
    W, b = kgon(4, 6, negative=2)
    W[5] = W[0] / np.sqrt(2)
    W[0] = W[0] / np.sqrt(2)
    b[5] = 0.0
    assert st.one_sparse_loss(W, b) == pytest.approx(
        kgon_loss(4, 6, negative=1) + (kgon_loss(4, 6, 2) - kgon_loss(4, 6, 1))
    )
    g = polygon_geometry(W, b)
    assert (g.k, g.vertices, g.negative) == (5, 4, 1)  # norm 0.707 >= 0.5: on the polygon
    assert not g.regular and g.vertex_gap_error < 0.1


def test_check_kgon_plateaus_small():
    res = check_kgon_plateaus(5, seeds=2, steps=4000, snapshots=60, progress=False, seed=1)
    assert res.kgon_losses[4] == pytest.approx(kgon_loss(4, 5))
    finals = [r for r in res.rows if r.final]
    assert len(finals) == 2 and all(r.agrees(0.02) for r in finals)
    assert 0 < res.agreement <= 1 and "agreement" in str(res)
    assert res.exact_loss.shape == (2, res.result.snapshot_steps.size)
    with pytest.raises(ValueError, match="c"):
        check_kgon_plateaus(4, seeds=1, steps=10, progress=False)


@pytest.mark.slow
def test_check_kgon_plateaus_six_features():
    res = check_kgon_plateaus(6, seeds=4, steps=8000, snapshots=100, progress=False)
    assert res.agreement_vertices >= 0.75
