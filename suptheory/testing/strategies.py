r"""Hypothesis strategies for inputs whose superposition properties are known exactly.

Import it as ``from suptheory.testing import strategies`` (it needs hypothesis:
``pip install suptheory[testing]``). Every strategy takes plain values or hypothesis strategies
for its arguments, like :mod:`hypothesis.extra.numpy`, and states the property its examples
are guaranteed to have; ``tests/test_testing.py`` checks each guarantee on hundreds of
examples.

Conventions: a dictionary (embedding) ``W`` has shape ``(m, n)``, rows are the ``m`` features
in a layer of width ``n``; arguments are always ordered ``m`` (features) before ``n`` (width).
Randomness comes from a drawn integer ``seed`` fed to :func:`numpy.random.default_rng`, so
a failing example is reproducible, and shrinking goes to small shapes and ``seed = 0``.

What each strategy guarantees:

- :func:`regimes`: ``(n, m, l)`` whole numbers inside a read-out model's valid region;
- :func:`random_dictionaries`: unit rows, uniform on the sphere ``S^{n-1}``;
- :func:`tight_frames`: equal-norm tight frames, every feature's rms overlap on the floor
  ``sqrt((m - n) / (n (m - 1)))``;
- :func:`equiangular_tight_frames`: every ``|overlap|`` equal to the Welch bound;
- :func:`planted_duplicates`: ``k`` disjoint pairs at exactly the chosen overlap;
- :func:`permuted_noisy_copy`: ``copy[perm[i]]`` within angle ``arcsin(noise)`` of ``W[i]``;
- :func:`sparse_activations`: the toy models' data law (active with probability ``p``,
  value uniform on ``[0, a)``).

Examples
--------
:func:`hypothesis.find` gives the simplest example of a strategy (the shrunk one):

>>> from hypothesis import find
>>> from suptheory.testing import strategies
>>> etf = find(strategies.equiangular_tight_frames(), lambda e: e.m == 6)
>>> etf.name, etf.m, etf.n, round(etf.coherence, 6)
('icosahedron', 6, 3, 0.447214)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from suptheory.theory._params import MODELS

__all__ = [
    "Regime",
    "ETF",
    "Planted",
    "NoisyCopy",
    "REGIME_MODELS",
    "ETF_CONSTRUCTIONS",
    "regimes",
    "seeds",
    "AMPLITUDE_LAWS",
    "random_dictionaries",
    "harmonic_frame",
    "tight_frames",
    "equiangular_tight_frames",
    "planted_duplicates",
    "permuted_noisy_copy",
    "sparse_activations",
]

#: read-out models whose valid region :func:`regimes` draws from (those of
#: :func:`suptheory.interference`)
REGIME_MODELS = MODELS  # every noise model of suptheory.interference

#: seeds for :func:`numpy.random.default_rng` (shrink to 0)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _as_strategy(value: Any) -> SearchStrategy[Any]:
    return value if isinstance(value, SearchStrategy) else st.just(value)


def _whole(value: Any, name: str, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or int(value) != value or value < low:
        raise InvalidArgument(f"{name} must be a whole number >= {low}; got {value!r}")
    return int(value)


class Regime(NamedTuple):
    """A point ``(n, m, l)``: width, number of features, number of other active features."""

    n: int
    m: int
    l: int  # noqa: E741 - the docs' name for the active count


# realistic sparse-autoencoder ranges: d_model 64 .. 16384, expansion 1 .. 128, L0 1 .. 1024
_SAE = {"min_n": 64, "max_n": 16_384, "min_ratio": 1, "max_ratio": 128, "min_l": 1, "max_l": 1024}


def regimes(
    model: str = "random",
    *,
    realistic: bool = False,
    min_n: int | None = None,
    max_n: int | None = None,
    min_m: int | None = None,
    max_m: int | None = None,
    min_l: int | None = None,
    max_l: int | None = None,
    superposition: bool = False,
) -> SearchStrategy[Regime]:
    r"""Draw ``(n, m, l)`` triples inside a read-out model's valid region.

    **Guarantee**: ``n``, ``m``, ``l`` are whole numbers with ``1 <= n``, ``2 <= m``,
    ``0 <= l <= m - 1`` (``l`` counts the *other* active features, so at most all of them),
    within the given bounds, and ``suptheory.interference(n, m, l, model=model)`` is finite
    and ``>= 0``.

    Parameters
    ----------
    model : {"random", "optimal", "linsefors", "worst", "packing"}
        The read-out model of :func:`suptheory.interference` whose region is drawn from (all
        of them accept every point above; the argument documents the intent and is validated).
    realistic : bool
        ``True``: sparse-autoencoder ranges -- width ``64 <= n <= 16384``, expansion
        ``1 <= m / n <= 128``, ``1 <= l <= 1024`` (L0). ``False`` (default): the full range
        the library promises to handle, ``1 <= n <= 10^6``, ``2 <= m <= 10^12``, including
        ``n = 1``, ``l = 0`` (no noise) and ``l = m - 1`` (every other feature active).
    min_n, max_n, min_m, max_m, min_l, max_l : int, optional
        Override the bounds of either range.
    superposition : bool
        Only points with more features than dimensions, ``m > n``.

    Returns
    -------
    SearchStrategy[Regime]
        Named tuples ``Regime(n, m, l)``; they shrink towards the smallest point.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(regimes(realistic=True, superposition=True), lambda r: True)
    Regime(n=64, m=65, l=1)
    """
    if model not in REGIME_MODELS:
        raise InvalidArgument(f"model must be one of {REGIME_MODELS}; got {model!r}")
    hi_l: int | None
    if realistic:
        lo_n = _SAE["min_n"] if min_n is None else min_n
        hi_n = _SAE["max_n"] if max_n is None else max_n
        lo_l = _SAE["min_l"] if min_l is None else min_l
        hi_l = _SAE["max_l"] if max_l is None else max_l
    else:
        lo_n = 1 if min_n is None else min_n
        hi_n = 10**6 if max_n is None else max_n
        lo_l = 0 if min_l is None else min_l
        hi_l = max_l
    lo_n = _whole(lo_n, "min_n", 1)
    hi_n = _whole(hi_n, "max_n", lo_n)
    lo_l = _whole(lo_l, "min_l", 0)
    if hi_l is not None:
        hi_l = _whole(hi_l, "max_l", lo_l)
    lo_m = None if min_m is None else _whole(min_m, "min_m", 2)
    hi_m = None if max_m is None else _whole(max_m, "max_m", 2)

    @st.composite
    def draw_regime(draw: Any) -> Regime:
        n = draw(st.integers(lo_n, hi_n))
        if realistic:
            low = max(n * _SAE["min_ratio"], 2)
            high = n * _SAE["max_ratio"]
        else:
            low, high = 2, 10**12
        if superposition:
            low = max(low, n + 1)
        low = low if lo_m is None else max(low, lo_m)
        high = high if hi_m is None else min(high, hi_m)
        low = max(low, lo_l + 1)  # room for l other features
        if low > high:
            raise InvalidArgument(f"no m in the bounds for n = {n} (need {low} <= m <= {high})")
        m = draw(st.integers(low, high))
        top = m - 1 if hi_l is None else min(hi_l, m - 1)
        return Regime(n, m, draw(st.integers(lo_l, top)))

    return draw_regime()


def _unit_gaussian_rows(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    W = rng.standard_normal((m, n))
    norms = np.linalg.norm(W, axis=1)
    while np.any(norms == 0.0):  # probability 0; redraw to keep the law exact
        bad = norms == 0.0
        W[bad] = rng.standard_normal((int(bad.sum()), n))
        norms = np.linalg.norm(W, axis=1)
    unit: np.ndarray = W / norms[:, None]
    return unit


@st.composite
def random_dictionaries(
    draw: Any,
    m: Any = None,
    n: Any = None,
    seed: Any = None,
) -> np.ndarray:
    r"""Draw an ``(m, n)`` dictionary whose rows are independent and uniform on the sphere.

    **Guarantee**: float64, shape ``(m, n)``, every row of norm 1 (to rounding, ``1e-15``),
    rows independent and uniform on :math:`S^{n-1}` (normalised standard normal vectors from
    ``numpy.random.default_rng(seed)``): the random directions of the theory page, whose
    overlaps have mean 0 and variance ``1 / n``.

    Parameters
    ----------
    m, n : int or SearchStrategy[int], optional
        Number of features (``>= 1``, default ``integers(2, 64)``) and width (``>= 1``,
        default ``integers(1, 16)``).
    seed : int or SearchStrategy[int], optional
        Seed of the generator (default :data:`seeds`); the same ``(m, n, seed)`` always
        gives the same matrix.

    Examples
    --------
    >>> from hypothesis import find
    >>> W = find(random_dictionaries(m=5, n=3), lambda W: True)
    >>> W.shape, bool(np.allclose(np.linalg.norm(W, axis=1), 1.0))
    ((5, 3), True)
    """
    mm = _whole(draw(_as_strategy(st.integers(2, 64) if m is None else m)), "m", 1)
    nn = _whole(draw(_as_strategy(st.integers(1, 16) if n is None else n)), "n", 1)
    s = draw(_as_strategy(seeds if seed is None else seed))
    return _unit_gaussian_rows(np.random.default_rng(s), mm, nn)


def harmonic_frame(m: int, n: int) -> np.ndarray:
    r"""The ``(m, n)`` real harmonic frame: an equal-norm tight frame for ``m >= n``.

    Row ``k`` samples ``n`` real DFT characters at ``theta_k = 2 pi k / m``: for odd ``n`` the
    constant ``1`` and the pairs ``sqrt(2) (cos j theta_k, sin j theta_k)``,
    ``j = 1 .. (n - 1) / 2``; for even ``n`` the pairs ``j = 1 .. n / 2`` (if ``m = n``:
    ``1``, ``(-1)^k`` and the pairs ``j = 1 .. n / 2 - 1``, an orthonormal basis), all over
    ``sqrt(n)``. The rows have norm 1 and ``W^T W = (m / n) I``.

    Examples
    --------
    >>> W = harmonic_frame(3, 2)          # the Mercedes-Benz frame
    >>> np.round(W.T @ W, 12) + 0.0
    array([[1.5, 0. ],
           [0. , 1.5]])
    """
    m = _whole(m, "m", 1)
    n = _whole(n, "n", 1)
    if m < n:
        raise InvalidArgument(f"a tight frame of m vectors in R^n needs m >= n; got m={m}, n={n}")
    k = np.arange(m)
    cols: list[np.ndarray] = []
    if n % 2 == 1:
        cols.append(np.ones(m))
        pairs = range(1, (n - 1) // 2 + 1)
    elif m == n:
        cols += [np.ones(m), np.where(k % 2 == 0, 1.0, -1.0)]
        pairs = range(1, n // 2)
    else:
        pairs = range(1, n // 2 + 1)
    for j in pairs:
        # reduce k j mod m first: the angle is then exact up to one rounding of 2 pi r / m
        theta = 2.0 * np.pi * ((k * j) % m) / m
        cols += [math.sqrt(2.0) * np.cos(theta), math.sqrt(2.0) * np.sin(theta)]
    return np.stack(cols, axis=1) / math.sqrt(n)


@st.composite
def tight_frames(draw: Any, m: Any = None, n: Any = None) -> np.ndarray:
    r"""Draw harmonic frames: ``m`` unit vectors in R^n that sit on the rms-overlap floor.

    **Guarantee**: shape ``(m, n)`` with ``m >= n``, unit rows and ``W^T W = (m / n) I``
    (an equal-norm tight frame, :func:`harmonic_frame`), so every feature's rms overlap with
    the others equals the floor that no ``m`` unit vectors can beat on average,

    .. math::

        \sqrt{\frac{1}{m - 1}\sum_{j \ne i} \langle w_i, w_j \rangle^2}
        = \sqrt{\frac{m - n}{n (m - 1)}}  \quad \text{for every } i

    (to ``1e-12``), and the frame potential ``sum_ij <w_i, w_j>^2`` is its minimum
    ``m^2 / n`` (Benedetto & Fickus 2003).

    Parameters
    ----------
    m : int or SearchStrategy[int], optional
        Number of vectors, ``>= n``; default ``max(n, 2) + integers(0, 48)``. Drawn values
        below ``n`` are rejected.
    n : int or SearchStrategy[int], optional
        Width, ``>= 1``; default ``integers(1, 16)``.

    Examples
    --------
    >>> from hypothesis import find
    >>> W = find(tight_frames(m=10, n=4), lambda W: True)
    >>> G = W @ W.T
    >>> rms = np.sqrt(((G ** 2).sum(axis=1) - 1) / 9)
    >>> bool(np.allclose(rms, np.sqrt(6 / 36), atol=1e-12))
    True
    """
    nn = _whole(draw(_as_strategy(st.integers(1, 16) if n is None else n)), "n", 1)
    if m is None:
        mm = max(nn, 2) + draw(st.integers(0, 48))
    else:
        mm = _whole(draw(_as_strategy(m)), "m", 1)
        if mm < nn:
            if not isinstance(m, SearchStrategy) and not isinstance(n, SearchStrategy):
                raise InvalidArgument(f"tight_frames needs m >= n; got m={mm}, n={nn}")
            assume(False)  # reject this draw
    return harmonic_frame(mm, nn)


class ETF(NamedTuple):
    """An equiangular tight frame and its exact coherence."""

    W: np.ndarray  #: ``(m, n)``, unit rows
    m: int
    n: int
    coherence: float  #: the common ``|overlap|``, equal to ``welch_bound(m, n)``
    name: str  #: the construction


def _simplex(n: int) -> np.ndarray:
    # n + 1 vertices e_i - 1/(n+1) of the regular simplex, in an orthonormal basis of the
    # sum-zero hyperplane of R^(n+1): all overlaps -1/n
    return _sum_zero_coordinates(np.eye(n + 1) - 1.0 / (n + 1))


def _sum_zero_coordinates(V: np.ndarray) -> np.ndarray:
    """Rows of ``V`` (in the sum-zero hyperplane of R^d), unit, in the Helmert basis of R^(d-1)."""
    d = V.shape[1]
    H = np.zeros((d - 1, d))
    for r in range(1, d):  # Helmert rows: (1, ..., 1, -r, 0, ...) / sqrt(r (r + 1))
        H[r - 1, :r] = 1.0
        H[r - 1, r] = -float(r)
        H[r - 1] /= math.sqrt(r * (r + 1))
    X = V @ H.T
    unit: np.ndarray = X / np.linalg.norm(X, axis=1)[:, None]
    return unit


def _mercedes() -> np.ndarray:
    h = math.sqrt(3.0) / 2.0
    return np.array([[1.0, 0.0], [-0.5, h], [-0.5, -h]])


def _icosahedron() -> np.ndarray:
    phi = (1.0 + math.sqrt(5.0)) / 2.0
    V = np.array(
        [[0, 1, phi], [0, 1, -phi], [1, phi, 0], [1, -phi, 0], [phi, 0, 1], [-phi, 0, 1]],
        dtype=np.float64,
    )
    return V / math.sqrt(1.0 + phi * phi)


def _e7_lines() -> np.ndarray:
    # 28 vectors e_i + e_j (i < j) of R^8 projected on the sum-zero hyperplane (R^7):
    # norm^2 3/2, inner products 1/2 (one index shared) or -1/2 (disjoint): |cos| = 1/3
    V = np.zeros((28, 8))
    for t, (a, b) in enumerate((i, j) for i in range(8) for j in range(i + 1, 8)):
        V[t, a] = V[t, b] = 1.0
    return _sum_zero_coordinates(V - 0.25)


def _clebsch_lines() -> np.ndarray:
    # 16 points x of F_2^4; coordinates (-1)^(u.x) / sqrt(6) for the six characters u in
    # {0000} and the five of weight >= 3: the Gram matrix is I + S / 3 with S the Seidel
    # matrix of the Clebsch graph (x ~ y iff x + y has weight 1 or 4), |cos| = 1/3
    xs = np.array([[(x >> b) & 1 for b in range(4)] for x in range(16)])
    us = np.array(
        [
            u
            for u in ([(v >> b) & 1 for b in range(4)] for v in range(16))
            if sum(u) == 0 or sum(u) >= 3
        ]
    )
    signs: np.ndarray = (-1.0) ** ((xs @ us.T) % 2) / math.sqrt(6.0)
    return signs


#: the fixed constructions of :func:`equiangular_tight_frames`: name -> (m, n, coherence,
#: builder); the simplices ``(n + 1, n)`` come in addition
ETF_CONSTRUCTIONS: dict[str, tuple[int, int, float, Any]] = {
    "mercedes-benz": (3, 2, 0.5, _mercedes),
    "icosahedron": (6, 3, 1.0 / math.sqrt(5.0), _icosahedron),
    "clebsch": (16, 6, 1.0 / 3.0, _clebsch_lines),
    "e7": (28, 7, 1.0 / 3.0, _e7_lines),
}


def _random_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))  # Haar (Mezzadri 2007)


@st.composite
def equiangular_tight_frames(
    draw: Any, *, max_simplex: int | None = 12, transform: bool = True
) -> ETF:
    r"""Draw equiangular tight frames from the known constructions, with their exact coherence.

    The constructions, ordered ``(m, n)``: the Mercedes-Benz frame ``(3, 2)``, the six
    diagonals of the icosahedron ``(6, 3)``, 16 lines in R^6 from the Clebsch graph
    ``(16, 6)``, 28 lines in R^7 from the ``E_7`` root system (``e_i + e_j`` in R^8 projected
    on the sum-zero hyperplane) ``(28, 7)``, and the regular simplices ``(n + 1, n)`` for
    ``2 <= n <= max_simplex``.

    **Guarantee**: unit rows, ``W^T W = (m / n) I`` and every ``|<w_i, w_j>|`` (``i != j``)
    equal to ``coherence``, which equals :func:`suptheory.welch_bound` ``(m, n)`` -- all to
    ``1e-12``. So ``suptheory.coherence(W)`` is the Welch bound, the smallest coherence any
    ``m`` unit vectors in R^n can have.

    Parameters
    ----------
    max_simplex : int or None
        Largest width of the simplices drawn (``None``: no simplices).
    transform : bool
        Apply a random orthogonal map, row signs and a row permutation (all preserve the
        guarantee), so the frames are not axis-aligned; ``False`` gives the constructions as
        they are.

    Returns
    -------
    SearchStrategy[ETF]
        Named tuples ``ETF(W, m, n, coherence, name)``.

    Examples
    --------
    >>> from hypothesis import find
    >>> e = find(equiangular_tight_frames(transform=False), lambda e: e.name == "e7")
    >>> e.W.shape, round(e.coherence, 12)
    ((28, 7), 0.333333333333)
    """
    names = list(ETF_CONSTRUCTIONS)
    if max_simplex is not None:
        max_simplex = _whole(max_simplex, "max_simplex", 2)
        names.append("simplex")
    name = draw(st.sampled_from(names))
    if name == "simplex":
        n = draw(st.integers(2, max_simplex))
        m, mu, W = n + 1, 1.0 / n, _simplex(n)
    else:
        m, n, mu, build = ETF_CONSTRUCTIONS[name]
        W = build()
    if transform:
        rng = np.random.default_rng(draw(seeds))
        W = W @ _random_orthogonal(rng, n)
        W = W * rng.choice([-1.0, 1.0], size=(m, 1))
        W = W[rng.permutation(m)]
        W = W / np.linalg.norm(W, axis=1)[:, None]
    return ETF(np.ascontiguousarray(W), m, n, mu, name)


class Planted(NamedTuple):
    """A dictionary with planted near-duplicate pairs."""

    W: np.ndarray  #: the dictionary with the planted rows
    pairs: np.ndarray  #: ``(k, 2)`` ints: row ``pairs[t, 1]`` is a planted copy of ``pairs[t, 0]``
    overlap: float  #: the cosine of every planted pair, ``cos(angle)``


def _orthogonal_direction(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to the unit vector ``u``, from ``v`` if it is not along ``u``."""
    w = v - (v @ u) * u
    if np.linalg.norm(w) <= 1e-6 * np.linalg.norm(v):
        w = np.eye(len(u))[int(np.argmin(np.abs(u)))]
        w = w - (w @ u) * u
    w = w - (w @ u) * u  # twice is enough (Kahan)
    unit: np.ndarray = w / np.linalg.norm(w)
    return unit


