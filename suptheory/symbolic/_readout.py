r"""Symbolic twins of :mod:`suptheory.theory.readout`: each model's noise, capacities and inverses.

The inverses are not typed in: they are derived here with ``sympy.solve`` from the noise, so a
test that holds the numeric functions to these expressions checks the algebra independently.
Symbols follow the project's notation: ``n, m, l, a, snr, error``; ``L`` is the largest overlap
of the ``worst`` model, ``mu`` the coherence lower bound of the ``packing`` model, ``theta`` a
decision margin, ``z`` the optimal threshold of the Donoho--Tanner curve, ``levels`` the number
of levels ``L`` of :func:`~suptheory.distinguishable_levels`.

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
    "readout_max_features",
    "readout_levels_error_equation",
    "levels",
    "readout_z_rms",
    "readout_z_proxy",
    "random_log_max_features_error_l1",
    "union_bound_log_m",
    "welch_max_features",
    "cs_rho_z",
    "cs_delta_z",
]

n, m, l, a, snr, error, theta, L, mu, z, levels = sympy.symbols(  # noqa: E741
    "n m l a snr error theta L mu z levels", positive=True
)
_u = sympy.Symbol("u", positive=True)  # u = ln m


def _Phi(x: sympy.Expr) -> sympy.Expr:
    """Standard normal cdf."""
    return sympy.erfc(-x / sympy.sqrt(2)) / 2


#: interference per pair, eps
readout_pair: dict[str, sympy.Expr] = {
    "random": 1 / sympy.sqrt(n),
    "optimal": sympy.sqrt((m - n) / (n * (m - 1))),  # the frame-potential floor, m > n
    "linsefors": sympy.sqrt(8 * sympy.log(m) / n),
    "worst": L,
    "packing": mu,
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
readout_max_active: dict[str, sympy.Expr] = {k: _solve(v, l) for k, v in readout_levels.items()}
#: ln m_max: a / sigma = snr solved for u = ln m (only linsefors depends on m in closed form)
readout_log_max_features: dict[str, sympy.Expr] = {
    "linsefors": _solve(readout_levels["linsefors"].subs(m, sympy.exp(_u)), _u),
}
#: m_max: a / sigma = snr solved for m (the rms floor: n (l snr^2 - 1) / (l snr^2 - n))
readout_max_features: dict[str, sympy.Expr] = {
    "optimal": _solve(readout_levels["optimal"], m),
}
#: n_min: a / sigma = snr solved for n
readout_min_width: dict[str, sympy.Expr] = {
    k: _solve(readout_levels[k], n) for k in ("linsefors", "random", "optimal")
}
#: one-sided quantile of a budget shared by m read-outs (rms models): Phi^{-1}(1 - error / m)
readout_z_rms: sympy.Expr = sympy.sqrt(2) * sympy.erfcinv(2 * error / m)
#: one-sided quantile of one read-out's budget (largest-overlap proxies): Phi^{-1}(1 - error)
readout_z_proxy: sympy.Expr = sympy.sqrt(2) * sympy.erfcinv(2 * error)
#: levels at an error budget, normal noise: 2 (L - 1) / L Phi(-a / (2 (L - 1) sigma)) = error
#: (the end levels err on one side only); an equation in ``levels``, solved numerically
readout_levels_error_equation: dict[str, sympy.Expr] = {
    k: 2 * (levels - 1) / levels * _Phi(-a / (2 * (levels - 1) * v)) - error
    for k, v in readout_noise.items()
    if k != "random"
}
#: random model at l = 1, error form: m P(t > 1/2) = error with the exact Beta tail
#: P(t > x) = I_{1 - x^2}((n - 1)/2, 1/2) / 2, solved for ln m
random_log_max_features_error_l1: sympy.Expr = sympy.log(error) - sympy.log(
    sympy.betainc_regularized((n - 1) / 2, sympy.Rational(1, 2), 0, sympy.Rational(3, 4)) / 2
)
#: union bound with the Chernoff tail: m exp(-theta^2 n / (2 l)) = error solved for ln m
union_bound_log_m: sympy.Expr = sympy.expand_log(
    sympy.log(sympy.solve(sympy.Eq(m * sympy.exp(-(theta**2) * n / (2 * l)), error), m)[0]),
    force=True,
)
#: Welch's bound mu^2 = (m - n) / (n (m - 1)) solved for m (the rank lemma; the packing model)
welch_max_features: sympy.Expr = sympy.simplify(
    sympy.solve(sympy.Eq(mu**2, (m - n) / (n * (m - 1))), m)[0]
)
_phi = sympy.exp(-(z**2) / 2) / sympy.sqrt(2 * sympy.pi)
#: Donoho--Tanner curve at the optimal threshold z (non-negative features, kappa = 1):
#: rho(z) = 1 - z Phi(-z) / phi(z), from the stationarity of (1 - G/delta) / (1 + z^2 - G)
cs_rho_z: sympy.Expr = 1 - z * _Phi(-z) / _phi
#: delta(z) = phi(z) / (z + phi(z) - z Phi(-z))
cs_delta_z: sympy.Expr = _phi / (z + _phi - z * _Phi(-z))
