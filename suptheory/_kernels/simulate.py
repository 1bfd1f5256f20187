"""numba kernels of the Monte Carlo twins (:mod:`suptheory.empirical.simulate`).

The kernels hold no random generator: the wrapper draws every random number from its seeded
``numpy.random.Generator`` in fixed chunks and passes them in. Each kernel is parallel over
independent trials (or fixed blocks of trials) and every trial writes its own output slot,
so results do not depend on the thread count.

Random directions. By rotation invariance the read-out feature can be taken to be ``e_1``;
the overlap of ``e_1`` with a uniform unit vector ``g / |g|`` (``g`` standard normal in
R^n) is ``g_1 / sqrt(g_1^2 + X)`` with ``X = g_2^2 + ... + g_n^2 ~ chi^2(n - 1)``
independent of ``g_1``. Given the read-out direction, the overlaps with independent
directions are independent, so two numbers per active feature reproduce the exact joint law
without drawing ``n``-vectors.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from suptheory._kernels.jit import jit

__all__ = ["random_noise", "embedding_noise", "level_errors", "max_abs_cos"]


# parallel=True: a chunk holds up to millions of trials. prange runs only over the independent
# trials and trial t writes only out[t], summing its features in a fixed order, so results do
# not depend on the thread count.
@jit(parallel=True)
def random_noise(offsets, g, chi, amp, a, out):
    """Fill ``out[t] = sum_k amp_k g_k / sqrt(g_k^2 + chi_k)`` over trial ``t``'s features.

    ``offsets`` (length trials + 1) delimit each trial's active features in ``g``, ``chi``
    and ``amp``; an empty ``amp`` means every amplitude equals ``a``.

    Parameters
    ----------
    offsets : (T + 1,) int64
        Non-decreasing, ``offsets[0] = 0``; trial ``t`` owns entries
        ``offsets[t]:offsets[t + 1]`` of the per-feature arrays (``K = offsets[T]``).
    g : (K,) float64
        Standard normals: first coordinate of each active feature's direction.
    chi : (K,) float64
        ``chi^2(n - 1)`` draws: squared norm of the other coordinates.
    amp : (K,) or (0,) float64
        Amplitudes, or empty for the fixed amplitude ``a``.
    a : float
        The fixed amplitude.
    out : (T,) float64
        Receives each trial's read-out noise.
    """
    fixed = amp.size == 0
    for t in prange(out.size):
        s = 0.0
        for k in range(offsets[t], offsets[t + 1]):
            x = g[k]
            d = math.sqrt(x * x + chi[k])
            if d > 0.0:  # g_1 = 0 and n = 1 together: a null event; count it as overlap 0
                w = a if fixed else amp[k]
                s += w * (x / d)
        out[t] = s


@jit
def _floyd_sample(u, base, K, N, chosen):
    """Write a uniform ``K``-subset of ``range(N)`` into ``chosen[:K]``, from ``K`` uniforms.

    Parameters
    ----------
    u : (>= base + K,) float64
        Uniforms on ``[0, 1)``; entries ``base:base + K`` are used.
    base : int
        First uniform to use.
    K : int
        Subset size, ``0 <= K <= N``.
    N : int
        Population size.
    chosen : (>= K,) int64
        Receives the subset (distinct; in Floyd's order, not sorted).
    """
    # Floyd's algorithm (Bentley & Floyd, "Programming pearls: a sample of brilliance",
    # CACM 30(9), 1987): a uniform K-subset of range(N) from K uniforms on [0, 1).
    if K * K <= 16 * N:
        for k in range(K):
            top = N - K + k
            r = int(u[base + k] * (top + 1))
            if r > top:  # guards u * (top + 1) rounding up to top + 1
                r = top
            seen = False
            for q in range(k):
                if chosen[q] == r:
                    seen = True
                    break
            chosen[k] = top if seen else r
    else:  # dense sample: a mark array is cheaper than the quadratic membership scan
        mark = np.zeros(N, dtype=np.bool_)
        for k in range(K):
            top = N - K + k
            r = int(u[base + k] * (top + 1))
            if r > top:
                r = top
            pick = top if mark[r] else r
            mark[pick] = True
            chosen[k] = pick


# parallel=True: each trial costs O(K n) for its K active rows, over many trials. prange runs
# only over the independent trials; trial t reads its own uniforms, has its own `chosen` and
# writes only out[t], so results do not depend on the thread count.
@jit(parallel=True)
def embedding_noise(W, targets, offsets, u, amp, a, out):
    """Fill ``out[t] = sum_{j in S_t} amp_j <W[i_t], W[j]>`` with ``S_t`` a uniform subset.

    ``targets[t]`` is the read-out row ``i_t``; trial ``t`` has ``offsets[t + 1] -
    offsets[t]`` active rows, a uniform subset of the other ``m - 1`` rows drawn by Floyd's
    algorithm from ``u[offsets[t]:offsets[t + 1]]``; an empty ``amp`` means amplitude ``a``.

    Parameters
    ----------
    W : (m, n) float64
        The embedding, rows = features.
    targets : (T,) int64
        Read-out row of each trial, in ``[0, m)``.
    offsets : (T + 1,) int64
        Non-decreasing, ``offsets[0] = 0``, each trial at most ``m - 1`` active rows
        (``K = offsets[T]``).
    u : (K,) float64
        Uniforms on ``[0, 1)`` for the subsets.
    amp : (K,) or (0,) float64
        Amplitudes, or empty for the fixed amplitude ``a``.
    a : float
        The fixed amplitude.
    out : (T,) float64
        Receives each trial's read-out noise.
    """
    N = W.shape[0] - 1
    n = W.shape[1]
    fixed = amp.size == 0
    for t in prange(out.size):
        i = targets[t]
        base = offsets[t]
        K = offsets[t + 1] - base
        chosen = np.empty(K, dtype=np.int64)
        _floyd_sample(u, base, K, N, chosen)
        s = 0.0
        for k in range(K):
            j = chosen[k]
            if j >= i:  # index among the others -> row index, skipping the read-out row
                j += 1
            d = 0.0
            for c in range(n):
                d += W[i, c] * W[j, c]
            w = a if fixed else amp[base + k]
            s += w * d
        out[t] = s


# parallel=True: trials x level counts decodings. prange runs only over the fixed blocks of
# trials (their bounds depend on `blocks`, not on the threads) and block b writes only row
# counts[b]; the counts are integers, so results do not depend on the thread count.
@jit(parallel=True)
def level_errors(noise, u, levels, a, blocks, counts):
    """Count nearest-level decoding errors: ``counts[b, q]`` for block ``b``, level count ``q``.

    Trial ``t`` sends level ``k = floor(u_t L)`` of ``L = levels[q]`` equally spaced values
    in ``[0, a]`` (spacing ``a / (L - 1)``); the read-out is that value plus ``noise[t]``
    and is decoded to the nearest of the ``L`` values (clamped at the ends).

    Parameters
    ----------
    noise : (T,) float64
        Read-out noise of each trial.
    u : (T,) float64
        Uniforms on ``[0, 1)`` choosing each trial's level.
    levels : (Q,) int64
        Level counts, each >= 2.
    a : float
        Largest value.
    blocks : int
        Number of fixed blocks of trials (block ``b`` is ``[b T // blocks, (b + 1) T //
        blocks)``), the unit of parallel work.
    counts : (blocks, Q) int64
        Receives the errors of each block and level count.
    """
    T = noise.size
    nl = levels.size
    for b in prange(blocks):
        lo = (b * T) // blocks
        hi = ((b + 1) * T) // blocks
        for q in range(nl):
            L = levels[q]
            step = a / (L - 1)
            c = 0
            for t in range(lo, hi):
                k = int(u[t] * L)
                if k >= L:
                    k = L - 1
                kh = math.floor(k + noise[t] / step + 0.5)
                if kh < 0:
                    kh = 0
                elif kh > L - 1:
                    kh = L - 1
                if kh != k:
                    c += 1
            counts[b, q] = c


# parallel=True: each trial is O(m^2 n), over many trials. prange runs only over the
# independent trials and trial t writes only out[t], its pairs in a fixed order, so results do
# not depend on the thread count.
@jit(parallel=True)
def max_abs_cos(X, out):
    """Fill ``out[t] = max_{i<j} |cos(X[t, i], X[t, j])|`` for a batch of small matrices.

    One trial per thread, pairs in a fixed order: the value does not depend on the thread
    count. Used for small ``m``, where one call of the blocked :func:`suptheory.coherence`
    costs more in overhead than the whole pair loop.

    Parameters
    ----------
    X : (T, m, n) float64
        The matrices, rows = vectors (a zero row has cosine 0 with every row).
    out : (T,) float64
        Receives each trial's maximum, in ``[0, 1]``.
    """
    T, m, n = X.shape
    for t in prange(T):
        inv = np.empty(m)
        for i in range(m):
            s = 0.0
            for c in range(n):
                s += X[t, i, c] * X[t, i, c]
            inv[i] = 1.0 / math.sqrt(s) if s > 0.0 else 0.0
        best = 0.0
        n4 = n - n % 4
        for i in range(m):
            for j in range(i + 1, m):
                # four independent partial sums in a fixed order: no fastmath needed to
                # break the add-latency chain, and the same bits on every thread count
                d0 = d1 = d2 = d3 = 0.0
                for c in range(0, n4, 4):
                    d0 += X[t, i, c] * X[t, j, c]
                    d1 += X[t, i, c + 1] * X[t, j, c + 1]
                    d2 += X[t, i, c + 2] * X[t, j, c + 2]
                    d3 += X[t, i, c + 3] * X[t, j, c + 3]
                d = (d0 + d1) + (d2 + d3)
                for c in range(n4, n):
                    d += X[t, i, c] * X[t, j, c]
                v = abs(d) * inv[i] * inv[j]
                if v > best:
                    best = v
        out[t] = min(best, 1.0)  # rounding can lift an exact 1 (n = 1) by an ulp