@st.composite
def planted_duplicates(
    draw: Any,
    W: Any = None,
    k: Any = 1,
    angle: Any = None,
    *,
    overlap: Any = None,
) -> Planted:
    r"""Plant ``k`` pairs of near-duplicate features at a chosen overlap in a dictionary.

    ``2k`` distinct nonzero rows are drawn; for each pair ``(i, j)`` row ``j`` is replaced by
    ``|w_j| (cos(angle) u_i + sin(angle) v)``, with ``u_i`` the direction of row ``i`` and
    ``v`` a unit vector orthogonal to it (from row ``j``'s own direction).

    **Guarantee**: ``cos(W[i], W[j]) = overlap = cos(angle)`` for every planted pair (to
    ``1e-12``); every other row, and every row ``i``, is unchanged, as is each row's norm;
    so ``suptheory.coherence(W) >= |overlap|``.

    Parameters
    ----------
    W : array_like or SearchStrategy, optional
        The base ``(m, n)`` dictionary, ``n >= 2`` unless ``|overlap| = 1``; default
        :func:`random_dictionaries` with ``n >= 2``.
    k : int or SearchStrategy[int]
        Number of pairs (default 1), ``1 <= k <= (nonzero rows) / 2``.
    angle : float or SearchStrategy[float], optional
        Angle between the two rows of a pair, in radians (``0`` = exact duplicate, ``pi``
        = antipodal); default ``floats(0, 0.5)``, i.e. overlaps above 0.877.
    overlap : float or SearchStrategy[float], optional
        The cosine instead of the angle (pass one of the two).

    Returns
    -------
    SearchStrategy[Planted]
        Named tuples ``Planted(W, pairs, overlap)``.

    Examples
    --------
    >>> from hypothesis import find
    >>> p = find(planted_duplicates(k=2, overlap=0.9), lambda p: True)
    >>> p.pairs.shape
    (2, 2)
    >>> (i, j), = p.pairs[:1]
    >>> u, v = p.W[i], p.W[j]
    >>> round(float(u @ v / np.linalg.norm(u) / np.linalg.norm(v)), 12)
    0.9
    """
    if angle is not None and overlap is not None:
        raise InvalidArgument("pass angle or overlap, not both")
    kk = _whole(draw(_as_strategy(k)), "k", 1)
    if W is None:
        base = random_dictionaries(m=st.integers(2 * kk, max(64, 2 * kk)), n=st.integers(2, 16))
    else:
        base = W
    W0 = np.array(draw(_as_strategy(base)), dtype=np.float64)
    if W0.ndim != 2:
        raise InvalidArgument(f"W must be 2-D (m, n); got shape {W0.shape}")
    if overlap is not None:
        c = float(draw(_as_strategy(overlap)))
        if not -1.0 <= c <= 1.0:
            raise InvalidArgument(f"overlap must be in [-1, 1]; got {c!r}")
        s = math.sqrt(max(0.0, 1.0 - c * c))
    else:
        a = float(draw(_as_strategy(st.floats(0.0, 0.5) if angle is None else angle)))
        if not 0.0 <= a <= math.pi:
            raise InvalidArgument(f"angle must be in [0, pi]; got {a!r}")
        c, s = math.cos(a), math.sin(a)
    if W0.shape[1] < 2 and s != 0.0:
        raise InvalidArgument("an overlap other than +-1 needs width n >= 2")
    norms = np.linalg.norm(W0, axis=1)
    nonzero = np.flatnonzero(norms > 0)
    if 2 * kk > len(nonzero):
        if isinstance(W, SearchStrategy):
            assume(False)  # reject this draw
        raise InvalidArgument(f"k = {kk} pairs need {2 * kk} nonzero rows; W has {len(nonzero)}")
    picks = draw(
        st.lists(st.integers(0, len(nonzero) - 1), min_size=2 * kk, max_size=2 * kk, unique=True)
    )
    rows = nonzero[np.array(picks)]
    pairs = np.stack([rows[:kk], rows[kk:]], axis=1)
    out = W0.copy()
    for i, j in pairs:
        u = W0[i] / norms[i]
        v = _orthogonal_direction(u, W0[j])
        out[j] = norms[j] * (c * u + s * v)
    return Planted(out, pairs.astype(np.intp), c)


