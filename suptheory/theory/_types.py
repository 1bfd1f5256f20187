"""Type aliases of the public API of :mod:`suptheory.theory`, each defined once here.

The names a ``model=`` or ``convention=`` argument accepts are ``Literal`` types; the tuples
the functions check at run time (``readout.MODELS``, ``readout.CAPACITY_MODELS``,
``jl.JL_CONVENTIONS``) are read off them with :func:`typing.get_args`, so the two cannot
drift apart:

>>> from typing import get_args
>>> from suptheory.theory import jl, readout
>>> readout.MODELS == get_args(NoiseModel)
True
>>> readout.CAPACITY_MODELS == (*readout.MODELS, "l1") == get_args(CapacityModel)
True
>>> jl.JL_CONVENTIONS == get_args(JLConvention)
True

Array arguments (``n``, ``m``, ``l``, ``a``, ``eps``, ``snr``, ``error``, ``p``, ...) are
:data:`numpy.typing.ArrayLike`: a number, a nested sequence or an array; they broadcast like
numpy. Results are a Python number for scalar input and a float64 array otherwise.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from suptheory._validate import wrap as _wrap
from suptheory._validate import wrap_int as _wrap_int

__all__ = [
    "NoiseModel",
    "CapacityModel",
    "JLConvention",
    "FloatOrArray",
    "CountOrArray",
    "FrozenDistribution",
    "wrap",
    "wrap_int",
]

#: Read-out models with a linear read-out noise (``interference``, ``distinguishable_levels``):
#: first the rms models (``random``, ``optimal``), then the largest-overlap proxies.
NoiseModel: TypeAlias = Literal["random", "optimal", "linsefors", "worst", "packing"]
#: Models with a capacity: the noise models and noiseless ``l1`` (compressed-sensing) decoding.
CapacityModel: TypeAlias = Literal[NoiseModel, "l1"]
#: The forms of the Johnson--Lindenstrauss lemma accepted by ``convention=``.
JLConvention: TypeAlias = Literal["dasgupta-gupta", "sklearn", "simple", "achlioptas"]

#: A Python float for scalar input, else a float64 array of the broadcast shape.
FloatOrArray: TypeAlias = float | NDArray[np.float64]
#: A count: a Python int for scalar input (a float only for ``inf``), else a float64 array of
#: whole numbers (counts such as a width for ``eps = 1e-10`` exceed the int64 range).
CountOrArray: TypeAlias = int | float | NDArray[np.float64]
#: A frozen ``scipy.stats`` distribution (``rv_continuous_frozen``, or an ``rv_discrete``);
#: scipy ships no type information, so this is ``Any`` under another name.
FrozenDistribution: TypeAlias = Any


def wrap(result: ArrayLike, scalar: bool) -> FloatOrArray:
    """:func:`suptheory._validate.wrap` with its result typed: a float or a float64 array."""
    out: FloatOrArray = _wrap(result, scalar)
    return out


def wrap_int(result: ArrayLike, scalar: bool) -> CountOrArray:
    """:func:`suptheory._validate.wrap_int` with its result typed: an int (or inf) or an array."""
    out: CountOrArray = _wrap_int(result, scalar)
    return out
