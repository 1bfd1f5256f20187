"""numba kernels of the toy-model trainer: data, forward, backward and Adam(W), many instances.

Layout: every weight array is ``(instances, m, n)`` with rows as features (the notebook's
``W[instance, feature, hidden]``); biases are ``(instances, m)``. One instance is trained
by one thread from start to end (``prange`` over instances), so an instance's result never
depends on the thread count.

Randomness. Kernels hold no random generator. The data of instance ``i`` at step ``t`` are
a deterministic function of ``(key[i], t, j)``: the ``j``-th 64-bit word of that step is
``splitmix64(s + (j + 1) * GAMMA)`` with ``s`` a hash of ``(key[i], t)``. splitmix64's
output function is a bijective integer hash (Steele, Lea & Flood, "Fast splittable
pseudorandom number generators", OOPSLA 2014), used here in counter mode -- a pure
function of its counter, like Philox (Salmon et al., SC 2011). The wrapper draws the keys
from its seeded ``numpy.random.Generator``, so the seed fully determines every value.

Each 64-bit word gives two 32-bit uniforms: the low half decides whether a feature is
active (``u < p``, the notebook's ``rand <= p`` up to the null event ``u == p``), the high
half is its value (uniform on ``[0, 1)`` with 2^-32 resolution; ``[-1, 1)`` for "abs").
At small density (``p < SPARSE_BELOW``) the gaps between active features are drawn
directly as geometric variables, ``floor(log(u) / log(1 - p))``, so the cost per sample is
proportional to the number of active features instead of ``m``.

Three code paths, chosen per instance from ``(p, m, n)`` alone (so the choice, and with it
the stream of numbers, never depends on the thread count):

- batch-major (:func:`use_batch`: ``p m >= 2`` or ``m n <= 64``): the step's sample is a
  dense ``(m, batch)`` array, feature ``i`` of sample ``b`` from word ``i * batch + b + 1``;
  every loop runs over the batch (long, contiguous, vectorised) and the reductions over
  the batch are fixed pairwise trees (:func:`_tdot`), deterministic without fastmath;
- Gram (:func:`use_gram`: tied relu/linear and ``p m < n``): per sample,
  ``x' = act(G x + b)`` with ``G = W W^T`` computed once per step;
- per-sample otherwise (sparse draws, ``W^T`` computed once per step).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from suptheory._kernels.jit import jit

__all__ = ["MODELS", "train_chunk", "evaluate", "loss_and_grad", "adam_update", "use_gram",
           "use_batch", "tree_size", "batch_loss_and_grad"]

#: model name -> code used inside the kernels
MODELS: dict[str, int] = {"relu": 0, "linear": 1, "hidden-relu": 2, "abs": 3}

#: below this density the active features are sampled by geometric gaps (cheaper than m draws)
SPARSE_BELOW = 0.125

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_LOW = np.uint64(0xFFFFFFFF)
_TWO_M32 = 2.0**-32


@jit(inline="always")  # numba IR inlining: no per-call array refcounting
def _mix(z):  # pragma: no cover - compiled
    # splitmix64's finaliser (Steele, Lea & Flood 2014): a bijection of 64-bit words.
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit(inline="always")  # numba IR inlining: no per-call array refcounting
def _stream(key, step):  # pragma: no cover - compiled
    """Start of the counter stream of one instance at one step."""
    return _mix(_mix(key + _GAMMA) ^ (np.uint64(step) * _M2 + _GAMMA))


@jit(inline="always")  # numba IR inlining: no per-call array refcounting
def _draw(state, p, inv_log1mp, sparse, signed, m, idx, val):  # pragma: no cover - compiled
    """Draw one sample's active features into ``idx``/``val``; return (count, new state)."""
    na = 0
    if p <= 0.0:
        return na, state
    if sparse:
        pos = -1
        while True:
            state = state + _GAMMA
            z = _mix(state)
            u = 1.0 - (z & _LOW) * _TWO_M32  # in (0, 1]
            gap = math.log(u) * inv_log1mp  # failures before the next success, >= 0
            if gap >= m - 1 - pos:
                break
            pos += int(gap) + 1
            v = (z >> _S32) * _TWO_M32
            idx[na] = pos
            val[na] = 2.0 * v - 1.0 if signed else v
            na += 1
        return na, state
    for j in range(m):
        state = state + _GAMMA
        z = _mix(state)
        if (z & _LOW) * _TWO_M32 < p:
            v = (z >> _S32) * _TWO_M32
            idx[na] = j
            val[na] = 2.0 * v - 1.0 if signed else v
            na += 1
    return na, state