class NoisyCopy(NamedTuple):
    """A permuted, perturbed copy of a dictionary and the permutation that undoes it."""

    W: np.ndarray  #: the copy: ``W[perm[i]]`` is a noisy copy of feature ``i``
    perm: np.ndarray  #: ``(m,)`` ints, a permutation of ``range(m)``
    noise: float  #: relative size of each perturbation, ``|e_i| = noise |w_i|``
    min_cosine: float  #: ``sqrt(1 - noise^2)``: every copy's cosine to its original is >= this


@st.composite
def permuted_noisy_copy(
    draw: Any,
    W: Any = None,
    noise: Any = None,
    seed: Any = None,
) -> NoisyCopy:
    r"""Draw a shuffled, perturbed copy of a dictionary, returning the true permutation.

    The model of a second training run (or another seed of an SAE) that learned the same
    features in another order: ``copy[perm[i]] = W[i] + e_i`` with ``e_i`` of norm exactly
    ``noise * |W[i]|`` in a uniformly random direction.

    **Guarantee**: ``perm`` is a permutation of ``range(m)`` and
    ``cos(copy[perm[i]], W[i]) >= sqrt(1 - noise^2)`` (the angle is at most
    ``arcsin(noise)``) for every nonzero row; a zero row stays zero. Hence, whenever the
    largest signed cosine between distinct rows of ``W`` is below ``cos(2 arcsin(noise))``,
    the best match of every ``W[i]`` by cosine is ``copy[perm[i]]``:
    ``assert_matches(W, copy, min_cosine)`` returns ``perm``.

    Parameters
    ----------
    W : array_like or SearchStrategy, optional
        The ``(m, n)`` dictionary; default :func:`random_dictionaries`.
    noise : float or SearchStrategy[float], optional
        Relative perturbation, in ``[0, 1)``; default ``floats(0, 0.2)``.
    seed : int or SearchStrategy[int], optional
        Seed of the perturbations (and of the permutation when ``m > 256``; below that the
        permutation is drawn by hypothesis and shrinks to the identity).

    Returns
    -------
    SearchStrategy[NoisyCopy]
        Named tuples ``NoisyCopy(W, perm, noise, min_cosine)``.

    Examples
    --------
    >>> from hypothesis import find
    >>> c = find(permuted_noisy_copy(random_dictionaries(m=4, n=8), noise=0.1),
    ...          lambda c: c.perm[0] != 0)
    >>> sorted(c.perm.tolist()), round(c.min_cosine, 4)
    ([0, 1, 2, 3], 0.995)
    """
    W0 = np.array(draw(_as_strategy(random_dictionaries() if W is None else W)), dtype=np.float64)
    if W0.ndim != 2:
        raise InvalidArgument(f"W must be 2-D (m, n); got shape {W0.shape}")
    eps = float(draw(_as_strategy(st.floats(0.0, 0.2) if noise is None else noise)))
    if not 0.0 <= eps < 1.0:
        raise InvalidArgument(f"noise must be in [0, 1); got {eps!r}")
    rng = np.random.default_rng(draw(_as_strategy(seeds if seed is None else seed)))
    m, n = W0.shape
    if m <= 256:
        perm = np.array(draw(st.permutations(range(m))), dtype=np.intp)
    else:
        perm = rng.permutation(m).astype(np.intp)
    E = _unit_gaussian_rows(rng, m, n) * (eps * np.linalg.norm(W0, axis=1))[:, None]
    copy = np.empty_like(W0)
    copy[perm] = W0 + E
    return NoisyCopy(copy, perm, eps, math.sqrt(1.0 - eps * eps))


