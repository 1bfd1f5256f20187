r"""Johnson-Lindenstrauss conventions: how wide a random projection must be, and its inverse.

The JL lemma is quoted with different constants; each convention here carries its own name
(see the theory page of the docs):

``"dasgupta-gupta"``
    :math:`n \ge 4 \ln m / (\varepsilon^2/2 - \varepsilon^3/3)`, smallest admissible width is
    the ceiling (Dasgupta & Gupta 2003, Thm 2.1).
``"sklearn"``
    the same expression truncated (floor), exactly as scikit-learn's
    ``johnson_lindenstrauss_min_dim`` computes it -- a convention, not a theorem.
``"simple"``
    :math:`n \ge 8 \ln m / \varepsilon^2`, ceiling (the form Linsefors's cost model inverts).
``"achlioptas"``
    :math:`n \ge (4 + 2\beta) \ln m / (\varepsilon^2/2 - \varepsilon^3/3)`, ceiling, success
    probability :math:`1 - m^{-\beta}` (Achlioptas 2003, Thm 1.1).
"""

from __future__ import annotations

from typing import get_args

import numpy as np
from numpy.typing import ArrayLike

from suptheory._validate import as_real, broadcast, check_choice
from suptheory.theory._types import CountOrArray, FloatOrArray, JLConvention, wrap, wrap_int

__all__ = ["JL_CONVENTIONS", "jl_min_dim", "jl_eps", "linsefors_eps"]

#: the names accepted by ``convention=``
JL_CONVENTIONS: tuple[JLConvention, ...] = get_args(JLConvention)


def _beta(convention: str, beta: float | None) -> float:
    if convention == "achlioptas":
        if beta is None:
            raise ValueError("beta is required for convention='achlioptas' and must be in (0, inf)")
        b = as_real(beta, "beta", low=0.0, low_open=True)
        if b.ndim != 0:
            raise ValueError(f"beta must be a single number in (0, inf); got shape {b.shape}")
        return float(b)
    if beta is not None:
        raise ValueError(
            f"beta is only used by convention='achlioptas'; got beta={beta!r} with "
            f"convention={convention!r}"
        )
    return 0.0


def jl_min_dim(
    m: ArrayLike,
    eps: ArrayLike,
    convention: JLConvention = "dasgupta-gupta",
    beta: float | None = None,
) -> CountOrArray:
    r"""Smallest width at which a random projection keeps ``m`` points' distances within ``eps``.

    .. math::

        n_{\text{DG}} = \left\lceil \frac{4 \ln m}{\varepsilon^2/2 - \varepsilon^3/3}
        \right\rceil, \quad
        n_{\text{sklearn}} = \left\lfloor \frac{4 \ln m}{\varepsilon^2/2 - \varepsilon^3/3}
        \right\rfloor, \quad
        n_{\text{simple}} = \left\lceil \frac{8 \ln m}{\varepsilon^2} \right\rceil, \quad
        n_{\text{Ach}} = \left\lceil \frac{(4 + 2\beta) \ln m}{\varepsilon^2/2 -
        \varepsilon^3/3} \right\rceil.

    Parameters
    ----------
    m : array_like
        Number of points (features), ``>= 1``; may be a float (``1e6``).
    eps : array_like
        Allowed distortion, in (0, 1).
    convention : {"dasgupta-gupta", "sklearn", "simple", "achlioptas"}
        Which form of the lemma (see the module notes).
    beta : float, optional
        Achlioptas's confidence exponent, ``> 0``; required for ``"achlioptas"`` and not
        accepted by the other conventions.

    Returns
    -------
    int or numpy.ndarray
        The width: a Python int for scalar input, else a float64 array of whole numbers
        (widths for tiny ``eps`` exceed the int64 range; ``inf`` beyond the float range).
        ``m = 1`` gives 0 at every ``eps``.

    References
    ----------
    Dasgupta, S. & Gupta, A. (2003). An elementary proof of a theorem of Johnson and
    Lindenstrauss. Random Struct. Algorithms 22(1), 60-65, Thm 2.1. Achlioptas, D. (2003).
    Database-friendly random projections. J. Comput. Syst. Sci. 66(4), 671-687. Pedregosa et
    al., scikit-learn, ``sklearn.random_projection.johnson_lindenstrauss_min_dim``.

    Examples
    --------
    >>> jl_min_dim(1e6, 0.5, convention="sklearn"), jl_min_dim(1e6, 0.5)
    (663, 664)
    >>> jl_min_dim(1e6, 0.5, convention="achlioptas", beta=1.0)
    995
    >>> jl_min_dim([1e4, 1e5, 1e6], 0.1, convention="sklearn")
    array([ 7894.,  9868., 11841.])
    """
    check_choice(convention, "convention", JL_CONVENTIONS)  # untyped callers may pass anything
    b = _beta(convention, beta)
    mm = as_real(m, "m", low=1.0)
    ee = as_real(eps, "eps", low=0.0, high=1.0, low_open=True, high_open=True)
    (mm, ee), scalar = broadcast(mm, ee, names=("m", "eps"))
    one = mm == 1.0  # ln m = 0: a single point needs no width, even where eps^2 underflows
    if convention == "simple":
        with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
            out = np.ceil(8.0 * np.log(mm) / ee**2)
    else:
        # the expression exactly as scikit-learn writes it, so that "sklearn" matches bit for bit
        denominator = (ee**2 / 2) - (ee**3 / 3)
        lead = {"dasgupta-gupta": 4.0, "sklearn": 4.0, "achlioptas": 4.0 + 2.0 * b}[convention]
        with np.errstate(divide="ignore", invalid="ignore", under="ignore", over="ignore"):
            value = lead * np.log(mm) / denominator  # inf only where the width overflows
        out = np.floor(value) if convention == "sklearn" else np.ceil(value)
    return wrap_int(np.where(one, 0.0, out), scalar)


