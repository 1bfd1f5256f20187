"""numba kernel of the ground-truth decoding Monte Carlo (:mod:`suptheory.empirical.decoding`).

One trial is one input to a whole dictionary ``W`` (rows are unit feature directions): ``l``
distinct features (a uniform subset, drawn by Floyd's algorithm from the wrapper's uniforms)
are active at amplitude ``a``, the layer holds ``h = a sum_{j in S} w_j``, and every one of the
``m`` features is read back by ``y_i = w_i . h`` and decoded (``O(m n)`` per trial; no Gram
matrix, so a fresh dictionary costs nothing beyond drawing it). The kernel holds no random generator
and each trial writes its own slots, so results do not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from suptheory._kernels.jit import jit
from suptheory._kernels.simulate import _floyd_sample

__all__ = ["decode_trials"]


@jit(parallel=True)
def decode_trials(W, u, l, a, levels, any_wrong, level_error, mean_sq):  # noqa: E741  # pragma: no cover
    """Fill, for each trial ``t``, the three outcomes of decoding all ``m`` read-outs.

    ``any_wrong[t]``: 1 if any on/off read-out is wrong (threshold ``a / 2``: an inactive
    feature read as on, ``y_i > a / 2``, or an active one as off, ``y_i < a / 2``).
    ``level_error[t]``: the mean over the inactive features of the nearest-level error when
    their own value is one of ``levels`` equally likely levels on ``[0, a]`` (averaged over
    the levels exactly: the interior ones err when ``|z| > h``, level 0 when ``z > h``, level
    ``a`` when ``z < -h``, ``h = a / (2 (levels - 1))``). ``mean_sq[t]``: mean of ``z^2``.
    """
    m, n = W.shape
    half = 0.5 * a
    h = a / (2.0 * (levels - 1))
    for t in prange(any_wrong.size):
        chosen = np.empty(l, dtype=np.int64)
        _floyd_sample(u[t], 0, l, m, chosen)
        layer = np.zeros(n)
        active = np.zeros(m, dtype=np.bool_)
        for k in range(l):
            j = chosen[k]
            active[j] = True
            for d in range(n):
                layer[d] += a * W[j, d]
        wrong = 0
        err = 0.0
        sq = 0.0
        for i in range(m):
            z = 0.0
            for d in range(n):
                z += W[i, d] * layer[d]
            if active[i]:
                if z < half:
                    wrong = 1
                continue
            if z > half:
                wrong = 1
            sq += z * z
            over = 1.0 if z > h else 0.0
            under = 1.0 if z < -h else 0.0
            err += (levels - 2) * (over + under) + over + under
        inactive = m - l
        any_wrong[t] = wrong
        level_error[t] = err / (levels * inactive) if inactive > 0 else 0.0
        mean_sq[t] = sq / inactive if inactive > 0 else 0.0