AMPLITUDE_LAWS = ("uniform", "fixed")


@st.composite
def sparse_activations(
    draw: Any,
    m: Any = None,
    p: Any = None,
    *,
    l: Any = None,  # noqa: E741 - the docs' name for the active count
    amplitude: str = "uniform",
    a: float = 1.0,
    batch: Any = None,
    seed: Any = None,
) -> np.ndarray:
    r"""Draw batches of feature activations with the toy models' data law.

    **Guarantee**: shape ``(batch, m)``, float64, every entry independently active with
    probability ``p`` (``p = l / m`` when ``l`` is given), an active entry uniform on
    ``[0, a)`` (``amplitude="uniform"``, the law of Elhage et al. 2022 and of
    :func:`suptheory.train_toy_models`) or exactly ``a`` (``"fixed"``, the read-out
    models' law), an inactive entry exactly 0. Drawn from ``numpy.random.default_rng(seed)``:
    ``active = rng.random((batch, m)) < p``, then ``a * rng.random((batch, m))``.

    Parameters
    ----------
    m : int or SearchStrategy[int], optional
        Number of features, ``>= 1``; default ``integers(1, 64)``.
    p : float or SearchStrategy[float], optional
        Probability that a feature is active, in ``[0, 1]``; default ``floats(0, 1)``
        unless ``l`` is given.
    l : float or SearchStrategy[float], optional
        Expected number of active features per row instead of ``p``, in ``[0, m]``.
    amplitude : {"uniform", "fixed"}
        Law of an active feature's value.
    a : float
        Largest (``"uniform"``) or only (``"fixed"``) value, ``> 0``.
    batch : int or SearchStrategy[int], optional
        Rows in the batch, ``>= 1``; default ``integers(1, 32)``.
    seed : int or SearchStrategy[int], optional
        Seed of the generator (default :data:`seeds`).

    Examples
    --------
    >>> from hypothesis import find
    >>> X = find(sparse_activations(m=8, p=0.5, amplitude="fixed", batch=3), lambda X: True)
    >>> X.shape, sorted(set(X.ravel().tolist())) in ([0.0, 1.0], [0.0], [1.0])
    ((3, 8), True)
    """
    if amplitude not in AMPLITUDE_LAWS:
        raise InvalidArgument(f"amplitude must be one of {AMPLITUDE_LAWS}; got {amplitude!r}")
    if not (isinstance(a, (int, float)) and a > 0 and math.isfinite(a)):
        raise InvalidArgument(f"a must be a finite number > 0; got {a!r}")
    if p is not None and l is not None:
        raise InvalidArgument("pass p or l, not both")
    mm = _whole(draw(_as_strategy(st.integers(1, 64) if m is None else m)), "m", 1)
    if l is not None:
        ll = float(draw(_as_strategy(l)))
        if not 0.0 <= ll <= mm:
            raise InvalidArgument(f"l must be in [0, m] = [0, {mm}]; got {ll!r}")
        prob = ll / mm
    else:
        prob = float(draw(_as_strategy(st.floats(0.0, 1.0) if p is None else p)))
        if not 0.0 <= prob <= 1.0:
            raise InvalidArgument(f"p must be in [0, 1]; got {prob!r}")
    rows = _whole(draw(_as_strategy(st.integers(1, 32) if batch is None else batch)), "batch", 1)
    rng = np.random.default_rng(draw(_as_strategy(seeds if seed is None else seed)))
    active = rng.random((rows, mm)) < prob
    values = a * rng.random((rows, mm)) if amplitude == "uniform" else np.full((rows, mm), a)
    return np.where(active, values, 0.0)
