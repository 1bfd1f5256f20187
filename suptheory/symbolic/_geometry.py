r"""Symbolic twins of the geometry modules: overlaps, JL, bounds and compressed sensing.

Mirrors :mod:`suptheory.theory.overlaps`, :mod:`suptheory.theory.jl`,
:mod:`suptheory.theory.bounds` and
:mod:`suptheory.theory.compressed_sensing`. Where a closed form has an inverse it is derived here
with ``sympy.solve`` (not typed in), so that tests holding the numeric functions to these
expressions check the algebra independently. Symbols follow the project's notation; besides
``n, m, eps, q`` there are ``t`` (an overlap level), ``k`` (order of the higher-order Welch
bound), ``beta`` (Achlioptas), ``c`` (the JL cubic's right-hand side), ``delta`` and
``kappa`` (compressed sensing) and ``zeta`` (the Donoho-Maleki-Montanari threshold).

Examples
--------
>>> from suptheory.symbolic import welch_bound_expr, welch_inverse_m, mu_level
>>> welch_bound_expr.subs({m: 6, n: 3})
sqrt(5)/5
>>> sympy.simplify(welch_inverse_m.subs({mu_level: sympy.Rational(1, 3), n: 7}))
28
"""

from __future__ import annotations

import sympy

__all__ = [
    "eps",
    "t",
    "q",
    "k",
    "beta",
    "c",
    "delta",
    "kappa",
    "zeta",
    "mu_level",
    "overlap_density",
    "overlap_tail_expr",
    "max_coherence_cdf_expr",
    "max_coherence_tail_level",
    "tail_level",
    "max_coherence_inverse_m",
    "max_coherence_asymptotic_expr",
    "linsefors_eps_expr",
    "linsefors_inverse_m",
    "linsefors_inverse_n",
    "jl_exprs",
    "jl_cubic",
    "jl_eps_root",
    "jl_simple_eps",
    "jl_dasgupta_gupta_inverse_m",
    "welch_bound_expr",
    "welch_inverse_m",
    "welch_moment",
    "higher_order_welch_expr",
    "orthoplex_bound_expr",
    "levenshtein_bound_expr",
    "levenshtein_inverse_m",
    "gerzon_bound_expr",
    "rank_bound_expr",
    "rank_max_features_expr",
    "greedy_existence_expr",
    "kabatiansky_levenshtein_expr",
    "kabatiansky_levenshtein_cheap_expr",
    "dmm_gauss_g",
    "dmm_ratio",
    "dmm_delta_of_zeta",
    "dmm_rho_of_zeta",
]

n, m = sympy.symbols("n m", positive=True)
eps, t, q, beta, c, delta, kappa, zeta, mu_level = sympy.symbols(
    "eps t q beta c delta kappa zeta mu_level", positive=True
)
k = sympy.Symbol("k", positive=True, integer=True)
_half = sympy.Rational(1, 2)

# ----------------------------------------------------------------------------- overlaps

#: density of t = <u, v> for uniform unit vectors in R^n (Cai, Fan and Jiang 2013)
overlap_density: sympy.Expr = (
    sympy.gamma(n / 2)
    / (sympy.sqrt(sympy.pi) * sympy.gamma((n - 1) / 2))
    * (1 - t**2) ** ((n - 3) / 2)
)
#: P(|t| >= eps) = I_{1-eps^2}((n-1)/2, 1/2)
overlap_tail_expr: sympy.Expr = sympy.betainc_regularized((n - 1) / 2, _half, 0, 1 - eps**2)
_pairs = m * (m - 1) / 2
#: independent-pairs law of the largest overlap: P(L <= t) = (1 - T(t))^C(m, 2)
max_coherence_cdf_expr: sympy.Expr = (1 - overlap_tail_expr.subs(eps, t)) ** _pairs
_y = tail_level = sympy.Symbol("y", positive=True)
#: the tail level y that the q-quantile's t satisfies: I_{1-t^2}((n-1)/2, 1/2) = y
max_coherence_tail_level: sympy.Expr = sympy.solve(sympy.Eq((1 - _y) ** _pairs, q), _y)[0]
#: inverse in m: the number of directions whose q-quantile has pair tail y (the root > 1)
max_coherence_inverse_m: sympy.Expr = next(
    r
    for r in sympy.solve(sympy.Eq(_pairs, sympy.log(q) / sympy.log(1 - _y)), m)
    if r.subs({q: sympy.Rational(1, 2), _y: sympy.Rational(1, 10)}).evalf() > 1
)
#: Cai-Jiang asymptotic sqrt(4 ln m / n)
max_coherence_asymptotic_expr: sympy.Expr = sympy.sqrt(4 * sympy.log(m) / n)

# ----------------------------------------------------------------------------- JL

