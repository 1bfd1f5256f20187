"""Per-feature metrics of an ``(m, n)`` embedding: norms, dimensionality, superposition.

The metrics of the toy-models paper (Elhage et al. 2022; see the theory page of the docs) need
only the smaller of the two Gram matrices: ``W^T W`` (``n x n``) when ``n <= m``, the overlaps
``W W^T`` (``m x m``) when ``m < n``, so memory stays ``O(m n)``. Zero rows have no direction:
their feature dimensionality is 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from suptheory._validate import check_bool
from suptheory.analysis._rows import RowSet, _embedding, _prescale, _scaled, _unit_rows, row_set

__all__ = [
    "row_norms",
    "zero_rows",
    "feature_dimensionality",
    "dimensions_per_feature",
    "superposition",
    "frame_potential",
    "rms_overlap",
]


def row_norms(W: Any) -> np.ndarray:
    r"""Euclidean norm of each row (feature), without overflow or underflow.

    .. math::

        \|W_i\| = \Big(\sum_k W_{ik}^2\Big)^{1/2}

    Examples
    --------
    >>> row_norms([[3.0, 4.0], [0.0, 0.0], [1e300, 1e300]])
    array([5.00000000e+000, 0.00000000e+000, 1.41421356e+300])
    """
    W = _embedding(W)
    R = row_set(W)
    if R.in_place:  # the rows in place: norms from the row set, no copy
        norms_: np.ndarray = np.zeros(W.shape[0])
        with np.errstate(over="ignore"):  # inf only where the true norm overflows
            norms_[R.keep] = np.ldexp(np.sqrt(R.s_hi), 1 - np.frexp(R.sc)[1])
        return norms_
    x, zero = _prescale(W)
    amax = np.abs(np.asarray(W, dtype=np.float64)).max(axis=1)
    _, e = np.frexp(np.where(zero, 1.0, amax))
    norms: np.ndarray = np.ldexp(np.sqrt(np.einsum("ij,ij->i", x, x)), e - 1)
    return norms


def zero_rows(W: Any) -> np.ndarray:
    """Indices of the rows of ``W`` that are exactly zero (features with no direction).

    Examples
    --------
    >>> zero_rows([[1.0, 0.0], [0.0, 0.0]])
    array([1])
    """
    W = _embedding(W)
    return np.flatnonzero(~W.any(axis=1))


def _projection_sums(W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaled rows' squared norms ``s_i``, ``q_i = sum_j (W^_i . W_j)^2`` and the zero mask.

    For ``n <= m``, ``q_i = W^_i^T (W^T W) W^_i`` through the ``n x n`` Gram matrix (cost
    ``O(m n^2)``); for wide ``W`` (``m < n``) the row sums of the squared overlaps
    ``W^ W^T`` (``m x m``, cost ``O(m^2 n)``): the same sums, and memory ``O(m n)`` either
    way. Everything is for ``W 2^-e`` (see :func:`_scaled`); ``s`` and ``q`` scale alike by
    ``2^{2e}``.
    """
    x, _ = _scaled(W)
    s = np.einsum("ij,ij->i", x, x)
    u, keep = _unit_rows(W)
    zero = np.ones(len(x), dtype=bool)
    zero[keep] = False
    q = np.zeros(len(x))
    m, n = x.shape
    if n <= m:
        A = x.T @ x
        q[keep] = np.einsum("ij,ij->i", u @ A, u)
    else:
        B = u @ x.T  # (k, m): u is its own array, so this is a GEMM
        q[keep] = np.einsum("ij,ij->i", B, B)
    return s, q, zero


