"""Load an embedding (rows are features) from the files and checkpoints researchers have.

numpy, safetensors and torch files; SAELens checkpoint directories; HuggingFace sharded
checkpoints.

SAE libraries save the decoder as ``W_dec`` of shape ``(d_sae, d_model)``, which is already
``(m, n)``; an encoder ``W_enc`` of shape ``(d_model, d_sae)`` is the transpose.

Large files stay on disk: ``.npy`` and safetensors float32/float64 tensors are memory-mapped
read-only, so loading a 1M x 4096 decoder costs no memory until it is read, and what reads it
streams it (the finiteness check goes by row blocks).
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from suptheory._validate import check_bool, check_embedding

__all__ = [
    "load_embedding",
    "SUFFIXES",
    "SAE_WEIGHTS_FILENAME",
    "SAE_CFG_FILENAME",
    "HF_INDEX_FILENAME",
]

#: the file types load_embedding reads (besides checkpoint directories and index files)
SUFFIXES = (".npy", ".npz", ".safetensors", ".pt", ".pth")

#: a SAELens checkpoint directory holds these two files (``sae_lens/constants.py``)
SAE_WEIGHTS_FILENAME = "sae_weights.safetensors"
SAE_CFG_FILENAME = "cfg.json"
#: the index of a HuggingFace sharded safetensors checkpoint (``transformers``' name)
HF_INDEX_FILENAME = "model.safetensors.index.json"
#: an unsharded HuggingFace checkpoint
_HF_SINGLE_FILENAME = "model.safetensors"

#: error messages name at most this many candidates
_MAX_NAMED = 10

#: name -> (shape, dtype name)
_Tensors = Mapping[str, tuple[tuple[int, ...], str]]


class _Clear(ValueError):
    """A message already written for the user (not a reader's error to wrap)."""


def _describe(arrays: Mapping[str, Any]) -> str:
    items = [f"{k!r} {tuple(v)}" for k, v in arrays.items()]
    text = ", ".join(items[:_MAX_NAMED]) or "(none)"
    if len(items) > _MAX_NAMED:
        text += f" and {len(items) - _MAX_NAMED} more (list=True, CLI --list, lists the 2-D ones)"
    return text


def _pick(shapes: Mapping[str, tuple[int, ...]], key: str | None, path: Path) -> str:
    """The key to load: the given one, or the only 2-D array in the file."""
    if key is not None:
        if key not in shapes:
            raise _Clear(
                f"key {key!r} not found in {path}; available keys (shapes): {_describe(shapes)}"
            )
        return key
    two_d = [k for k, s in shapes.items() if len(s) == 2]
    if len(two_d) == 1:
        return two_d[0]
    if not two_d:
        raise _Clear(f"{path} holds no 2-D array; available keys (shapes): {_describe(shapes)}")
    raise _Clear(
        f"{path} holds several 2-D arrays, pass key= (CLI --key) to choose one; "
        f"available keys (shapes): {_describe(shapes)}. For an SAE the decoder "
        "W_dec of shape (d_sae, d_model) has rows as features."
    )


class _Source:
    """What a path holds: its tensors (name -> shape, dtype name) and a reader for one.

    ``scan`` is called only when the shapes are needed (a sharded checkpoint read by key needs
    only its index); ``names``, when given, answers "is this key here?" without it.
    """

    def __init__(
        self,
        where: Path,
        scan: Callable[[], _Tensors],
        read: Callable[[str, bool], Any],
        *,
        names: Mapping[str, Any] | None = None,
        single: str | None = None,
        default: str | None = None,
        check: Callable[[str, tuple[int, ...], bool], None] | None = None,
        shape_of: Callable[[str], tuple[int, ...]] | None = None,
    ) -> None:
        self.where = where
        self._shape_of = shape_of
        self._scan = scan
        self._tensors: _Tensors | None = None
        self.read = read
        self.names = names
        #: for a one-array file: the message when a key is passed anyway
        self.single = single
        #: the key chosen without one (SAELens: W_dec)
        self.default = default
        #: checks the chosen tensor (name, stored shape, transpose) against a config
        self.check = check

    @property
    def tensors(self) -> _Tensors:
        if self._tensors is None:
            self._tensors = self._scan()
        return self._tensors

    def shape_of(self, name: str) -> tuple[int, ...]:
        if self._shape_of is not None:
            return self._shape_of(name)
        return self.tensors[name][0]

    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: v[0] for k, v in self.tensors.items()}

    def choose(self, key: str | None) -> str:
        if self.single is not None:
            if key is not None:
                raise _Clear(f"{self.single}; do not pass key (got key={key!r})")
            return next(iter(self.tensors))
        if key is not None and self.names is not None and key in self.names:
            return key
        if key is None and self.default is not None and self.default in self.tensors:
            return self.default
        return _pick(self.shapes(), key, self.where)


