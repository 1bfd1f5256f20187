"""Layer 1, the closed forms: every formula suptheory computes, vectorised, without numba.

- :mod:`~suptheory.theory.overlaps`: the law of the overlap of random directions and of its
  maximum over ``m`` directions;
- :mod:`~suptheory.theory.jl`: Johnson--Lindenstrauss widths under each named convention;
- :mod:`~suptheory.theory.bounds`: the coherence bounds no arrangement beats (Welch,
  Levenshtein, orthoplex, ...) and what some arrangement achieves;
- :mod:`~suptheory.theory.compressed_sensing`: the Donoho--Tanner phase transition;
- :mod:`~suptheory.theory.readout`: the read-out models -- noise, capacity, levels;
- :mod:`~suptheory.theory.density`: capacity when each feature is active with density ``p``;
- :mod:`~suptheory.theory.solve`: whichever parameter is missing;
- :mod:`~suptheory.theory.report`: ``calculate`` and its ``Report``, every model side by side.
"""
