"""The geometry of solutions: sticky feature dimensionalities and tegum factors.

Elhage et al. (2022) found that the feature dimensionalities ``D_i`` of trained toy models stick
at a few fractions -- 1 (a dedicated dimension), 3/4 (tetrahedron), 2/3 (triangle), 1/2
(antipodal pair), 2/5 (pentagon), 3/8 (square antiprism), 0 (not represented) -- and that the
embedding splits into a "tegum product" of mutually orthogonal groups of features. This module
labels each feature with its nearest sticky fraction and finds those orthogonal groups.

Pure numpy (``D_i`` comes from :func:`suptheory.feature_dimensionality`); scipy's graph
routines are imported lazily.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from suptheory._validate import as_real, check_embedding, check_int

__all__ = [
    "STICKY_DIMENSIONALITIES",
    "nearest_sticky",
    "classify_dimensionality",
    "DimensionalityClasses",
    "tegum_factors",
    "describe_geometry",
    "GeometrySummary",
    "set_cosines",
    "SetCosines",
]

#: The sticky feature dimensionalities of Elhage et al. (2022) and the geometry each comes from.
#: For ``k`` unit vectors forming a tight frame of an ``r``-dimensional subspace orthogonal to
#: every other feature, ``D_i = r / k``: 1/1, 3/4, 2/3, 1/2, 2/5, 3/8.
STICKY_DIMENSIONALITIES: tuple[tuple[float, str], ...] = (
    (1.0, "dedicated"),
    (3 / 4, "tetrahedron"),
    (2 / 3, "triangle"),
    (1 / 2, "antipodal pair"),
    (2 / 5, "pentagon"),
    (3 / 8, "square antiprism"),
    (0.0, "not represented"),
)
_FRACTIONS = np.array([f for f, _ in STICKY_DIMENSIONALITIES])
_LABELS = [label for _, label in STICKY_DIMENSIONALITIES]
#: label of a dimensionality farther than ``tol`` from every sticky fraction
OTHER = "other"


def _tolerance(tol: Any) -> float:
    return float(as_real(tol, "tol", low=0.0, high=0.5))


def nearest_sticky(D: Any, *, tol: float = 0.02) -> tuple[np.ndarray, list[str], np.ndarray]:
    r"""The sticky fraction nearest to each feature dimensionality, its label and the distance.

    .. math:: f^*(D) = \operatorname{arg\,min}_{f \in \{1, \frac34, \frac23, \frac12,
              \frac25, \frac38, 0\}} |D - f|

    The label is the geometry of ``f*`` (``"pentagon"`` for 2/5, ...) when ``|D - f*| <= tol``,
    else ``"other"``. 2/5 and 3/8 are only 0.025 apart: the nearest one wins, and ``tol``
    only decides whether a value counts as sticky at all.

    Parameters
    ----------
    D : array_like
        Feature dimensionalities in ``[0, 1]`` (a little rounding above 1 is allowed).
    tol : float
        Largest distance to a sticky fraction that still counts as sticky, in ``[0, 0.5]``.

    Returns
    -------
    nearest : numpy.ndarray
        The nearest sticky fraction of each value (same shape as ``D``, at least 1-D).
    labels : list of str
        Its geometry, or ``"other"``.
    distance : numpy.ndarray
        ``|D - nearest|``.

    References
    ----------
    Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread (2022), section
    "The Geometry of Superposition: Feature Dimensionality".

    Examples
    --------
    >>> nearest, labels, distance = nearest_sticky([0.41, 0.5, 0.6])
    >>> nearest.round(3).tolist(), labels
    ([0.4, 0.5, 0.667], ['pentagon', 'antipodal pair', 'other'])
    """
    d = np.atleast_1d(as_real(D, "D", low=0.0, high=1.0 + 1e-9))
    tol = _tolerance(tol)
    gaps = np.abs(d[..., None] - _FRACTIONS)
    index = np.argmin(gaps, axis=-1)
    distance = np.take_along_axis(gaps, index[..., None], axis=-1)[..., 0]
    labels = [
        _LABELS[k] if dist <= tol else OTHER
        for k, dist in zip(index.ravel().tolist(), distance.ravel().tolist(), strict=True)
    ]
    return _FRACTIONS[index], labels, distance


@dataclass(frozen=True)
class DimensionalityClasses:
    """Each feature's dimensionality and the sticky fraction it sits at.

    Attributes
    ----------
    dimensionality : numpy.ndarray
        ``D_i`` of every feature, shape ``(m,)``.
    nearest : numpy.ndarray
        The nearest sticky fraction.
    labels : list of str
        Its geometry (``"pentagon"``, ...) or ``"other"`` when farther than ``tol``.
    distance : numpy.ndarray
        ``|D_i - nearest|``.
    tol : float
        The tolerance used.
    """

    dimensionality: np.ndarray
    nearest: np.ndarray
    labels: list[str]
    distance: np.ndarray
    tol: float

    @property
    def sticky(self) -> np.ndarray:
        """Boolean mask: within ``tol`` of a sticky fraction."""
        return self.distance <= self.tol

    def counts(self) -> dict[str, int]:
        """How many features carry each label (sticky order, then ``"other"``)."""
        c = Counter(self.labels)
        return {label: c[label] for label in [*_LABELS, OTHER] if c[label]}


def classify_dimensionality(W: Any, *, tol: float = 0.02) -> DimensionalityClasses:
    r"""Classify each feature's dimensionality against the sticky fractions.

    .. math:: D_i = \frac{\|W_i\|^2}{\sum_j (\hat W_i \cdot W_j)^2}, \qquad
              f^*_i = \operatorname{arg\,min}_{f \in \{1, \frac34, \frac23, \frac12, \frac25,
              \frac38, 0\}} |D_i - f|.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Embedding; rows are features (the transpose of the paper's ``W``).
    tol : float
        Largest ``|D_i - f*|`` that counts as sticky.

    Returns
    -------
    DimensionalityClasses

    References
    ----------
    Elhage et al., "Toy Models of Superposition" (2022); Scherlis et al., "Polysemanticity and
    Capacity in Neural Networks" (2022) (the same quantity as a feature's capacity).

    Examples
    --------
    A regular pentagon in R^2 (the paper's n = 2, m = 5 solution at high sparsity):

    >>> import numpy as np
    >>> t = 2 * np.pi * np.arange(5) / 5
    >>> classes = classify_dimensionality(np.c_[np.cos(t), np.sin(t)])
    >>> classes.dimensionality.round(6).tolist(), classes.counts()
    ([0.4, 0.4, 0.4, 0.4, 0.4], {'pentagon': 5})
    """
    from suptheory.analysis.metrics import feature_dimensionality

    W = check_embedding(W)
    D = np.asarray(feature_dimensionality(W), dtype=np.float64)
    # D_i <= 1 exactly; rounding may overshoot by an ulp or two
    D = np.clip(D, 0.0, 1.0)
    nearest, labels, distance = nearest_sticky(D, tol=tol)
    return DimensionalityClasses(D, nearest, labels, distance, _tolerance(tol))


def _represented(W: np.ndarray, min_norm: float) -> tuple[np.ndarray, np.ndarray]:
    from suptheory.analysis.metrics import row_norms

    norms = row_norms(W)  # scaled: no overflow at 1e300, no underflow at 1e-300
    top = norms.max()
    keep = norms > min_norm * top if top > 0 else np.zeros(norms.shape, dtype=bool)
    return keep, norms


def tegum_factors(W: Any, *, threshold: float = 0.05, min_norm: float = 0.1) -> list[np.ndarray]:
    r"""Split an embedding into tegum factors: groups of features in mutually orthogonal subspaces.

    Features ``i`` and ``j`` are joined when their directions overlap,

    .. math:: |\cos(W_i, W_j)| = \frac{|W_i \cdot W_j|}{\|W_i\| \|W_j\|} > \text{threshold},

    and the factors are the connected components of that graph over the represented features
    (``||W_i|| > min_norm * max_j ||W_j||``; the others represent nothing and belong to no
    factor). An embedding whose factors span mutually orthogonal subspaces is the tegum product
    of Elhage et al.: e.g. two orthogonal antipodal pairs in R^2 are two factors.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Embedding; rows are features.
    threshold : float
        Smallest ``|cos|`` that joins two features, in ``[0, 1)``. Learned embeddings are only
        nearly orthogonal across factors: the default 0.05 tolerates that.
    min_norm : float
        Rows shorter than ``min_norm`` times the longest row are "not represented", in ``[0, 1)``.

    Returns
    -------
    list of numpy.ndarray
        The factors as sorted index arrays, ordered by their smallest index.

    References
    ----------
    Elhage et al., "Toy Models of Superposition" (2022), section "The Geometry of
    Superposition: Uniform Superposition" (tegum products).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [0.0, 0.0]])
    >>> [f.tolist() for f in tegum_factors(W)]
    [[0, 1], [2, 3]]
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    W = check_embedding(W)
    threshold = float(as_real(threshold, "threshold", low=0.0, high=1.0, high_open=True))
    min_norm = float(as_real(min_norm, "min_norm", low=0.0, high=1.0, high_open=True))
    keep, norms = _represented(W, min_norm)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return []
    U = W[idx] / norms[idx, None]
    adjacency = np.abs(U @ U.T) > threshold
    np.fill_diagonal(adjacency, False)
    k, labels = connected_components(csr_matrix(adjacency), directed=False)
    factors = [np.sort(idx[labels == c]) for c in range(k)]
    factors.sort(key=lambda f: int(f[0]))
    return factors


def _set_index(sets: Any, m: int) -> np.ndarray:
    """Set label of every feature from sizes or ``(mode, size)`` pairs (contiguous sets)."""
    if isinstance(sets, (str, bytes)) or not isinstance(sets, Iterable):
        raise TypeError(f"sets must be a sequence of sizes or (mode, size) pairs; got {sets!r}")
    sizes = []
    for item in sets:
        size = item[1] if isinstance(item, (tuple, list)) and len(item) == 2 else item
        sizes.append(check_int(size, "sets (every set's size)", low=1))
    if sum(sizes) != m:
        raise ValueError(f"sets: the sizes sum to {sum(sizes)}, not to the {m} features of W")
    return np.repeat(np.arange(len(sizes)), sizes)


@dataclass(frozen=True)
class SetCosines:
    """Cosines between feature directions within and across feature sets.

    Attributes
    ----------
    within, across : numpy.ndarray
        ``cos(W_i, W_j)`` of every pair ``i < j`` of represented features in the same set /
        in different sets.
    within_mean, across_mean : float
        Their means (NaN without pairs).
    within_abs, across_abs : float
        Means of ``|cos|``: near 0 for orthogonal pairs.
    within_min, across_min : float
        The most negative cosine: near -1 for an antipodal pair.
    """

    within: np.ndarray
    across: np.ndarray

    def _stat(self, a: np.ndarray, f: Any) -> float:
        return float(f(a)) if a.size else float("nan")

    @property
    def within_mean(self) -> float:
        """Mean cosine within sets."""
        return self._stat(self.within, np.mean)

    @property
    def across_mean(self) -> float:
        """Mean cosine across sets."""
        return self._stat(self.across, np.mean)

    @property
    def within_abs(self) -> float:
        """Mean ``|cos|`` within sets."""
        return self._stat(np.abs(self.within), np.mean)

    @property
    def across_abs(self) -> float:
        """Mean ``|cos|`` across sets."""
        return self._stat(np.abs(self.across), np.mean)

    @property
    def within_min(self) -> float:
        """Most negative cosine within sets."""
        return self._stat(self.within, np.min)

    @property
    def across_min(self) -> float:
        """Most negative cosine across sets."""
        return self._stat(self.across, np.min)


def set_cosines(W: Any, sets: Any, *, min_norm: float = 0.1) -> SetCosines:
    r"""Cosines of feature pairs within and across feature sets.

    .. math:: \cos(W_i, W_j) = rac{W_i \cdot W_j}{\|W_i\| \|W_j\|}, \qquad
              i < j 	ext{ both represented},

    split by whether ``i`` and ``j`` are in the same set. Elhage et al. (2022) found that
    features that always co-occur (correlated sets) come out orthogonal (``|cos|`` near 0)
    and features that exclude each other (anti-correlated sets) come out antipodal
    (``cos`` near -1) or otherwise in superposition.

    Parameters
    ----------
    W : array_like, shape (m, n)
        Embedding; rows are features.
    sets : sequence of int or of (str, int)
        Sizes of the contiguous feature sets, in order (or the ``(mode, size)`` pairs of
        :func:`suptheory.train_toy_models`'s ``data``), summing to ``m``.
    min_norm : float
        Rows shorter than ``min_norm`` times the longest are not represented and skipped.

    Returns
    -------
    SetCosines

    References
    ----------
    Elhage et al., "Toy Models of Superposition" (2022), section "Superposition and
    Correlated Features".

    Examples
    --------
    Two correlated pairs as two orthogonal bases, antipodal to each other:

    >>> import numpy as np
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    >>> cs = set_cosines(W, [2, 2])
    >>> cs.within_abs, cs.across_min
    (0.0, -1.0)
    """
    W = check_embedding(W)
    label = _set_index(sets, W.shape[0])
    min_norm = float(as_real(min_norm, "min_norm", low=0.0, high=1.0, high_open=True))
    keep, norms = _represented(W, min_norm)
    idx = np.flatnonzero(keep)
    U = W[idx] / norms[idx, None]
    C = U @ U.T
    i, j = np.triu_indices(idx.size, k=1)
    same = label[idx[i]] == label[idx[j]]
    cos = np.clip(C[i, j], -1.0, 1.0)
    return SetCosines(within=cos[same], across=cos[~same])


@dataclass(frozen=True)
class GeometrySummary:
    """The geometry of an embedding: sticky dimensionalities and tegum factors.

    Attributes
    ----------
    classes : DimensionalityClasses
        Every feature's ``D_i`` against the sticky fractions.
    factors : list of numpy.ndarray
        The tegum factors (index arrays).
    factor_ranks : list of int
        The dimension each factor spans (numerical rank of its rows).
    factor_dimensionality : list of float
        ``sum_i D_i`` over each factor (equals its rank for a tight frame of its span).
    orthogonal : bool
        Whether the factors' spans are mutually orthogonal to within ``threshold``.
    unrepresented : numpy.ndarray
        Indices of the features in no factor (``||W_i||`` below ``min_norm`` of the longest).
    set_cosines : SetCosines or None
        Cosines within and across the feature sets, when ``sets`` was given.
    """

    classes: DimensionalityClasses
    factors: list[np.ndarray]
    factor_ranks: list[int]
    factor_dimensionality: list[float]
    orthogonal: bool
    unrepresented: np.ndarray = field(repr=False)
    set_cosines: SetCosines | None = None

    def __str__(self) -> str:
        m = self.classes.dimensionality.size
        lines = [f"geometry of {m} features (sticky tolerance {self.classes.tol:g})"]
        for label, count in self.classes.counts().items():
            lines.append(f"  {label:<18} {count}")
        lines.append(
            f"  tegum factors: {len(self.factors)}"
            f" ({'mutually orthogonal' if self.orthogonal else 'not orthogonal'})"
        )
        for f, r, d in zip(
            self.factors, self.factor_ranks, self.factor_dimensionality, strict=True
        ):
            lines.append(f"    {f.size} features in {r} dimensions, sum D_i = {d:.4f}")
        if self.unrepresented.size:
            lines.append(f"  not represented: {self.unrepresented.size} features")
        if self.set_cosines is not None:
            cs = self.set_cosines
            for name, a in (("within", cs.within), ("across", cs.across)):
                if a.size:
                    lines.append(
                        f"  cos {name} sets: mean {a.mean():+.3f}, mean |cos| "
                        f"{np.abs(a).mean():.3f}, min {a.min():+.3f} ({a.size} pairs)"
                    )
        return "\n".join(lines)


def describe_geometry(
    W: Any,
    *,
    tol: float = 0.02,
    threshold: float = 0.05,
    min_norm: float = 0.1,
    sets: Any = None,
) -> GeometrySummary:
    r"""Summarise the geometry of an embedding: sticky dimensionalities and tegum factors.

    Combines :func:`classify_dimensionality` and :func:`tegum_factors`, and for each factor
    ``F`` reports the dimension its rows span and :math:`\sum_{i \in F} D_i` (equal to that
    dimension when ``F`` is a tight frame of its span, as the paper's uniform solutions are).

    Parameters
    ----------
    W : array_like, shape (m, n)
        Embedding; rows are features.
    tol, threshold, min_norm : float
        As in :func:`classify_dimensionality` and :func:`tegum_factors`.
    sets : sequence of int or of (str, int), optional
        Feature sets (sizes, contiguous, in order): adds :func:`set_cosines`, the cosines
        within and across sets.

    Returns
    -------
    GeometrySummary

    References
    ----------
    Elhage et al., "Toy Models of Superposition" (2022).

    Examples
    --------
    A triangle and a dedicated feature in R^3 (a tegum product of two factors):

    >>> import numpy as np
    >>> t = 2 * np.pi * np.arange(3) / 3
    >>> W = np.c_[np.cos(t), np.sin(t), np.zeros(3)]
    >>> W = np.r_[W, [[0.0, 0.0, 1.0]]]
    >>> s = describe_geometry(W)
    >>> s.classes.counts(), s.factor_ranks, s.orthogonal
    ({'dedicated': 1, 'triangle': 3}, [2, 1], True)

    With feature sets: the triangle's features in one set, the dedicated one alone:

    >>> s = describe_geometry(W, sets=[3, 1])
    >>> round(s.set_cosines.within_mean, 3), round(s.set_cosines.across_abs, 3)
    (-0.5, 0.0)
    """
    W = check_embedding(W)
    classes = classify_dimensionality(W, tol=tol)
    factors = tegum_factors(W, threshold=threshold, min_norm=min_norm)
    keep, _ = _represented(W, float(min_norm))
    ranks = []
    bases = []
    for f in factors:
        rows = W[f]
        # numerical rank relative to the factor's largest singular value
        _, s, vt = np.linalg.svd(rows, full_matrices=False)
        r = int(np.sum(s > max(rows.shape) * np.finfo(float).eps * 1e3 * s[0])) if s.size else 0
        ranks.append(r)
        bases.append(vt[:r])
    orthogonal = True
    for a in range(len(bases)):
        for b in range(a + 1, len(bases)):
            # largest cosine between the two spans (top singular value of Va Vb^T)
            if np.linalg.norm(bases[a] @ bases[b].T, 2) > threshold:
                orthogonal = False
    dims = [float(np.sum(classes.dimensionality[f])) for f in factors]
    return GeometrySummary(
        classes=classes,
        factors=factors,
        factor_ranks=ranks,
        factor_dimensionality=dims,
        orthogonal=orthogonal,
        unrepresented=np.flatnonzero(~keep),
        set_cosines=None if sets is None else set_cosines(W, sets, min_norm=min_norm),
    )
