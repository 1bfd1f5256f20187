"""Load an embedding (rows are features) from the files researchers have: numpy, safetensors, torch.

SAE libraries save the decoder as ``W_dec`` of shape ``(d_sae, d_model)``, which is already
``(m, n)``; an encoder ``W_enc`` of shape ``(d_model, d_sae)`` is the transpose.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from suptheory._validate import check_embedding

__all__ = ["load_embedding", "SUFFIXES"]

#: the file types load_embedding reads
SUFFIXES = (".npy", ".npz", ".safetensors", ".pt", ".pth")


class _Clear(ValueError):
    """A message already written for the user (not a reader's error to wrap)."""


def _describe(arrays: Mapping[str, Any]) -> str:
    return ", ".join(f"{k!r} {tuple(v)}" for k, v in arrays.items()) or "(none)"


def _pick(shapes: Mapping[str, tuple[int, ...]], key: str | None, path: Path) -> str:
    """The key to load: the given one, or the only 2-D array in the file."""
    if key is not None:
        if key not in shapes:
            raise _Clear(f"key {key!r} not found in {path}; available keys (shapes): "
                             f"{_describe(shapes)}")
        return key
    two_d = [k for k, s in shapes.items() if len(s) == 2]
    if len(two_d) == 1:
        return two_d[0]
    if not two_d:
        raise _Clear(f"{path} holds no 2-D array; available keys (shapes): "
                         f"{_describe(shapes)}")
    raise _Clear(f"{path} holds several 2-D arrays, pass key= (CLI --key) to choose one; "
                     f"available keys (shapes): {_describe(shapes)}. For an SAE the decoder "
                     "W_dec of shape (d_sae, d_model) has rows as features.")


def _float(arr: Any) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype in (np.float32, np.float64):
        return arr
    if arr.dtype.kind == "f":  # float16 and other narrow floats: float32 holds them exactly
        return arr.astype(np.float32)
    return arr


def _load_npy(path: Path, key: str | None) -> np.ndarray:
    if key is not None:
        raise _Clear(f"{path} is a .npy file holding one array; do not pass key "
                         f"(got key={key!r})")
    return np.load(path, allow_pickle=False)


def _load_npz(path: Path, key: str | None) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        shapes = {k: z[k].shape for k in z.files}
        return z[_pick(shapes, key, path)]


def _bf16_reader(path: Path, name: str) -> np.ndarray:
    # numpy has no bfloat16: read the raw bytes (safetensors layout: u64 header length,
    # JSON header, data) and widen each value to float32 exactly (bf16 is float32's top half).
    with open(path, "rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(size))
        info = header[name]
        start, end = info["data_offsets"]
        fh.seek(8 + size + start)
        raw = np.frombuffer(fh.read(end - start), dtype="<u2")
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(info["shape"])


def _load_safetensors(path: Path, key: str | None) -> np.ndarray:
    from safetensors import safe_open

    with open(path, "rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(size))
    header.pop("__metadata__", None)
    shapes = {k: tuple(v["shape"]) for k, v in header.items()}
    name = _pick(shapes, key, path)
    if header[name]["dtype"] == "BF16":
        return _bf16_reader(path, name)
    with safe_open(str(path), framework="np") as f:
        return f.get_tensor(name)


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, name + "."))
        elif hasattr(v, "shape") and hasattr(v, "numpy"):
            out[name] = v
    return out


def _load_pt(path: Path, key: str | None) -> np.ndarray:
    try:
        import torch
    except ImportError:
        raise _Clear(f"reading {path.name} (a PyTorch file) needs torch, which is not "
                         "installed: pip install torch (the CPU build is enough), or save "
                         "the weights as .safetensors or .npy") from None
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, torch.Tensor):
        if key is not None:
            raise _Clear(f"{path} holds one tensor; do not pass key (got key={key!r})")
        tensor = obj
    elif isinstance(obj, Mapping):
        tensors = _flatten(obj)
        tensor = tensors[_pick({k: tuple(v.shape) for k, v in tensors.items()}, key, path)]
    else:
        raise _Clear(f"{path} holds a {type(obj).__name__}, not a tensor or a dict of "
                         "tensors (a state_dict)")
    tensor = tensor.detach().cpu()
    if tensor.dtype not in (torch.float32, torch.float64):
        tensor = tensor.to(torch.float32 if tensor.is_floating_point() else torch.float64)
    return tensor.numpy()


_LOADERS = {".npy": _load_npy, ".npz": _load_npz, ".safetensors": _load_safetensors,
            ".pt": _load_pt, ".pth": _load_pt}


def load_embedding(path: str | os.PathLike[str], key: str | None = None,
                   transpose: bool = False) -> np.ndarray:
    """Load an ``(m, n)`` embedding (rows are features) from a weight file.

    Parameters
    ----------
    path : str or path-like
        A ``.npy``, ``.npz``, ``.safetensors`` (read with the safetensors package's numpy
        API; bfloat16 is widened to float32) or ``.pt``/``.pth`` file (needs torch; a tensor
        or a ``state_dict``, nested keys joined with dots).
    key : str, optional
        Which array of a multi-array file; by default the only 2-D array. For an SAE
        saved by SAELens and similar libraries use ``"W_dec"`` (shape ``(d_sae, d_model)``).
    transpose : bool
        Return the transpose: for arrays whose columns are the features, such as an encoder
        ``W_enc`` of shape ``(d_model, d_sae)`` or the toy-models paper's ``W`` of shape
        ``(n, m)``.

    Returns
    -------
    numpy.ndarray, shape (m, n)
        float32 or float64 as stored (narrower floats become float32, integers float64),
        C-contiguous. A result with ``m < n`` is returned as is (fewer features than
        dimensions is legitimate); :func:`suptheory.analyze` notes that it may be transposed.

    Raises
    ------
    ValueError
        Missing file, unknown suffix, unreadable or corrupt file, missing or ambiguous key
        (the message lists the available keys and shapes), an array that is not 2-D, empty,
        or holds NaN or inf, and a ``.pt`` file without torch installed.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "sae.npz")
    >>> np.savez(path, W_dec=np.eye(4, 2), W_enc=np.eye(2, 4))
    >>> load_embedding(path, key="W_dec").shape
    (4, 2)
    >>> load_embedding(path)
    Traceback (most recent call last):
    ...
    ValueError: ... holds several 2-D arrays, pass key= (CLI --key) to choose one; ...
    """
    p = Path(os.fspath(path))
    suffix = p.suffix.lower()
    if suffix not in _LOADERS:
        raise ValueError(f"cannot read {p.name!r}: the suffix must be one of "
                         f"{', '.join(SUFFIXES)}")
    if not p.is_file():
        raise ValueError(f"no such file: {p}")
    if key is not None and not isinstance(key, str):
        raise TypeError(f"key must be a string or None; got {key!r}")
    try:
        arr = _LOADERS[suffix](p, key)
    except _Clear as exc:
        raise ValueError(str(exc)) from None
    except Exception as exc:  # corrupt files raise many kinds (OSError, zip, pickle, ...)
        raise ValueError(f"cannot read {p} as {suffix}: {type(exc).__name__}: {exc}") from exc
    arr = _float(arr)
    if arr.ndim != 2:
        raise ValueError(f"the array in {p}{'' if key is None else f' [{key!r}]'} has shape "
                         f"{arr.shape}; an embedding must be 2-D of shape (m, n) with rows as "
                         "features")
    if transpose:
        arr = arr.T
    arr = check_embedding(arr, "the loaded array", dtypes=(np.float64, np.float32))
    return np.ascontiguousarray(arr)