@jit(inline="always")  # numba IR inlining: no per-call array refcounting
def _sample(W, Wo, WoT, b, imp, idx, val, na, xd, z, h, dh, o, model, gW, gWo, gb, scale,
            want_grad):  # pragma: no cover - compiled
    """Loss ``sum_i I_i (y_i - x'_i)^2`` of one sample; add its gradient times ``scale``.

    ``W`` is the encoder (rows = feature directions), ``Wo`` the decoder (the same array for
    tied models) and ``WoT`` its transpose, so that the output ``o = b + Wo h`` is a sum of
    contiguous columns (vectorised, no serial reduction); ``xd`` is a zeroed length-m
    scratch that holds the dense sample meanwhile.
    """
    m, n = W.shape
    hidden_relu = model >= 2
    out_relu = model != 1
    for k in range(n):
        z[k] = 0.0
    for a in range(na):
        i = idx[a]
        x = val[a]
        xd[i] = x
        for k in range(n):
            z[k] += x * W[i, k]
    for i in range(m):
        o[i] = b[i]
    for k in range(n):
        zk = z[k]
        hk = zk if (zk > 0.0 or not hidden_relu) else 0.0
        h[k] = hk
        dh[k] = 0.0
        if hk != 0.0:
            for i in range(m):
                o[i] += hk * WoT[k, i]
    loss = 0.0
    for i in range(m):
        oi = o[i]
        y = oi if (oi > 0.0 or not out_relu) else 0.0
        target = xd[i]
        if model == 3:
            target = abs(target)
        diff = y - target
        loss += imp[i] * diff * diff
        if want_grad and diff != 0.0 and (oi > 0.0 or not out_relu):
            g = 2.0 * imp[i] * diff * scale
            gb[i] += g
            for k in range(n):
                gWo[i, k] += g * h[k]
                dh[k] += g * Wo[i, k]
    if want_grad and hidden_relu:
        for k in range(n):
            if z[k] <= 0.0:
                dh[k] = 0.0
    for a in range(na):
        i = idx[a]
        x = val[a]
        xd[i] = 0.0
        if want_grad:
            for k in range(n):
                gW[i, k] += x * dh[k]
    return loss


@jit(inline="always")
def _sample_gram(G, b, imp, idx, val, na, xd, o, nz, gv, model, gG, gb, scale,
                 want_grad):  # pragma: no cover - compiled
    """The tied relu/linear sample through the Gram matrix ``G = W W^T``.

    ``x' = act(G x + b)`` costs ``m`` per active feature instead of ``n m``; the gradient
    ``dL/dG[a, i] = x_a g_i`` is accumulated in ``gG`` and turned into ``dL/dW`` once per
    step by :func:`_gram_to_w`. Worth it when fewer features are active than neurons.
    """
    m = b.shape[0]
    out_relu = model != 1
    for i in range(m):
        o[i] = b[i]
    for a in range(na):
        r = idx[a]
        x = val[a]
        xd[r] = x
        for i in range(m):
            o[i] += x * G[r, i]
    loss = 0.0
    nnz = 0
    for i in range(m):
        oi = o[i]
        y = oi if (oi > 0.0 or not out_relu) else 0.0
        diff = y - xd[i]
        loss += imp[i] * diff * diff
        if want_grad and diff != 0.0 and (oi > 0.0 or not out_relu):
            g = 2.0 * imp[i] * diff * scale
            gb[i] += g
            nz[nnz] = i
            gv[nnz] = g
            nnz += 1
    for a in range(na):
        r = idx[a]
        x = val[a]
        xd[r] = 0.0
        if want_grad:
            for j in range(nnz):
                gG[r, nz[j]] += x * gv[j]
    return loss


