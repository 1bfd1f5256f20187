"""Small helpers shared by the subcommands: number parsing and output."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any


def number(text: str) -> float:
    """Parse a command-line number; counts may be written as ``1e6`` or ``24_576``."""
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return _jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")  # see dumps
    return obj


def dumps(obj: Any) -> str:
    """Serialise a result to strict JSON, numpy values converted to Python ones.

    JSON has no infinity or NaN, so every non-finite float (Python or numpy, at any depth)
    is written as one of the strings ``"inf"``, ``"-inf"`` or ``"nan"``, which ``float()``
    reads back. (The printed tables show NaN as ``-`` instead; see :mod:`suptheory._text`.)
    Dictionary keys become strings.

    Examples
    --------
    >>> import numpy as np
    >>> print(dumps({"m_max": float("inf"), "l": np.float64(-np.inf), "z": [np.nan, 1.5]}))
    {
      "m_max": "inf",
      "l": "-inf",
      "z": [
        "nan",
        1.5
      ]
    }
    """
    return json.dumps(_jsonable(obj), indent=2, sort_keys=False, allow_nan=False)
