"""Plots of suptheory's results (matplotlib, imported only when a plot is asked for).

:mod:`suptheory.plots.toy` draws trained toy models (:func:`~suptheory.plots.toy.plot_toy_models`);
:mod:`suptheory.plots.embedding` draws :func:`suptheory.analyze`'s report against random
directions (:func:`~suptheory.plots.embedding.plot_embedding_report`).
"""