@jit(inline="always")
def _prepare(W, Wo, WT, WoT, G, gram, untied):  # pragma: no cover - compiled
    """Per step: ``W^T`` (and the decoder's transpose), and ``G = W W^T`` on the Gram path."""
    m, n = W.shape
    for i in range(m):
        for k in range(n):
            WT[k, i] = W[i, k]
    if untied:
        for i in range(m):
            for k in range(n):
                WoT[k, i] = Wo[i, k]
    if gram:
        for i in range(m):
            for j in range(m):
                G[i, j] = 0.0
            for k in range(n):
                w = W[i, k]
                for j in range(m):
                    G[i, j] += w * WT[k, j]


@jit(inline="always")
def _gram_to_w(W, gG, gW):  # pragma: no cover - compiled
    """``dL/dW = (gG + gG^T) W`` for ``G = W W^T``."""
    m, n = W.shape
    for i in range(m):
        for j in range(m):
            s = gG[i, j] + gG[j, i]
            if s != 0.0:
                for k in range(n):
                    gW[i, k] += s * W[j, k]


@jit
def adam_update(P, G, M, V, lr, t, adamw, wd, beta1, beta2, eps):  # pragma: no cover - compiled
    """One PyTorch Adam/AdamW step on a flat view of a parameter (Loshchilov & Hutter 2019).

    AdamW: ``P *= 1 - lr wd`` (decoupled, every parameter), Adam: ``G += wd P`` (L2);
    then ``M = b1 M + (1-b1) G``, ``V = b2 V + (1-b2) G^2``,
    ``P -= lr / (1 - b1^t) * M / (sqrt(V) / sqrt(1 - b2^t) + eps)`` as ``torch.optim``.
    """
    bc1 = 1.0 - beta1**t
    bc2_sqrt = math.sqrt(1.0 - beta2**t)
    step_size = lr / bc1
    decay = 1.0 - lr * wd
    for j in range(P.size):
        g = G[j]
        if adamw:
            P[j] = P[j] * decay
        elif wd != 0.0:
            g = g + wd * P[j]
        M[j] = M[j] + (g - M[j]) * (1.0 - beta1)  # torch: exp_avg.lerp_(grad, 1 - beta1)
        V[j] = V[j] * beta2 + (1.0 - beta2) * g * g
        P[j] = P[j] - step_size * (M[j] / (math.sqrt(V[j]) / bc2_sqrt + eps))


@jit(inline="always")
def _tdot(a, ra, c, rc, B, T):  # pragma: no cover - compiled
    """``sum_b a[ra, b] c[rc, b]`` by a fixed pairwise tree over ``T``.

    ``T`` has a power-of-two length >= B. Every level is one vectorised loop and the order
    never changes, so the result is deterministic without fastmath's reassociation.
    """
    P = T.shape[0]
    for b in range(B):
        T[b] = a[ra, b] * c[rc, b]
    for b in range(B, P):
        T[b] = 0.0
    w = P // 2
    while w >= 1:
        for b in range(w):
            T[b] += T[b + w]
        w //= 2
    return T[0]


@jit(inline="always")
def _tsum(a, ra, B, T):  # pragma: no cover - compiled
    """``sum_b a[ra, b]`` by the same fixed pairwise tree."""
    P = T.shape[0]
    for b in range(B):
        T[b] = a[ra, b]
    for b in range(B, P):
        T[b] = 0.0
    w = P // 2
    while w >= 1:
        for b in range(w):
            T[b] += T[b + w]
        w //= 2
    return T[0]


def tree_size(batch):
    """Length of the pairwise-summation buffer: the smallest power of two >= batch."""
    P = 1
    while P < batch:
        P *= 2
    return P


_tree_size = jit(inline="always")(tree_size)


