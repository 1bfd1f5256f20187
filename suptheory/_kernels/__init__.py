"""Layer 2, the numba kernels (private): they fill preallocated arrays and never draw randomness.

- :mod:`~suptheory._kernels.jit`: the one ``jit`` decorator fixing numba's options, and the
  thread count;
- :mod:`~suptheory._kernels.coherence`: exact-cosine arithmetic and the Gram-tile scans;
- :mod:`~suptheory._kernels.simulate`: read-out noise and level decoding of Monte Carlo twins;
- :mod:`~suptheory._kernels.toy`: forward, backward and Adam steps of the toy models;
- :mod:`~suptheory._kernels.packing`: the packing optimiser's descent steps.

Public wrappers in the layers below validate, draw from a ``numpy.random.Generator``,
allocate, then call these.
"""
