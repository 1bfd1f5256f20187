"""load_embedding: real small files of every format, written in tmp_path."""

from __future__ import annotations

import builtins
import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suptheory.analysis.loading import load_embedding
from suptheory.testing import strategies

W = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)


def test_every_format_of_the_plugins_fixture(embedding_file):
    # suptheory's pytest plugin writes an SAE-like checkpoint in each format load_embedding
    # reads (.pt when torch is installed): the decoder comes back bit for bit
    out = load_embedding(embedding_file.path, key=embedding_file.key)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, embedding_file.W)
    if embedding_file.key is not None:  # the encoder is the transpose
        enc = load_embedding(embedding_file.path, key="W_enc", transpose=True)
        np.testing.assert_array_equal(enc, embedding_file.W)
        if embedding_file.format == "saelens":  # the decoder is chosen by the layout
            np.testing.assert_array_equal(load_embedding(embedding_file.path), embedding_file.W)
        else:
            with pytest.raises(ValueError, match="several 2-D arrays"):
                load_embedding(embedding_file.path)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    W=strategies.random_dictionaries(m=st.integers(1, 40), n=st.integers(1, 12)),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_round_trip_of_random_dictionaries(tmp_path, W, dtype):
    from safetensors.numpy import save_file

    W = W.astype(dtype)
    np.save(tmp_path / "w.npy", W)
    np.savez(tmp_path / "w.npz", W_dec=W, b_dec=np.zeros(W.shape[1], dtype))
    save_file({"W_dec": W}, str(tmp_path / "w.safetensors"))
    for name in ("w.npy", "w.npz", "w.safetensors"):
        out = load_embedding(tmp_path / name)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, W)


def test_npy(tmp_path):
    p = tmp_path / "w.npy"
    np.save(p, W)
    out = load_embedding(p)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, W)
    np.testing.assert_array_equal(load_embedding(str(p), transpose=True), W.T)
    with pytest.raises(ValueError, match="do not pass key"):
        load_embedding(p, key="W")


def test_npy_float64_and_int(tmp_path):
    np.save(tmp_path / "a.npy", W.astype(np.float64))
    assert load_embedding(tmp_path / "a.npy").dtype == np.float64
    np.save(tmp_path / "b.npy", np.arange(6).reshape(3, 2))
    assert load_embedding(tmp_path / "b.npy").dtype == np.float64
    np.save(tmp_path / "c.npy", W.astype(np.float16))
    assert load_embedding(tmp_path / "c.npy").dtype == np.float32


def test_npz_keys(tmp_path):
    p = tmp_path / "sae.npz"
    np.savez(p, W_dec=W, W_enc=W.T, b_dec=np.zeros(4))
    np.testing.assert_array_equal(load_embedding(p, key="W_dec"), W)
    np.testing.assert_array_equal(load_embedding(p, key="W_enc", transpose=True), W)
    with pytest.raises(ValueError, match=r"several 2-D arrays.*'W_dec' \(12, 4\).*'W_enc'"):
        load_embedding(p)
    with pytest.raises(ValueError, match=r"key 'W' not found.*'b_dec' \(4,\)"):
        load_embedding(p, key="W")
    with pytest.raises(ValueError, match=r"shape \(4,\).*must be 2-D"):
        load_embedding(p, key="b_dec")
    q = tmp_path / "one.npz"
    np.savez(q, W_dec=W, b_dec=np.zeros(4))
    np.testing.assert_array_equal(load_embedding(q), W)  # the only 2-D array
    r = tmp_path / "none.npz"
    np.savez(r, b=np.zeros(3))
    with pytest.raises(ValueError, match="no 2-D array"):
        load_embedding(r)


def test_safetensors(tmp_path):
    from safetensors.numpy import save_file

    p = tmp_path / "sae.safetensors"
    save_file(
        {"W_dec": W, "W_enc": np.ascontiguousarray(W.T), "b_enc": np.zeros(12, np.float32)}, str(p)
    )
    np.testing.assert_array_equal(load_embedding(p, key="W_dec"), W)
    with pytest.raises(ValueError, match="several 2-D arrays.*W_dec"):
        load_embedding(p)
    with pytest.raises(ValueError, match="not found.*'b_enc' \\(12,\\)"):
        load_embedding(p, key="decoder")


def test_safetensors_bfloat16_is_widened_exactly(tmp_path):
    # write a BF16 tensor by hand (numpy has no bfloat16): the top 16 bits of float32
    vals = np.array([[1.0, -2.5], [0.15625, 3.0e5], [0.0, 1.0]], dtype=np.float32)
    bf = (vals.view(np.uint32) >> 16).astype("<u2")
    header = {"W_dec": {"dtype": "BF16", "shape": [3, 2], "data_offsets": [0, bf.nbytes]}}
    hb = json.dumps(header).encode()
    p = tmp_path / "bf16.safetensors"
    p.write_bytes(struct.pack("<Q", len(hb)) + hb + bf.tobytes())
    out = load_embedding(p)
    expected = (bf.astype(np.uint32) << 16).view(np.float32).reshape(3, 2)
    np.testing.assert_array_equal(out, expected)
    assert out[0, 0] == 1.0 and out[0, 1] == -2.5


