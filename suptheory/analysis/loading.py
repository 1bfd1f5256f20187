"""Load an embedding (rows are features) from the files researchers have: numpy, safetensors, torch.

SAE libraries save the decoder as ``W_dec`` of shape ``(d_sae, d_model)``, which is already
``(m, n)``; an encoder ``W_enc`` of shape ``(d_model, d_sae)`` is the transpose.
"""

from __future__ import annotations

import json
import math
import os
import stat
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


_NPY_MAGIC = b"\x93NUMPY"


def _load_npy(path: Path, key: str | None) -> np.ndarray:
    if key is not None:
        raise _Clear(f"{path} is a .npy file holding one array; do not pass key "
                         f"(got key={key!r})")
    with open(path, "rb") as fh:
        if fh.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
            raise _Clear(f"cannot read {path}: it is not a .npy file (it does not start with "
                         "numpy's magic string \\x93NUMPY)")
        fh.seek(0)
        return np.load(fh, allow_pickle=False)


def _npy_header(stream: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from the header of a ``.npy`` stream; reads nothing more."""
    fmt = np.lib.format
    version = fmt.read_magic(stream)
    if version == (1, 0):
        return fmt.read_array_header_1_0(stream)
    if version == (2, 0):
        return fmt.read_array_header_2_0(stream)
    return fmt._read_array_header(stream, version)  # 3.0: utf-8 field names, no public reader


def _load_npz(path: Path, key: str | None) -> np.ndarray:
    # Shapes come from each member's .npy header (a few hundred bytes of the compressed
    # stream); only the chosen member is decompressed in full.
    import zipfile

    if not zipfile.is_zipfile(path):
        raise _Clear(f"cannot read {path}: it is not a .npz file (not a zip archive)")
    with zipfile.ZipFile(path) as archive:
        members = {info.filename[:-4]: info for info in archive.infolist()
                   if info.filename.endswith(".npy")}
        shapes = {}
        for name, info in members.items():
            with archive.open(info) as member:
                shapes[name] = _npy_header(member)[0]
        with archive.open(members[_pick(shapes, key, path)]) as member:
            return np.lib.format.read_array(member, allow_pickle=False)


#: bytes per element of each safetensors dtype
_ST_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
                "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}

#: the safetensors library refuses headers longer than this (100 MB)
_ST_MAX_HEADER = 100_000_000


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _safetensors_header(path: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """The validated header of a safetensors file: (offset of the data region, tensors).

    Checks what the safetensors library checks before it reads a tensor, for every tensor:
    a JSON object header that fits in the file; known dtypes; shapes of non-negative
    integers; offsets ``[start, end]`` that tile the data region from 0 to its end without
    gaps or overlaps; and ``end - start == prod(shape) * itemsize``. Only the header is read,
    so a header claiming more data than the file holds is refused before any allocation.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise _Clear(f"cannot read {path}: it is not a safetensors file (only {size} "
                         "bytes; a safetensors file starts with an 8-byte header length)")
        (length,) = struct.unpack("<Q", head)
        if length > min(size - 8, _ST_MAX_HEADER):
            raise _Clear(f"cannot read {path}: it is not a safetensors file (its first 8 bytes "
                         f"give a header length of {length} bytes, but the file has {size})")
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise _Clear(f"cannot read {path}: it is not a safetensors file (the header is not "
                     "JSON)") from None
    if not isinstance(header, dict):
        raise _Clear(f"cannot read {path}: it is not a safetensors file (the header is not a "
                     "JSON object)")
    header.pop("__metadata__", None)
    data = size - 8 - length
    spans = []
    for name, info in header.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise _Clear(f"{where} has no dtype, shape and data_offsets in the header")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in _ST_ITEMSIZE:
            raise _Clear(f"{where} has an unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
            raise _Clear(f"{where} has shape {shape!r}; dimensions must be non-negative "
                         "integers")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(_is_count(o) for o in offsets) or offsets[1] < offsets[0]):
            raise _Clear(f"{where} has data_offsets {offsets!r}; they must be two "
                         "non-negative integers [start, end] with start <= end")
        start, end = offsets
        if end > data:
            raise _Clear(f"{where} has data_offsets {offsets!r} past the end of the data "
                         f"({data} bytes)")
        nbytes = math.prod(shape) * _ST_ITEMSIZE[dtype]
        if end - start != nbytes:
            raise _Clear(f"{where} has data_offsets {offsets!r} spanning {end - start} bytes, "
                         f"but shape {shape} of {dtype} needs {nbytes}")
        spans.append((start, end, name))
    position = 0
    for start, end, name in sorted(spans):
        if start != position:
            what = "overlaps the tensor before it" if start < position else "leaves a gap"
            raise _Clear(f"{path}: tensor {name!r} has data_offsets {[start, end]} and {what} "
                         f"(the previous tensor ends at {position})")
        position = end
    if position != data:
        raise _Clear(f"cannot read {path}: the tensors cover {position} bytes of a data "
                     f"region of {data} bytes")
    return 8 + length, header


def _bf16_reader(path: Path, name: str, base: int, info: Mapping[str, Any]) -> np.ndarray:
    # numpy has no bfloat16: read the raw bytes (safetensors layout: u64 header length,
    # JSON header, data) and widen each value to float32 exactly (bf16 is float32's top half).
    # ``info`` comes from _safetensors_header, so its offsets lie inside the data region.
    start, end = info["data_offsets"]
    with open(path, "rb") as fh:
        fh.seek(base + start)
        data = fh.read(end - start)
    if len(data) != end - start:
        raise _Clear(f"{path}: tensor {name!r} is truncated (the file changed while reading)")
    raw = np.frombuffer(data, dtype="<u2")
    return (raw.astype(np.uint32) << 16).view(np.float32).reshape(info["shape"])


def _load_safetensors(path: Path, key: str | None) -> np.ndarray:
    from safetensors import safe_open

    base, header = _safetensors_header(path)
    shapes = {k: tuple(v["shape"]) for k, v in header.items()}
    name = _pick(shapes, key, path)
    if header[name]["dtype"] == "BF16":
        return _bf16_reader(path, name, base, header[name])
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
    if tensor.is_complex() or tensor.dtype == torch.bool:
        # as numpy arrays, rejected below like complex and bool arrays of any other format
        if tensor.dtype == torch.complex32:  # numpy has no complex32
            tensor = tensor.to(torch.complex64)
        return tensor.numpy()
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
        Missing file, a directory or other non-regular file, unknown suffix, a file whose
        content is not of its suffix's format, unreadable or corrupt file (including a
        safetensors header whose offsets, shapes and dtypes do not agree), missing or
        ambiguous key (the message lists the available keys and shapes), an array that is
        not 2-D, empty, or holds NaN or inf, and a ``.pt`` file without torch installed.
    TypeError
        An array of booleans or complex numbers (from any format).

    Notes
    -----
    Reading never writes to the file. Only the chosen array is read in full: the shapes of
    an ``.npz`` come from its members' ``.npy`` headers and those of a ``.safetensors`` file
    from its JSON header.

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
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise ValueError(f"no such file: {p}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {p}: {exc}") from exc
    if stat.S_ISDIR(mode):
        raise ValueError(f"{p} is a directory, not a weight file")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{p} is not a regular file (a FIFO, socket or device); pass a weight "
                         "file")
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