@jit(inline="always")
def _batch_step(W, Wo, b, imp, p, start, model, scale, gW, gWo, gb, Xt, Zt, Ht, Ot, dHt, acc,
                lossb):  # pragma: no cover - compiled
    """One step's loss and gradient, batch-major: every array is ``(rows, batch)``.

    Used at moderate and high density, where every loop runs over the batch (long,
    contiguous, vectorised) instead of over a handful of features. Sample ``b``'s feature
    ``i`` is word ``i * batch + b + 1`` of the step's counter stream ``start``.
    """
    m, n = W.shape
    B = Xt.shape[1]
    hidden_relu = model >= 2
    out_relu = model != 1
    signed = model == 3
    # u < p  <=>  low word < ceil(p 2^32) for the integer low word: the same test, in integers
    thr = np.uint64(math.ceil(p * 4294967296.0))
    for i in range(m):
        base = start + np.uint64(i * B + 1) * _GAMMA
        for c in range(B):
            z = _mix(base + np.uint64(c) * _GAMMA)
            v = (z >> _S32) * _TWO_M32
            if signed:
                v = 2.0 * v - 1.0
            Xt[i, c] = v if (z & _LOW) < thr else 0.0
    for k in range(n):
        for c in range(B):
            Zt[k, c] = 0.0
        for i in range(m):
            w = W[i, k]
            for c in range(B):
                Zt[k, c] += w * Xt[i, c]
        # loop-invariant branches outside the loops (no short-circuit inside: it vectorises)
        if hidden_relu:
            for c in range(B):
                zc = Zt[k, c]
                Ht[k, c] = zc if zc > 0.0 else 0.0
        else:
            for c in range(B):
                Ht[k, c] = Zt[k, c]
        for c in range(B):
            dHt[k, c] = 0.0
    for c in range(B):
        lossb[c] = 0.0
    for i in range(m):
        bi = b[i]
        for c in range(B):
            Ot[i, c] = bi
        for k in range(n):
            w = Wo[i, k]
            for c in range(B):
                Ot[i, c] += w * Ht[k, c]
        g2 = 2.0 * imp[i] * scale
        ii = imp[i]
        if signed:  # "abs": target |x|, ReLU output
            for c in range(B):
                o = Ot[i, c]
                diff = (o if o > 0.0 else 0.0) - abs(Xt[i, c])
                lossb[c] += ii * diff * diff
                Ot[i, c] = g2 * diff if o > 0.0 else 0.0  # now dL/do
        elif out_relu:
            for c in range(B):
                o = Ot[i, c]
                diff = (o if o > 0.0 else 0.0) - Xt[i, c]
                lossb[c] += ii * diff * diff
                Ot[i, c] = g2 * diff if o > 0.0 else 0.0
        else:
            for c in range(B):
                diff = Ot[i, c] - Xt[i, c]
                lossb[c] += ii * diff * diff
                Ot[i, c] = g2 * diff
        gb[i] += _tsum(Ot, i, B, acc)
        for k in range(n):
            gWo[i, k] += _tdot(Ot, i, Ht, k, B, acc)
            w = Wo[i, k]
            for c in range(B):
                dHt[k, c] += w * Ot[i, c]
    if hidden_relu:
        for k in range(n):
            for c in range(B):
                if Zt[k, c] <= 0.0:
                    dHt[k, c] = 0.0
    for i in range(m):
        for k in range(n):
            gW[i, k] += _tdot(Xt, i, dHt, k, B, acc)
    total = 0.0
    for c in range(B):
        total += lossb[c]
    return total


def use_batch(p, m, n):
    """Whether an instance takes the batch-major path.

    It does when two or more features are active on average, or when the model is so small
    that per-sample loops are all overhead.
    """
    return p * m >= 2.0 or m * n <= 64


_use_batch = jit(inline="always")(use_batch)


def use_gram(model, p, m, n):
    """Whether an instance takes the Gram path: tied relu/linear, fewer active than neurons."""
    return model <= 1 and p * m < n


_use_gram = jit(inline="always")(use_gram)