def test_pt_with_torch(tmp_path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "sae.pt"
    torch.save(
        {
            "W_dec": torch.from_numpy(W),
            "nested": {"w": torch.from_numpy(W.T.copy())},
            "b": torch.zeros(4),
        },
        p,
    )
    np.testing.assert_array_equal(load_embedding(p, key="W_dec"), W)
    np.testing.assert_array_equal(load_embedding(p, key="nested.w", transpose=True), W)
    with pytest.raises(ValueError, match="several 2-D arrays"):
        load_embedding(p)
    q = tmp_path / "t.pt"
    torch.save(torch.from_numpy(W).to(torch.bfloat16), q)
    assert load_embedding(q).dtype == np.float32


def test_pt_without_torch_says_install_torch(tmp_path, monkeypatch):
    p = tmp_path / "w.pt"
    p.write_bytes(b"not really a torch file")
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ValueError, match="needs torch.*pip install torch"):
        load_embedding(p)


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".safetensors", ".pt"])
def test_corrupt_files_raise_value_error(tmp_path, suffix):
    if suffix == ".pt":
        pytest.importorskip("torch")
    p = tmp_path / f"bad{suffix}"
    p.write_bytes(b"\x00\x01garbage" * 3)
    with pytest.raises(ValueError, match=f"cannot read .*bad\\{suffix}"):
        load_embedding(p)


def test_missing_file_unknown_suffix_and_bad_values(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_embedding(tmp_path / "missing.npy")
    (tmp_path / "w.txt").write_text("1 2\n3 4\n")
    with pytest.raises(ValueError, match="suffix must be one of"):
        load_embedding(tmp_path / "w.txt")
    bad = W.copy()
    bad[2, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(ValueError, match="finite"):
        load_embedding(tmp_path / "nan.npy")
    np.save(tmp_path / "empty.npy", np.zeros((0, 4)))
    with pytest.raises(ValueError, match="at least one row"):
        load_embedding(tmp_path / "empty.npy")
    np.save(tmp_path / "three.npy", np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="must be 2-D"):
        load_embedding(tmp_path / "three.npy")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="cannot read"):
        load_embedding(tmp_path / "obj.npy")


# --- safetensors headers are validated before any tensor is read ----------------------------


def _write_safetensors(path, header, data):
    hb = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(hb)) + hb + data)
    return path


BF16 = (W[:3, :2].view(np.uint32) >> 16).astype("<u2").tobytes()  # 6 values, 12 bytes


@pytest.mark.parametrize(
    ("tensors", "match"),
    [
        ({"W_dec": ("BF16", [3, 2], [-4, 8])}, r"'W_dec' has data_offsets \[-4, 8\]"),
        ({"W_dec": ("BF16", [3, 2], [0, 12 + 24])}, "'W_dec' has data_offsets .* past the end"),
        ({"W_dec": ("BF16", [-1, 3], [0, 12])}, r"'W_dec' has shape \[-1, 3\]"),
        ({"W_dec": ("BF16", [3, 2], [2, 12])}, "'W_dec' has data_offsets .* spanning 10 bytes"),
        ({"W_dec": ("BF16", [2, 2], [0, 8])}, "cover 8 bytes of a data region of 12"),
        (
            {"W_dec": ("BF16", [3, 2], [0, 12]), "W_enc": ("BF16", [2, 1], [4, 8])},
            "'W_enc' has data_offsets .* overlaps",
        ),
        ({"W_dec": ("BF16", [3, 2], [0, 12]), "x": ("Q8", [1], [12, 12])}, "unknown dtype"),
        ({"W_dec": ("BF16", [3, 2], [0, 12.0])}, "'W_dec' has data_offsets"),
        ({"W_dec": ("BF16", [3, True], [0, 12])}, "'W_dec' has shape"),
    ],
)
def test_safetensors_header_is_validated(tmp_path, tensors, match):
    header = {
        name: {"dtype": d, "shape": s, "data_offsets": o} for name, (d, s, o) in tensors.items()
    }
    p = _write_safetensors(tmp_path / "bad.safetensors", header, BF16)
    before = p.read_bytes()
    with pytest.raises(ValueError, match=f"bad.safetensors.*{match}") as info:
        load_embedding(p, key="W_dec")
    assert "Traceback" not in str(info.value)
    assert p.read_bytes() == before


def test_safetensors_float32_header_checked_the_same_way(tmp_path):
    header = {"W_dec": {"dtype": "F32", "shape": [3, -2], "data_offsets": [0, 24]}}
    p = _write_safetensors(tmp_path / "f.safetensors", header, W[:3, :2].tobytes())
    with pytest.raises(ValueError, match=r"f.safetensors: tensor 'W_dec' has shape \[3, -2\]"):
        load_embedding(p)


