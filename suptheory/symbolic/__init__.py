"""Symbolic twins (sympy) of every closed form, and of its inverse where one exists.

Tests hold each numeric function to its lambdified twin on a grid. :mod:`._geometry` mirrors
the overlap law, Johnson--Lindenstrauss, the coherence bounds and compressed sensing
(:mod:`suptheory.theory.overlaps`, ``jl``, ``bounds``, ``compressed_sensing``);
:mod:`._readout` mirrors the read-out models (:mod:`suptheory.theory.readout`). This package
re-exports their expressions.
"""

from suptheory.symbolic._geometry import *  # noqa: F403
from suptheory.symbolic._readout import *  # noqa: F403