def feature_dimensionality(W: Any) -> np.ndarray:
    r"""Feature dimensionality ``D_i`` of each feature (toy-models paper; Scherlis's capacity).

    .. math::

        D_i = \frac{\|W_i\|^2}{\sum_{j=1}^{m} (\hat W_i \cdot W_j)^2},
        \qquad \hat W_i = W_i / \|W_i\|,

    the sum including ``j = i``. ``0 <= D_i <= 1``, ``sum_i D_i <= rank(W) <= n``: 1 for a
    dedicated dimension, 1/2 for an antipodal pair, 2/5 for a pentagon. A zero row has
    ``D_i = 0`` (it represents nothing), never NaN. Computed through the smaller Gram
    matrix, ``W^T W`` or ``W W^T`` (cost ``O(m n min(m, n))``, memory ``O(m n)``).

    Parameters
    ----------
    W : array_like, shape (m, n)
        Rows are features (the transpose of the paper's ``W``, whose columns are features).

    Returns
    -------
    numpy.ndarray, shape (m,)

    References
    ----------
    Elhage et al., "Toy Models of Superposition", 2022, section "Feature dimensionality";
    Scherlis et al., "Polysemanticity and Capacity in Neural Networks", 2022.

    Examples
    --------
    >>> import numpy as np
    >>> t = 2 * np.pi * np.arange(5) / 5
    >>> pentagon = np.c_[np.cos(t), np.sin(t)]
    >>> np.round(feature_dimensionality(np.r_[pentagon, [[0.0, 0.0]]]), 6)
    array([0.4, 0.4, 0.4, 0.4, 0.4, 0. ])
    """
    W = _embedding(W)
    if W.shape[0] >= W.shape[1]:  # the n x n Gram matrix, by row blocks: no copy of W
        fused = _blocked_metrics(W, row_set(W), frame=False)
        if fused is not None:
            dims: np.ndarray = fused["feature_dimensionality"]
            return dims
    s, q, zero = _projection_sums(W)
    keep = np.flatnonzero(~zero)
    # rows more than ~2^450 smaller than the largest underflow in the common scale: redo
    # them directly in their own scale (O(m n) each; never hit by ordinary weights)
    tiny = keep[s[keep] < 2.0**-900]
    if tiny.size:
        xr, zero_r = _prescale(W)
        amax = np.abs(W).max(axis=1).astype(np.float64)
        er = np.frexp(np.where(zero_r, 1.0, amax))[1]
        for i, ui in zip(tiny, _unit_rows(W)[0][np.isin(keep, tiny)], strict=True):
            with np.errstate(over="ignore", under="ignore"):
                proj = np.ldexp(xr @ ui, er - er[i])  # (u_i . W_j) / 2^(e_i - 1)
                self2 = float(np.dot(xr[i], xr[i]))  # ||W_i||^2 / 2^(2 e_i - 2)
                total = float(np.sum(proj**2))
            s[i], q[i] = (self2, total) if np.isfinite(total) else (0.0, 1.0)
    d = np.zeros_like(s)
    # q_i >= s_i exactly (the sum includes j = i); a rounded q below s is rounding error
    d[keep] = s[keep] / np.maximum(q[keep], s[keep])
    return d


def superposition(W: Any) -> np.ndarray:
    r"""Per-feature superposition: how much the other features project onto feature ``i``.

    .. math::

        \sum_{j \ne i} (\hat W_i \cdot W_j)^2

    This is the squared quantity; some code (the toy-models notebook's plots) reports its
    square root, the norm of the interference vector. 0 for a zero row and for a feature
    orthogonal to all others. Computed as ``W^_i^T (W^T W) W^_i - ||W_i||^2``; rounding
    that would make it negative is set to 0 (a sum of squares).

    References
    ----------
    Elhage et al., "Toy Models of Superposition", 2022.

    Examples
    --------
    >>> superposition([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    array([1., 1., 1.])
    """
    W = _embedding(W)
    s, q, zero = _projection_sums(W)
    _, e = _scaled(W)
    out = np.maximum(q - s, 0.0)
    out[zero] = 0.0
    with np.errstate(over="ignore", under="ignore"):  # inf only on true overflow
        scaled: np.ndarray = np.ldexp(out, 2 * e)
    return scaled


def dimensions_per_feature(W: Any) -> float:
    r"""Dimensions per feature ``D* = n / ||W||_F^2`` (toy-models paper).

    ``||W||_F^2`` counts the features learned (about 1 per represented feature), so ``D*``
    is the number of neurons each learned feature takes; ``inf`` when ``W`` is all zero.

    .. math::

        D^* = \frac{n}{\|W\|_F^2}

    References
    ----------
    Elhage et al., "Toy Models of Superposition", 2022, section "Feature dimensionality".

    Examples
    --------
    >>> dimensions_per_feature([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    1.0
    """
    W = _embedding(W)
    if W.shape[0] >= W.shape[1]:
        fused = _blocked_metrics(W, row_set(W), frame=False)
        if fused is not None:
            return float(fused["dimensions_per_feature"])
    x, e = _scaled(W)
    fro2 = float(np.einsum("ij,ij->", x, x))
    if fro2 == 0.0:
        return float("inf")
    with np.errstate(over="ignore"):  # inf only where the true value overflows
        return float(np.ldexp(W.shape[1] / fro2, -2 * e))