@jit(parallel=True)
def train_chunk(W, Wo, b, mW, vW, mWo, vWo, mb, vb, imp, p, keys, step0, lr, batch, model,
                adamw, wd, beta1, beta2, eps, losses):  # pragma: no cover - compiled
    """Run ``lr.size`` optimiser steps from global step ``step0`` on every instance, in place.

    ``losses[i, s]`` receives the batch-mean loss (sum over features) before step ``s``.
    The gradient is that of the notebook's objective, the mean over batch and features
    (``1 / (batch m)`` times the sum), so Adam's ``eps`` acts as in the notebook.
    """
    n_inst, m, n = W.shape
    untied = model == 3
    signed = model == 3
    scale = 1.0 / (batch * m)
    for inst in prange(n_inst):
        Wi = W[inst]
        Woi = Wo[inst] if untied else Wi
        gW = np.zeros((m, n), W.dtype)
        gWo = np.zeros((m, n), W.dtype) if untied else gW
        WT = np.zeros((n, m), W.dtype)
        WoT = np.zeros((n, m), W.dtype) if untied else WT
        gb = np.zeros(m, W.dtype)
        idx = np.zeros(m, np.int64)
        nz = np.zeros(m, np.int64)
        val = np.zeros(m, W.dtype)
        gv = np.zeros(m, W.dtype)
        xd = np.zeros(m, W.dtype)
        o = np.zeros(m, W.dtype)
        z = np.zeros(n, W.dtype)
        h = np.zeros(n, W.dtype)
        dh = np.zeros(n, W.dtype)
        pi = p[inst]
        bmaj = _use_batch(pi, m, n)
        gram = _use_gram(model, pi, m, n) and not bmaj
        rows = batch if bmaj else 1
        Xt = np.zeros((m, rows), W.dtype)
        Ot = np.zeros((m, rows), W.dtype)
        Zt = np.zeros((n, rows), W.dtype)
        Ht = np.zeros((n, rows), W.dtype)
        dHt = np.zeros((n, rows), W.dtype)
        lossb = np.zeros(rows, np.float64)
        acc = np.zeros(_tree_size(rows), W.dtype)
        G = np.zeros((m, m) if gram else (1, 1), W.dtype)
        gG = np.zeros((m, m) if gram else (1, 1), W.dtype)
        sparse = pi < SPARSE_BELOW
        inv_log1mp = 1.0 / math.log1p(-pi) if (sparse and pi > 0.0) else 0.0
        for s in range(lr.size):
            step = step0 + s
            gW[:] = 0.0
            gWo[:] = 0.0
            gb[:] = 0.0
            gG[:] = 0.0
            if not bmaj:
                _prepare(Wi, Woi, WT, WoT, G, gram, untied)
            state = _stream(keys[inst], step)
            total = 0.0
            if bmaj:
                total = _batch_step(Wi, Woi, b[inst], imp[inst], pi, state, model, scale, gW, gWo,
                                    gb, Xt, Zt, Ht, Ot, dHt, acc, lossb)
            for _ in range(0 if bmaj else batch):
                na, state = _draw(state, pi, inv_log1mp, sparse, signed, m, idx, val)
                if gram:
                    total += _sample_gram(G, b[inst], imp[inst], idx, val, na, xd, o, nz, gv,
                                          model, gG, gb, scale, True)
                else:
                    total += _sample(Wi, Woi, WoT, b[inst], imp[inst], idx, val, na, xd, z, h,
                                     dh, o, model, gW, gWo, gb, scale, True)
            if gram:
                _gram_to_w(Wi, gG, gW)
            losses[inst, s] = total / batch
            t = step + 1
            adam_update(Wi.reshape(-1), gW.reshape(-1), mW[inst].reshape(-1),
                        vW[inst].reshape(-1), lr[s], t, adamw, wd, beta1, beta2, eps)
            if untied:
                adam_update(Woi.reshape(-1), gWo.reshape(-1), mWo[inst].reshape(-1),
                            vWo[inst].reshape(-1), lr[s], t, adamw, wd, beta1, beta2, eps)
            adam_update(b[inst], gb, mb[inst], vb[inst], lr[s], t, adamw, wd, beta1, beta2, eps)