def _cubic_root(c: np.ndarray) -> np.ndarray:
    """The root in [0, 1] of ``x^2/2 - x^3/3 = c`` for ``0 <= c <= 1/6`` (trigonometric form).

    With ``x = 1/2 + y`` the cubic is ``y^3 - 3y/4 + (3c - 1/4) = 0``; of its three real roots
    the middle one, ``x = sin^2(phi/2) + (sqrt(3)/2) sin(phi)``,
    ``phi = (2/3) arcsin(sqrt(6c))``, is the one in [0, 1] (written without cancellation).
    """
    phi = (2.0 / 3.0) * np.arcsin(np.sqrt(6.0 * c))
    x: np.ndarray = np.sin(phi / 2.0) ** 2 + (np.sqrt(3.0) / 2.0) * np.sin(phi)
    return x


def jl_eps(
    m: ArrayLike,
    n: ArrayLike,
    convention: JLConvention = "dasgupta-gupta",
    beta: float | None = None,
) -> FloatOrArray:
    r"""Smallest distortion ``eps`` a width ``n`` certifies for ``m`` points (jl_min_dim inverse).

    .. math::

        \frac{\varepsilon^2}{2} - \frac{\varepsilon^3}{3} = \frac{c \ln m}{n}
        \;\Rightarrow\;
        \varepsilon = \sin^2\frac{\phi}{2} + \frac{\sqrt3}{2}\sin\phi,\quad
        \phi = \frac23 \arcsin\sqrt{\frac{6 c \ln m}{n}},

    with ``c = 4`` ("dasgupta-gupta"), ``4 + 2 beta`` ("achlioptas"), and for "sklearn"
    ``n + 1`` in place of ``n`` (its floor is at most ``n`` exactly when the expression is
    below ``n + 1``; the value returned is the infimum, not attained). For "simple",
    :math:`\varepsilon = \sqrt{8 \ln m / n}`.

    Parameters
    ----------
    m : array_like
        Number of points, ``>= 1``.
    n : array_like
        Width, ``> 0``.
    convention : {"dasgupta-gupta", "sklearn", "simple", "achlioptas"}
        As in :func:`jl_min_dim`.
    beta : float, optional
        Required for ``"achlioptas"``, ``> 0``.

    Returns
    -------
    float or numpy.ndarray
        The smallest ``eps``; 0 for ``m = 1``; NaN where no ``eps < 1`` is certified (the
        width is too small for the lemma in this convention).

    References
    ----------
    As :func:`jl_min_dim`.

    Examples
    --------
    >>> print(round(jl_eps(1e6, 664), 4))
    0.4996
    >>> print(jl_min_dim(1e6, jl_eps(1e6, 664) * (1 + 1e-12)))
    664
    """
    check_choice(convention, "convention", JL_CONVENTIONS)  # untyped callers may pass anything
    b = _beta(convention, beta)
    mm = as_real(m, "m", low=1.0)
    nn = as_real(n, "n", low=0.0, low_open=True)
    (mm, nn), scalar = broadcast(mm, nn, names=("m", "n"))
    log_m = np.log(mm)
    if convention == "simple":
        with np.errstate(over="ignore"):  # 8 ln m / n = inf at n ~ 0: inf > 1, no eps (NaN)
            out = np.sqrt(8.0 * log_m / nn)
        out = np.where(out < 1.0, out, np.nan)
    else:
        lead = 4.0 + 2.0 * b
        width = nn + 1.0 if convention == "sklearn" else nn
        with np.errstate(over="ignore"):  # inf where n ~ 0: no eps < 1 (NaN below)
            c = lead * log_m / width
        ok = c < 1.0 / 6.0
        out = np.where(ok, _cubic_root(np.where(ok, c, 0.0)), np.nan)
    return wrap(out, scalar)


def linsefors_eps(m: ArrayLike, n: ArrayLike) -> FloatOrArray:
    r"""Linsefors's (2024) interference per pair: the simple JL bound solved for ``eps``.

    .. math::

        \varepsilon = \sqrt{\frac{8 \ln m}{n}}

    (Linsefors 2024; "approximately correct, to one order of magnitude", and pessimistic:
    it takes the JL worst case as the typical overlap, whose rms is :math:`1/\sqrt{n}`).

    Parameters
    ----------
    m : array_like
        Number of features, ``>= 1``.
    n : array_like
        Width, ``> 0``.

    Returns
    -------
    float or numpy.ndarray
        :math:`\sqrt{8 \ln m / n}`; not clipped (values above 1 mean the model has no room).

    References
    ----------
    Linsefors, L. (2024). Some costs of superposition. AI Alignment Forum.

    Examples
    --------
    >>> print(round(linsefors_eps(16384, 768), 4))
    0.3179
    """
    mm = as_real(m, "m", low=1.0)
    nn = as_real(n, "n", low=0.0, low_open=True)
    (mm, nn), scalar = broadcast(mm, nn, names=("m", "n"))
    with np.errstate(over="ignore"):  # 8 ln m / n overflows at n ~ 0: then the split form
        out = np.sqrt(8.0 * np.log(mm) / nn)
    return wrap(np.where(np.isinf(out), np.sqrt(8.0 * np.log(mm)) / np.sqrt(nn), out), scalar)
