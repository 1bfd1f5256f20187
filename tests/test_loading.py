"""load_embedding: real small files of every format, written in tmp_path."""

from __future__ import annotations

import builtins
import json
import struct

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