@jit(parallel=True)
def evaluate(W, Wo, b, imp, p, keys, batch, model, mean, se):  # pragma: no cover - compiled
    """Mean loss per sample (sum over features) on ``batch`` fresh samples, and its std error."""
    n_inst, m, n = W.shape
    untied = model == 3
    signed = model == 3
    for inst in prange(n_inst):
        Wi = W[inst]
        Woi = Wo[inst] if untied else Wi
        g = np.zeros((1, 1), W.dtype)
        g1 = np.zeros(1, W.dtype)
        WT = np.zeros((n, m), W.dtype)
        WoT = np.zeros((n, m), W.dtype) if untied else WT
        idx = np.zeros(m, np.int64)
        val = np.zeros(m, W.dtype)
        xd = np.zeros(m, W.dtype)
        o = np.zeros(m, W.dtype)
        z = np.zeros(n, W.dtype)
        h = np.zeros(n, W.dtype)
        dh = np.zeros(n, W.dtype)
        _prepare(Wi, Woi, WT, WoT, g, False, untied)
        pi = p[inst]
        sparse = pi < SPARSE_BELOW
        inv_log1mp = 1.0 / math.log1p(-pi) if (sparse and pi > 0.0) else 0.0
        state = _stream(keys[inst], 0)
        s1 = 0.0
        s2 = 0.0
        for _ in range(batch):
            na, state = _draw(state, pi, inv_log1mp, sparse, signed, m, idx, val)
            loss = _sample(Wi, Woi, WoT, b[inst], imp[inst], idx, val, na, xd, z, h, dh, o,
                           model, g, g, g1, 1.0, False)
            s1 += loss
            s2 += loss * loss
        mu = s1 / batch
        mean[inst] = mu
        var = (s2 - batch * mu * mu) / (batch - 1) if batch > 1 else 0.0
        se[inst] = math.sqrt(max(var, 0.0) / batch)


@jit
def loss_and_grad(W, Wo, b, imp, x, model, gW, gWo, gb, gram):  # pragma: no cover - compiled
    """Notebook objective ``mean over batch and features`` for one instance on a given batch.

    ``x`` is ``(batch, m)``; the gradients are added into ``gW``, ``gWo``, ``gb`` (pass
    ``gWo`` as ``gW`` for tied models). ``gram`` selects the Gram-matrix path (tied relu
    and linear only), as the trainer does at low density. Returns the objective.
    """
    bsz, m = x.shape
    n = W.shape[1]
    untied = model == 3
    gram = gram and model <= 1
    idx = np.zeros(m, np.int64)
    nz = np.zeros(m, np.int64)
    val = np.zeros(m, W.dtype)
    gv = np.zeros(m, W.dtype)
    xd = np.zeros(m, W.dtype)
    o = np.zeros(m, W.dtype)
    z = np.zeros(n, W.dtype)
    h = np.zeros(n, W.dtype)
    dh = np.zeros(n, W.dtype)
    WT = np.zeros((n, m), W.dtype)
    WoT = np.zeros((n, m), W.dtype) if untied else WT
    G = np.zeros((m, m), W.dtype)
    gG = np.zeros((m, m), W.dtype)
    _prepare(W, Wo, WT, WoT, G, gram, untied)
    scale = 1.0 / (bsz * m)
    total = 0.0
    for r in range(bsz):
        na = 0
        for i in range(m):
            if x[r, i] != 0.0:
                idx[na] = i
                val[na] = x[r, i]
                na += 1
        if gram:
            total += _sample_gram(G, b, imp, idx, val, na, xd, o, nz, gv, model, gG, gb, scale,
                                  True)
        else:
            total += _sample(W, Wo, WoT, b, imp, idx, val, na, xd, z, h, dh, o, model, gW, gWo,
                             gb, scale, True)
    if gram:
        _gram_to_w(W, gG, gW)
    return total * scale


@jit
def batch_loss_and_grad(W, Wo, b, imp, p, key, step, batch, model, gW, gWo,
                        gb):  # pragma: no cover - compiled
    """The batch-major path's objective and gradient for one instance at one step.

    Returns ``(objective, X)`` with ``X`` the ``(batch, m)`` sample it drew, so that a test
    can recompute the objective and its gradient independently.
    """
    m, n = W.shape
    Xt = np.zeros((m, batch), W.dtype)
    Ot = np.zeros((m, batch), W.dtype)
    Zt = np.zeros((n, batch), W.dtype)
    Ht = np.zeros((n, batch), W.dtype)
    dHt = np.zeros((n, batch), W.dtype)
    lossb = np.zeros(batch, np.float64)
    acc = np.zeros(_tree_size(batch), W.dtype)
    scale = 1.0 / (batch * m)
    total = _batch_step(W, Wo, b, imp, p, _stream(key, step), model, scale, gW, gWo, gb, Xt,
                        Zt, Ht, Ot, dHt, acc, lossb)
    return total * scale, Xt.T.copy()
