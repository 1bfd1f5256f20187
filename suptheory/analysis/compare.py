r"""``compare(A, B)``: are two dictionaries the same features? Best matches both ways, exactly.

Two SAEs trained from different seeds, an SAE before and after fine-tuning, a dictionary
against a reference: for every feature (row) of ``A`` its best match in ``B`` by cosine and
for every feature of ``B`` its best match in ``A``, both from one screened pass over the
``m_A x m_B`` pairs -- the float32 GEMM tiles of :func:`suptheory.coherence` with the few
pairs that can matter re-checked in double-double arithmetic
(:func:`suptheory._kernels.pairs.stats_block`), so every best match and cosine is exact
(the exact value rounded once to float64, ties to the smallest index). Memory is
``O((m_A + m_B) n + block * threads)``, never ``m_A x m_B``.

From the best matches: the mean max cosine similarity (MMCS) both ways and the fraction of
features matched above thresholds. For dictionaries of up to 20,000 features an optimal
one-to-one matching (:func:`scipy.optimize.linear_sum_assignment` on the dense float64
cosine matrix, ``8 m_A m_B`` bytes) tells duplicates apart: two features of ``A`` with the
same best match cannot both keep it.

Zero rows have no direction, as in :func:`suptheory.coherence`: they match nothing (index
-1, cosine 0), are left out of the MMCS, the fractions and the matching, and are listed in
the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from suptheory._kernels import pairs as _kp
from suptheory._kernels.jit import num_threads
from suptheory._text import ShownAsText, format_number, render_table
from suptheory._validate import check_bool, check_embedding
from suptheory.analysis.coherence import _U32, _threads
from suptheory.analysis.pairs import _check_thresholds, _Rows, _rows, _screened_pass

__all__ = ["Comparison", "compare", "ONE_TO_ONE_MAX"]

#: ``one_to_one=None`` runs the matching when neither dictionary has more nonzero rows
ONE_TO_ONE_MAX = 20_000

_DTYPES = (np.float64, np.float32)


@dataclass(frozen=True)
class Comparison(ShownAsText):
    """Best matches between the features of two dictionaries, both ways, all exact.

    "Similarity" below is the signed cosine, or its absolute value with ``abs=True`` (a
    feature and its negation then count as the same feature).

    Attributes
    ----------
    m_a, m_b, n : int
        Rows of ``A`` and ``B`` and their common width.
    abs : bool
        Whether the similarity is ``|cos|``.
    zero_rows_a, zero_rows_b : tuple of int
        Rows that are exactly zero (no direction: they match nothing).
    best_b : numpy.ndarray of int64, shape (m_a,)
        ``argmax_k sim(A_i, B_k)``, the smallest index on ties (-1 for a zero row).
    cos_ab : numpy.ndarray, shape (m_a,)
        The signed cosine of ``A_i`` with ``B[best_b[i]]`` (0 for a zero row).
    best_a : numpy.ndarray of int64, shape (m_b,)
        The same from ``B`` to ``A``.
    cos_ba : numpy.ndarray, shape (m_b,)
    mmcs_ab, mmcs_ba : float
        Mean max cosine similarity: the mean over nonzero rows of ``A`` (``B``) of the
        similarity of its best match.
    thresholds : tuple of float
        The match thresholds.
    matched_ab, matched_ba : tuple of float
        For each threshold ``t``, the fraction of nonzero rows of ``A`` (``B``) whose best
        match has similarity ``>= t``.
    match_b : numpy.ndarray of int64 or None, shape (m_a,)
        The one-to-one matching: ``A_i`` is matched to ``B[match_b[i]]`` (-1: unmatched, as
        are zero rows and, when ``A`` has more nonzero rows than ``B``, the surplus).
        ``None`` when no matching was computed.
    match_cos : numpy.ndarray or None, shape (m_a,)
        Exact signed cosines of the matched pairs (0 where unmatched).
    matching_mean : float or None
        Mean similarity over the matched pairs.
    matching_size : int
        Number of matched pairs (``min`` of the nonzero row counts; 0 without a matching).
    candidates : int
        Pairs re-checked exactly in the screened pass.
    """

    m_a: int
    m_b: int
    n: int
    abs: bool
    zero_rows_a: tuple[int, ...] = field(repr=False)
    zero_rows_b: tuple[int, ...] = field(repr=False)
    best_b: np.ndarray = field(repr=False)
    cos_ab: np.ndarray = field(repr=False)
    best_a: np.ndarray = field(repr=False)
    cos_ba: np.ndarray = field(repr=False)
    mmcs_ab: float
    mmcs_ba: float
    thresholds: tuple[float, ...]
    matched_ab: tuple[float, ...]
    matched_ba: tuple[float, ...]
    match_b: np.ndarray | None = field(repr=False)
    match_cos: np.ndarray | None = field(repr=False)
    matching_mean: float | None
    matching_size: int
    candidates: int = field(compare=False)

    def per_feature(self, side: str = "a") -> dict[str, np.ndarray]:
        """The per-feature arrays of the rows of ``A`` (``side="a"``) or of ``B`` (``"b"``).

        Columns ``feature`` (the row index), ``best`` (its best match in the other
        dictionary), ``cos`` (signed cosine with it) and, for ``A`` with a matching,
        ``match`` and ``match_cos``.
        """
        if side == "a":
            cols = {"feature": np.arange(self.m_a), "best": self.best_b, "cos": self.cos_ab}
            if self.match_b is not None and self.match_cos is not None:
                cols["match"] = self.match_b
                cols["match_cos"] = self.match_cos
            return cols
        if side == "b":
            return {"feature": np.arange(self.m_b), "best": self.best_a, "cos": self.cos_ba}
        raise ValueError(f"side must be 'a' or 'b'; got {side!r}")

    def to_frame(self, side: str = "a") -> Any:
        """:meth:`per_feature` as a :class:`pandas.DataFrame` indexed by feature (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is optional
            raise ImportError("to_frame() needs pandas (pip install pandas)") from None
        return pd.DataFrame(self.per_feature(side)).set_index("feature")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of the summary (the per-feature arrays: :meth:`per_feature`)."""
        return {
            "m_a": self.m_a,
            "m_b": self.m_b,
            "n": self.n,
            "abs": self.abs,
            "zero_rows_a": list(self.zero_rows_a),
            "zero_rows_b": list(self.zero_rows_b),
            "mmcs_ab": self.mmcs_ab,
            "mmcs_ba": self.mmcs_ba,
            "thresholds": list(self.thresholds),
            "matched_ab": list(self.matched_ab),
            "matched_ba": list(self.matched_ba),
            "matching_mean": self.matching_mean,
            "matching_size": self.matching_size,
        }

    def __str__(self) -> str:
        f = format_number
        sim = "|cos|" if self.abs else "cos"
        head = (
            f"Comparison: A has {self.m_a} features, B has {self.m_b}, n = {self.n} "
            f"(similarity: {'absolute' if self.abs else 'signed'} cosine)"
        )
        rows: list[Any] = [None, ("mean max cosine (MMCS)", f(self.mmcs_ab), f(self.mmcs_ba))]
        for t, a, b in zip(self.thresholds, self.matched_ab, self.matched_ba, strict=True):
            rows.append((f"best match {sim} >= {t:g}", f"{100 * a:.1f}%", f"{100 * b:.1f}%"))
        lines = [
            head,
            *render_table(("quantity", "A -> B", "B -> A"), rows, align="lrr", column_rules=True),
        ]
        if self.matching_mean is not None:
            same = (
                int(np.sum((self.match_b == self.best_b) & (self.best_b >= 0)))
                if self.match_b is not None
                else 0
            )
            lines.append(
                f"one-to-one matching: {self.matching_size} pairs, mean {sim} "
                f"{f(self.matching_mean)}; the best match of {same} of the "
                f"{self.m_a - len(self.zero_rows_a)} features of A"
            )
        else:
            lines.append("one-to-one matching: not computed (one_to_one=True to force it)")
        for name, z in (("A", self.zero_rows_a), ("B", self.zero_rows_b)):
            if z:
                lines.append(
                    f"note: {len(z)} zero row(s) of {name} match nothing (first: {list(z[:5])})"
                )
        return "\n".join(lines)


def _side(
    R: _Rows, best: np.ndarray, cos: np.ndarray, arg: np.ndarray, other: _Rows
) -> tuple[np.ndarray, np.ndarray]:
    out_arg = np.full(R.m, -1, dtype=np.int64)
    out_cos = np.zeros(R.m)
    has = arg >= 0
    out_arg[R.keep[has]] = other.keep[arg[has]]
    out_cos[R.keep[has]] = cos[has]
    return out_arg, out_cos


def compare(
    A: Any,
    B: Any,
    *,
    abs: bool = False,  # noqa: A002 - the issue's name
    thresholds: Any = (0.5, 0.7, 0.9),
    one_to_one: bool | None = None,
    threads: int | None = None,
    block: int | None = None,
    progress: bool = True,
) -> Comparison:
    r"""Match the features of two dictionaries: best matches both ways, MMCS, a matching.

    For every row ``A_i`` its best match in ``B`` and for every row ``B_k`` its best match
    in ``A``,

    .. math::

        \mathrm{best\_b}_i = \operatorname{arg\,max}_k s(A_i, B_k), \qquad
        \mathrm{MMCS}_{A \to B} = \frac{1}{m_A} \sum_i \max_k s(A_i, B_k),

    with ``s`` the signed cosine (``abs=True``: ``|cos|``), from one screened pass over all
    ``m_A m_B`` pairs: float32 GEMM tiles, re-checked exactly where the screen leaves the
    answer open, so every best match and cosine equals the exact one (rounded once to
    float64; ties go to the smallest index) -- the same machinery as
    :func:`suptheory.pair_statistics`. Where neither dictionary has more than
    :data:`ONE_TO_ONE_MAX` nonzero rows, an optimal one-to-one matching maximises the total
    similarity (:func:`scipy.optimize.linear_sum_assignment` on the dense float64 cosine
    matrix: ``8 m_A m_B`` bytes and up to about a minute at 20,000 x 20,000); its cosines
    are exact.

    If ``B`` is ``A`` with its rows shuffled and slightly perturbed, ``best_b`` is the
    permutation and ``best_a`` its inverse.

    Parameters
    ----------
    A, B : array_like, shapes (m_A, n) and (m_B, n)
        Rows are features (SAE decoders ``W_dec``), float32 or float64, of the same width.
    abs : bool
        Match by ``|cos|`` (a feature and its negation are the same feature).
    thresholds : sequence of float
        Report the fraction of features whose best match reaches each threshold, in
        ``[0, 1]``.
    one_to_one : bool or None
        Compute the matching: ``None`` (default) when both dictionaries have at most
        :data:`ONE_TO_ONE_MAX` nonzero rows, ``True`` always, ``False`` never.
    threads, block, progress
        As in :func:`suptheory.coherence`.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        On a bad ``A`` or ``B`` (not 2-D, empty, NaN or inf), different widths, a
        dictionary without a nonzero row, or a bad option.
    KeyboardInterrupt
        On Ctrl-C (a partial scan has no exact answer).

    References
    ----------
    Sharkey, Braun & Millidge, "Taking features out of superposition with sparse
    autoencoders", 2022 (MMCS); Kuhn 1955, Crouse 2016 (the assignment problem).

    Examples
    --------
    >>> import numpy as np
    >>> A = np.eye(3)
    >>> B = [[0.0, 0.1, 1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]
    >>> c = compare(A, B, progress=False)
    >>> c.best_b.tolist(), c.cos_ab.round(4).tolist()
    ([1, 0, 0], [1.0, 0.0995, 0.995])

    ``A[1]`` and ``A[2]`` both match ``B[0]`` best, but only one can have it: the matching
    of largest total cosine gives it to ``A[1]`` (0.0995 + 0 beats 0.995 - 1):

    >>> c.match_b.tolist(), c.match_cos.round(4).tolist()
    ([1, 0, 2], [1.0, 0.0995, 0.0])

    By ``|cos|``, ``B[2]`` is the negation of ``A[1]`` and every feature has its twin:

    >>> print(compare(A, B, abs=True, progress=False))
    Comparison: A has 3 features, B has 3, n = 3 (similarity: absolute cosine)
    quantity                 A -> B  B -> A
    -----------------------  ------  ------
    mean max cosine (MMCS)   0.9983  0.9983
    best match |cos| >= 0.5  100.0%  100.0%
    best match |cos| >= 0.7  100.0%  100.0%
    best match |cos| >= 0.9  100.0%  100.0%
    one-to-one matching: 3 pairs, mean |cos| 0.9983; the best match of 3 of the 3 features of A
    """
    check_bool(progress, "progress")
    A = check_embedding(A, "A", dtypes=_DTYPES)
    B = check_embedding(B, "B", dtypes=_DTYPES)
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"A and B must have the same width n (rows are features); got A of "
            f"shape {A.shape} and B of shape {B.shape}"
        )
    if not isinstance(abs, (bool, np.bool_)):
        raise TypeError(f"abs must be True or False; got {abs!r}")
    if one_to_one is not None and not isinstance(one_to_one, (bool, np.bool_)):
        raise TypeError(f"one_to_one must be None, True or False; got {one_to_one!r}")
    thr = _check_thresholds(thresholds) if np.size(thresholds) else np.zeros(0)
    nthreads = _threads(threads)
    n = A.shape[1]
    if n * _U32 >= 0.25:
        raise ValueError(f"A and B have n = {n} columns; compare supports n < {2**22:,}")
    RA, RB = _rows(A, nthreads), _rows(B, nthreads)
    for name, R in (("A", RA), ("B", RB)):
        if len(R) == 0:
            raise ValueError(f"{name} has no nonzero row: nothing to match")
    P = _screened_pass(
        RA,
        RB,
        signed=not abs,
        top_k=0,
        thresholds=np.zeros(0),
        nbins=0,
        threads=nthreads,
        block=block,
        progress=progress,
        desc="compare",
    )
    best_b, cos_ab = _side(RA, P.row_best, P.row_cos, P.row_arg, RB)
    best_a, cos_ba = _side(RB, P.col_best, P.col_cos, P.col_arg, RA)
    sim_ab, sim_ba = P.row_best, P.col_best  # over the nonzero rows
    matched_ab = tuple(float(np.mean(sim_ab >= t)) for t in thr)
    matched_ba = tuple(float(np.mean(sim_ba >= t)) for t in thr)
    ka, kb = len(RA), len(RB)
    run = max(ka, kb) <= ONE_TO_ONE_MAX if one_to_one is None else bool(one_to_one)
    match_b = match_cos = None
    matching_mean = None
    size = 0
    if run:
        match_b, match_cos, matching_mean, size = _matching(RA, RB, abs=bool(abs), threads=nthreads)
    return Comparison(
        m_a=len(A),
        m_b=len(B),
        n=n,
        abs=bool(abs),
        zero_rows_a=RA.zero,
        zero_rows_b=RB.zero,
        best_b=best_b,
        cos_ab=cos_ab,
        best_a=best_a,
        cos_ba=cos_ba,
        mmcs_ab=float(np.mean(sim_ab)),
        mmcs_ba=float(np.mean(sim_ba)),
        thresholds=tuple(float(t) for t in thr),
        matched_ab=matched_ab,
        matched_ba=matched_ba,
        match_b=match_b,
        match_cos=match_cos,
        matching_mean=matching_mean,
        matching_size=size,
        candidates=P.candidates,
    )


def _unit64(R: _Rows) -> np.ndarray:
    """The set's unit rows in float64 (the matching's cost matrix; at most 20,000 rows)."""
    unit: np.ndarray = R.X[R.rid] * (R.sc / R.rn)[:, None]
    return unit


def _matching(
    RA: _Rows,
    RB: _Rows,
    *,
    abs: bool,  # noqa: A002
    threads: int | None,
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Optimal one-to-one matching of the nonzero rows; exact cosines of its pairs."""
    from scipy.optimize import linear_sum_assignment

    C = _unit64(RA) @ _unit64(RB).T
    if abs:
        np.abs(C, out=C)
    ii, jj = linear_sum_assignment(C, maximize=True)
    del C
    ii = ii.astype(np.int64)
    jj = jj.astype(np.int64)
    cs = np.empty(len(ii))
    with num_threads(threads):
        _kp.pair_cos2_many(RA.kernel, ii, RB.kernel, jj, cs)
    match_b = np.full(RA.m, -1, dtype=np.int64)
    match_cos = np.zeros(RA.m)
    match_b[RA.keep[ii]] = RB.keep[jj]
    match_cos[RA.keep[ii]] = cs
    sims = np.abs(cs) if abs else cs
    return match_b, match_cos, float(np.mean(sims)) if len(sims) else math.nan, len(ii)
