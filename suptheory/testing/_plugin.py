"""The pytest plugin of suptheory (entry point ``pytest11``, name ``suptheory``).

Installing suptheory makes pytest load this module in every test run; it registers

- a hypothesis settings profile ``suptheory`` (no deadline -- numba compiles a kernel on its
  first call --, 200 examples, ``print_blob``), chosen with
  ``pytest --hypothesis-profile=suptheory``; nothing happens when hypothesis is not
  installed;
- the fixture ``embedding_file``: a small dictionary written to a temporary file in each
  format :func:`suptheory.load_embedding` reads, one test per format, so that users can test
  their own loading code against files laid out as SAE libraries write them.

Without the entry point (a source checkout not installed with pip), load it with
``pytest -p suptheory.testing._plugin``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

settings: Any
try:  # hypothesis is an optional extra: the fixture works without it
    from hypothesis import HealthCheck
    from hypothesis import settings as settings
except ImportError:  # pragma: no cover - exercised by a test in a subprocess
    settings = None
else:
    settings.register_profile(
        "suptheory",
        deadline=None,
        max_examples=200,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )

#: shape of the fixture's dictionary: (m features, n dimensions)
SHAPE = (32, 8)

# Every format load_embedding reads: single files, an SAELens checkpoint directory
# (cfg.json + sae_weights.safetensors, as SAELens's SAE.save_model writes them) and a
# HuggingFace sharded checkpoint (model.safetensors.index.json and its shards).
FORMATS = ("npy", "npz", "safetensors", "saelens", "sharded") + (
    ("pt",) if importlib.util.find_spec("torch") is not None else ()
)


class EmbeddingFile(NamedTuple):
    """A dictionary written to a file by the ``embedding_file`` fixture."""

    path: Path  #: the file
    format: str  #: one of FORMATS
    key: str | None  #: the array to load (``W_dec``), None for .npy (one array per file)
    W: np.ndarray  #: the ``(m, n)`` float32 dictionary as written (unit rows, seed 0)


def _dictionary() -> np.ndarray:
    W = np.random.default_rng(0).standard_normal(SHAPE)
    unit: np.ndarray = (W / np.linalg.norm(W, axis=1)[:, None]).astype(np.float32)
    return unit


def write_embedding(directory: Path, fmt: str, W: np.ndarray) -> EmbeddingFile:
    """Write ``W`` as an SAE checkpoint would: decoder ``W_dec``, encoder, biases.

    ``.npy`` holds ``W`` alone; ``.npz``, ``.safetensors`` and ``.pt`` (a state dict) hold
    ``W_dec`` (``W``, shape ``(m, n)``), ``W_enc`` (``W.T``), ``b_enc`` ``(m,)`` and ``b_dec``
    ``(n,)``, so a loader has to pick the decoder. ``"saelens"`` writes those tensors to
    ``sae_weights.safetensors`` beside a ``cfg.json`` with ``d_in`` and ``d_sae`` (the path is
    the directory); ``"sharded"`` splits them over two shards named by
    ``model.safetensors.index.json`` (the path is the index).
    """
    tensors = {
        "W_dec": W,
        "W_enc": np.ascontiguousarray(W.T),
        "b_enc": np.zeros(W.shape[0], W.dtype),
        "b_dec": np.zeros(W.shape[1], W.dtype),
    }
    if fmt == "npy":
        path = directory / "embedding.npy"
        np.save(path, W)
        return EmbeddingFile(path, fmt, None, W)
    path = directory / f"sae.{fmt}"
    if fmt == "npz":
        np.savez(path, **tensors)  # type: ignore[arg-type]
    elif fmt == "safetensors":
        from safetensors.numpy import save_file

        save_file(tensors, str(path))
    elif fmt == "saelens":
        import json

        from safetensors.numpy import save_file

        path = directory / "sae"
        path.mkdir()
        save_file(tensors, str(path / "sae_weights.safetensors"))
        cfg = {"d_in": int(W.shape[1]), "d_sae": int(W.shape[0]), "architecture": "standard"}
        (path / "cfg.json").write_text(json.dumps(cfg))
        return EmbeddingFile(path, fmt, "W_dec", W)
    elif fmt == "sharded":
        import json

        from safetensors.numpy import save_file

        shards = {
            "model-00001-of-00002.safetensors": ("W_enc", "b_enc"),
            "model-00002-of-00002.safetensors": ("W_dec", "b_dec"),
        }
        weight_map = {}
        for shard, names in shards.items():
            save_file({k: tensors[k] for k in names}, str(directory / shard))
            weight_map.update(dict.fromkeys(names, shard))
        path = directory / "model.safetensors.index.json"
        path.write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
        return EmbeddingFile(path, fmt, "W_dec", W)
    elif fmt == "pt":
        torch = pytest.importorskip("torch")
        torch.save({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, path)
    else:
        raise ValueError(f"format must be one of {FORMATS}; got {fmt!r}")
    return EmbeddingFile(path, fmt, "W_dec", W)


@pytest.fixture(params=FORMATS)
def embedding_file(request: Any, tmp_path: Path) -> EmbeddingFile:
    """A small ``(32, 8)`` dictionary in a file, once per supported format.

    Returns an ``EmbeddingFile(path, format, key, W)``: load ``path`` (with ``key`` where
    the file holds several arrays) and compare with ``W``. The ``.pt`` case is there only
    when torch is installed.
    """
    return write_embedding(tmp_path, request.param, _dictionary())
