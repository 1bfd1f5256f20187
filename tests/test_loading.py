"""load_embedding: real small files of every format, written in tmp_path."""

from __future__ import annotations

import builtins
import json
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
        with pytest.raises(ValueError, match="several 2-D arrays"):
            load_embedding(embedding_file.path)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(W=strategies.random_dictionaries(m=st.integers(1, 40), n=st.integers(1, 12)),
       dtype=st.sampled_from([np.float32, np.float64]))
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
    save_file({"W_dec": W, "W_enc": np.ascontiguousarray(W.T), "b_enc": np.zeros(12, np.float32)},
              str(p))
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
    torch.save({"W_dec": torch.from_numpy(W), "nested": {"w": torch.from_numpy(W.T.copy())},
                "b": torch.zeros(4)}, p)
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
        ({"W_dec": ("BF16", [3, 2], [0, 12]), "W_enc": ("BF16", [2, 1], [4, 8])},
         "'W_enc' has data_offsets .* overlaps"),
        ({"W_dec": ("BF16", [3, 2], [0, 12]), "x": ("Q8", [1], [12, 12])}, "unknown dtype"),
        ({"W_dec": ("BF16", [3, 2], [0, 12.0])}, "'W_dec' has data_offsets"),
        ({"W_dec": ("BF16", [3, True], [0, 12])}, "'W_dec' has shape"),
    ],
)
def test_safetensors_header_is_validated(tmp_path, tensors, match):
    header = {name: {"dtype": d, "shape": s, "data_offsets": o}
              for name, (d, s, o) in tensors.items()}
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
    header = {"W_dec": {"dtype": "BF16", "shape": [100_000, 50_000],
                        "data_offsets": [0, 10_000_000_000]}}
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=_child_env())
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=_child_env())
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
    assert str(info.value) == str(expected.value)
    assert "real numbers" in str(info.value)


def test_reading_never_changes_the_file(tmp_path):
    import hashlib
    import os

    from safetensors.numpy import save_file

    np.save(tmp_path / "w.npy", W)
    np.savez_compressed(tmp_path / "w.npz", W_dec=W)
    save_file({"W_dec": W}, str(tmp_path / "w.safetensors"))
    paths = sorted(tmp_path.iterdir())
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns)
              for p in paths}
    for p in paths:
        np.testing.assert_array_equal(load_embedding(p), W)
    after = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns)
             for p in paths}
    assert after == before
    assert sorted(tmp_path.iterdir()) == paths
