"""Layer 5, orchestration: theory against experiment, grids of settings, results that persist.

- :mod:`~suptheory.runs.check`: ``check``, each closed form beside its empirical twin;
- :mod:`~suptheory.runs.sweep`: ``sweep`` over grids on a process pool or a Dask cluster;
- :mod:`~suptheory.runs.store`: ``ResultStore``, the SQLite store that survives interruption.
"""
