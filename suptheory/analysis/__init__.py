"""Layer 3, a given embedding: real weight matrices and any ``(m, n)`` array of feature directions.

- :mod:`~suptheory.analysis.loading`: ``load_embedding`` from npy, npz, safetensors, pt;
- :mod:`~suptheory.analysis.coherence`: exact coherence and the overlap distribution, by
  tiles of the Gram matrix;
- :mod:`~suptheory.analysis.metrics`: per-feature metrics (norms, dimensionality,
  superposition, frame potential);
- :mod:`~suptheory.analysis.analyze`: ``analyze``, the metrics beside the random and optimal
  baselines.

This layer sits below :mod:`suptheory.empirical`, which measures its trained and optimised
embeddings with these same metrics.
"""
