r"""Symbolic twins of :mod:`suptheory.theory.readout`: each model's noise, capacities and inverses.

The inverses are not typed in: they are derived here with ``sympy.solve`` from the noise, so a
test that holds the numeric functions to these expressions checks the algebra independently.
Symbols follow THEORY.md: ``n, m, l, a, snr, error``; ``L`` is the largest overlap of the
``worst`` model, ``mu`` the coherence lower bound of the ``optimal`` model, ``theta`` a
decision margin, ``z`` the optimal threshold of the Donoho--Tanner curve.

Examples
--------
>>> from suptheory.symbolic import readout_max_active
>>> readout_max_active["linsefors"]
n/(8*snr**2*log(m))
>>> from suptheory.symbolic import union_bound_log_m, theta, error
>>> union_bound_log_m.subs({theta: sympy.Rational(1, 2), error: 1})
n/(8*l)
"""

from __future__ import annotations

import sympy

__all__ = [
    "n",
    "m",
    "l",
    "a",
    "snr",
    "error",
    "theta",
    "L",
    "mu",
    "z",
    "readout_pair",
    "readout_noise",
    "readout_levels",
    "readout_max_active",
    "readout_log_max_features",
    "readout_min_width",
    "readout_levels_error",
    "readout_z_union",
    "random_log_max_features_error",
    "union_bound_log_m",
    "welch_max_features",
    "cs_rho_z",
    "cs_delta_z",
]

n, m, l, a, snr, error, theta, L, mu, z = sympy.symbols(  # noqa: E741
    "n m l a snr error theta L mu z", positive=True
)
_u = sympy.Symbol("u", positive=True)  # u = ln m


def _Phi(x: sympy.Expr) -> sympy.Expr:
    """Standard normal cdf."""
    return sympy.erfc(-x / sympy.sqrt(2)) / 2


#: interference per pair, eps
readout_pair: dict[str, sympy.Expr] = {
    "linsefors": sympy.sqrt(8 * sympy.log(m) / n),
    "random": 1 / sympy.sqrt(n),
    "worst": L,
    "optimal": mu,
}
#: read-out noise sigma = a eps sqrt(l)
readout_noise: dict[str, sympy.Expr] = {k: a * v * sympy.sqrt(l) for k, v in readout_pair.items()}
#: levels a / (snr sigma)
readout_levels: dict[str, sympy.Expr] = {
    k: sympy.simplify(a / (snr * v)) for k, v in readout_noise.items()
}


def _solve(expr: sympy.Expr, var: sympy.Symbol) -> sympy.Expr:
    (sol,) = sympy.solve(sympy.Eq(expr, 1), var)
    return sympy.simplify(sol)


#: l_max: a / sigma = snr solved for l
readout_max_active: dict[str, sympy.Expr] = {
    k: _solve(v, l) for k, v in readout_levels.items()
}
#: ln m_max: a / sigma = snr solved for u = ln m (only linsefors depends on m in closed form)
readout_log_max_features: dict[str, sympy.Expr] = {
    "linsefors": _solve(readout_levels["linsefors"].subs(m, sympy.exp(_u)), _u),
}
#: n_min: a / sigma = snr solved for n
readout_min_width: dict[str, sympy.Expr] = {
    k: _solve(readout_levels[k], n) for k in ("linsefors", "random")
}
#: the two-sided quantile of a budget shared by m read-outs: Phi^{-1}(1 - error / (2 m))
readout_z_union: sympy.Expr = sympy.sqrt(2) * sympy.erfcinv(error / m)
#: levels at an error budget for one read-out: 1 + a / (2 sigma z), z = Phi^{-1}(1 - error / 2)
readout_levels_error: dict[str, sympy.Expr] = {
    k: 1 + a / (2 * v * sympy.sqrt(2) * sympy.erfcinv(error)) for k, v in readout_noise.items()
}
#: random model, error form: 2 m Phi(-a / (2 sigma)) = error solved for ln m
random_log_max_features_error: sympy.Expr = sympy.log(
    sympy.solve(sympy.Eq(2 * m * _Phi(-a / (2 * readout_noise["random"])), error), m)[0]
)
#: union bound with the Chernoff tail: m exp(-theta^2 n / (2 l)) = error solved for ln m
union_bound_log_m: sympy.Expr = sympy.expand_log(
    sympy.log(sympy.solve(sympy.Eq(m * sympy.exp(-(theta**2) * n / (2 * l)), error), m)[0]),
    force=True,
)
#: Welch's bound mu^2 = (m - n) / (n (m - 1)) solved for m (the rank lemma)
welch_max_features: sympy.Expr = sympy.simplify(
    sympy.solve(sympy.Eq(mu**2, (m - n) / (n * (m - 1))), m)[0]
)
_phi = sympy.exp(-(z**2) / 2) / sympy.sqrt(2 * sympy.pi)
#: Donoho--Tanner curve at the optimal threshold z (non-negative features, kappa = 1):
#: rho(z) = 1 - z Phi(-z) / phi(z), from the stationarity of (1 - G/delta) / (1 + z^2 - G)
cs_rho_z: sympy.Expr = 1 - z * _Phi(-z) / _phi
#: delta(z) = phi(z) / (z + phi(z) - z Phi(-z))
cs_delta_z: sympy.Expr = _phi / (z + _phi - z * _Phi(-z))
