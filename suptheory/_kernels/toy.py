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
from its seeded ``numpy.random.Generator``, so the random seed fully determines every value.

Each 64-bit word gives two 32-bit uniforms: the low half decides whether a feature is
active (``u < p``, the notebook's ``rand <= p`` up to the null event ``u == p``), the high
half is its value (uniform on ``[0, 1)`` with 2^-32 resolution; ``[-1, 1)`` for "abs").
At small density (``p < SPARSE_BELOW``) the gaps between active features are drawn
directly as geometric variables, ``floor(log(u) / log(1 - p))``, so the cost per sample is
proportional to the number of active features instead of ``m``.

Feature sets (the data laws of Elhage et al. 2022, section "Superposition and Correlated
Features", and the 1-sparse law of Chen et al. 2023). When ``set_mode`` is not empty, the
features are split into contiguous sets ``sets[s] <= i < sets[s + 1]`` and each set draws
by its mode (:data:`SET_INDEPENDENT`, :data:`SET_CORRELATED`, :data:`SET_ANTICORRELATED`),
set by set along the per-sample stream (:func:`_draw_sets`); such instances always take the
per-sample path without the Gram matrix. An empty ``set_mode`` is the independent
Bernoulli law above, drawn exactly as before.

Three code paths, chosen per instance from ``(p, m, n)`` alone (so the choice, and with it
the stream of numbers, never depends on the thread count):

- batch-major (:func:`use_batch`: ``p m >= 2`` or ``m n <= 64``): the step's sample is a
  dense ``(m, batch)`` array, feature ``i`` of sample ``b`` from word ``i * batch + b + 1``;
  every loop runs over the batch (long, contiguous, vectorised) and the reductions over
  the batch are fixed pairwise trees (:func:`_tdot`), deterministic without fastmath;
- Gram (:func:`use_gram`: tied relu/linear and ``p m < n``): per sample,
  ``x' = act(G x + b)`` with ``G = W W^T`` computed once per step;
- per-sample otherwise (sparse draws, ``W^T`` computed once per step).

Codes and types. ``model`` is one of the ``MODEL_*`` constants below (:data:`MODELS` maps
the public names to them; :mod:`suptheory.empirical.toy_models` is the wrapper); the
optimiser is the flag ``adamw``; the code path is chosen inside the kernels by
:func:`use_batch` and :func:`use_gram`, and the learning-rate schedule is an array made by
the wrapper. In the docstrings ``F`` is the float dtype of the weights, data and optimiser
state (float32 or float64), the same for every array so typed.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from suptheory._kernels.jit import jit

__all__ = [
    "MODELS",
    "MODEL_RELU",
    "MODEL_LINEAR",
    "MODEL_HIDDEN_RELU",
    "MODEL_ABS",
    "SET_INDEPENDENT",
    "SET_CORRELATED",
    "SET_ANTICORRELATED",
    "SET_MODES",
    "NO_SETS",
    "NO_SET_MODE",
    "train_chunk",
    "evaluate",
    "loss_and_grad",
    "adam_update",
    "use_gram",
    "use_batch",
    "tree_size",
    "batch_loss_and_grad",
]

# Model codes, the ``model`` argument of the kernels. numba reads module-level ints as
# compile-time constants, so naming them costs nothing.
#: tied, ``x' = ReLU(W W^T x + b)``
MODEL_RELU = 0
#: tied, ``x' = W W^T x + b``
MODEL_LINEAR = 1
#: tied, ``h = ReLU(W^T x)``, ``x' = ReLU(W h + b)``
MODEL_HIDDEN_RELU = 2
#: untied, ``h = ReLU(W^T x)``, ``y' = ReLU(W_out h + b)``, target ``|x|``, ``x`` on [-1, 1)
MODEL_ABS = 3

#: model name (:data:`suptheory.empirical.toy_models.TOY_MODELS`) -> code used in the kernels
MODELS: dict[str, int] = {
    "relu": MODEL_RELU,
    "linear": MODEL_LINEAR,
    "hidden-relu": MODEL_HIDDEN_RELU,
    "abs": MODEL_ABS,
}

# Feature-set modes, the entries of ``set_mode``.
#: every feature of the set active independently with probability ``p``
SET_INDEPENDENT = 0
#: with probability ``p`` every feature of the set is active (values independent), else none
SET_CORRELATED = 1
#: with probability ``p`` exactly one feature of the set (uniform) is active, else none
SET_ANTICORRELATED = 2

#: set-mode name -> code used in the kernels
SET_MODES: dict[str, int] = {
    "independent": SET_INDEPENDENT,
    "correlated": SET_CORRELATED,
    "anticorrelated": SET_ANTICORRELATED,
}

#: ``sets`` and ``set_mode`` of the independent Bernoulli law (no feature sets)
NO_SETS = np.zeros(1, np.int64)
NO_SET_MODE = np.zeros(0, np.int64)

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
def _mix(z):
    """splitmix64's finaliser (Steele, Lea & Flood 2014): a bijection of 64-bit words.

    Parameters
    ----------
    z : uint64
        The word to hash.

    Returns
    -------
    uint64
    """
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit(inline="always")  # numba IR inlining: no per-call array refcounting
def _stream(key, step):
    """Start of the counter stream of one instance at one step.

    Parameters
    ----------
    key : uint64
        The instance's key (drawn by the wrapper from its generator).
    step : int
        Global optimiser step (0 for the evaluation).

    Returns
    -------
    uint64
        The counter ``s``; the ``j``-th word of the step is ``_mix(s + (j + 1) GAMMA)``.
    """
    return _mix(_mix(key + _GAMMA) ^ (np.uint64(step) * _M2 + _GAMMA))


@jit(inline="always")  # numba IR inlining: no per-call array refcounting
def _draw(state, p, inv_log1mp, sparse, signed, m, idx, val):
    """Draw one sample's active features into ``idx``/``val``; return (count, new state).

    Parameters
    ----------
    state : uint64
        Counter of the stream; each word drawn advances it by ``GAMMA``.
    p : float
        Density: probability that a feature is active.
    inv_log1mp : float
        ``1 / log(1 - p)`` on the sparse path (``0`` otherwise, unused).
    sparse : bool
        Draw geometric gaps between active features (``p < SPARSE_BELOW``) instead of one
        word per feature.
    signed : bool
        Values uniform on ``[-1, 1)`` (model "abs") instead of ``[0, 1)``.
    m : int
        Number of features.
    idx : (m,) int64
        Receives the active features' indices, ascending, in ``idx[:count]``.
    val : (m,) float
        Receives their values in ``val[:count]``.

    Returns
    -------
    count : int
        Number of active features.
    state : uint64
        The advanced counter.
    """
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
def _draw_sets(state, p, sets, set_mode, signed, idx, val):
    """Draw one sample under the feature-set law; return (count, new state).

    Set ``s`` (features ``sets[s] <= i < sets[s + 1]``) reads, in order: for
    :data:`SET_INDEPENDENT` one word per feature (low half ``< p``: active, high half: value,
    as :func:`_draw`'s dense path); otherwise one word whose low half decides whether the set
    is active (``< p``) -- then :data:`SET_CORRELATED` reads one word per feature for its
    value (high half), and :data:`SET_ANTICORRELATED` picks member
    ``floor(high half * size)`` and reads one word for its value.

    Parameters
    ----------
    state : uint64
        Counter of the stream; each word drawn advances it by ``GAMMA``.
    p : float
        Probability that a feature (independent sets) or a set (the others) is active.
    sets : (S + 1,) int64
        Boundaries of the contiguous feature sets, ``sets[0] = 0``, ``sets[S] = m``.
    set_mode : (S,) int64
        Each set's ``SET_*`` mode.
    signed : bool
        Values uniform on ``[-1, 1)`` (model "abs") instead of ``[0, 1)``.
    idx : (m,) int64
        Receives the active features' indices, ascending, in ``idx[:count]``.
    val : (m,) float
        Receives their values in ``val[:count]``.

    Returns
    -------
    count : int
        Number of active features.
    state : uint64
        The advanced counter.
    """
    na = 0
    for s in range(set_mode.size):
        lo = sets[s]
        hi = sets[s + 1]
        mode = set_mode[s]
        if mode == SET_INDEPENDENT:
            for j in range(lo, hi):
                state = state + _GAMMA
                z = _mix(state)
                if (z & _LOW) * _TWO_M32 < p:
                    v = (z >> _S32) * _TWO_M32
                    idx[na] = j
                    val[na] = 2.0 * v - 1.0 if signed else v
                    na += 1
            continue
        state = state + _GAMMA
        z = _mix(state)
        if not (z & _LOW) * _TWO_M32 < p:
            continue
        first = lo
        last = hi
        if mode == SET_ANTICORRELATED:
            first = lo + min(int((z >> _S32) * _TWO_M32 * (hi - lo)), hi - lo - 1)
            last = first + 1
        for j in range(first, last):
            state = state + _GAMMA
            v = (_mix(state) >> _S32) * _TWO_M32
            idx[na] = j
            val[na] = 2.0 * v - 1.0 if signed else v
            na += 1
    return na, state


@jit(inline="always")  # numba IR inlining: no per-call array refcounting
def _sample(
    W, Wo, WoT, b, imp, idx, val, na, xd, z, h, dh, o, model, gW, gWo, gb, scale, want_grad
):
    """Loss ``sum_i I_i (y_i - x'_i)^2`` of one sample; add its gradient times ``scale``.

    ``W`` is the encoder (rows = feature directions), ``Wo`` the decoder (the same array for
    tied models) and ``WoT`` its transpose, so that the output ``o = b + Wo h`` is a sum of
    contiguous columns (vectorised, no serial reduction); ``xd`` is a zeroed length-m
    scratch that holds the dense sample meanwhile. ``F`` is the weights' float dtype.

    Parameters
    ----------
    W : (m, n) F
        Encoder, rows = features.
    Wo : (m, n) F
        Decoder (``W`` itself for tied models).
    WoT : (n, m) F
        ``Wo`` transposed (filled by :func:`_prepare`).
    b : (m,) F
        Output bias.
    imp : (m,) F
        Feature importances ``I_i``.
    idx : (m,) int64
        Active features of the sample in ``idx[:na]``.
    val : (m,) F
        Their values in ``val[:na]``.
    na : int
        Number of active features.
    xd : (m,) F
        Scratch, all zero on entry and on return.
    z, h, dh : (n,) F
        Scratch: pre-activation, hidden activation and ``dL/dh``.
    o : (m,) F
        Scratch: output pre-activation.
    model : int
        One of the ``MODEL_*`` codes.
    gW, gWo : (m, n) F
        Gradients accumulated in place (the same array for tied models); with
        ``want_grad=False`` any array, untouched.
    gb : (m,) F
        Bias gradient accumulated in place (any array if ``want_grad`` is False).
    scale : float
        Factor of the accumulated gradient (``1 / (batch m)`` for the notebook's objective).
    want_grad : bool
        Accumulate the gradient (training) or only return the loss (evaluation).

    Returns
    -------
    float
        The sample's loss (not scaled).
    """
    m, n = W.shape
    hidden_relu = model == MODEL_HIDDEN_RELU or model == MODEL_ABS
    out_relu = model != MODEL_LINEAR
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
        if model == MODEL_ABS:
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


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _sample_gram(G, b, imp, idx, val, na, xd, o, nz, gv, model, gG, gb, scale, want_grad):
    """The tied relu/linear sample through the Gram matrix ``G = W W^T``.

    ``x' = act(G x + b)`` costs ``m`` per active feature instead of ``n m``; the gradient
    ``dL/dG[a, i] = x_a g_i`` is accumulated in ``gG`` and turned into ``dL/dW`` once per
    step by :func:`_gram_to_w`. Worth it when fewer features are active than neurons.

    Parameters
    ----------
    G : (m, m) F
        ``W W^T`` (filled by :func:`_prepare`).
    b, imp : (m,) F
        Output bias and importances.
    idx : (m,) int64
        Active features in ``idx[:na]``.
    val : (m,) F
        Their values in ``val[:na]``.
    na : int
        Number of active features.
    xd : (m,) F
        Scratch, all zero on entry and on return.
    o : (m,) F
        Scratch: output pre-activation.
    nz : (m,) int64
        Scratch: outputs with a nonzero gradient.
    gv : (m,) F
        Scratch: their ``dL/do``.
    model : int
        ``MODEL_RELU`` or ``MODEL_LINEAR``.
    gG : (m, m) F
        ``dL/dG`` accumulated in place.
    gb : (m,) F
        Bias gradient accumulated in place.
    scale : float
        Factor of the accumulated gradient.
    want_grad : bool
        Accumulate the gradient or only return the loss.

    Returns
    -------
    float
        The sample's loss (not scaled).
    """
    m = b.shape[0]
    out_relu = model != MODEL_LINEAR
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


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _prepare(W, Wo, WT, WoT, G, gram, untied):
    """Per step: ``W^T`` (and the decoder's transpose), and ``G = W W^T`` on the Gram path.

    Parameters
    ----------
    W, Wo : (m, n) F
        Encoder and decoder (``Wo`` is read only when ``untied``).
    WT, WoT : (n, m) F
        Receive ``W^T`` and ``Wo^T`` (the same array for tied models).
    G : (m, m) F
        Receives ``W W^T`` when ``gram`` (else any array, untouched).
    gram : bool
        Compute ``G``.
    untied : bool
        The decoder is its own array (model "abs").
    """
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


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _gram_to_w(W, gG, gW):
    """``dL/dW = (gG + gG^T) W`` for ``G = W W^T``, added into ``gW``.

    Parameters
    ----------
    W : (m, n) F
        The weights.
    gG : (m, m) F
        ``dL/dG``.
    gW : (m, n) F
        Accumulated in place.
    """
    m, n = W.shape
    for i in range(m):
        for j in range(m):
            s = gG[i, j] + gG[j, i]
            if s != 0.0:
                for k in range(n):
                    gW[i, k] += s * W[j, k]


@jit
def adam_update(P, G, M, V, lr, t, adamw, wd, beta1, beta2, eps):
    """One PyTorch Adam/AdamW step on a flat view of a parameter (Loshchilov & Hutter 2019).

    AdamW: ``P *= 1 - lr wd`` (decoupled, every parameter), Adam: ``G += wd P`` (L2);
    then ``M = b1 M + (1-b1) G``, ``V = b2 V + (1-b2) G^2``,
    ``P -= lr / (1 - b1^t) * M / (sqrt(V) / sqrt(1 - b2^t) + eps)`` as ``torch.optim``.

    Parameters
    ----------
    P : (k,) F
        The parameter, updated in place.
    G : (k,) F
        Its gradient (read only).
    M, V : (k,) F
        Adam's first and second moments, updated in place.
    lr : float
        Learning rate of this step.
    t : int
        Step number, from 1 (bias corrections).
    adamw : bool
        Decoupled weight decay (AdamW) instead of the L2 penalty (Adam).
    wd : float
        Weight decay.
    beta1, beta2, eps : float
        Adam's constants.
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


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _tdot(a, ra, c, rc, B, T):
    """``sum_b a[ra, b] c[rc, b]`` by a fixed pairwise tree over ``T``.

    ``T`` has a power-of-two length >= B. Every level is one vectorised loop and the order
    never changes, so the result is deterministic without fastmath's reassociation.

    Parameters
    ----------
    a : (ka, >= B) F
        First factor's rows.
    ra : int
        Row of ``a``.
    c : (kc, >= B) F
        Second factor's rows.
    rc : int
        Row of ``c``.
    B : int
        Number of terms.
    T : (P,) F
        Scratch, ``P = tree_size(B)``.

    Returns
    -------
    float
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


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _tsum(a, ra, B, T):
    """``sum_b a[ra, b]`` by the same fixed pairwise tree.

    Parameters
    ----------
    a : (k, >= B) F
        Rows to sum.
    ra : int
        Row of ``a``.
    B : int
        Number of terms.
    T : (P,) F
        Scratch, ``P = tree_size(B)``.

    Returns
    -------
    float
    """
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
    """Length of the pairwise-summation buffer: the smallest power of two >= batch.

    Parameters
    ----------
    batch : int
        Number of terms, >= 1.

    Returns
    -------
    int
    """
    P = 1
    while P < batch:
        P *= 2
    return P


_tree_size = jit(inline="always")(tree_size)  # inlined into the kernels


@jit(inline="always")  # numba IR inlining: no call overhead in the inner loops
def _batch_step(
    W, Wo, b, imp, p, start, model, scale, gW, gWo, gb, Xt, Zt, Ht, Ot, dHt, acc, lossb
):
    """One step's loss and gradient, batch-major: every array is ``(rows, batch)``.

    Used at moderate and high density, where every loop runs over the batch (long,
    contiguous, vectorised) instead of over a handful of features. Sample ``b``'s feature
    ``i`` is word ``i * batch + b + 1`` of the step's counter stream ``start``.

    Parameters
    ----------
    W, Wo : (m, n) F
        Encoder and decoder (the same array for tied models).
    b, imp : (m,) F
        Output bias and importances.
    p : float
        Density.
    start : uint64
        Counter of the step's stream (:func:`_stream`).
    model : int
        One of the ``MODEL_*`` codes.
    scale : float
        Factor of the accumulated gradient.
    gW, gWo : (m, n) F
        Gradients accumulated in place (the same array for tied models).
    gb : (m,) F
        Bias gradient accumulated in place.
    Xt : (m, B) F
        Receives the drawn sample, features x batch.
    Zt, Ht, dHt : (n, B) F
        Scratch: pre-activation, hidden activation and ``dL/dh``.
    Ot : (m, B) F
        Scratch: output pre-activation, then ``dL/do``.
    acc : (tree_size(B),) F
        Scratch of :func:`_tdot`.
    lossb : (B,) float64
        Receives each sample's loss.

    Returns
    -------
    float
        Sum of the batch's losses (not scaled).
    """
    m, n = W.shape
    B = Xt.shape[1]
    hidden_relu = model == MODEL_HIDDEN_RELU or model == MODEL_ABS
    out_relu = model != MODEL_LINEAR
    signed = model == MODEL_ABS
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

    Parameters
    ----------
    p : float
        Density.
    m, n : int
        Features and neurons.

    Returns
    -------
    bool
    """
    return p * m >= 2.0 or m * n <= 64


_use_batch = jit(inline="always")(use_batch)  # inlined into the kernels


def use_gram(model, p, m, n):
    """Whether an instance takes the Gram path: tied relu/linear, fewer active than neurons.

    Parameters
    ----------
    model : int
        One of the ``MODEL_*`` codes.
    p : float
        Density.
    m, n : int
        Features and neurons.

    Returns
    -------
    bool
    """
    return (model == MODEL_RELU or model == MODEL_LINEAR) and p * m < n


_use_gram = jit(inline="always")(use_gram)  # inlined into the kernels


# parallel=True: the instances are independent and the trainer has many of them. prange runs
# only over instances, and each thread writes its own instance's slots (W[inst], b[inst],
# the moments, losses[inst]) with its own scratch, so results do not depend on the thread
# count.
@jit(parallel=True)
def train_chunk(
    W,
    Wo,
    b,
    mW,
    vW,
    mWo,
    vWo,
    mb,
    vb,
    imp,
    p,
    sets,
    set_mode,
    keys,
    step0,
    lr,
    batch,
    model,
    adamw,
    wd,
    beta1,
    beta2,
    eps,
    losses,
):
    """Run ``lr.size`` optimiser steps from global step ``step0`` on every instance, in place.

    ``losses[i, s]`` receives the batch-mean loss (sum over features) before step ``s``.
    The gradient is that of the notebook's objective, the mean over batch and features
    (``1 / (batch m)`` times the sum), so Adam's ``eps`` acts as in the notebook. ``J`` is
    the number of instances, ``F`` the weights' dtype (float32 or float64).

    Parameters
    ----------
    W : (J, m, n) F
        Encoders (rows = features), updated in place.
    Wo : (J, m, n) F, or (1, 1, 1) F for tied models
        Decoders of model "abs", updated in place; unused otherwise.
    b : (J, m) F
        Output biases, updated in place.
    mW, vW : (J, m, n) F
        Adam moments of ``W``, updated in place.
    mWo, vWo : like ``Wo``
        Adam moments of ``Wo`` (unused for tied models).
    mb, vb : (J, m) F
        Adam moments of ``b``.
    imp : (J, m) F
        Feature importances.
    p : (J,) float64
        Density of each instance (with feature sets: the probability of each draw).
    sets : (S + 1,) int64
        Boundaries of the feature sets (any length-1 array when ``set_mode`` is empty).
    set_mode : (S,) int64
        ``SET_*`` mode of each set; empty: the independent Bernoulli law.
    keys : (J,) uint64
        Each instance's key of the data stream.
    step0 : int
        Global index of the first step (schedule, bias corrections, data).
    lr : (steps,) float64
        Learning rate of each step of the chunk.
    batch : int
        Samples per step.
    model : int
        One of the ``MODEL_*`` codes.
    adamw : bool
        AdamW (decoupled decay) instead of Adam (L2 penalty).
    wd, beta1, beta2, eps : float
        Weight decay and Adam's constants.
    losses : (J, steps) float64
        Receives the losses.
    """
    n_inst, m, n = W.shape
    untied = model == MODEL_ABS
    signed = model == MODEL_ABS
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
        use_sets = set_mode.size > 0
        bmaj = _use_batch(pi, m, n) and not use_sets
        gram = _use_gram(model, pi, m, n) and not bmaj and not use_sets
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
                total = _batch_step(
                    Wi,
                    Woi,
                    b[inst],
                    imp[inst],
                    pi,
                    state,
                    model,
                    scale,
                    gW,
                    gWo,
                    gb,
                    Xt,
                    Zt,
                    Ht,
                    Ot,
                    dHt,
                    acc,
                    lossb,
                )
            for _ in range(0 if bmaj else batch):
                if use_sets:
                    na, state = _draw_sets(state, pi, sets, set_mode, signed, idx, val)
                else:
                    na, state = _draw(state, pi, inv_log1mp, sparse, signed, m, idx, val)
                if gram:
                    total += _sample_gram(
                        G,
                        b[inst],
                        imp[inst],
                        idx,
                        val,
                        na,
                        xd,
                        o,
                        nz,
                        gv,
                        model,
                        gG,
                        gb,
                        scale,
                        True,
                    )
                else:
                    total += _sample(
                        Wi,
                        Woi,
                        WoT,
                        b[inst],
                        imp[inst],
                        idx,
                        val,
                        na,
                        xd,
                        z,
                        h,
                        dh,
                        o,
                        model,
                        gW,
                        gWo,
                        gb,
                        scale,
                        True,
                    )
            if gram:
                _gram_to_w(Wi, gG, gW)
            losses[inst, s] = total / batch
            t = step + 1
            adam_update(
                Wi.reshape(-1),
                gW.reshape(-1),
                mW[inst].reshape(-1),
                vW[inst].reshape(-1),
                lr[s],
                t,
                adamw,
                wd,
                beta1,
                beta2,
                eps,
            )
            if untied:
                adam_update(
                    Woi.reshape(-1),
                    gWo.reshape(-1),
                    mWo[inst].reshape(-1),
                    vWo[inst].reshape(-1),
                    lr[s],
                    t,
                    adamw,
                    wd,
                    beta1,
                    beta2,
                    eps,
                )
            adam_update(b[inst], gb, mb[inst], vb[inst], lr[s], t, adamw, wd, beta1, beta2, eps)


# parallel=True: the instances (and restarts) are independent. prange runs only over
# instances, each thread writes only mean[inst] and se[inst] with its own scratch, so
# results do not depend on the thread count.
@jit(parallel=True)
def evaluate(W, Wo, b, imp, p, sets, set_mode, keys, batch, model, mean, se):
    """Mean loss per sample (sum over features) on ``batch`` fresh samples, and its std error.

    Always the per-sample path, from stream step 0 of ``keys``.

    Parameters
    ----------
    W : (J, m, n) F
        Encoders.
    Wo : (J, m, n) F, or (1, 1, 1) F for tied models
        Decoders of model "abs".
    b, imp : (J, m) F
        Output biases and importances.
    p : (J,) float64
        Densities (with feature sets: the probability of each draw).
    sets : (S + 1,) int64
        Boundaries of the feature sets (any length-1 array when ``set_mode`` is empty).
    set_mode : (S,) int64
        ``SET_*`` mode of each set; empty: the independent Bernoulli law.
    keys : (J,) uint64
        Keys of the evaluation streams.
    batch : int
        Samples per instance, >= 1 (``se`` is 0 for one sample).
    model : int
        One of the ``MODEL_*`` codes.
    mean, se : (J,) float64
        Receive the mean loss and its standard error.
    """
    n_inst, m, n = W.shape
    untied = model == MODEL_ABS
    signed = model == MODEL_ABS
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
            if set_mode.size > 0:
                na, state = _draw_sets(state, pi, sets, set_mode, signed, idx, val)
            else:
                na, state = _draw(state, pi, inv_log1mp, sparse, signed, m, idx, val)
            loss = _sample(
                Wi,
                Woi,
                WoT,
                b[inst],
                imp[inst],
                idx,
                val,
                na,
                xd,
                z,
                h,
                dh,
                o,
                model,
                g,
                g,
                g1,
                1.0,
                False,
            )
            s1 += loss
            s2 += loss * loss
        mu = s1 / batch
        mean[inst] = mu
        var = (s2 - batch * mu * mu) / (batch - 1) if batch > 1 else 0.0
        se[inst] = math.sqrt(max(var, 0.0) / batch)


@jit
def loss_and_grad(W, Wo, b, imp, x, model, gW, gWo, gb, gram):
    """Notebook objective ``mean over batch and features`` for one instance on a given batch.

    The gradients are added into ``gW``, ``gWo``, ``gb`` (pass ``gWo`` as ``gW`` for tied
    models). Per-sample path, through the Gram matrix when ``gram`` (tied relu and linear
    only, as the trainer does at low density).

    Parameters
    ----------
    W : (m, n) F
        Encoder.
    Wo : (m, n) F
        Decoder (``W`` for tied models).
    b, imp : (m,) F
        Output bias and importances.
    x : (batch, m) F
        The samples; zeros are inactive features.
    model : int
        One of the ``MODEL_*`` codes.
    gW, gWo : (m, n) F
        Gradients, accumulated in place.
    gb : (m,) F
        Bias gradient, accumulated in place.
    gram : bool
        Take the Gram path (ignored unless ``model`` is relu or linear).

    Returns
    -------
    float
        The objective.
    """
    bsz, m = x.shape
    n = W.shape[1]
    untied = model == MODEL_ABS
    gram = gram and (model == MODEL_RELU or model == MODEL_LINEAR)
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
            total += _sample_gram(
                G, b, imp, idx, val, na, xd, o, nz, gv, model, gG, gb, scale, True
            )
        else:
            total += _sample(
                W, Wo, WoT, b, imp, idx, val, na, xd, z, h, dh, o, model, gW, gWo, gb, scale, True
            )
    if gram:
        _gram_to_w(W, gG, gW)
    return total * scale


@jit
def batch_loss_and_grad(W, Wo, b, imp, p, key, step, batch, model, gW, gWo, gb):
    """The batch-major path's objective and gradient for one instance at one step.

    Returns ``(objective, X)`` with ``X`` the ``(batch, m)`` sample it drew, so that a test
    can recompute the objective and its gradient independently.

    Parameters
    ----------
    W, Wo : (m, n) F
        Encoder and decoder (``W`` for tied models).
    b, imp : (m,) F
        Output bias and importances.
    p : float
        Density.
    key : uint64
        Key of the data stream.
    step : int
        Step of the stream.
    batch : int
        Samples.
    model : int
        One of the ``MODEL_*`` codes.
    gW, gWo : (m, n) F
        Gradients, accumulated in place.
    gb : (m,) F
        Bias gradient, accumulated in place.

    Returns
    -------
    objective : float
    X : (batch, m) F
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
    total = _batch_step(
        W,
        Wo,
        b,
        imp,
        p,
        _stream(key, step),
        model,
        scale,
        gW,
        gWo,
        gb,
        Xt,
        Zt,
        Ht,
        Ot,
        dHt,
        acc,
        lossb,
    )
    return total * scale, Xt.T.copy()