def frame_potential(W: Any, *, normalize: bool = True) -> float:
    r"""Frame potential: the sum of squared overlaps over all ordered pairs (``i = j`` included).

    .. math::

        \mathrm{FP}(W) = \sum_{i,j} \langle w_i, w_j \rangle^2 = \|W^T W\|_F^2,

    for the unit rows ``w_i = W^_i`` (``normalize=True``, zero rows left out) or the rows as
    given. For ``k`` unit vectors in ``R^n``, ``FP >= max(k, k^2 / n)``, with equality at
    ``k^2/n`` exactly for unit-norm tight frames; ``(FP - k) / (k (k - 1))`` is the mean
    squared overlap of distinct pairs (random directions: ``1/n``). Computed as
    ``||W^T W||_F^2`` or, for ``m < n``, ``||W W^T||_F^2`` (equal): memory ``O(m n)``.

    References
    ----------
    Benedetto & Fickus, "Finite normalized tight frames", Adv. Comput. Math. 18 (2003).

    Examples
    --------
    >>> import numpy as np
    >>> t = 2 * np.pi * np.arange(5) / 5
    >>> round(frame_potential(np.c_[np.cos(t), np.sin(t)]), 9)  # tight: 5^2 / 2
    12.5
    """
    normalize = bool(check_bool(normalize, "normalize"))
    W = _embedding(W)
    if W.shape[0] >= W.shape[1]:  # the n x n frame operator, by row blocks: no copy of W
        fused = _blocked_metrics(W, row_set(W), frame=normalize, gram=not normalize)
        if fused is not None:
            return float(fused["frame_potential" if normalize else "gram_potential"])
    if normalize:
        x, _ = _unit_rows(W)
        e = 0
    else:
        x, e = _scaled(W)
    if x.shape[1] <= x.shape[0]:
        A = x.T @ x
    else:
        # a GEMM with a copy, not x @ x.T: numpy would route a product of x with a view of
        # itself to SYRK, which OpenBLAS has crashed in (see suptheory.analysis.coherence)
        A = x @ np.ascontiguousarray(x.T)
    with np.errstate(over="ignore", under="ignore"):  # inf only on true overflow
        return float(np.ldexp(np.einsum("ij,ij->", A, A), 4 * e))


def rms_overlap(W: Any) -> np.ndarray:
    r"""Root mean square overlap of each feature with the other features, exactly.

    .. math::

        \mathrm{rms}_i = \Big(\frac{1}{m - 1} \sum_{j \ne i} \cos^2(W_i, W_j)\Big)^{1/2}

    over all ``m - 1`` other rows (a zero row has no direction: its overlaps count 0 and its
    own value is 0). For ``m > 2 n`` through the ``n x n`` frame operator,
    ``sum_j cos_ij^2 = u_i^T (U^T U) u_i`` with unit rows ``u`` (cost ``O(m n^2)``), else
    from blocks of the Gram matrix with the diagonal dropped (no cancellation); both in
    float64, within ``1e-9`` relative of a float64 brute force. With ``l`` other features
    active at random with amplitudes ``+-a`` (independent random signs), the read-out noise
    of feature ``i`` has rms ``a sqrt(l) rms_i`` exactly.

    References
    ----------
    Benedetto & Fickus, "Finite normalized tight frames", Adv. Comput. Math. 18 (2003)
    (the frame potential).

    Examples
    --------
    >>> rms_overlap([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]).round(6).tolist()
    [0.424264, 0.707107, 0.565685]
    """
    W = _embedding(W)
    m, n = W.shape
    out = np.zeros(m)
    if m < 2:
        return out
    R = row_set(W)
    if len(R) > 2 * n:
        fused = _blocked_metrics(W, R, gram=False)  # by row blocks: no copy of W
        if fused is not None:
            rms: np.ndarray = fused["rms_overlap"]
            return rms
    U, keep = _unit_rows(W)  # at most 2 n rows (or rows far below the largest)
    if len(U) > 2 * n:
        F = U.T @ np.ascontiguousarray(U)  # its own array: a GEMM
        s = np.maximum(np.einsum("ij,ij->i", U @ F, U) - 1.0, 0.0)
    else:
        s = _gram_row_sums(U)
    out[keep] = np.sqrt(s / (m - 1))
    return out


def _gram_row_sums(U: np.ndarray) -> np.ndarray:
    """``sum_{j != i} (u_i . u_j)^2`` from blocks of the Gram matrix, its diagonal dropped."""
    k = len(U)
    s = np.zeros(k)
    Ut = np.ascontiguousarray(U.T)
    for r0 in range(0, k, 2048):
        G = U[r0 : r0 + 2048] @ Ut
        idx = np.arange(len(G))
        G[idx, r0 + idx] = 0.0
        s[r0 : r0 + len(G)] = np.einsum("ij,ij->i", G, G)
    return s


