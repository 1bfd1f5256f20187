"""The packing optimiser: low-coherence embeddings of ``m`` directions in R^n (sphere descent).

Finds arrangements of ``m`` unit vectors (rows of an ``(m, n)`` embedding, the project's notation)
whose largest overlap is as small as possible -- the empirical optimum that the coherence lower
bounds (Welch, orthoplex, Levenshtein; see the theory page of the docs) are compared against:

- ``"coherence"``: lines through the origin (Grassmannian line packing), minimise
  ``max_{i != j} |<w_i, w_j>|`` (Conway, Hardin & Sloane 1996);
- ``"spherical-code"``: points on the sphere (the Tammes problem), minimise the signed
  ``max_{i != j} <w_i, w_j>``;
- ``"frame-potential"``: minimise ``sum_{i, j} <w_i, w_j>^2`` (Benedetto & Fickus 2003), whose
  minimisers for ``m >= n`` are the unit-norm tight frames.

Method. Phase 1 is Riemannian gradient descent on the product of spheres: the Euclidean gradient
of a smoothed maximum (log-sum-exp with a sharpness annealed from 5 to 1e5) is projected onto
each row's tangent space and the step is retracted by normalising the rows; a numba kernel
(:mod:`suptheory._kernels.packing`) runs the restarts in parallel, one independent slot each, so
results do not depend on the thread count. Phase 2 polishes the best restart by
sequential linear programming on the active pairs (a trust-region minimax step, scipy's HiGHS),
which lands on the vertex of the minimax problem to ~1e-10 instead of the smoothed optimum.

numba (the kernel module) and scipy.optimize are imported lazily, inside the calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from suptheory._runner import ChunkRunner
from suptheory._text import ShownAsText, frame
from suptheory._validate import MAX_COUNT, as_generator, check_bool, check_choice, check_int
from suptheory.theory.bounds import coherence_lower_bound, welch_bound

__all__ = ["optimize_packing", "PackingResult", "OBJECTIVES"]

#: the objectives :func:`optimize_packing` minimises
OBJECTIVES: tuple[str, ...] = ("coherence", "spherical-code", "frame-potential")

# Annealing schedule of phase 1 (geometric in the step index). Sharpness t of the smoothed max
# runs 5 -> 1e5 while the normalised step runs 0.3 -> 1e-5: at the end the log-sum-exp is within
# ln(#pairs)/1e5 of the true max and the steps are small enough not to rattle around it. Tuned on
# 28 lines in R^7, 16 in R^6, 9 lines in R^3 and the Tammes codes (all reach < 1e-5 of the
# best-known value in 1000 steps from a good start).
_T_START, _T_END = 5.0, 1e5
_LR_START, _LR_END = 0.3, 1e-5
# Largest number of LP unknowns (m * n) for the polishing step. Measured (shared 2-core
# machine): 28 x 7 = 196 unknowns polish in ~0.5 s CPU; 64 x 16 = 1024 took 33 s CPU for
# 25 LPs. Above the limit phase 1's result is returned as is.
_POLISH_MAX_UNKNOWNS = 256
# Largest batch (restarts * m * m Gram entries) held in memory at once.
_MAX_BATCH_ENTRIES = 4_000_000
#: largest m (one m x m float64 Gram matrix is 2 GiB there)
_MAX_GRAM_SIDE = 1 << 14
#: largest restarts x m x n (the random starts, drawn up front)
_MAX_START_ENTRIES = 1 << 28


@dataclass
class PackingResult(ShownAsText):
    """An optimised embedding and how close it is to what no arrangement can beat.

    Attributes
    ----------
    W : numpy.ndarray
        The ``(m, n)`` embedding; rows are unit vectors.
    objective : str
        The objective minimised.
    value : float
        Its value at ``W``: the coherence ``mu``, the largest signed overlap, or the frame
        potential.
    coherence : float
        ``max_{i != j} |<w_i, w_j>|`` of ``W`` in float64, whatever the objective.
    pair : tuple of int
        The pair ``(i, j)``, ``i < j``, attaining ``value`` (for ``"frame-potential"``: attaining
        ``coherence``).
    angle : float
        The smallest angle between two lines (``"coherence"``), or two points
        (``"spherical-code"``), in degrees; for ``"frame-potential"`` that of the lines.
    lower_bound : float
        The best applicable lower bound on ``value`` for this ``(m, n)``.
    welch : float
        The Welch bound ``sqrt((m - n) / (n (m - 1)))`` (0 for ``m <= n``).
    gap : float
        ``value - lower_bound`` (>= 0 up to rounding; 0 means provably optimal).
    values : numpy.ndarray
        Each restart's value after phase 1 (before polishing).
    history : numpy.ndarray
        ``(checkpoints, restarts)`` array of each restart's exact value during phase 1.
    history_steps : numpy.ndarray
        The step index of each checkpoint.
    seed : Any
        The seed given.
    interrupted : bool
        Whether the run was interrupted (the result holds the best found until then).
    """

    W: np.ndarray
    objective: str
    value: float
    coherence: float
    pair: tuple[int, int]
    angle: float
    lower_bound: float
    welch: float
    gap: float
    values: np.ndarray
    history: np.ndarray = field(repr=False)
    history_steps: np.ndarray = field(repr=False)
    seed: Any = None
    interrupted: bool = False

    @property
    def m(self) -> int:
        """Number of directions (rows of ``W``)."""
        return int(self.W.shape[0])

    @property
    def n(self) -> int:
        """Width (columns of ``W``)."""
        return int(self.W.shape[1])

    def to_dict(self) -> dict[str, Any]:
        """The scalar results as a plain dict (the CLI's ``--json`` output)."""
        return {
            "m": self.m,
            "n": self.n,
            "objective": self.objective,
            "value": self.value,
            "coherence": self.coherence,
            "angle_degrees": self.angle,
            "pair": list(self.pair),
            "lower_bound": self.lower_bound,
            "welch_bound": self.welch,
            "gap": self.gap,
            "restarts": int(self.values.size),
            "restart_values": self.values.tolist(),
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else repr(self.seed),
            "interrupted": self.interrupted,
        }

    def to_frame(self) -> Any:
        """One row per restart: its objective value, best marked (needs pandas)."""
        best = int(np.argmin(self.values))
        return frame(
            {
                "restart": np.arange(self.values.size),
                "value": self.values,
                "best": np.arange(self.values.size) == best,
            },
            index="restart",
        )

    def __str__(self) -> str:
        what = {
            "coherence": "coherence (max |<w_i, w_j>|)",
            "spherical-code": "largest overlap (max <w_i, w_j>)",
            "frame-potential": "frame potential (sum <w_i, w_j>^2)",
        }[self.objective]
        lines = [
            f"packing of m = {self.m} directions in R^{self.n}, objective {self.objective!r}",
            f"  {what}: {self.value:.9g}",
        ]
        if self.objective != "frame-potential":
            lines.append(f"  smallest angle: {self.angle:.6f} degrees, pair {self.pair}")
        else:
            lines.append(f"  coherence: {self.coherence:.9g}")
        welch = f"  (Welch bound {self.welch:.9g})" if self.objective == "coherence" else ""
        lines.append(f"  lower bound: {self.lower_bound:.9g}{welch}")
        lines.append(f"  gap to the bound: {self.gap:.3g}")
        if self.interrupted:
            lines.append("  (interrupted: best found so far)")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# small exact helpers


def _normalize(W: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(W, axis=-1, keepdims=True)
    return W / np.where(norms > 0, norms, 1.0)


def _exact(W: np.ndarray, objective: str) -> tuple[float, tuple[int, int]]:
    """The objective's exact value at ``W`` and the pair attaining the max (float64)."""
    m = W.shape[0]
    G = W @ W.T
    if objective == "frame-potential":
        value = float(np.sum(G * G))
        A = np.abs(G)
    else:
        value = math.nan
        A = G if objective == "spherical-code" else np.abs(G)
    A = A.copy()
    np.fill_diagonal(A, -np.inf)
    flat = int(np.argmax(A))
    i, j = divmod(flat, m)
    if objective != "frame-potential":
        value = float(A[i, j])
    return value, (min(i, j), max(i, j))


def _batch_values(G: np.ndarray, objective: str) -> np.ndarray:
    """Exact objective values of a batch of Gram matrices ``(R, m, m)``."""
    if objective == "frame-potential":
        values: np.ndarray = np.sum(G * G, axis=(1, 2))
        return values
    A = G if objective == "spherical-code" else np.abs(G)
    m = G.shape[1]
    off = A.reshape(A.shape[0], -1)[:, ~np.eye(m, dtype=bool).ravel()]
    largest: np.ndarray = off.max(axis=1)
    return largest


def _lower_bound(m: int, n: int, objective: str) -> tuple[float, float]:
    """(best applicable lower bound on the objective, Welch bound)."""
    # welch_bound is NaN where it does not apply (m <= n): report 0 there (orthonormal rows)
    welch = float(np.nan_to_num(welch_bound(m=m, n=n), nan=0.0))
    if objective == "coherence":
        bound = float(coherence_lower_bound(m=m, n=n))
    elif objective == "spherical-code":
        # Simplex bound: ||sum w_i||^2 >= 0 gives max <w_i, w_j> >= -1/(m - 1); Rankin (1955):
        # more than n + 1 points always have a pair with <w_i, w_j> >= 0.
        bound = -1.0 / (m - 1)
        if m > n + 1:
            bound = 0.0
    else:
        # Benedetto & Fickus (2003): sum_ij <w_i, w_j>^2 >= max(m, m^2 / n), equality iff
        # orthonormal (m <= n) or a unit-norm tight frame (m >= n).
        bound = max(float(m), m * m / n)
    return bound, welch


# --------------------------------------------------------------------------------------------
# phase 1: annealed smoothed max, Riemannian descent, all restarts at once


def _descend(
    W: np.ndarray,
    objective: str,
    steps: int,
    checkpoints: np.ndarray,
    run: Any,
    history: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Run phase 1 on a batch ``W`` of shape ``(R, m, n)``; return W, history, steps done.

    ``W`` (float64, C-contiguous) is advanced in place and ``history`` (``(checkpoints, R)``,
    a new one if None) filled in place. The numba kernel runs the steps in chunks, each
    reported to ``run.update`` (the runner's progress, ``R`` restarts times the steps), so
    that progress moves and Ctrl-C is honoured between chunks; the schedule depends only on
    the global step index, so chunking does not change the result. If Ctrl-C stops it, the
    checkpoints from where it stopped on hold that state's values before the
    ``KeyboardInterrupt`` goes on to the caller's :class:`~suptheory._runner.ChunkRunner`.
    """
    from suptheory._kernels import packing as kernels

    kind = {
        "coherence": kernels.COHERENCE,
        "spherical-code": kernels.SPHERICAL_CODE,
        "frame-potential": kernels.FRAME_POTENTIAL,
    }[objective]
    R = W.shape[0]
    if history is None:
        history = np.full((checkpoints.size, R), np.nan)
    slot = np.full(steps + 1, -1, dtype=np.int64)
    slot[checkpoints] = np.arange(checkpoints.size)
    # ~20 chunks, each at least 25 steps
    chunk = max(25, -(-steps // 20))
    done = 0
    try:
        for s0 in range(0, steps, chunk):
            s1 = min(steps, s0 + chunk)
            kernels.descend(
                W, kind, s0, s1, steps, _T_START, _T_END, _LR_START, _LR_END, slot, history
            )
            run.update((s1 - s0) * R)
            done = s1
    finally:
        # the final state (checkpoint `steps`, or wherever the run stopped)
        final = _batch_values(W @ W.transpose(0, 2, 1), objective)
        history[int(np.searchsorted(checkpoints, done)) :] = final
    return W, history, done


# --------------------------------------------------------------------------------------------
# phase 2: sequential linear programming on the active pairs


def _polish(W: np.ndarray, objective: str, iterations: int) -> np.ndarray:
    r"""Minimax polishing by trust-region sequential LP (lines or signed codes).

    Each step solves, for a tangent displacement ``D`` (``<w_i, d_i> = 0``, ``|D| <= r``)
    and a level ``s``,

    .. math:: \min s \quad\text{s.t.}\quad \sigma_{ij} (G_{ij} + w_i \cdot d_j
              + w_j \cdot d_i) \le s

    over the pairs within reach of the current max, then retracts ``W + D`` to the spheres; the
    step is kept if the exact max decreased, else the radius ``r`` halves.
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    m, n = W.shape
    if m * n > _POLISH_MAX_UNKNOWNS or m < 2:
        return W
    iu, ju = np.triu_indices(m, 1)
    current, _ = _exact(W, objective)
    # phase 1 ends within ~1e-5 of a local optimum: a small first trust region suffices
    radius = 2e-3
    nvar = m * n + 1
    cost = np.zeros(nvar)
    cost[-1] = 1.0
    # tangent constraints <w_i, d_i> = 0 (sparse rows)
    eq_rows = np.repeat(np.arange(m), n)
    eq_cols = np.arange(m * n)
    bounds_tail = [(None, None)]
    for _ in range(iterations):
        G = W @ W.T
        g = G[iu, ju]
        sign = np.ones_like(g) if objective == "spherical-code" else np.sign(g)
        v = sign * g
        # a pair can move by at most ~2 r sqrt(n) in one step: only those can become the max
        active = v > current - 4.0 * radius * math.sqrt(n) - 1e-12
        ii, jj, S, V = iu[active], ju[active], sign[active], v[active]
        k = ii.size
        rows = np.repeat(np.arange(k), 2 * n)
        cols = np.concatenate(
            [(jj[:, None] * n + np.arange(n)), (ii[:, None] * n + np.arange(n))], axis=1
        ).ravel()
        vals = np.concatenate([S[:, None] * W[ii], S[:, None] * W[jj]], axis=1).ravel()
        A_ub = coo_matrix((vals, (rows, cols)), shape=(k, nvar)).tolil()
        A_ub[:, nvar - 1] = -1.0
        A_eq = coo_matrix((W.ravel(), (eq_rows, eq_cols)), shape=(m, nvar))
        res = linprog(
            cost,
            A_ub=A_ub.tocsr(),
            b_ub=-V,
            A_eq=A_eq.tocsr(),
            b_eq=np.zeros(m),
            bounds=[(-radius, radius)] * (m * n) + bounds_tail,
            # interior point: the dual simplex stalls for seconds on the degenerate LPs of
            # equiangular packings (every pair active); IPM takes ~50 ms there
            method="highs-ipm",
        )
        if res.status == 0:
            predicted = current - float(res.x[-1])
            if predicted < 1e-13:
                break  # first-order stationary for the minimax problem: a vertex is reached
            candidate = _normalize(W + res.x[:-1].reshape(m, n))
            value, _ = _exact(candidate, objective)
            if value < current - 1e-15:
                # the model was good: let the trust region grow again
                if current - value > 0.5 * predicted:
                    radius = min(2.0 * radius, 0.05)
                W, current = candidate, value
                continue
        radius *= 0.5
        if radius < 1e-10:
            break
    return W


# --------------------------------------------------------------------------------------------
# public entry point


def optimize_packing(
    m: Any,
    n: Any,
    objective: str = "coherence",
    *,
    restarts: Any = 8,
    steps: Any = 1500,
    seed: Any = None,
    polish: bool = True,
    threads: int | None = None,
    progress: bool = True,
) -> PackingResult:
    r"""Find ``m`` unit vectors in R^n with the smallest largest overlap (best of ``restarts``).

    Minimises, over ``W`` with unit rows ``w_1, ..., w_m``, one of

    .. math::

        \mu(W) = \max_{i \ne j} |\langle w_i, w_j \rangle| \quad (\text{coherence}), \qquad
        \max_{i \ne j} \langle w_i, w_j \rangle \quad (\text{spherical code}), \qquad
        \mathrm{FP}(W) = \sum_{i, j} \langle w_i, w_j \rangle^2 \quad
        (\text{frame potential}).

    The max is replaced by the log-sum-exp smoothing
    :math:`f_t(W) = t^{-1} \log \sum_{i \ne j} e^{t x_{ij}}` (``x_ij`` = squared or signed
    overlap) with the sharpness ``t`` annealed from 5 to 1e5, and minimised by Riemannian
    gradient descent: the gradient's component along each row is removed,
    :math:`g_i \leftarrow g_i - \langle g_i, w_i \rangle w_i`, and each step is retracted to
    the spheres by normalising the rows. The best restart is then polished by sequential linear
    programming on the active pairs (a trust-region minimax step) when ``m n <= 256``.

    Lower bounds reported: for ``"coherence"`` the largest applicable of the Welch, orthoplex
    and Levenshtein bounds (:func:`suptheory.coherence_lower_bound`); for ``"spherical-code"``
    the simplex bound ``-1/(m-1)`` and, for ``m > n + 1``, Rankin's ``0``; for
    ``"frame-potential"`` ``max(m, m^2/n)`` (Benedetto & Fickus), attained by tight frames.

    Parameters
    ----------
    m : int
        Number of directions, ``2 <= m <= 16384`` (each step works on the ``m x m`` Gram
        matrix).
    n : int
        Width, ``n >= 1``; ``restarts * m * n <= 2^28`` (the starts are drawn up front).
    objective : {"coherence", "spherical-code", "frame-potential"}
        Lines (unsigned overlaps), points on the sphere (signed overlaps, the Tammes problem),
        or the frame potential.
    restarts : int
        Number of independent random starts (rows i.i.d. uniform on the sphere); the best is
        returned. Hard instances (many local optima, e.g. 16 lines in R^6) need 16 or more.
    steps : int
        Gradient steps of phase 1 per restart.
    seed : None, int, SeedSequence or Generator
        Seed of the random starts; equal seeds give identical results.
    polish : bool
        Whether to polish the best restart by sequential linear programming (done only when
        ``m n <= 256``: larger LPs cost seconds to minutes each and phase 1 is returned as is).
    threads : int, optional
        numba threads for the restarts (default: numba's current setting). The result does
        not depend on it.
    progress : bool
        Show progress: a bar on a terminal, else a line on stderr every 10 s. The run can be
        interrupted (Ctrl-C): the best embedding found so far is returned with
        ``interrupted=True``.

    Returns
    -------
    PackingResult
        The embedding ``W``, its exact objective value and coherence (float64), the arg-max
        pair, the smallest angle, the lower bound and the gap, and the per-restart history.

    Raises
    ------
    ValueError
        If ``m < 2``, ``n < 1``, ``restarts < 1``, ``steps < 1`` or ``objective`` is unknown.

    See Also
    --------
    suptheory.coherence_lower_bound : What no arrangement can beat.
    suptheory.analyze : Metrics of a given embedding against these baselines.

    Notes
    -----
    Best-known values the tests reproduce (to 1e-3 or better): 6 lines in R^3 at
    ``1/sqrt(5)``, 28 lines in R^7 and 16 lines in R^6 at ``1/3`` (equiangular tight frames,
    at the Welch bound); Conway, Hardin & Sloane's line packings in R^3 for 4 to 10 lines;
    the Tammes optimum for 4 to 12 points on the sphere.

    References
    ----------
    .. [1] J. H. Conway, R. H. Hardin, N. J. A. Sloane, "Packing lines, planes, etc.: packings
       in Grassmannian spaces", Experimental Mathematics 5 (1996) 139-159.
    .. [2] P. M. L. Tammes, "On the origin of number and arrangement of the places of exit on
       the surface of pollen-grains", Recueil des travaux botaniques neerlandais 27 (1930).
    .. [3] L. R. Welch, "Lower bounds on the maximum cross correlation of signals", IEEE Trans.
       Inform. Theory 20 (1974) 397-399.
    .. [4] J. J. Benedetto, M. Fickus, "Finite normalized tight frames", Adv. Comput. Math. 18
       (2003) 357-385.
    .. [5] R. A. Rankin, "The closest packing of spherical caps in n dimensions", Proc. Glasgow
       Math. Assoc. 2 (1955) 139-144.
    .. [6] N. Elhage et al., "Toy Models of Superposition", Transformer Circuits Thread (2022).

    Examples
    --------
    Six lines in R^3 (the diagonals of the icosahedron, an equiangular tight frame) meet the
    Welch bound ``1/sqrt(5)``:

    >>> from suptheory import optimize_packing
    >>> res = optimize_packing(6, 3, restarts=2, steps=500, seed=0, progress=False)
    >>> round(res.coherence, 6), round(res.lower_bound, 6), abs(res.gap) < 1e-6
    (0.447214, 0.447214, True)

    Five points on the sphere (the Tammes problem) are at best 90 degrees apart:

    >>> res = optimize_packing(5, 3, "spherical-code", restarts=2, steps=500, seed=0,
    ...                        progress=False)
    >>> round(res.angle, 3)
    90.0

    Four unit vectors in R^2 minimising the frame potential form a tight frame (``m^2/n = 8``):

    >>> res = optimize_packing(4, 2, "frame-potential", restarts=1, steps=300, seed=0,
    ...                        progress=False)
    >>> round(res.value, 6)
    8.0
    """
    progress = bool(check_bool(progress, "progress"))
    # each step works on an m x m Gram matrix and all starts are drawn up front (2 GiB each)
    m = check_int(m, "m", low=2, high=_MAX_GRAM_SIDE)
    n = check_int(n, "n", low=1, high=_MAX_START_ENTRIES // m)
    objective = check_choice(objective, "objective", OBJECTIVES)
    restarts = check_int(restarts, "restarts", low=1, high=_MAX_START_ENTRIES // (m * n))
    steps = check_int(steps, "steps", low=1, high=MAX_COUNT)
    if not isinstance(polish, (bool, np.bool_)):
        raise TypeError(f"polish must be True or False; got {polish!r}")
    rng = as_generator(seed)

    # All random starts are drawn up front so the result does not depend on the batching.
    W0 = _normalize(rng.standard_normal((restarts, m, n)))
    # checkpoint `steps` is the final state, recorded after the last step
    checkpoints = np.unique(np.linspace(0, steps, min(steps + 1, 101)).astype(int))
    chunk = max(1, min(restarts, _MAX_BATCH_ENTRIES // (m * m)))
    histories = []
    ran = 0  # restarts started; W0[:ran] is advanced in place, batch after batch
    desc = f"pack {m} in R^{n}"
    if threads is not None:
        threads = check_int(threads, "threads", low=1)
    from suptheory._kernels.jit import num_threads

    # Ctrl-C keeps the batches run so far, the interrupted one at the state it reached
    with (
        num_threads(threads),
        ChunkRunner(steps * restarts, desc, progress, unit="step", min_done=0) as run,
    ):
        for start in range(0, restarts, chunk):
            ran = min(restarts, start + chunk)
            histories.append(np.full((checkpoints.size, ran - start), np.nan))
            _descend(W0[start:ran], objective, steps, checkpoints, run, histories[-1])
    interrupted = run.interrupted
    W_all = W0[:ran]
    history = np.concatenate(histories, axis=1)
    G_all = W_all @ W_all.transpose(0, 2, 1)
    values = _batch_values(G_all, objective)
    best = int(np.argmin(values))
    W = W_all[best]
    if polish and objective != "frame-potential" and not interrupted:
        # Ctrl-C while polishing keeps phase 1's best
        with ChunkRunner(None, "polish", False, min_done=0) as polishing:
            W = _polish(W, objective, iterations=25)
        interrupted = polishing.interrupted
    value, pair = _exact(W, objective)
    # the reported coherence and its pair: the package's exact (correctly rounded) metric
    from suptheory.analysis.coherence import coherence as exact_coherence

    exact = exact_coherence(W, progress=False)
    coherence = float(exact.value)
    # rows are unit vectors and m >= 2, so the metric always has a pair
    if exact.i is not None and exact.j is not None and objective != "spherical-code":
        pair = (int(exact.i), int(exact.j))
    if objective == "coherence":
        value = coherence
    if objective == "frame-potential":
        angle = math.degrees(math.acos(min(1.0, coherence)))
    else:
        angle = math.degrees(math.acos(max(-1.0, min(1.0, value))))
    bound, welch = _lower_bound(m, n, objective)
    return PackingResult(
        W=W,
        objective=objective,
        value=value,
        coherence=coherence,
        pair=pair,
        angle=angle,
        lower_bound=bound,
        welch=welch,
        gap=value - bound,
        values=values,
        history=history,
        history_steps=checkpoints,
        seed=seed,
        interrupted=interrupted,
    )
