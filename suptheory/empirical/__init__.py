"""Layer 4, experiments: settings simulated, trained or optimised, to check the closed forms.

- :mod:`~suptheory.empirical.simulate`: Monte Carlo twins of the read-out formulas;
- :mod:`~suptheory.empirical.toy_models`: the toy models of superposition (Elhage et al. 2022);
- :mod:`~suptheory.empirical.packing`: the packing optimiser (low-coherence embeddings);
- :mod:`~suptheory.empirical.geometry`: the geometry of solutions (sticky dimensionalities,
  tegum factors).
"""