def _blocked_metrics(
    W: np.ndarray, R: RowSet, *, frame: bool = True, gram: bool = True
) -> dict[str, Any] | None:
    """Every per-feature metric of :func:`~suptheory.analysis.analyze.analyze`, by row blocks.

    Two passes over blocks of rows (memory ``O(block n + n^2)``, no copy of ``W``): the first
    sums the frame operator ``F = sum_i u_i u_i^T`` of the unit rows (``frame``) and the Gram
    matrix ``G = W^T W`` (``gram``; in the common scale ``2^-e`` of :func:`_scaled`), the
    second reads off ``u_i^T F u_i`` (:func:`rms_overlap`), ``u_i^T G u_i``
    (:func:`feature_dimensionality`) and ``r_i = u_i . sum_j u_j - 1`` (the sum of feature
    ``i``'s signed overlaps). The values agree with those functions to rounding. For
    ``k <= 2 n`` nonzero rows the rms overlaps come from blocks of the Gram matrix instead
    (no cancellation; the unit rows are then at most ``2 n^2`` values, the size of ``F``).
    ``None`` (use the functions) for ``m < n``, ``m < 2``, or rows far below the largest
    (where they take their careful paths).
    """
    m, n = W.shape
    k = len(R)
    if m < max(n, 2) or k < 2:
        return None
    if not R.in_place:  # a prescaled copy (float64 rows below 2^-1022): careful paths
        return None
    # R.sc[i] = 2^p_i = 2^(1 - e_i) with max |W_i| in [2^(e_i - 1), 2^e_i)
    p = np.frexp(R.sc)[1] - 1
    e_max = int(np.max(1 - p))
    step = max(1, 2**21 // n)
    F = np.zeros((n, n)) if frame else None
    G = np.zeros((n, n)) if gram else None
    usum = np.zeros(n)
    s_common = np.zeros(k)
    for r0 in range(0, k, step):
        r1 = min(k, r0 + step)
        w = np.asarray(R.X[R.rid[r0:r1]], dtype=np.float64)
        u = (w * R.sc[r0:r1, None]) / R.rn[r0:r1, None]  # R.unit64, reusing w
        if F is not None:
            F += u.T @ u
        usum += u.sum(axis=0)
        if G is not None:
            y = np.ldexp(w, -e_max)
            G += y.T @ y
            s_common[r0:r1] = np.einsum("ij,ij->i", y, y)
    if G is not None and np.any(s_common < 2.0**-900):
        return None
    rms2 = np.zeros(k)
    q = np.zeros(k)
    rsum = np.zeros(k)
    for r0 in range(0, k, step):
        r1 = min(k, r0 + step)
        u = R.unit64(r0, r1)
        if F is not None:
            rms2[r0:r1] = np.einsum("ij,ij->i", u @ F, u) - 1.0
        if G is not None:
            q[r0:r1] = np.einsum("ij,ij->i", u @ G, u)
        rsum[r0:r1] = u @ usum - 1.0
    out: dict[str, Any] = {}
    r = np.zeros(m)
    r[R.keep] = rsum
    out["overlap_sums"] = r
    norms = np.zeros(m)
    with np.errstate(over="ignore"):
        norms[R.keep] = np.ldexp(np.sqrt(R.s_hi), -p)
    out["row_norms"] = norms
    if F is not None:
        rms = np.zeros(m)
        if k > 2 * n:
            rms[R.keep] = np.sqrt(np.maximum(rms2, 0.0) / (m - 1))
        else:  # sums of small squares: from the Gram blocks, without cancellation
            rms[R.keep] = np.sqrt(_gram_row_sums(R.unit64(0, k)) / (m - 1))
        out["rms_overlap"] = rms
        out["frame_potential"] = float(np.einsum("ij,ij->", F, F))
    if G is not None:
        d = np.zeros(m)
        d[R.keep] = s_common / np.maximum(q, s_common)
        out["feature_dimensionality"] = d
        common = float(np.sum(s_common))
        with np.errstate(over="ignore", under="ignore"):
            out["gram_potential"] = float(np.ldexp(np.einsum("ij,ij->", G, G), 4 * e_max))
            out["dimensions_per_feature"] = (
                float(np.ldexp(n / common, -2 * e_max)) if common > 0 else float("inf")
            )
    return out