#: Linsefors's (2024) interference sqrt(8 ln m / n) and its inverses
linsefors_eps_expr: sympy.Expr = sympy.sqrt(8 * sympy.log(m) / n)
linsefors_inverse_m: sympy.Expr = sympy.solve(sympy.Eq(linsefors_eps_expr, eps), m)[0]
linsefors_inverse_n: sympy.Expr = sympy.solve(sympy.Eq(linsefors_eps_expr, eps), n)[0]
_g = eps**2 / 2 - eps**3 / 3
#: the real-valued width of each convention (jl_min_dim is its ceiling, sklearn's its floor)
jl_exprs: dict[str, sympy.Expr] = {
    "dasgupta-gupta": 4 * sympy.log(m) / _g,
    "sklearn": 4 * sympy.log(m) / _g,
    "simple": 8 * sympy.log(m) / eps**2,
    "achlioptas": (4 + 2 * beta) * sympy.log(m) / _g,
}
#: the cubic that jl_eps solves: eps^2/2 - eps^3/3 = c
jl_cubic: sympy.Expr = _g - c
_phi_c = sympy.Rational(2, 3) * sympy.asin(sympy.sqrt(6 * c))
#: its root in [0, 1], trigonometric form (tests substitute it back into jl_cubic)
jl_eps_root: sympy.Expr = sympy.sin(_phi_c / 2) ** 2 + sympy.sqrt(3) / 2 * sympy.sin(_phi_c)
#: the simple convention's inverse
jl_simple_eps: sympy.Expr = sympy.solve(sympy.Eq(jl_exprs["simple"], n), eps)[0]
#: Dasgupta-Gupta solved for m: the most points a width n embeds at distortion eps
jl_dasgupta_gupta_inverse_m: sympy.Expr = sympy.solve(sympy.Eq(jl_exprs["dasgupta-gupta"], n), m)[0]

# ----------------------------------------------------------------------------- bounds

#: Welch's bound and its inverse in m (the rank lemma's form)
welch_bound_expr: sympy.Expr = sympy.sqrt((m - n) / (n * (m - 1)))
welch_inverse_m: sympy.Expr = sympy.solve(sympy.Eq(welch_bound_expr**2, mu_level**2), m)[0]
#: c_k = E t^{2k} = (2k-1)!! / (n (n+2) ... (n+2k-2)), in Gamma form
welch_moment: sympy.Expr = (
    sympy.gamma(k + _half) * sympy.gamma(n / 2) / (sympy.sqrt(sympy.pi) * sympy.gamma(n / 2 + k))
)
#: higher-order Welch bound ((m c_k - 1)/(m - 1))^(1/(2k))
higher_order_welch_expr: sympy.Expr = ((m * welch_moment - 1) / (m - 1)) ** (1 / (2 * k))
#: orthoplex bound (m > n (n + 1)/2)
orthoplex_bound_expr: sympy.Expr = 1 / sympy.sqrt(n)
#: Levenshtein's bound (m > n (n + 1)/2) and its inverse in m
levenshtein_bound_expr: sympy.Expr = sympy.sqrt((3 * m - n**2 - 2 * n) / ((n + 2) * (m - n)))
levenshtein_inverse_m: sympy.Expr = sympy.solve(
    sympy.Eq(levenshtein_bound_expr**2, mu_level**2), m
)[0]
#: Gerzon's bound on equiangular lines
gerzon_bound_expr: sympy.Expr = n * (n + 1) / 2
#: rank lemma and its inverse in m, derived
rank_bound_expr: sympy.Expr = m / (1 + (m - 1) * eps**2)
rank_max_features_expr: sympy.Expr = sympy.solve(sympy.Eq(rank_bound_expr, n), m)[0]
#: greedy existence: 1 / P(|t| >= eps)
greedy_existence_expr: sympy.Expr = 1 / overlap_tail_expr
#: Kabatiansky-Levenshtein (1978) asymptotic bound on ln M: n R(eps) ln 2, s = sin(acos eps)
_s = sympy.sqrt(1 - eps**2)
kabatiansky_levenshtein_expr: sympy.Expr = n * (
    (1 + _s) / (2 * _s) * sympy.log((1 + _s) / (2 * _s))
    - (1 - _s) / (2 * _s) * sympy.log((1 - _s) / (2 * _s))
)
#: Tao's cheap form of it
kabatiansky_levenshtein_cheap_expr: sympy.Expr = n * eps**2 / 4 * sympy.log(4 * sympy.E / eps**2)

# ----------------------------------------------------------------------------- compressed sensing


def _Phi(x: sympy.Expr) -> sympy.Expr:
    return sympy.erfc(-x / sympy.sqrt(2)) / 2


_phi = sympy.exp(-(zeta**2) / 2) / sympy.sqrt(2 * sympy.pi)
#: G(z) = (1 + z^2) Phi(-z) - z phi(z)
dmm_gauss_g: sympy.Expr = (1 + zeta**2) * _Phi(-zeta) - zeta * _phi
#: the ratio that rho(delta) maximises over z
dmm_ratio: sympy.Expr = (1 - kappa / delta * dmm_gauss_g) / (1 + zeta**2 - kappa * dmm_gauss_g)
#: stationarity of dmm_ratio solved for delta: delta(z) = kappa phi / (z + kappa (phi - z Phi(-z)))
dmm_delta_of_zeta: sympy.Expr = sympy.solve(sympy.diff(dmm_ratio, zeta), delta)[0]
#: rho at the optimum: rho(z) = 1 - z Phi(-z) / phi(z)
dmm_rho_of_zeta: sympy.Expr = 1 - zeta * _Phi(-zeta) / _phi