def _float(arr: Any) -> np.ndarray:
    out: np.ndarray = np.asarray(arr)
    if out.dtype.kind == "f" and out.dtype not in (np.float32, np.float64):
        out = out.astype(np.float32)  # float16 and other narrow floats: float32 holds them
    return out


# --- numpy -----------------------------------------------------------------------------------

_NPY_MAGIC = b"\x93NUMPY"


def _npy_header(stream: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) from the header of a ``.npy`` stream; reads nothing more."""
    fmt: Any = np.lib.format
    version = fmt.read_magic(stream)
    header: tuple[tuple[int, ...], bool, np.dtype]
    if version == (1, 0):
        header = fmt.read_array_header_1_0(stream)
    elif version == (2, 0):
        header = fmt.read_array_header_2_0(stream)
    else:  # 3.0: utf-8 field names, no public reader
        header = fmt._read_array_header(stream, version)
    return header


def _scan_npy(path: Path) -> _Source:
    with open(path, "rb") as fh:
        if fh.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
            raise _Clear(
                f"cannot read {path}: it is not a .npy file (it does not start with "
                "numpy's magic string \\x93NUMPY)"
            )
        fh.seek(0)
        shape, fortran, dtype = _npy_header(fh)
    if dtype.hasobject:
        raise _Clear(
            f"cannot read {path}: it holds Python objects (dtype {dtype}), which are "
            "not loaded: unpickling can run code"
        )

    def read(name: str, mmap: bool) -> Any:
        if mmap and math.prod(shape) > 0:
            # read-only: no page of the file is read until it is used
            return np.load(path, mmap_mode="r", allow_pickle=False)
        with open(path, "rb") as fh:
            return np.load(fh, allow_pickle=False)

    return _Source(
        path,
        lambda: {path.name: (tuple(shape), str(dtype))},
        read,
        single=f"{path} is a .npy file holding one array",
    )


def _scan_npz(path: Path) -> _Source:
    # Shapes come from each member's .npy header (a few hundred bytes of the compressed
    # stream); only the chosen member is decompressed in full. Members are read into memory
    # (a zip member cannot be memory-mapped).
    if not zipfile.is_zipfile(path):
        raise _Clear(f"cannot read {path}: it is not a .npz file (not a zip archive)")
    tensors: dict[str, tuple[tuple[int, ...], str]] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith(".npy"):
                with archive.open(info) as member:
                    shape, _, dtype = _npy_header(member)
                tensors[info.filename[:-4]] = (tuple(shape), str(dtype))

    def read(name: str, mmap: bool) -> Any:
        with zipfile.ZipFile(path) as archive, archive.open(name + ".npy") as member:
            return np.lib.format.read_array(member, allow_pickle=False)

    return _Source(path, lambda: tensors, read)


# --- safetensors -----------------------------------------------------------------------------

#: bytes per element of each safetensors dtype
_ST_ITEMSIZE = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}

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
            raise _Clear(
                f"cannot read {path}: it is not a safetensors file (only {size} "
                "bytes; a safetensors file starts with an 8-byte header length)"
            )
        (length,) = struct.unpack("<Q", head)
        if length > min(size - 8, _ST_MAX_HEADER):
            raise _Clear(
                f"cannot read {path}: it is not a safetensors file (its first 8 bytes "
                f"give a header length of {length} bytes, but the file has {size})"
            )
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise _Clear(
            f"cannot read {path}: it is not a safetensors file (the header is not JSON)"
        ) from None
    if not isinstance(header, dict):
        raise _Clear(
            f"cannot read {path}: it is not a safetensors file (the header is not a JSON object)"
        )
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
            raise _Clear(f"{where} has shape {shape!r}; dimensions must be non-negative integers")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_count(o) for o in offsets)
            or offsets[1] < offsets[0]
        ):
            raise _Clear(
                f"{where} has data_offsets {offsets!r}; they must be two "
                "non-negative integers [start, end] with start <= end"
            )
        start, end = offsets
        if end > data:
            raise _Clear(
                f"{where} has data_offsets {offsets!r} past the end of the data ({data} bytes)"
            )
        nbytes = math.prod(shape) * _ST_ITEMSIZE[dtype]
        if end - start != nbytes:
            raise _Clear(
                f"{where} has data_offsets {offsets!r} spanning {end - start} bytes, "
                f"but shape {shape} of {dtype} needs {nbytes}"
            )
        spans.append((start, end, name))
    position = 0
    for start, end, name in sorted(spans):
        if start != position:
            what = "overlaps the tensor before it" if start < position else "leaves a gap"
            raise _Clear(
                f"{path}: tensor {name!r} has data_offsets {[start, end]} and {what} "
                f"(the previous tensor ends at {position})"
            )
        position = end
    if position != data:
        raise _Clear(
            f"cannot read {path}: the tensors cover {position} bytes of a data "
            f"region of {data} bytes"
        )
    return 8 + length, header


#: numpy's name of each safetensors dtype (as listed); numpy has no bfloat16 or float8
_ST_NAMES = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "F8_E5M2": "float8_e5m2",
    "F8_E4M3": "float8_e4m3",
    "I16": "int16",
    "U16": "uint16",
    "F16": "float16",
    "BF16": "bfloat16",
    "I32": "int32",
    "U32": "uint32",
    "F32": "float32",
    "I64": "int64",
    "U64": "uint64",
    "F64": "float64",
}

#: the numpy dtype a safetensors dtype is memory-mapped as (safetensors is little-endian)
_ST_NUMPY = {
    "BOOL": "?",
    "U8": "u1",
    "I8": "i1",
    "I16": "<i2",
    "U16": "<u2",
    "F16": "<f2",
    "I32": "<i4",
    "U32": "<u4",
    "F32": "<f4",
    "I64": "<i8",
    "U64": "<u8",
    "F64": "<f8",
}


#: values widened per block (8 MiB of bf16 read, 16 MiB of float32 written)
_BF16_BLOCK = 1 << 22


def _bf16_reader(path: Path, name: str, offset: int, shape: tuple[int, ...]) -> np.ndarray:
    # numpy has no bfloat16: read the raw bytes in blocks and widen each value to float32
    # exactly (bf16 is float32's top half) straight into the result: memory is the float32
    # result plus one block. ``offset`` comes from _safetensors_header, inside the file.
    count = math.prod(shape)
    out = np.empty(count, dtype=np.float32)
    bits = out.view(np.uint32)
    step = _BF16_BLOCK
    with open(path, "rb") as fh:
        fh.seek(offset)
        for i in range(0, count, step):
            k = min(step, count - i)
            raw = fh.read(2 * k)
            if len(raw) != 2 * k:
                raise _Clear(
                    f"{path}: tensor {name!r} is truncated (the file changed while reading)"
                )
            np.left_shift(np.frombuffer(raw, dtype="<u2"), 16, out=bits[i : i + k], dtype=np.uint32)
    return out.reshape(shape)


def _st_read(path: Path, base: int, name: str, info: Mapping[str, Any], mmap: bool) -> Any:
    """One tensor of a validated safetensors file: memory-mapped, widened or read."""
    dtype, shape = info["dtype"], tuple(info["shape"])
    start = base + info["data_offsets"][0]
    if dtype == "BF16":
        return _bf16_reader(path, name, start, shape)
    if mmap and dtype in _ST_NUMPY and math.prod(shape) > 0:
        # the header was validated: the tensor's bytes lie inside the file's data region
        return np.memmap(path, dtype=_ST_NUMPY[dtype], mode="r", offset=start, shape=shape)
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        return f.get_tensor(name)


def _st_tensors(header: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[tuple[int, ...], str]]:
    return {k: (tuple(v["shape"]), _ST_NAMES[v["dtype"]]) for k, v in header.items()}


def _scan_safetensors(path: Path) -> _Source:
    base, header = _safetensors_header(path)
    return _Source(
        path,
        lambda: _st_tensors(header),
        lambda name, mmap: _st_read(path, base, name, header[name], mmap),
    )


# --- checkpoint layouts ----------------------------------------------------------------------


def _cfg_int(cfg: Mapping[str, Any], name: str) -> int | None:
    """``cfg[name]``, at the top level (SAELens 3 to 6) or one level down."""
    value = cfg.get(name)
    if value is None:
        nested = [v[name] for v in cfg.values() if isinstance(v, Mapping) and name in v]
        value = nested[0] if len(nested) == 1 else None
    return value if value is None or _is_count(value) else -1


def _scan_saelens(directory: Path) -> _Source:
    # The layout SAELens writes, as of sae_lens 6.18.0 (jbloomAus/SAELens, commit 91ca16cc):
    #   sae_lens/constants.py:16-17   SAE_WEIGHTS_FILENAME = "sae_weights.safetensors",
    #                                 SAE_CFG_FILENAME = "cfg.json"
    #   sae_lens/saes/sae.py:514-531  SAE.save_model: save_file(self.state_dict(), weights);
    #                                 json.dump(self.cfg.to_dict(), cfg)
    #   sae_lens/saes/sae.py:153-154, 168-172  SAEConfig: top-level d_in, d_sae (metadata and
    #                                 architecture nested/added beside them)
    #   sae_lens/saes/sae.py:337-350  initialize_weights: b_dec (d_in,), W_dec (d_sae, d_in),
    #                                 W_enc (d_in, d_sae); standard_sae.py: b_enc (d_sae,)
    #   sae_lens/saes/transcoder.py:20, 85-88  transcoders: W_dec (d_sae, d_out)
    #   tests/_comparison/sae_lens_old/sae.py:104-105  the pre-6.0 flat cfg: d_in, d_sae
    cfg_path = directory / SAE_CFG_FILENAME
    weights = directory / SAE_WEIGHTS_FILENAME
    try:
        cfg = json.loads(cfg_path.read_bytes())
    except (UnicodeDecodeError, ValueError):
        raise _Clear(f"cannot read {cfg_path}: it is not JSON") from None
    if not isinstance(cfg, Mapping):
        raise _Clear(f"cannot read {cfg_path}: it is not a JSON object")
    d_sae, d_in, d_out = (_cfg_int(cfg, k) for k in ("d_sae", "d_in", "d_out"))
    for k, v in (("d_sae", d_sae), ("d_in", d_in), ("d_out", d_out)):
        if v == -1:
            raise _Clear(f"{cfg_path} gives {k} = {cfg.get(k)!r}; it must be a whole number")
    if d_sae is None or d_in is None:
        raise _Clear(
            f"{cfg_path} gives no d_sae and d_in (SAELens writes both at the top "
            "level); it is not a SAELens config"
        )
    d_dec = d_in if d_out is None else d_out
    src = _scan_safetensors(weights)

    def check(name: str, shape: tuple[int, ...], transpose: bool) -> None:
        if name == "W_dec":
            want, dims, cols = (
                (d_sae, d_dec),
                "(d_sae, d_in)" if d_out is None else "(d_sae, d_out)",
                False,
            )
        elif name == "W_enc":
            want, dims, cols = (d_in, d_sae), "(d_in, d_sae)", True
        else:
            return
        if shape != want:
            given = f"d_sae = {d_sae}, d_in = {d_in}" + (
                "" if d_out is None else f", d_out = {d_out}"
            )
            raise _Clear(
                f"{cfg_path} disagrees with the weights: it gives {given}, so "
                f"{name} should have shape {dims} = {want}, but {weights} holds "
                f"{name} of shape {shape}"
            )
        if cols and not transpose:
            raise _Clear(
                f"{name} in {directory} has shape {dims} = {shape}: its columns are "
                "the features; pass transpose=True (CLI --transpose), or use the "
                "decoder W_dec"
            )
        if not cols and transpose:
            raise _Clear(
                f"{name} in {directory} has shape {dims} = {shape}: its rows are "
                "already the features; do not pass transpose"
            )

    return _Source(directory, src._scan, src.read, default="W_dec", check=check)


def _scan_sharded(index: Path) -> _Source:
    # transformers' layout: {"metadata": {...}, "weight_map": {tensor name: shard file name}},
    # the shards beside the index. A tensor read by key opens only its own shard.
    try:
        doc = json.loads(index.read_bytes())
    except (UnicodeDecodeError, ValueError):
        raise _Clear(f"cannot read {index}: it is not JSON") from None
    weight_map = doc.get("weight_map") if isinstance(doc, Mapping) else None
    if not isinstance(weight_map, Mapping) or not all(
        isinstance(v, str) for v in weight_map.values()
    ):
        raise _Clear(
            f"cannot read {index}: it is not a sharded checkpoint index (it needs a "
            '"weight_map" object from tensor names to shard file names)'
        )
    for name, shard in weight_map.items():
        if Path(shard).name != shard or shard in ("", ".", ".."):
            raise _Clear(
                f"{index}: shard {shard!r} of tensor {name!r} is not a file name in {index.parent}"
            )
    headers: dict[str, tuple[int, dict[str, dict[str, Any]]]] = {}

    def locate(name: str) -> tuple[Path, int, dict[str, Any]]:
        shard = weight_map[name]
        path = index.parent / shard
        if shard not in headers:
            if not path.is_file():
                raise _Clear(
                    f"{index} names shard {shard!r} (holding {name!r}), but there is "
                    f"no such file {path}"
                )
            headers[shard] = _safetensors_header(path)
        base, header = headers[shard]
        if name not in header:
            raise _Clear(
                f"{index} puts {name!r} in shard {shard!r}, but {path} does not hold "
                f"it; it holds {_describe(_st_tensors(header))}"
            )
        return path, base, header[name]

    def scan() -> _Tensors:
        out = {}
        for name in weight_map:
            info = locate(name)[2]
            out[name] = (tuple(info["shape"]), _ST_NAMES[info["dtype"]])
        return out

    def read(name: str, mmap: bool) -> Any:
        path, base, info = locate(name)
        return _st_read(path, base, name, info, mmap)

    return _Source(
        index, scan, read, names=weight_map, shape_of=lambda name: tuple(locate(name)[2]["shape"])
    )


def _scan_directory(directory: Path) -> _Source:
    cfg, weights = directory / SAE_CFG_FILENAME, directory / SAE_WEIGHTS_FILENAME
    if cfg.is_file() and weights.is_file():
        return _scan_saelens(directory)
    if (directory / HF_INDEX_FILENAME).is_file():
        return _scan_sharded(directory / HF_INDEX_FILENAME)
    if (directory / _HF_SINGLE_FILENAME).is_file():
        return _scan_safetensors(directory / _HF_SINGLE_FILENAME)
    if weights.is_file() or cfg.is_file():
        has, lacks = (weights, cfg) if weights.is_file() else (cfg, weights)
        raise _Clear(
            f"{directory} is not a complete SAELens checkpoint: it has {has.name} but "
            f"no {lacks.name} (SAELens saves both)"
        )
    files = sorted(f.name for f in directory.iterdir() if f.suffix.lower() in SUFFIXES)
    found = (
        f"; it holds the weight files {', '.join(files[:_MAX_NAMED])}"
        + (f" and {len(files) - _MAX_NAMED} more" if len(files) > _MAX_NAMED else "")
        + ": pass one of them"
        if files
        else ""
    )
    raise _Clear(
        f"{directory} is a directory, not a weight file, and holds no checkpoint "
        f"(a SAELens {SAE_CFG_FILENAME} + {SAE_WEIGHTS_FILENAME}, a HuggingFace "
        f"{HF_INDEX_FILENAME} or {_HF_SINGLE_FILENAME}){found}"
    )


# --- torch -----------------------------------------------------------------------------------


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, name + "."))
        elif hasattr(v, "shape") and hasattr(v, "numpy"):
            out[name] = v
    return out


def _pt_numpy(tensor: Any) -> np.ndarray:
    import torch

    tensor = tensor.detach().cpu()
    if tensor.is_complex() or tensor.dtype == torch.bool:
        # as numpy arrays, rejected below like complex and bool arrays of any other format
        if tensor.dtype == torch.complex32:  # numpy has no complex32
            tensor = tensor.to(torch.complex64)
    elif tensor.dtype not in (torch.float32, torch.float64):
        tensor = tensor.to(torch.float32 if tensor.is_floating_point() else torch.float64)
    array: np.ndarray = tensor.numpy()
    return array


def _scan_pt(path: Path) -> _Source:
    try:
        import torch
    except ImportError:
        raise _Clear(
            f"reading {path.name} (a PyTorch file) needs torch, which is not "
            "installed: pip install torch (the CPU build is enough), or save "
            "the weights as .safetensors or .npy"
        ) from None
    # torch's zip format (torch.save's default) can be memory-mapped; the legacy one cannot
    obj = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    if isinstance(obj, torch.Tensor):
        tensors = {path.name: obj}
        single: str | None = f"{path} holds one tensor"
    elif isinstance(obj, Mapping):
        tensors, single = _flatten(obj), None
    else:
        raise _Clear(
            f"{path} holds a {type(obj).__name__}, not a tensor or a dict of tensors (a state_dict)"
        )
    listing = {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in tensors.items()}
    return _Source(
        path, lambda: listing, lambda name, mmap: _pt_numpy(tensors[name]), single=single
    )


_SCANNERS = {
    ".npy": _scan_npy,
    ".npz": _scan_npz,
    ".safetensors": _scan_safetensors,
    ".pt": _scan_pt,
    ".pth": _scan_pt,
}


def _source(p: Path) -> _Source:
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise _Clear(f"no such file: {p}") from None
    except OSError as exc:
        raise _Clear(f"cannot read {p}: {exc}") from exc
    if stat.S_ISDIR(mode):
        return _scan_directory(p)
    if not stat.S_ISREG(mode):
        raise _Clear(f"{p} is not a regular file (a FIFO, socket or device); pass a weight file")
    if p.name.lower().endswith(".index.json"):
        return _scan_sharded(p)
    scanner = _SCANNERS.get(p.suffix.lower())
    if scanner is None:
        raise _Clear(
            f"cannot read {p.name!r}: the suffix must be one of {', '.join(SUFFIXES)} "
            f"(or pass a {HF_INDEX_FILENAME} or a checkpoint directory)"
        )
    return scanner(p)


def load_embedding(
    path: str | os.PathLike[str],
    key: str | None = None,
    transpose: bool = False,
    *,
    list: bool = False,
    mmap: bool = True,
) -> Any:
    """Load an ``(m, n)`` embedding (rows are features) from a weight file or checkpoint.

    Parameters
    ----------
    path : str or path-like
        A ``.npy``, ``.npz``, ``.safetensors`` (bfloat16 is widened to float32) or
        ``.pt``/``.pth`` file (needs torch; a tensor or a ``state_dict``, nested keys joined
        with dots); or a checkpoint directory: a SAELens one (``cfg.json`` and
        ``sae_weights.safetensors``), a HuggingFace sharded one (``model.safetensors.index.json``
        and its shards; the index file itself may be given too) or one holding
        ``model.safetensors``.
    key : str, optional
        Which array of a multi-array file; by default the only 2-D array. In a SAELens
        directory the default is the decoder ``W_dec`` (shape ``(d_sae, d_in)``), checked
        against the ``d_sae`` and ``d_in`` of its ``cfg.json``; ``key="W_enc"`` (shape
        ``(d_in, d_sae)``) needs ``transpose=True``. In a sharded checkpoint only the shard
        holding ``key`` is opened.
    transpose : bool
        Return the transpose: for arrays whose columns are the features, such as an encoder
        ``W_enc`` of shape ``(d_model, d_sae)`` or the toy-models paper's ``W`` of shape
        ``(n, m)``. The transpose is made contiguous, which copies a memory-mapped array.
    list : bool
        Return the 2-D tensors instead of loading one: a list of ``(name, shape, dtype)``
        with ``shape`` a tuple and ``dtype`` numpy's name (``"bfloat16"`` for bfloat16), in
        file order; reads headers only (of every shard of a sharded checkpoint). A ``.npy``
        file lists its one array under the file's name. Cannot be combined with ``key``.
    mmap : bool
        Memory-map the array where the format allows (the default): ``.npy`` files and
        uncompressed safetensors tensors of numpy dtypes, including float32 and float64, come
        back as read-only views of the file, so only the pages that are used are read (the
        file must not change while the array is in use). Arrays that must be converted are
        copies: float16 and bfloat16 (widened to float32), integers (float64), a transposed
        or Fortran-ordered array. ``.npz`` members are always read into memory; ``.pt``
        files in torch's zip format are loaded with ``torch.load(mmap=True)``. Pass
        ``mmap=False`` for a writable in-memory array.

    Returns
    -------
    numpy.ndarray, shape (m, n), or list of (str, tuple, str)
        float32 or float64 as stored (narrower floats become float32, integers float64),
        C-contiguous, read-only when memory-mapped. A result with ``m < n`` is returned as is
        (fewer features than dimensions is legitimate); :func:`suptheory.analyze` notes that
        it may be transposed. With ``list=True``, the 2-D tensors as described above.

    Raises
    ------
    ValueError
        Missing file, a FIFO or other non-regular file, a directory without a checkpoint,
        unknown suffix, a file whose content is not of its suffix's format, unreadable or
        corrupt file (including a safetensors header whose offsets, shapes and dtypes do not
        agree), a SAELens ``cfg.json`` whose ``d_sae``/``d_in`` disagree with ``W_dec`` or
        ``W_enc``, a sharded index naming a missing shard, missing or ambiguous key (the
        message names up to ten keys with their shapes), an array that is not 2-D, empty, or
        holds NaN or inf, and a ``.pt`` file without torch installed. Every message names
        the file.
    TypeError
        An array of booleans or complex numbers (from any format).

    Notes
    -----
    Reading never writes to the file. Only the chosen array is read in full: the shapes of
    an ``.npz`` come from its members' ``.npy`` headers and those of a ``.safetensors`` file
    from its JSON header (validated as the safetensors library validates it).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "sae.npz")
    >>> np.savez(path, W_dec=np.eye(4, 2), W_enc=np.eye(2, 4))
    >>> load_embedding(path, key="W_dec").shape
    (4, 2)
    >>> load_embedding(path, list=True)
    [('W_dec', (4, 2), 'float64'), ('W_enc', (2, 4), 'float64')]
    >>> load_embedding(path)
    Traceback (most recent call last):
    ...
    ValueError: ... holds several 2-D arrays, pass key= (CLI --key) to choose one; ...

    A SAELens checkpoint directory (here written by hand in SAELens's layout):

    >>> import json
    >>> from safetensors.numpy import save_file
    >>> folder = tempfile.mkdtemp()
    >>> W_dec = np.eye(6, 3, dtype=np.float32)
    >>> save_file({"W_dec": W_dec, "W_enc": np.ascontiguousarray(W_dec.T),
    ...            "b_enc": np.zeros(6, np.float32), "b_dec": np.zeros(3, np.float32)},
    ...           os.path.join(folder, "sae_weights.safetensors"))
    >>> with open(os.path.join(folder, "cfg.json"), "w") as fh:
    ...     json.dump({"d_in": 3, "d_sae": 6, "architecture": "standard"}, fh)
    >>> W = load_embedding(folder)
    >>> W.shape, W.flags.writeable
    ((6, 3), False)
    >>> load_embedding(folder, key="W_enc", transpose=True).shape
    (6, 3)
    """
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise TypeError(f"path must be a file path (str or os.PathLike of str); got {path!r}")
    transpose = bool(check_bool(transpose, "transpose"))
    list = bool(check_bool(list, "list"))  # noqa: A001 - the parameter's public name
    mmap = bool(check_bool(mmap, "mmap"))
    p = Path(os.fspath(path))
    if key is not None and not isinstance(key, str):
        raise TypeError(f"key must be a string or None; got {key!r}")
    if list and key is not None:
        raise ValueError(
            f"pass key= (CLI --key) or list=True (CLI --list), not both (got key={key!r})"
        )
    suffix = p.suffix.lower()
    try:
        src = _source(p)
        if list:
            return [
                (name, shape, dtype)
                for name, (shape, dtype) in src.tensors.items()
                if len(shape) == 2
            ]
        name = src.choose(key)
        shape = src.shape_of(name)
        if len(shape) != 2:  # before reading it
            raise _Clear(_not_2d(p, key, shape))
        if src.check is not None:
            src.check(name, shape, transpose)
        arr = src.read(name, mmap)
    except _Clear as exc:
        raise ValueError(str(exc)) from None
    except Exception as exc:  # corrupt files raise many kinds (OSError, zip, pickle, ...)
        raise ValueError(f"cannot read {p} as {suffix}: {type(exc).__name__}: {exc}") from exc
    arr = _float(arr)
    if arr.ndim != 2:
        raise ValueError(_not_2d(p, key, arr.shape))
    if transpose:
        arr = arr.T
    where = f"the array in {p}" + ("" if key is None else f" [{key!r}]")
    arr = check_embedding(arr, where, dtypes=(np.float64, np.float32))
    return np.ascontiguousarray(arr)


def _not_2d(p: Path, key: str | None, shape: tuple[int, ...]) -> str:
    return (
        f"the array in {p}{'' if key is None else f' [{key!r}]'} has shape {shape}; an "
        "embedding must be 2-D of shape (m, n) with rows as features"
    )