def test_safetensors_header_claiming_10_gb_is_refused_before_allocating(tmp_path):
    header = {
        "W_dec": {"dtype": "BF16", "shape": [100_000, 50_000], "data_offsets": [0, 10_000_000_000]}
    }
    p = _write_safetensors(tmp_path / "huge.safetensors", header, BF16)
    code = textwrap.dedent(f"""
        import resource, sys
        from suptheory.analysis.loading import load_embedding
        with open("/proc/self/status") as fh:
            vm = next(int(l.split()[1]) for l in fh if l.startswith("VmSize:")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + 512 * 2**20, vm + 512 * 2**20))
        try:
            load_embedding({str(p)!r})
        except ValueError as exc:
            print(exc)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=_child_env()
    )
    assert out.returncode == 0, out.stderr
    assert "huge.safetensors: tensor 'W_dec' has data_offsets" in out.stdout
    assert "past the end" in out.stdout


def _child_env():
    import os

    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _npz_with_a_big_zero_member(path, big_bytes):
    """An .npz holding 'W_dec' (12, 4) and 'big', ``big_bytes`` of float64 zeros, compressed
    (written in chunks, so the test process never holds the big array)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("W_dec.npy", "w") as member:
            np.lib.format.write_array(member, W)
        with archive.open("big.npy", "w", force_zip64=True) as member:
            n = big_bytes // 8
            header = {"descr": "<f8", "fortran_order": False, "shape": (n,)}
            np.lib.format.write_array_header_1_0(member, header)
            chunk = bytes(2**23)
            for _ in range(big_bytes // len(chunk)):
                member.write(chunk)
    return path


def test_npz_reads_shapes_from_headers_and_decompresses_only_the_chosen_key(tmp_path):
    p = _npz_with_a_big_zero_member(tmp_path / "sae.npz", 400 * 2**20)
    assert p.stat().st_size < 2**20
    code = textwrap.dedent(f"""
        import resource
        from suptheory.analysis.loading import load_embedding
        with open("/proc/self/status") as fh:
            vm = next(int(l.split()[1]) for l in fh if l.startswith("VmSize:")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + 150 * 2**20, vm + 150 * 2**20))
        print(load_embedding({str(p)!r}).shape, load_embedding({str(p)!r}, key="W_dec").shape)
        try:
            load_embedding({str(p)!r}, key="W")
        except ValueError as exc:
            print(exc)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=_child_env()
    )
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first == "(12, 4) (12, 4)"
    assert "key 'W' not found" in second and f"'big' ({400 * 2**17},)" in second


# --- file errors say what is wrong; reading never changes a file ------------------------------


def test_a_directory_or_fifo_is_named_as_such(tmp_path):
    import os

    folder = tmp_path / "weights.npy"
    folder.mkdir()
    with pytest.raises(ValueError, match="weights.npy is a directory"):
        load_embedding(folder)
    fifo = tmp_path / "pipe.npy"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="pipe.npy is not a regular file"):
        load_embedding(fifo)  # and does not block opening it
    with pytest.raises(ValueError, match="no such file"):
        load_embedding(tmp_path / "missing.safetensors")


def test_a_file_of_another_format_is_named_as_such(tmp_path):
    npy = tmp_path / "w.npy"
    np.save(npy, W)
    renamed = tmp_path / "w.safetensors"
    renamed.write_bytes(npy.read_bytes())
    with pytest.raises(ValueError, match="w.safetensors: it is not a safetensors file") as info:
        load_embedding(renamed)
    assert "MemoryError" not in str(info.value)
    text = tmp_path / "notes.npy"
    text.write_text("0.1 0.2\n0.3 0.4\n")
    with pytest.raises(ValueError, match="notes.npy: it is not a .npy file") as info:
        load_embedding(text)
    assert "allow_pickle" not in str(info.value)
    with pytest.raises(ValueError, match="notes.npz: it is not a .npz file"):
        load_embedding(text.rename(tmp_path / "notes.npz"))
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(b"\x01\x02")
    with pytest.raises(ValueError, match="it is not a safetensors file"):
        load_embedding(tiny)


@pytest.mark.parametrize("dtype", ["complex64", "complex128", "bool"])
def test_pt_complex_and_bool_are_rejected_like_other_formats(tmp_path, dtype):
    torch = pytest.importorskip("torch")
    values = (W + 1j * W) if dtype.startswith("complex") else (W > 0)
    np.save(tmp_path / "w.npy", values.astype(dtype))
    with pytest.raises(TypeError) as expected:
        load_embedding(tmp_path / "w.npy")
    torch.save({"W_dec": torch.from_numpy(values.astype(dtype))}, tmp_path / "w.pt")
    with pytest.raises(TypeError) as info:
        load_embedding(tmp_path / "w.pt")
    # the same message, each naming its own file
    assert str(tmp_path / "w.pt") in str(info.value)
    assert str(info.value).replace("w.pt", "w.npy") == str(expected.value)
    assert "real numbers" in str(info.value)


def test_reading_never_changes_the_file(tmp_path):
    import hashlib
    import os

    from safetensors.numpy import save_file

    np.save(tmp_path / "w.npy", W)
    np.savez_compressed(tmp_path / "w.npz", W_dec=W)
    save_file({"W_dec": W}, str(tmp_path / "w.safetensors"))
    paths = sorted(tmp_path.iterdir())
    before = {
        p: (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns) for p in paths
    }
    for p in paths:
        np.testing.assert_array_equal(load_embedding(p), W)
    after = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns) for p in paths}
    assert after == before
    assert sorted(tmp_path.iterdir()) == paths


# --- memory-mapping --------------------------------------------------------------------------


def test_npy_and_safetensors_float32_are_memory_mapped_read_only(tmp_path):
    from safetensors.numpy import save_file

    np.save(tmp_path / "w.npy", W)
    save_file({"W_dec": W, "b": np.zeros(4, np.float32)}, str(tmp_path / "w.safetensors"))
    for p in (tmp_path / "w.npy", tmp_path / "w.safetensors"):
        out = load_embedding(p)
        np.testing.assert_array_equal(out, W)
        assert not out.flags.writeable and out.flags.c_contiguous
        assert isinstance(out.base, np.memmap) or isinstance(out.base.base, np.memmap)
        with pytest.raises(ValueError, match="read-only"):
            out[0, 0] = 1.0
        copy = load_embedding(p, mmap=False)
        assert copy.flags.writeable and not isinstance(copy.base, np.memmap)
        np.testing.assert_array_equal(copy, W)
        np.testing.assert_array_equal(load_embedding(p, transpose=True), W.T)
        assert load_embedding(p, transpose=True).flags.c_contiguous


@pytest.mark.parametrize("mmap", [True, False])
def test_safetensors_float16_float64_and_ints_are_widened(tmp_path, mmap):
    from safetensors.numpy import save_file

    p = tmp_path / "w.safetensors"
    save_file(
        {
            "h": W.astype(np.float16),
            "d": W.astype(np.float64),
            "i": np.arange(8, dtype=np.int32).reshape(4, 2),
        },
        str(p),
    )
    h = load_embedding(p, key="h", mmap=mmap)
    assert h.dtype == np.float32
    np.testing.assert_array_equal(h, W.astype(np.float16).astype(np.float32))
    d = load_embedding(p, key="d", mmap=mmap)
    assert d.dtype == np.float64 and d.flags.writeable == (not mmap)
    np.testing.assert_array_equal(
        load_embedding(p, key="i", mmap=mmap), np.arange(8.0).reshape(4, 2)
    )


def test_bfloat16_widened_in_blocks_matches_a_whole_widening(tmp_path, monkeypatch):
    import suptheory.analysis.loading as loading

    vals = np.random.default_rng(1).standard_normal((37, 5)).astype(np.float32)
    bf = (vals.view(np.uint32) >> 16).astype("<u2")
    header = {
        "x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "W_dec": {"dtype": "BF16", "shape": [37, 5], "data_offsets": [8, 8 + bf.nbytes]},
    }
    p = _write_safetensors(tmp_path / "bf16.safetensors", header, bytes(8) + bf.tobytes())
    expected = (bf.astype(np.uint32) << 16).view(np.float32).reshape(37, 5)
    monkeypatch.setattr(loading, "_BF16_BLOCK", 16)  # 12 blocks, the last one short
    np.testing.assert_array_equal(load_embedding(p), expected)
    assert load_embedding(p, list=True) == [("W_dec", (37, 5), "bfloat16")]


# --- listing ---------------------------------------------------------------------------------


def test_list_gives_the_2d_tensors_with_shape_and_dtype(tmp_path):
    from safetensors.numpy import save_file

    np.save(tmp_path / "w.npy", W)
    assert load_embedding(tmp_path / "w.npy", list=True) == [("w.npy", (12, 4), "float32")]
    np.save(tmp_path / "v.npy", np.zeros(3))
    assert load_embedding(tmp_path / "v.npy", list=True) == []
    np.savez(tmp_path / "s.npz", W_dec=W, b=np.zeros(4), W_enc=W.T.astype(np.float16))
    assert load_embedding(tmp_path / "s.npz", list=True) == [
        ("W_dec", (12, 4), "float32"),
        ("W_enc", (4, 12), "float16"),
    ]
    save_file(
        {"W_dec": W, "b": np.zeros(4, np.float32), "E": np.zeros((2, 3), np.int64)},
        str(tmp_path / "s.safetensors"),
    )
    assert sorted(load_embedding(tmp_path / "s.safetensors", list=True)) == [
        ("E", (2, 3), "int64"),
        ("W_dec", (12, 4), "float32"),
    ]
    with pytest.raises(ValueError, match="not both"):
        load_embedding(tmp_path / "s.safetensors", key="W_dec", list=True)


def test_list_of_a_pt_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(
        {"enc": {"w": torch.zeros(3, 2, dtype=torch.bfloat16)}, "b": torch.zeros(2)},
        tmp_path / "m.pt",
    )
    assert load_embedding(tmp_path / "m.pt", list=True) == [("enc.w", (3, 2), "bfloat16")]


def test_errors_name_at_most_ten_candidates(tmp_path):
    np.savez(tmp_path / "many.npz", **{f"W{i:02d}": np.eye(2) for i in range(25)})
    with pytest.raises(ValueError) as info:
        load_embedding(tmp_path / "many.npz")
    message = str(info.value)
    assert "'W09' (2, 2)" in message and "'W10'" not in message
    assert "and 15 more (list=True, CLI --list" in message
    assert len(load_embedding(tmp_path / "many.npz", list=True)) == 25


# --- SAELens checkpoint directories ----------------------------------------------------------


def _saelens_checkpoint(
    folder, d_sae=12, d_in=4, *, old=False, cfg=None, dtype=np.float32, weights=None
):
    """A checkpoint directory exactly as SAELens writes it (sae_lens 6.18.0, SAE.save_model,
    sae_lens/saes/sae.py:514-531): ``save_file(state_dict, folder / "sae_weights.safetensors")``
    with W_enc (d_in, d_sae), b_enc (d_sae,), W_dec (d_sae, d_in), b_dec (d_in,)
    (sae.py:337-350, standard_sae.py), and ``json.dump(cfg.to_dict(), folder / "cfg.json")``:
    SAEConfig's fields at the top level with ``metadata`` nested (sae.py:153-172). ``old``:
    the flat pre-6.0 cfg (tests/_comparison/sae_lens_old/sae.py:101-124)."""
    from safetensors.numpy import save_file

    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(3)
    w_dec = rng.standard_normal((d_sae, d_in)).astype(dtype)
    state = (
        weights
        if weights is not None
        else {
            "W_enc": np.ascontiguousarray(w_dec.T),
            "b_enc": np.zeros(d_sae, dtype),
            "W_dec": w_dec,
            "b_dec": np.zeros(d_in, dtype),
        }
    )
    save_file(state, str(folder / "sae_weights.safetensors"))
    if cfg is None and old:
        cfg = {
            "architecture": "standard",
            "d_in": d_in,
            "d_sae": d_sae,
            "dtype": "float32",
            "device": "cpu",
            "model_name": "gpt2",
            "hook_name": "blocks.8.hook_resid_pre",
            "hook_layer": 8,
            "hook_head_index": None,
            "activation_fn_str": "relu",
            "activation_fn_kwargs": {},
            "apply_b_dec_to_input": True,
            "finetuning_scaling_factor": False,
            "sae_lens_training_version": "3.13.0",
            "prepend_bos": True,
            "dataset_path": "Skylion007/openwebtext",
            "dataset_trust_remote_code": True,
            "context_size": 128,
            "normalize_activations": "none",
            "neuronpedia_id": None,
            "model_from_pretrained_kwargs": {},
            "seqpos_slice": [None],
        }
    elif cfg is None:
        cfg = {
            "d_in": d_in,
            "d_sae": d_sae,
            "dtype": "float32",
            "device": "cpu",
            "apply_b_dec_to_input": True,
            "normalize_activations": "none",
            "reshape_activations": "none",
            "metadata": {
                "sae_lens_version": "6.18.0",
                "sae_lens_training_version": "6.18.0",
                "model_name": "gpt2",
                "hook_name": "blocks.8.hook_resid_pre",
                "hook_head_index": None,
                "prepend_bos": True,
                "dataset_path": "Skylion007/openwebtext",
                "context_size": 128,
                "neuronpedia_id": None,
            },
            "architecture": "standard",
        }
    (folder / "cfg.json").write_text(json.dumps(cfg))
    return w_dec


@pytest.mark.parametrize("old", [False, True])
def test_saelens_directory_picks_w_dec_and_checks_the_cfg(tmp_path, old):
    w_dec = _saelens_checkpoint(tmp_path / "sae", old=old)
    out = load_embedding(tmp_path / "sae")
    np.testing.assert_array_equal(out, w_dec)
    assert not out.flags.writeable  # memory-mapped
    np.testing.assert_array_equal(
        load_embedding(str(tmp_path / "sae"), key="W_enc", transpose=True), w_dec
    )
    with pytest.raises(
        ValueError,
        match=r"W_enc in .*sae has shape \(d_in, d_sae\) = \(4, 12\)"
        r": its columns are the features; pass transpose=True",
    ):
        load_embedding(tmp_path / "sae", key="W_enc")
    with pytest.raises(
        ValueError, match="W_dec in .* rows are already the features; do not pass transpose"
    ):
        load_embedding(tmp_path / "sae", transpose=True)
    assert sorted(load_embedding(tmp_path / "sae", list=True)) == [
        ("W_dec", (12, 4), "float32"),
        ("W_enc", (4, 12), "float32"),
    ]
    with pytest.raises(ValueError, match=r"the array in .*sae \['b_dec'\] has shape \(4,\)"):
        load_embedding(tmp_path / "sae", key="b_dec")


def test_saelens_transcoder_w_dec_has_d_out_columns(tmp_path):
    rng = np.random.default_rng(0)
    w_dec = rng.standard_normal((12, 5)).astype(np.float32)
    weights = {
        "W_enc": rng.standard_normal((4, 12)).astype(np.float32),
        "W_dec": w_dec,
        "b_enc": np.zeros(12, np.float32),
        "b_dec": np.zeros(5, np.float32),
    }
    cfg = {"d_in": 4, "d_sae": 12, "d_out": 5, "architecture": "transcoder", "metadata": {}}
    _saelens_checkpoint(tmp_path / "tc", cfg=cfg, weights=weights)
    np.testing.assert_array_equal(load_embedding(tmp_path / "tc"), w_dec)


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        (
            {"d_in": 4, "d_sae": 16},
            r"cfg.json disagrees with the weights: it gives d_sae = 16, "
            r"d_in = 4, so W_dec should have shape \(d_sae, d_in\) = "
            r"\(16, 4\), but .*sae_weights.safetensors holds W_dec of "
            r"shape \(12, 4\)",
        ),
        ({"d_in": 5, "d_sae": 12}, r"cfg.json disagrees with the weights: .* d_in = 5"),
        ({"d_in": 4}, "cfg.json gives no d_sae and d_in"),
        ({"d_in": 4, "d_sae": "12"}, "cfg.json gives d_sae = '12'; it must be a whole number"),
        ([4, 12], "cfg.json: it is not a JSON object"),
    ],
)
def test_saelens_cfg_that_disagrees_with_the_weights(tmp_path, cfg, match):
    _saelens_checkpoint(tmp_path / "sae", cfg=cfg)
    with pytest.raises(ValueError, match=match):
        load_embedding(tmp_path / "sae")


def test_saelens_cfg_disagreeing_on_w_enc(tmp_path):
    rng = np.random.default_rng(0)
    weights = {
        "W_enc": rng.standard_normal((4, 10)).astype(np.float32),
        "W_dec": rng.standard_normal((12, 4)).astype(np.float32),
    }
    _saelens_checkpoint(tmp_path / "sae", weights=weights)
    assert load_embedding(tmp_path / "sae").shape == (12, 4)
    with pytest.raises(
        ValueError,
        match=r"W_enc should have shape \(d_in, d_sae\) = \(4, 12\), "
        r"but .* holds W_enc of shape \(4, 10\)",
    ):
        load_embedding(tmp_path / "sae", key="W_enc", transpose=True)


def test_directories_without_a_checkpoint(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        ValueError,
        match="empty is a directory, not a weight file, and holds "
        "no checkpoint .*cfg.json.*sae_weights.safetensors",
    ):
        load_embedding(tmp_path / "empty")
    _saelens_checkpoint(tmp_path / "half")
    (tmp_path / "half" / "cfg.json").unlink()
    with pytest.raises(
        ValueError,
        match="half is not a complete SAELens checkpoint: it has "
        "sae_weights.safetensors but no cfg.json",
    ):
        load_embedding(tmp_path / "half")
    (tmp_path / "files").mkdir()
    np.save(tmp_path / "files" / "a.npy", W)
    np.save(tmp_path / "files" / "b.npy", W)
    with pytest.raises(
        ValueError,
        match="holds no checkpoint .*it holds the weight files a.npy, b.npy: pass one of them",
    ):
        load_embedding(tmp_path / "files")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "cfg.json").write_text("{not json")
    (tmp_path / "bad" / "sae_weights.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="bad/cfg.json: it is not JSON"):
        load_embedding(tmp_path / "bad")


# --- HuggingFace sharded checkpoints ---------------------------------------------------------


def _sharded(folder, shards):
    """A transformers-style sharded checkpoint: ``shards`` maps file name -> tensors."""
    from safetensors.numpy import save_file

    folder.mkdir(exist_ok=True)
    weight_map = {}
    for fname, tensors in shards.items():
        save_file(tensors, str(folder / fname), metadata={"format": "np"})
        weight_map.update({name: fname for name in tensors})
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    return folder


def test_sharded_checkpoint_reads_one_tensor_from_its_shard(tmp_path):
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((10, 4)).astype(np.float32)
    mlp = rng.standard_normal((6, 4)).astype(np.float32)
    folder = _sharded(
        tmp_path / "hf",
        {
            "model-00001-of-00002.safetensors": {
                "embed.weight": emb,
                "ln.weight": np.ones(4, "f4"),
            },
            "model-00002-of-00002.safetensors": {"mlp.weight": mlp},
        },
    )
    np.testing.assert_array_equal(load_embedding(folder, key="mlp.weight"), mlp)
    index = folder / "model.safetensors.index.json"
    np.testing.assert_array_equal(load_embedding(index, key="embed.weight"), emb)
    assert sorted(load_embedding(folder, list=True)) == [
        ("embed.weight", (10, 4), "float32"),
        ("mlp.weight", (6, 4), "float32"),
    ]
    with pytest.raises(
        ValueError,
        match="index.json holds several 2-D arrays.*'embed.weight' "
        r"\(10, 4\)",
    ):
        load_embedding(folder)
    with pytest.raises(ValueError, match=r"key 'lm_head' not found in .*index.json"):
        load_embedding(folder, key="lm_head")
    with pytest.raises(ValueError, match=r"\['ln.weight'\] has shape \(4,\)"):
        load_embedding(folder, key="ln.weight")
    # by key only the shard holding it is opened: the other may be missing
    (folder / "model-00002-of-00002.safetensors").unlink()
    np.testing.assert_array_equal(load_embedding(folder, key="embed.weight"), emb)
    with pytest.raises(
        ValueError,
        match="index.json names shard 'model-00002-of-00002"
        r".safetensors' \(holding 'mlp.weight'\), but there is "
        "no such file",
    ):
        load_embedding(folder, key="mlp.weight")
    with pytest.raises(ValueError, match="names shard 'model-00002-of-00002.safetensors'"):
        load_embedding(folder)


def test_sharded_checkpoint_without_key_takes_the_only_2d_tensor(tmp_path):
    folder = _sharded(
        tmp_path / "hf", {"a.safetensors": {"b": np.zeros(4, "f4")}, "b.safetensors": {"W": W}}
    )
    np.testing.assert_array_equal(load_embedding(folder), W)


def test_sharded_index_errors(tmp_path):
    folder = _sharded(tmp_path / "hf", {"a.safetensors": {"W": W}})
    index = folder / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"W": "a.safetensors", "V": "a.safetensors"}}))
    with pytest.raises(
        ValueError,
        match="index.json puts 'V' in shard 'a.safetensors', but "
        ".*a.safetensors does not hold it; it holds 'W'",
    ):
        load_embedding(folder, key="V")
    index.write_text(json.dumps({"weight_map": {"W": "../a.safetensors"}}))
    with pytest.raises(
        ValueError, match="shard '../a.safetensors' of tensor 'W' is not a file name in"
    ):
        load_embedding(folder)
    index.write_text(json.dumps({"metadata": {}}))
    with pytest.raises(ValueError, match="index.json: it is not a sharded checkpoint index"):
        load_embedding(index)
    index.write_text("[")
    with pytest.raises(ValueError, match="index.json: it is not JSON"):
        load_embedding(index)


def test_a_directory_holding_model_safetensors(tmp_path):
    from safetensors.numpy import save_file

    (tmp_path / "hf").mkdir()
    save_file({"W": W, "b": np.zeros(4, np.float32)}, str(tmp_path / "hf" / "model.safetensors"))
    np.testing.assert_array_equal(load_embedding(tmp_path / "hf"), W)


# --- suptheory analyze PATH --list -----------------------------------------------------------


def test_cli_list_prints_one_tensor_per_line(tmp_path, capsys):
    from suptheory.cli.main import main

    _saelens_checkpoint(tmp_path / "sae", d_sae=1000, d_in=4)
    assert main(["analyze", str(tmp_path / "sae"), "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines) == ["W_dec  (1000, 4)         float32", "W_enc  (4, 1000)         float32"]
    np.save(tmp_path / "v.npy", np.zeros(3))
    assert main(["analyze", str(tmp_path / "v.npy"), "--list"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "holds no 2-D tensor" in captured.err
    assert main(["analyze", str(tmp_path / "sae"), "--list", "--key", "W_dec"]) == 2
    assert "not both" in capsys.readouterr().err


def test_cli_analyses_a_saelens_directory_and_passes_the_key(tmp_path, capsys):
    from suptheory.cli.main import main

    w_dec = _saelens_checkpoint(tmp_path / "sae")
    assert main(["analyze", str(tmp_path / "sae"), "--json", "--no-progress", "--quantiles"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["m"], d["n"]) == w_dec.shape
    assert main(["analyze", str(tmp_path / "sae"), "--key", "W_enc", "--no-progress"]) == 2
    assert "pass transpose=True (CLI --transpose)" in capsys.readouterr().err
    assert (
        main(
            [
                "analyze",
                str(tmp_path / "sae"),
                "--key",
                "W_enc",
                "--transpose",
                "--json",
                "--no-progress",
                "--quantiles",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["coherence"] == d["coherence"]


# --- memory: a 400,000 x 1024 float32 file (1.6 GB) analysed in bounded memory --------------------

# The bound is on RssAnon, the child's own memory. VmHWM (= ru_maxrss) also counts the pages of
# the memory-mapped file that have been read: page cache shared with every reader and dropped
# under memory pressure, so it reaches the file's 1.6 GB in any process that reads all of it.
# Both are printed (pytest -s).

#: peak anonymous memory allowed to the child (bytes): less than the 1.6 GB file
RSS_LIMIT = 10**9
#: seconds of coherence() the child is watched for: its set-up (where any whole-matrix copy
#: is made) and the first tiles; after that every tile reuses its thread's buffer.
#: SUPTHEORY_RSS_BUDGET=0 watches it to the end (about half an hour on two cores)
RSS_BUDGET = float(os.environ.get("SUPTHEORY_RSS_BUDGET", "90"))

_CHILD = """
import faulthandler, signal, sys
faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
import numpy as np
import suptheory as st
from suptheory.analysis.loading import load_embedding
print("phase load", flush=True)
W = load_embedding(sys.argv[1])
print("loaded", W.shape, W.dtype, W.flags.writeable, flush=True)
if sys.argv[2] == "coherence":
    print("phase run", flush=True)
    r = st.coherence(W, progress=False)
    print("coherence", float(r), r.i, r.j, flush=True)
elif sys.argv[2] != "load":
    print("phase run", flush=True)
    fn = getattr(st, sys.argv[2])
    r = fn(W, progress=False) if sys.argv[2] == "overlap_histogram" else fn(W)
    print(sys.argv[2], "done", flush=True)
print("phase done", flush=True)
"""


@pytest.fixture(scope="module")
def big_npy(tmp_path_factory):
    """400,000 x 1024 float32 standard normals in a .npy file, written 10,000 rows at a time."""
    path = tmp_path_factory.mktemp("big") / "W.npy"
    m, n, rows = 400_000, 1024, 10_000
    rng = np.random.default_rng(0)
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f4", "fortran_order": False, "shape": (m, n)}
        )
        for _ in range(m // rows):
            fh.write(rng.standard_normal((rows, n), dtype=np.float32).tobytes())
    assert path.stat().st_size > 1.6e9
    yield path
    path.unlink()


def _status(pid):
    """RssAnon and VmHWM (bytes) of a running process."""
    with open(f"/proc/{pid}/status") as fh:
        fields = dict(line.split(":", 1) for line in fh)
    return tuple(int(fields[k].split()[0]) * 1024 for k in ("RssAnon", "VmHWM"))


def _watch(path, what, budget):
    """Run the child on ``path``; sample its memory every 10 ms from this process (the child may
    hold the GIL in a long numpy call). On RssAnon > RSS_LIMIT, dump its Python stack
    (faulthandler, SIGUSR1) and stop it. Returns (phases, peak RssAnon, VmHWM, stack or None)."""
    import signal
    import threading
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), what],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    peak = hwm = 0
    stack = None
    started = None
    try:
        while proc.poll() is None:
            try:
                anon, hwm = _status(proc.pid)
            except (FileNotFoundError, ProcessLookupError, KeyError):
                break
            peak = max(peak, anon)
            if anon > RSS_LIMIT:
                proc.send_signal(signal.SIGUSR1)
                time.sleep(1.0)
                proc.kill()
                stack = proc.stderr.read()
                break
            if started is None and "phase run\n" in lines:
                started = time.monotonic()
            if budget and started is not None and time.monotonic() - started > budget:
                proc.kill()
                break
            time.sleep(0.01)
        proc.wait(timeout=60)
        reader.join(timeout=60)
        err = "" if stack is not None else proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    if stack is None and proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"child failed ({proc.returncode}): {err}")
    return lines, peak, hwm, stack


@pytest.mark.slow
def test_loading_a_1_6_gb_file_stays_memory_mapped(big_npy):
    lines, peak, hwm, stack = _watch(big_npy, "load", 0)
    print(f"load: peak RssAnon {peak / 2**20:.0f} MiB, VmHWM {hwm / 2**20:.0f} MiB")
    assert stack is None, f"RssAnon passed {RSS_LIMIT} bytes while loading:\n{stack}"
    assert "loaded (400000, 1024) float32 False\n" in lines  # read-only: the file's pages
    assert peak < RSS_LIMIT


@pytest.mark.slow
def test_coherence_of_a_memory_mapped_1_6_gb_file_in_bounded_memory(big_npy):
    lines, peak, hwm, stack = _watch(big_npy, "coherence", RSS_BUDGET)
    print(f"coherence: peak RssAnon {peak / 2**20:.0f} MiB, VmHWM {hwm / 2**20:.0f} MiB")
    assert "loaded (400000, 1024) float32 False\n" in lines
    assert stack is None, f"RssAnon passed {RSS_LIMIT} bytes:\n{stack}"
    assert peak < RSS_LIMIT


@pytest.mark.slow
@pytest.mark.parametrize(
    "what",
    [
        "rms_overlap",
        "frame_potential",
        "feature_dimensionality",
        "row_norms",
        "dimensions_per_feature",
        "overlap_histogram",
    ],
)
def test_per_feature_metrics_of_a_memory_mapped_1_6_gb_file_in_bounded_memory(big_npy, what):
    """The public metrics copied the whole memory-mapped W in float64 (3.2 GB) before their
    first product; now they read it by row blocks (watched for their first 15 s, where a
    copy would be made)."""
    lines, peak, hwm, stack = _watch(big_npy, what, min(RSS_BUDGET, 15.0))
    print(f"{what}: peak RssAnon {peak / 2**20:.0f} MiB, VmHWM {hwm / 2**20:.0f} MiB")
    assert "phase run\n" in lines
    assert stack is None, f"{what}: RssAnon passed {RSS_LIMIT} bytes:\n{stack}"
    assert peak < RSS_LIMIT
